package transport

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTransportImportsOnlyStandardLibrary: a transport author imports
// this package, and its contract checks (transporttest), and gets nothing
// but the standard library with them. The check reads the packages' own
// files: their imports must all be standard (no dot in the first path
// element, as the go command decides) or this package, and the standard
// library imports nothing else.
func TestTransportImportsOnlyStandardLibrary(t *testing.T) {
	const self = "github.com/tolerantca/tolerant/broadcast/transport"
	for _, dir := range []string{".", "transporttest"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		checked := 0
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			for _, path := range imports(t, name) {
				ok := standard(path) || (dir != "." && path == self)
				require.Truef(t, ok, "%s imports %q, which is not in the standard library", name, path)
			}
			checked++
		}
		require.NotZerof(t, checked, "no non-test Go file found in %s", dir)
	}
}

// imports returns the import paths of the Go file name.
func imports(t *testing.T, name string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
	require.NoError(t, err)
	var paths []string
	for _, spec := range f.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		require.NoError(t, err)
		paths = append(paths, path)
	}
	return paths
}

// standard reports whether path is a standard library import path: its
// first element has no dot.
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
