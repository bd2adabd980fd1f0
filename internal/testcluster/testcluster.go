// Package testcluster deals the fixed test keys for the tests of every
// package above share: a reproducible dealing (seeded randomness and a
// chosen plan), the calculators of a dealing in process, requests, the
// signature crypto/rsa makes for them, deadlines and a log sink. It is for
// tests only: the keys are public and the randomness is predictable.
//
// It imports share, grouping and the test keys but nothing of broadcast,
// so that broadcast's in-package tests can use it; starting a cluster on
// the in-memory broadcast is in package
// [github.com/tolerantca/tolerant/internal/testcluster/memcluster]. What needs
// no more than grouping (representations, seeds, the patent's plan) is in
// [github.com/tolerantca/tolerant/internal/testplan].
package testcluster

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/internal/testplan"
	"github.com/tolerantca/tolerant/share"
)

var (
	keysMu sync.Mutex
	keys   = map[string]*rsa.PrivateKey{}
)

// Key returns the named key of package testkeys, parsed once per test
// binary. Every caller gets the same key: do not modify it.
func Key(name string) *rsa.PrivateKey {
	keysMu.Lock()
	defer keysMu.Unlock()
	k, ok := keys[name]
	if !ok {
		k = testkeys.Must(name)
		keys[name] = k
	}
	return k
}

// Options are the choices of a dealing; the zero value (or nil) deals
// Key(testkeys.RSA2048) with the seed k, t, l over the plan of
// grouping.FirstFit with redundancy 1.
type Options struct {
	// Key is the key dealt; nil is Key(testkeys.RSA2048).
	Key *rsa.PrivateKey
	// Seed seeds the dealer's random source (testplan.Seeded); 0 seeds it
	// with the bytes k, t, l.
	Seed uint64
	// Plan is the plan dealt. When nil, the plan is that of the patent's
	// first-fit greedy, grouping.FirstFit ([0076]-[0083]), or of
	// grouping.Search when Search is set.
	Plan *grouping.Plan
	// Search makes the plan with grouping.Search (evenly loaded combiners)
	// instead of grouping.FirstFit (whose first combiner holds many
	// representations, so that a lone liar can be proven and named).
	Search bool
	// Redundancy is how many combiners serve every calculator set in a
	// plan made here; 0 is 1.
	Redundancy int
	// Share are the dealer's options.
	Share *share.Options
}

// Deal deals for (k, t, l) as opts says and fails tb on any error.
func Deal(tb testing.TB, k, t, l int, opts *Options) *share.Dealing {
	tb.Helper()
	_, d := Dealer(tb, k, t, l, opts)
	return d
}

// Dealer is Deal that also returns the dealer, for its public key, key id
// and the changes after the dealing.
func Dealer(tb testing.TB, k, t, l int, opts *Options) (*share.Dealer, *share.Dealing) {
	tb.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Key == nil {
		o.Key = Key(testkeys.RSA2048)
	}
	if o.Seed == 0 {
		o.Seed = uint64(k) | uint64(t)<<8 | uint64(l)<<16
	}
	if o.Plan == nil {
		o.Plan = plan(tb, k, t, l, o.Search, o.Redundancy)
	}
	dl, err := share.NewDealer(testplan.Seeded(o.Seed), o.Key, k, t, l, o.Share)
	require.NoError(tb, err, "share.NewDealer(%d, %d, %d)", k, t, l)
	d, err := dl.Deal(o.Plan)
	require.NoError(tb, err, "dealing (%d, %d, %d)", k, t, l)
	return dl, d
}

// plan makes the plan of grouping.Search or grouping.FirstFit.
func plan(tb testing.TB, k, t, l int, search bool, r int) *grouping.Plan {
	tb.Helper()
	opts := &grouping.Options{Redundancy: r}
	if search {
		p, _, err := grouping.Search(k, t, l, opts)
		require.NoError(tb, err, "grouping.Search(%d, %d, %d)", k, t, l)
		return p
	}
	p, err := grouping.FirstFit(k, t, l, opts)
	require.NoError(tb, err, "grouping.FirstFit(%d, %d, %d)", k, t, l)
	return p
}

// Calculators returns d's calculators in process, approving everything:
// the result's element j-1 is calculator j.
func Calculators(tb testing.TB, d *share.Dealing) []*share.Calculator {
	tb.Helper()
	var out []*share.Calculator
	for _, ck := range d.Calculators {
		c, err := share.NewCalculator(ck, nil)
		require.NoError(tb, err, "calculator %d", ck.Number)
		out = append(out, c)
	}
	return out
}

// Partials returns the partials of the calculators js (numbers into
// calcs, from 1) for req ([0092]), in that order.
func Partials(tb testing.TB, calcs []*share.Calculator, req *share.Request, js ...int) []share.Partial {
	tb.Helper()
	var out []share.Partial
	for _, j := range js {
		p, err := calcs[j-1].Compute(context.Background(), req)
		require.NoError(tb, err, "calculator %d", j)
		out = append(out, p...)
	}
	return out
}

// Request returns the request to sign msg with SHA-256 and PKCS #1 v1.5,
// msg being its content. It names no key: a distributor fills the key id
// in; set KeyID to give the request to a calculator or combiner directly.
func Request(msg string) *share.Request {
	sum := sha256.Sum256([]byte(msg))
	return &share.Request{Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: []byte(msg)}
}

// Want returns crypto/rsa's PKCS #1 v1.5 signature of msg's SHA-256 digest
// with key (RFC 8017 section 8.2.1): what a Request(msg) must produce,
// byte for byte. A nil key is Key(testkeys.RSA2048), the key Deal deals
// by default.
func Want(tb testing.TB, key *rsa.PrivateKey, msg string) []byte {
	tb.Helper()
	if key == nil {
		key = Key(testkeys.RSA2048)
	}
	sum := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	require.NoError(tb, err)
	return sig
}

// Held returns an approval hook that holds every request until release is
// closed (then approves it) or the request's context ends (then returns its
// error): a task stays before its exponentiations while a test acts.
func Held(release <-chan struct{}) func(context.Context, *share.Request) error {
	return func(ctx context.Context, _ *share.Request) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Timeout returns a context that ends after d or when the test ends.
func Timeout(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

// Buffer is a log sink that is safe for concurrent writes.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Logger returns a logger of every level, as text, into a new Buffer.
func Logger() (*slog.Logger, *Buffer) {
	buf := &Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}
