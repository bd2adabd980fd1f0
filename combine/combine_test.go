package combine

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
)

func rep(terms ...int) grouping.Rep {
	var r grouping.Rep
	for _, x := range terms {
		r = append(r, grouping.Term{J: x / 10, I: x % 10})
	}
	return r
}

// The patent's first two subgroups ([0085], [0086]); together they cover all
// ten calculator triples of k=5, t=3.
var patentPlan = &grouping.Plan{K: 5, T: 3, L: 2, Combiners: [][]grouping.Rep{
	{rep(11, 22, 31), rep(21, 32, 41), rep(31, 42, 51), rep(11, 41, 52), rep(12, 21, 51)},
	{rep(11, 21, 42), rep(22, 41, 51), rep(21, 31, 52), rep(11, 32, 51), rep(12, 31, 41)},
}}

type fixture struct {
	key   *rsa.PrivateKey
	deal  *share.Dealing
	calcs []*share.Calculator
}

func newFixture(t testing.TB, name string, opts *share.Options) *fixture {
	t.Helper()
	key := testkeys.Must(name)
	dl, err := share.NewDealer(rand.NewChaCha8([32]byte{1}), key, 5, 3, 2, opts)
	if err != nil {
		t.Fatal(err)
	}
	deal, err := dl.Deal(patentPlan)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{key: key, deal: deal}
	for _, ck := range deal.Calculators {
		c, err := share.NewCalculator(ck, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.calcs = append(f.calcs, c)
	}
	return f
}

func (f *fixture) request(msg string) *share.Request {
	d := sha256.Sum256([]byte(msg))
	return &share.Request{KeyID: f.deal.Calculators[0].KeyID, Hash: crypto.SHA256, Digest: d[:], Scheme: share.PKCS1v15, Content: []byte(msg)}
}

func (f *fixture) partials(t testing.TB, req *share.Request, calcs ...int) []share.Partial {
	t.Helper()
	var out []share.Partial
	for _, j := range calcs {
		p, err := f.calcs[j-1].Compute(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p...)
	}
	return out
}

func (f *fixture) combiner(t testing.TB, a int, opts *Options) *Combiner {
	t.Helper()
	c, err := New(f.deal.Combiners[a-1], opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) want(t testing.TB, req *share.Request) []byte {
	sig, err := rsa.SignPKCS1v15(nil, f.key, req.Hash, req.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// TestEveryTripleSigns: for every t-subset of calculators, one of the two
// combiners produces the signature of crypto/rsa, byte for byte.
func TestEveryTripleSigns(t *testing.T) {
	for _, length := range []share.ShareLength{share.FullLength, share.HalfLength} {
		f := newFixture(t, testkeys.RSA2048, &share.Options{Length: length})
		req := f.request("every triple")
		all := f.partials(t, req, 1, 2, 3, 4, 5)
		want := f.want(t, req)
		combiners := []*Combiner{f.combiner(t, 1, nil), f.combiner(t, 2, nil)}
		for a := 1; a <= 5; a++ {
			for b := a + 1; b <= 5; b++ {
				for c := b + 1; c <= 5; c++ {
					var subset []share.Partial
					for _, p := range all {
						if p.J == a || p.J == b || p.J == c {
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
						if err != nil {
							t.Fatalf("%v (%d,%d,%d): %v", length, a, b, c, err)
						}
						if !slices.Equal(res.Signature, want) {
							t.Fatalf("%v (%d,%d,%d): signature differs from crypto/rsa", length, a, b, c)
						}
						signed = true
					}
					if !signed {
						t.Errorf("%v: no combiner serves (%d,%d,%d)", length, a, b, c)
					}
				}
			}
		}
	}
}

func TestLargeKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("4096-bit exponentiations are slow")
	}
	for _, name := range []string{testkeys.RSA3072, testkeys.RSA4096} {
		f := newFixture(t, name, nil)
		req := f.request("large")
		res, err := f.combiner(t, 1, nil).Combine(context.Background(), req, f.partials(t, req, 1, 2, 3))
		if err != nil {
			t.Fatal(name, err)
		}
		if !slices.Equal(res.Signature, f.want(t, req)) {
			t.Errorf("%s: signature differs", name)
		}
	}
}

func TestNotEnoughAndIgnored(t *testing.T) {
	f := newFixture(t, testkeys.RSA2048, nil)
	req := f.request("few")
	cb := f.combiner(t, 1, nil)
	two := f.partials(t, req, 1, 2)
	res, err := cb.Combine(context.Background(), req, two)
	if !errors.Is(err, ErrNotEnough) || res == nil || res.Signature != nil {
		t.Fatalf("two calculators: %v", err)
	}
	if _, err := cb.Combine(context.Background(), req, nil); !errors.Is(err, ErrNotEnough) {
		t.Errorf("no partials: %v", err)
	}
	bogus := []share.Partial{
		{J: 9, I: 1, Value: two[0].Value},
		{J: 0, I: 1, Value: two[0].Value},
		{J: 3, I: 3, Value: two[0].Value},
		{J: 3, I: 1, Value: []byte{1, 2, 3}},
		{J: 3, I: 2, Value: nil},
		{J: 3, I: 1, Value: make([]byte, 256)},
	}
	res, err = cb.Combine(context.Background(), req, append(two, bogus...))
	if !errors.Is(err, ErrNotEnough) {
		t.Fatalf("unusable partials counted: %v", err)
	}
	if len(res.Ignored) != len(bogus) {
		t.Fatalf("ignored %d, want %d: %+v", len(res.Ignored), len(bogus), res.Ignored)
	}
	for n, want := range []error{ErrUnknownShare, ErrUnknownShare, ErrUnknownShare, ErrMalformedPartial, ErrMalformedPartial, ErrMalformedPartial} {
		if !errors.Is(res.Ignored[n].Reason, want) {
			t.Errorf("ignored %d: %v, want %v", n, res.Ignored[n].Reason, want)
		}
	}
	// Duplicates and extras do not disturb the result.
	all := f.partials(t, req, 1, 2, 3, 4, 5)
	res, err = cb.Combine(context.Background(), req, append(append(all, all...), bogus...))
	if err != nil || !slices.Equal(res.Signature, f.want(t, req)) {
		t.Fatalf("with duplicates: %v", err)
	}
	dups := 0
	for _, ig := range res.Ignored {
		if errors.Is(ig.Reason, ErrDuplicate) {
			dups++
		}
	}
	if dups != len(all) {
		t.Errorf("%d duplicates reported, want %d", dups, len(all))
	}
}

func TestNoMatch(t *testing.T) {
	f := newFixture(t, testkeys.RSA2048, nil)
	req := f.request("no match")
	// Combiner 1 stores no representation on calculators {1,2,3} with share 2 only.
	var parts []share.Partial
	for _, p := range f.partials(t, req, 1, 2, 3) {
		if p.I == 2 {
			parts = append(parts, p)
		}
	}
	if _, err := f.combiner(t, 1, nil).Combine(context.Background(), req, parts); !errors.Is(err, ErrNoMatch) {
		t.Errorf("got %v, want ErrNoMatch", err)
	}
}

// corrupt returns partials where calculator j's values are multiplied by 2.
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
	f := newFixture(t, testkeys.RSA2048, nil)
	req := f.request("one liar")
	want := f.want(t, req)
	all := f.partials(t, req, 1, 2, 3, 4, 5)
	for liar := 1; liar <= 5; liar++ {
		bad := corrupt(f, all, liar)
		for a := 1; a <= 2; a++ {
			res, err := f.combiner(t, a, &Options{Audit: true}).Combine(context.Background(), req, bad)
			if err != nil {
				t.Fatalf("liar %d, combiner %d: %v", liar, a, err)
			}
			if !slices.Equal(res.Signature, want) {
				t.Fatalf("liar %d: wrong signature", liar)
			}
			// The patent's plan cannot always tell a lone liar from two
			// colluders (see blame): the liar is named or a suspect,
			// and nobody else is named.
			if len(res.Inconsistent) > 0 && !slices.Equal(res.Inconsistent, []int{liar}) {
				t.Errorf("liar %d, combiner %d: named %v", liar, a, res.Inconsistent)
			}
			if !slices.Contains(res.Inconsistent, liar) && !slices.Contains(res.Suspects, liar) {
				t.Errorf("liar %d, combiner %d: neither named nor suspect (%v)", liar, a, res.Suspects)
			}
		}
	}
	// Without Audit, a liar in the first matching representation is still
	// suspected: combiner 1 tries (11,22,31) first.
	res, err := f.combiner(t, 1, nil).Combine(context.Background(), req, corrupt(f, all, 2))
	if err != nil || !slices.Equal(res.Signature, want) || len(res.Inconsistent) > 0 || !slices.Contains(res.Suspects, 2) {
		t.Errorf("without audit: %v, named %v, suspects %v", err, res.Inconsistent, res.Suspects)
	}
	if res.Tried < 2 {
		t.Errorf("tried %d representations", res.Tried)
	}
}

func TestOnlyLiarsGiveNoSignature(t *testing.T) {
	f := newFixture(t, testkeys.RSA2048, nil)
	req := f.request("too many liars")
	bad := corrupt(f, f.partials(t, req, 1, 2, 3), 2)
	res, err := f.combiner(t, 1, nil).Combine(context.Background(), req, bad)
	if !errors.Is(err, ErrNoValidSignature) || res.Signature != nil {
		t.Fatalf("got %v", err)
	}
}

func TestCombinerRefusesRequest(t *testing.T) {
	f := newFixture(t, testkeys.RSA2048, nil)
	req := f.request("checked")
	parts := f.partials(t, req, 1, 2, 3)
	no := errors.New("no")
	cb := f.combiner(t, 1, &Options{Approve: func(context.Context, *share.Request) error { return no }})
	if _, err := cb.Combine(context.Background(), req, parts); !errors.Is(err, share.ErrDeclined) {
		t.Errorf("declined: %v", err)
	}
	other := *req
	other.Content = []byte("something else")
	if _, err := f.combiner(t, 1, nil).Combine(context.Background(), &other, parts); !errors.Is(err, share.ErrContentMismatch) {
		t.Errorf("content mismatch: %v", err)
	}
	other = *req
	other.KeyID = "nope"
	if _, err := f.combiner(t, 1, nil).Combine(context.Background(), &other, parts); !errors.Is(err, share.ErrWrongKey) {
		t.Errorf("key id: %v", err)
	}
}

func TestNewRefusesBadKey(t *testing.T) {
	if _, err := New(nil, nil); err == nil {
		t.Error("nil key accepted")
	}
	f := newFixture(t, testkeys.RSA2048, nil)
	ck := *f.deal.Combiners[0]
	ck.Entries = append([]share.SecondKey{{Rep: rep(11, 22), C: ck.Entries[0].C}}, ck.Entries...)
	if _, err := New(&ck, nil); !errors.Is(err, share.ErrMalformed) {
		t.Errorf("short representation: %v", err)
	}
}

func BenchmarkFinish(b *testing.B) {
	f := newFixture(b, testkeys.RSA2048, nil)
	req := f.request("bench")
	parts := f.partials(b, req, 1, 2, 3)
	cb := f.combiner(b, 1, nil)
	for b.Loop() {
		if _, err := cb.Combine(context.Background(), req, parts); err != nil {
			b.Fatal(err)
		}
	}
}
