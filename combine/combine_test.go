package combine

import (
	"context"
	"crypto/rsa"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/internal/testplan"
	"github.com/tolerantca/tolerant/share"
)

// fixture is a dealing of key with its calculators in process, for the
// combiners under test.
type fixture struct {
	key   *rsa.PrivateKey
	deal  *share.Dealing
	calcs []*share.Calculator
}

// fixtureOf returns d, dealt from key, with its calculators.
func fixtureOf(t testing.TB, key *rsa.PrivateKey, d *share.Dealing) *fixture {
	t.Helper()
	return &fixture{key: key, deal: d, calcs: testcluster.Calculators(t, d)}
}

// patentFixture deals the test key name over the patent's first two
// subgroups (testplan.PatentFirstTwo), which together cover all ten
// calculator triples, with seed 1 and the dealer's options opts.
func patentFixture(t testing.TB, name string, opts *share.Options) *fixture {
	t.Helper()
	key := testcluster.Key(name)
	return fixtureOf(t, key, testcluster.Deal(t, 5, 3, 2, &testcluster.Options{Key: key, Seed: 1, Plan: testplan.PatentFirstTwo(), Share: opts}))
}

// request returns the request to sign msg (testcluster.Request) under the
// fixture's key id, as a distributor sends it.
func (f *fixture) request(msg string) *share.Request {
	req := testcluster.Request(msg)
	req.KeyID = f.deal.Calculators[0].KeyID
	return req
}

// partials returns the partials of the calculators calcs for req.
func (f *fixture) partials(t testing.TB, req *share.Request, calcs ...int) []share.Partial {
	t.Helper()
	return testcluster.Partials(t, f.calcs, req, calcs...)
}

// combiner returns combiner a of the dealing.
func (f *fixture) combiner(t testing.TB, a int, opts *Options) *Combiner {
	t.Helper()
	c, err := New(f.deal.Combiners[a-1], opts)
	require.NoError(t, err, "combiner %d", a)
	return c
}

// want returns crypto/rsa's PKCS #1 v1.5 signature for req.
func (f *fixture) want(t testing.TB, req *share.Request) []byte {
	t.Helper()
	sig, err := rsa.SignPKCS1v15(nil, f.key, req.Hash, req.Digest)
	require.NoError(t, err)
	return sig
}

// TestEveryTripleSigns: for every t-subset of calculators, one of the two
// combiners produces the signature of crypto/rsa, byte for byte.
func TestEveryTripleSigns(t *testing.T) {
	for _, length := range []share.ShareLength{share.FullLength, share.HalfLength} {
		f := patentFixture(t, testkeys.RSA2048, &share.Options{Length: length})
		req := f.request("every triple")
		all := f.partials(t, req, 1, 2, 3, 4, 5)
		want := f.want(t, req)
		combiners := []*Combiner{f.combiner(t, 1, nil), f.combiner(t, 2, nil)}
		for _, js := range testplan.Subsets(5, 3) {
			var subset []share.Partial
			for _, p := range all {
				if slices.Contains(js, p.J) {
					subset = append(subset, p)
				}
			}
			rand.Shuffle(len(subset), func(x, y int) { subset[x], subset[y] = subset[y], subset[x] })
			signed := false
			for _, cb := range combiners {
				res, err := cb.Combine(context.Background(), req, subset)
				if errors.Is(err, ErrNoMatch) {
					continue
				}
				require.NoError(t, err, "%v %v", length, js)
				require.Equal(t, want, res.Signature, "%v %v: signature differs from crypto/rsa", length, js)
				signed = true
			}
			assert.True(t, signed, "%v: no combiner serves %v", length, js)
		}
	}
}

func TestLargeKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("4096-bit exponentiations are slow")
	}
	for _, name := range []string{testkeys.RSA3072, testkeys.RSA4096} {
		f := patentFixture(t, name, nil)
		req := f.request("large")
		res, err := f.combiner(t, 1, nil).Combine(context.Background(), req, f.partials(t, req, 1, 2, 3))
		require.NoError(t, err, name)
		assert.Equal(t, f.want(t, req), res.Signature, "%s: signature differs", name)
	}
}

func TestNotEnoughAndIgnored(t *testing.T) {
	f := patentFixture(t, testkeys.RSA2048, nil)
	req := f.request("few")
	cb := f.combiner(t, 1, nil)
	two := f.partials(t, req, 1, 2)
	res, err := cb.Combine(context.Background(), req, two)
	require.ErrorIs(t, err, ErrNotEnough, "two calculators")
	require.NotNil(t, res, "two calculators: a result, for its Ignored")
	require.Nil(t, res.Signature, "two calculators")
	_, err = cb.Combine(context.Background(), req, nil)
	assert.ErrorIs(t, err, ErrNotEnough, "no partials")
	bogus := []share.Partial{
		{J: 9, I: 1, Value: two[0].Value},
		{J: 0, I: 1, Value: two[0].Value},
		{J: 3, I: 3, Value: two[0].Value},
		{J: 3, I: 1, Value: []byte{1, 2, 3}},
		{J: 3, I: 2, Value: nil},
		{J: 3, I: 1, Value: make([]byte, 256)},
	}
	res, err = cb.Combine(context.Background(), req, append(two, bogus...))
	require.ErrorIs(t, err, ErrNotEnough, "unusable partials counted")
	require.Len(t, res.Ignored, len(bogus), "ignored: %+v", res.Ignored)
	for n, want := range []error{ErrUnknownShare, ErrUnknownShare, ErrUnknownShare, ErrMalformedPartial, ErrMalformedPartial, ErrMalformedPartial} {
		assert.ErrorIs(t, res.Ignored[n].Reason, want, "ignored %d", n)
	}
	// Duplicates and extras do not disturb the result.
	all := f.partials(t, req, 1, 2, 3, 4, 5)
	res, err = cb.Combine(context.Background(), req, append(append(all, all...), bogus...))
	require.NoError(t, err, "with duplicates")
	require.Equal(t, f.want(t, req), res.Signature, "with duplicates")
	dups := 0
	for _, ig := range res.Ignored {
		if errors.Is(ig.Reason, ErrDuplicate) {
			dups++
		}
	}
	assert.Equal(t, len(all), dups, "duplicates reported")
}

