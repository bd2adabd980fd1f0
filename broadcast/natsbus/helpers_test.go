package natsbus

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	keyOnce sync.Once
	key2048 *rsa.PrivateKey
	deal    *share.Dealing
	dealErr error
)

// testDealing deals the 2048-bit test key for k=5, t=3, l=2 with a seeded
// reader and a plan from grouping.Search (once: the result is the same).
func testDealing(tb testing.TB) *share.Dealing {
	tb.Helper()
	keyOnce.Do(func() {
		key2048 = testkeys.Must(testkeys.RSA2048)
		plan, _, err := grouping.Search(5, 3, 2, nil)
		if err != nil {
			dealErr = err
			return
		}
		dl, err := share.NewDealer(rand.NewChaCha8([32]byte{5, 3, 2}), key2048, 5, 3, 2, nil)
		if err != nil {
			dealErr = err
			return
		}
		deal, dealErr = dl.Deal(plan)
	})
	if dealErr != nil {
		tb.Fatal(dealErr)
	}
	return deal
}

func request(msg string) *share.Request {
	sum := sha256.Sum256([]byte(msg))
	return &share.Request{Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: []byte(msg)}
}

func want(tb testing.TB, msg string) []byte {
	tb.Helper()
	sum := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(nil, key2048, crypto.SHA256, sum[:])
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}

func timeout(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

func startServer(tb testing.TB, opts ServerOptions) *Server {
	tb.Helper()
	if opts.Port == 0 {
		opts.Port = -1
	}
	s, err := StartServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func dial(tb testing.TB, opts Options) *Bus {
	tb.Helper()
	if opts.Cluster == "" {
		opts.Cluster = testCluster
	}
	b, err := Dial(timeout(tb, 10*time.Second), opts)
	if err != nil {
		tb.Fatal(err)
	}
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

func startCluster(tb testing.TB, url string, opts *ClusterOptions) *Cluster {
	tb.Helper()
	c, err := StartCluster(timeout(tb, 20*time.Second), url, testDealing(tb), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// sign signs msg through c and checks the signature is byte-identical to
// crypto/rsa's.
func sign(tb testing.TB, c *Cluster, msg string, d time.Duration) *broadcast.Outcome {
	tb.Helper()
	out, err := c.Distributor().SignDetailed(timeout(tb, d), request(msg))
	if err != nil {
		tb.Fatalf("signing %q: %v", msg, err)
	}
	if !bytes.Equal(out.Signature, want(tb, msg)) {
		tb.Fatalf("signing %q: signature differs from rsa.SignPKCS1v15", msg)
	}
	return out
}

func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a concurrency-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func bufferLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}
