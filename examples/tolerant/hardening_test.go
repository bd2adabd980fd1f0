package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/natsbus"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
)

// TestRegressionBinaryHasNoTestMaterial builds the program as the operator
// does and checks that it carries no test key and no test hook: no PEM
// private key, no internal/testkeys, no -testing-lie or -testing-loss flag.
func TestRegressionBinaryHasNoTestMaterial(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	exe := buildProgram(t.Context(), t, false)
	bin, err := os.ReadFile(exe)
	require.NoError(t, err)
	for _, s := range []string{
		"BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY", // the test keys' PEM files
		"internal/testkeys",           // their package
		"testing-lie", "testing-loss", // the node's hidden flags
		"test-key", // the demo's hidden flag
	} {
		require.False(t, bytes.Contains(bin, []byte(s)), "the program contains %q", s)
	}
}

// TestRegressionDefaultClusterIsTheKeyID: nodes started by the library
// (natsbus.StartCluster) without a cluster name and a distributor started
// the way the command starts it (natsFlags, no -nats-cluster) meet on the
// same subjects: both default to the key id.
func TestRegressionDefaultClusterIsTheKeyID(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	d := testcluster.Deal(t, 3, 2, 1, &testcluster.Options{Key: key, Search: true})
	keyID := d.Calculators[0].KeyID

	srv, err := natsbus.StartServer(natsbus.ServerOptions{Host: "127.0.0.1", Port: -1})
	require.NoError(t, err)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := natsbus.StartCluster(ctx, srv.URL(), d, &natsbus.ClusterOptions{NoDistributor: true})
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, keyID, c.Bus(share.Node{Role: share.RoleCalculator, Number: 1}).Cluster())

	nf := natsFlags{url: srv.URL()}
	o, err := nf.options("distributor-1", keyID, false, nil)
	require.NoError(t, err)
	require.Equal(t, natsbus.DefaultCluster(keyID), o.Cluster)
	bus, err := nf.dial(ctx, "distributor-1", keyID, false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer bus.Close()
	dist, err := broadcast.NewDistributor(bus, d.Distributors[0], nil)
	require.NoError(t, err)
	defer dist.Close()
	sum := sha256.Sum256([]byte("meet"))
	_, err = dist.Sign(ctx, &share.Request{Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: []byte("meet")})
	require.NoError(t, err, "the command's distributor and the library's nodes did not meet")
}
