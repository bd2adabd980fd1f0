package broadcast

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	keyOnce sync.Once
	key2048 *rsa.PrivateKey
)

func testKey() *rsa.PrivateKey {
	keyOnce.Do(func() { key2048 = testkeys.Must(testkeys.RSA2048) })
	return key2048
}

// dealing deals the 2048-bit test key for (k, t, l) with a seeded reader and
// a plan of redundancy r from the patent's first-fit greedy
// (grouping.FirstFit, [0076]-[0083]). Its first combiner holds many
// representations, so that the tests can see a lone liar proven and named;
// the evenly loaded combiners of grouping.Search hold too few for that.
func dealing(tb testing.TB, k, t, l, r int) *share.Dealing {
	tb.Helper()
	plan, err := grouping.FirstFit(k, t, l, &grouping.Options{Redundancy: r})
	if err != nil {
		tb.Fatalf("grouping.FirstFit(%d,%d,%d): %v", k, t, l, err)
	}
	dl, err := share.NewDealer(rand.NewChaCha8([32]byte{byte(k), byte(t), byte(l)}), testKey(), k, t, l, nil)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := dl.Deal(plan)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func start(tb testing.TB, d *share.Dealing, opts *LocalOptions) *Local {
	tb.Helper()
	l, err := StartLocal(context.Background(), d, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

func request(msg string) *share.Request {
	sum := sha256.Sum256([]byte(msg))
	return &share.Request{Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: []byte(msg)}
}

func want(tb testing.TB, msg string) []byte {
	tb.Helper()
	sum := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(nil, testKey(), crypto.SHA256, sum[:])
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
