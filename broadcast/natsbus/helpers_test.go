package natsbus

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// searched deals the clusters of these tests: the default test key and
// seed, over the evenly loaded plan of grouping.Search.
var searched = &testcluster.Options{Search: true}

// startServer starts an embedded NATS server on a free port unless opts
// names one, and stops it when the test ends.
func startServer(tb testing.TB, opts ServerOptions) *Server {
	tb.Helper()
	if opts.Port == 0 {
		opts.Port = -1
	}
	s, err := StartServer(opts)
	require.NoError(tb, err, "StartServer")
	tb.Cleanup(func() { s.Close() })
	return s
}

// dial connects to the bus of testCluster unless opts names a cluster, and
// closes the connection when the test ends.
func dial(tb testing.TB, opts Options) *Bus {
	tb.Helper()
	if opts.Cluster == "" {
		opts.Cluster = testCluster
	}
	b, err := Dial(testcluster.Timeout(tb, 10*time.Second), opts)
	require.NoError(tb, err, "Dial %s", opts.URL)
	tb.Cleanup(func() { b.Close() })
	return b
}

// testCluster is the cluster of the tests' connections that name none.
const testCluster = "test"

// fastBus makes reconnections quick, for tests that restart the server.
func fastBus(o Options) Options {
	o.ReconnectWait = 50 * time.Millisecond
	o.DialTimeout = 2 * time.Second
	return o
}

// fastDistributor retransmits quickly.
func fastDistributor() *broadcast.DistributorOptions {
	return &broadcast.DistributorOptions{
		Retransmit: 50 * time.Millisecond, ResultTimeout: 300 * time.Millisecond, MaxRetransmit: 400 * time.Millisecond,
	}
}

// startCluster starts the searched dealing's cluster over the server at
// url and stops it when the test ends.
func startCluster(tb testing.TB, url string, opts *ClusterOptions) *Cluster {
	tb.Helper()
	c, err := StartCluster(testcluster.Timeout(tb, 20*time.Second), url, testcluster.Deal(tb, 5, 3, 2, searched), opts)
	require.NoError(tb, err, "StartCluster")
	tb.Cleanup(func() { c.Close() })
	return c
}

// sign signs msg through c and checks the signature is byte-identical to
// crypto/rsa's.
func sign(tb testing.TB, c *Cluster, msg string, d time.Duration) *broadcast.Outcome {
	tb.Helper()
	out, err := c.Distributor().SignDetailed(testcluster.Timeout(tb, d), testcluster.Request(msg))
	require.NoError(tb, err, "signing %q", msg)
	require.Equal(tb, testcluster.Want(tb, nil, msg), out.Signature, "signing %q: signature differs from rsa.SignPKCS1v15", msg)
	return out
}

// waitFor polls cond every 5 ms until it holds, failing the test after d.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(tb, "timed out waiting for "+what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
