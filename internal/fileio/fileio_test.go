package fileio

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReadAllLimit(t *testing.T) {
	b, err := ReadAll(strings.NewReader("12345"), 5)
	require.NoError(t, err, "exactly the limit")
	require.Equal(t, "12345", string(b))
	_, err = ReadAll(strings.NewReader("123456"), 5)
	require.ErrorIs(t, err, ErrTooLarge, "one byte over the limit")
}

func TestReadFileLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, []byte("123456"), 0o600))
	b, err := ReadFile(path, 6)
	require.NoError(t, err)
	require.Equal(t, "123456", string(b))
	_, err = ReadFile(path, 5)
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorContains(t, err, path, "the error names the file")
	_, err = ReadFile(filepath.Join(t.TempDir(), "missing"), 5)
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestWriteNewNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	require.NoError(t, WriteNew(path, []byte("first"), 0o600))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	require.ErrorIs(t, WriteNew(path, []byte("second"), 0o600), fs.ErrExist)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "first", string(b), "the existing file is kept")

	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(filepath.Join(t.TempDir(), "target"), link))
	require.ErrorIs(t, WriteNew(link, []byte("x"), 0o600), fs.ErrExist, "a dangling link is not followed")
}
