package x509sign_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testplan"
	"github.com/tolerantca/tolerant/share"
)

// direct is an in-process cluster without any transport: the calculators
// named in Answer compute their partials (share.Calculator.Compute) and the
// combiners are tried in order (combine.Combiner.Combine). It implements
// x509sign.Cluster and records every request it sees.
type direct struct {
	Calcs  []*share.Calculator // Calcs[j-1] is calculator j
	Combs  []*combine.Combiner
	Answer []int // calculators that answer; nil means all
	// NoRecord keeps Seen empty (for benchmarks).
	NoRecord bool

	mu   sync.Mutex
	Seen []*share.Request
	Last *combine.Result
}

// newDirect deals key over (k, t, l) with a seeded dealer. Its single
// combiner holds one representation per calculator set, cycling through
// share numbers; it is a test fixture, not a secure plan.
func newDirect(t testing.TB, key *rsa.PrivateKey, k, tt, l int, seed uint64) (*direct, *share.Dealer) {
	t.Helper()
	dl, err := share.NewDealer(testplan.Seeded(seed), key, k, tt, l, &share.Options{InsecureSkipSecurityCheckForTests: true}) // one combiner holds every set
	require.NoError(t, err)
	var reps []grouping.Rep
	for n, js := range testplan.Subsets(k, tt) {
		eq := testplan.Equivalents(js, l)
		reps = append(reps, eq[n%len(eq)])
	}
	d := &direct{Combs: []*combine.Combiner{newCombiner(t, dl, reps)}}
	for j := 1; j <= k; j++ {
		key, err := dl.Calculator(j)
		require.NoError(t, err, "calculator %d", j)
		c, err := share.NewCalculator(key, nil)
		require.NoError(t, err, "calculator %d", j)
		d.Calcs = append(d.Calcs, c)
	}
	return d, dl
}

// Sign implements x509sign.Cluster.
func (d *direct) Sign(ctx context.Context, req *share.Request) ([]byte, error) {
	d.mu.Lock()
	if !d.NoRecord {
		d.Seen = append(d.Seen, req)
	}
	answer := d.Answer
	d.mu.Unlock()
	if answer == nil {
		for j := range d.Calcs {
			answer = append(answer, j+1)
		}
	}
	var parts []share.Partial
	var errs []error
	for _, j := range answer {
		p, err := d.Calcs[j-1].Compute(ctx, req)
		if err != nil {
			errs = append(errs, fmt.Errorf("calculator %d: %w", j, err))
			continue
		}
		parts = append(parts, p...)
	}
	for _, c := range d.Combs {
		res, err := c.Combine(ctx, req, parts)
		if err == nil {
			d.mu.Lock()
			d.Last = res
			d.mu.Unlock()
			return res.Signature, nil
		}
		errs = append(errs, fmt.Errorf("combiner %d: %w", c.Number(), err))
	}
	return nil, errors.Join(errs...)
}

// requests returns the requests seen so far.
func (d *direct) requests() []*share.Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*share.Request(nil), d.Seen...)
}

// replay is a cluster over one combiner holding every representation of the
// dealing. It computes every calculator's partials once per request digest
// and combines exactly the partials of the representation in Use, so that
// all calculator subsets can be tried on one message at the cost of one
// exponentiation each.
type replay struct {
	calcs []*share.Calculator
	comb  *combine.Combiner
	Use   grouping.Rep

	mu    sync.Mutex
	cache map[string][]share.Partial
}

func newReplay(t testing.TB, key *rsa.PrivateKey, k, tt, l int, seed uint64) *replay {
	t.Helper()
	d, dl := newDirect(t, key, k, tt, l, seed)
	var all []grouping.Rep
	for _, js := range testplan.Subsets(k, tt) {
		all = append(all, testplan.Equivalents(js, l)...)
	}
	return &replay{calcs: d.Calcs, comb: newCombiner(t, dl, all), cache: map[string][]share.Partial{}}
}

// newCombiner returns combiner 1 of dl holding reps.
func newCombiner(t testing.TB, dl *share.Dealer, reps []grouping.Rep) *combine.Combiner {
	t.Helper()
	ck, err := dl.Combiner(1, reps)
	require.NoError(t, err)
	comb, err := combine.New(ck, nil)
	require.NoError(t, err)
	return comb
}

// Sign implements x509sign.Cluster.
func (r *replay) Sign(ctx context.Context, req *share.Request) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := fmt.Sprintf("%v|%x|%x", req.Scheme, req.Digest, req.Encoded)
	all, ok := r.cache[id]
	if !ok {
		for _, c := range r.calcs {
			p, err := c.Compute(ctx, req)
			if err != nil {
				return nil, err
			}
			all = append(all, p...)
		}
		r.cache[id] = all
	}
	want := make(map[grouping.Term]bool)
	for _, x := range r.Use {
		want[x] = true
	}
	var parts []share.Partial
	for n := len(all) - 1; n >= 0; n-- { // reversed: order must not matter
		if p := all[n]; want[grouping.Term{J: p.J, I: p.I}] {
			parts = append(parts, p)
		}
	}
	res, err := r.comb.Combine(ctx, req, parts)
	if err != nil {
		return nil, err
	}
	if !res.Rep.Equal(r.Use) {
		return nil, fmt.Errorf("combined with %v, want %v", res.Rep, r.Use)
	}
	return res.Signature, nil
}