func TestNoMatch(t *testing.T) {
	f := patentFixture(t, testkeys.RSA2048, nil)
	req := f.request("no match")
	// Combiner 1 stores no representation on calculators {1,2,3} with share 2 only.
	var parts []share.Partial
	for _, p := range f.partials(t, req, 1, 2, 3) {
		if p.I == 2 {
			parts = append(parts, p)
		}
	}
	_, err := f.combiner(t, 1, nil).Combine(context.Background(), req, parts)
	require.ErrorIs(t, err, ErrNoMatch)
}

// corrupt returns partials where calculator j's values have their last
// bit flipped.
func corrupt(f *fixture, parts []share.Partial, j int) []share.Partial {
	out := slices.Clone(parts)
	for n, p := range out {
		if p.J == j {
			v := slices.Clone(p.Value)
			v[len(v)-1] ^= 0x01
			out[n].Value = v
		}
	}
	return out
}

func TestLiarNamed(t *testing.T) {
	f := patentFixture(t, testkeys.RSA2048, nil)
	req := f.request("one liar")
	want := f.want(t, req)
	all := f.partials(t, req, 1, 2, 3, 4, 5)
	for liar := 1; liar <= 5; liar++ {
		bad := corrupt(f, all, liar)
		for a := 1; a <= 2; a++ {
			res, err := f.combiner(t, a, &Options{Audit: true}).Combine(context.Background(), req, bad)
			require.NoError(t, err, "liar %d, combiner %d", liar, a)
			require.Equal(t, want, res.Signature, "liar %d, combiner %d: wrong signature", liar, a)
			// The patent's plan cannot always tell a lone liar from two
			// colluders (see blame): the liar is named or a suspect,
			// and nobody else is named.
			if len(res.Inconsistent) > 0 {
				assert.Equal(t, []int{liar}, res.Inconsistent, "liar %d, combiner %d: named", liar, a)
			}
			assert.True(t, slices.Contains(res.Inconsistent, liar) || slices.Contains(res.Suspects, liar),
				"liar %d, combiner %d: neither named nor suspect (named %v, suspects %v)", liar, a, res.Inconsistent, res.Suspects)
		}
	}
	// Without Audit, a liar in the first matching representation is still
	// suspected: combiner 1 tries (11,22,31) first.
	res, err := f.combiner(t, 1, nil).Combine(context.Background(), req, corrupt(f, all, 2))
	require.NoError(t, err, "without audit")
	assert.Equal(t, want, res.Signature, "without audit")
	assert.Empty(t, res.Inconsistent, "without audit: named")
	assert.Contains(t, res.Suspects, 2, "without audit: suspects")
	assert.GreaterOrEqual(t, res.Tried, 2, "representations tried")
}

func TestOnlyLiarsGiveNoSignature(t *testing.T) {
	f := patentFixture(t, testkeys.RSA2048, nil)
	req := f.request("too many liars")
	bad := corrupt(f, f.partials(t, req, 1, 2, 3), 2)
	res, err := f.combiner(t, 1, nil).Combine(context.Background(), req, bad)
	require.ErrorIs(t, err, ErrNoValidSignature)
	require.Nil(t, res.Signature)
}

func TestCombinerRefusesRequest(t *testing.T) {
	f := patentFixture(t, testkeys.RSA2048, nil)
	req := f.request("checked")
	parts := f.partials(t, req, 1, 2, 3)
	no := errors.New("no")
	cb := f.combiner(t, 1, &Options{Approve: func(context.Context, *share.Request) error { return no }})
	_, err := cb.Combine(context.Background(), req, parts)
	assert.ErrorIs(t, err, share.ErrDeclined, "declined")
	other := *req
	other.Content = []byte("something else")
	_, err = f.combiner(t, 1, nil).Combine(context.Background(), &other, parts)
	assert.ErrorIs(t, err, share.ErrContentMismatch, "content mismatch")
	other = *req
	other.KeyID = "nope"
	_, err = f.combiner(t, 1, nil).Combine(context.Background(), &other, parts)
	assert.ErrorIs(t, err, share.ErrWrongKey, "key id")
}

func TestNewRefusesBadKey(t *testing.T) {
	_, err := New(nil, nil)
	assert.Error(t, err, "nil key accepted")
	f := patentFixture(t, testkeys.RSA2048, nil)
	ck := *f.deal.Combiners[0]
	ck.Entries = append([]share.SecondKey{{Rep: testplan.Rep(11, 22), C: ck.Entries[0].C}}, ck.Entries...)
	_, err = New(&ck, nil)
	assert.ErrorIs(t, err, share.ErrMalformed, "short representation")
}

func BenchmarkFinish(b *testing.B) {
	f := patentFixture(b, testkeys.RSA2048, nil)
	req := f.request("bench")
	parts := f.partials(b, req, 1, 2, 3)
	cb := f.combiner(b, 1, nil)
	for b.Loop() {
		if _, err := cb.Combine(context.Background(), req, parts); err != nil {
			b.Fatal(err)
		}
	}
}
