package natsbus

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBusImportsOnlyTransport: the NATS transport (every file but
// cluster.go, which runs package broadcast's nodes over it) is written
// against package broadcast/transport, never against package broadcast,
// so that it is a transport like any other.
func TestBusImportsOnlyTransport(t *testing.T) {
	const protocol = "github.com/tolerantca/tolerant/broadcast"
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var transportFiles []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "cluster.go" {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, spec := range f.Imports {
			path, err := strconv.Unquote(spec.Path.Value)
			require.NoError(t, err)
			require.NotEqualf(t, protocol, path, "%s imports package broadcast; only cluster.go may", name)
			if path == protocol+"/transport" {
				transportFiles = append(transportFiles, name)
			}
		}
	}
	require.Contains(t, transportFiles, "bus.go", "bus.go no longer implements package transport's Broadcaster")
}
