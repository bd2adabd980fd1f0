package redacttest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEverySecretTypeIsKnown scans every package of the module: each
// exported type holding a secret must be listed in Known, whose entries
// the packages' own redaction tests print under every verb.
func TestEverySecretTypeIsKnown(t *testing.T) {
	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.mod"))
	seen := 0
	err = filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); dir != root && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		pkg := packageName(t, dir)
		if pkg == "" {
			return nil
		}
		seen++
		for _, name := range SecretTypes(t, dir, pkg) {
			require.Contains(t, Known, pkg+"."+name, "%s holds a secret: give it a redaction and list it in Known", dir)
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, seen, 10, "packages scanned")
}

// packageName returns the package name of dir's non-test Go files, or "".
func packageName(t *testing.T, dir string) string {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			b, err := os.ReadFile(filepath.Join(dir, n))
			require.NoError(t, err)
			for _, line := range strings.Split(string(b), "\n") {
				if p, ok := strings.CutPrefix(line, "package "); ok {
					return strings.TrimSpace(p)
				}
			}
		}
	}
	return ""
}
