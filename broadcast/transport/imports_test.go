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
// this package and gets nothing but the standard library with it. The
// check reads the package's own files: their imports must all be
// standard (no dot in the first path element, as the go command decides),
// and the standard library imports nothing else.
func TestTransportImportsOnlyStandardLibrary(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		for _, path := range imports(t, name) {
			require.Truef(t, standard(path), "%s imports %q, which is not in the standard library", name, path)
		}
		checked++
	}
	require.NotZero(t, checked, "no non-test Go file found in the package directory")
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
