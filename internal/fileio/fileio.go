// Package fileio reads files of bounded size and writes new files without
// ever overwriting one: the file handling the library and the commands
// share.
package fileio

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTooLarge: the input holds more bytes than its limit.
var ErrTooLarge = errors.New("fileio: larger than the limit")

// ReadAll reads r, refusing with ErrTooLarge more than limit bytes. On
// failure it clears what it read, which may be secret.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		clear(b)
		return nil, err
	}
	if int64(len(b)) > limit {
		clear(b)
		return nil, ErrTooLarge
	}
	return b, nil
}

// ReadFile reads path, refusing files larger than limit. On failure it
// clears what it read.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := ReadAll(f, limit)
	if errors.Is(err, ErrTooLarge) {
		return nil, fmt.Errorf("%s: %w of %d bytes", path, ErrTooLarge, limit)
	}
	return b, err
}

// WriteNew creates path with mode, never over an existing file or link
// (O_EXCL: the error then wraps fs.ErrExist), writes b and syncs it. It
// removes the file if the write fails.
func WriteNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}
