package share

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/emsa"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/internal/testplan"
)

// newDealer is the dealer of the named test key for (k, t, l) with seed 1
// (testplan.Seeded). The dealings of the other packages' tests come from
// internal/testcluster, which these in-package tests cannot import (it
// imports share).
func newDealer(t *testing.T, name string, k, tt, l int, opts *Options) *Dealer {
	t.Helper()
	dl, err := NewDealer(testplan.Seeded(1), testkeys.Must(name), k, tt, l, opts)
	require.NoError(t, err, "NewDealer(%d, %d, %d)", k, tt, l)
	return dl
}

func TestSecondKeyReconstructsD(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	for _, length := range []ShareLength{FullLength, HalfLength} {
		dl := newDealer(t, testkeys.RSA2048, 5, 3, 2, &Options{Length: length})
		for _, r := range []grouping.Rep{testplan.Rep(11, 22, 31), testplan.Rep(21, 32, 41), testplan.Rep(12, 41, 52)} {
			c, err := dl.SecondKey(r)
			require.NoError(t, err, "%v %v", length, r)
			sum := new(big.Int).Set(c)
			for _, x := range r {
				sum.Add(sum, dl.secrets().shares[x.J-1][x.I-1])
			}
			// [0063]: d = d_{j1 i1} + ... + d_{jt it} + c_a
			require.Zero(t, sum.Cmp(key.D), "%v %v: c_a + sum of shares != d", length, r)
			if length == FullLength {
				assert.Negative(t, c.Sign(), "full-length c_a should be negative")
			}
			if length == HalfLength {
				assert.Positive(t, c.Sign(), "half-length c_a should be positive")
			}
		}
		bits := key.N.BitLen() + 128
		if length == HalfLength {
			bits = key.N.BitLen() / 2
		}
		for _, row := range dl.secrets().shares {
			for _, s := range row {
				assert.LessOrEqual(t, s.BitLen(), bits, "%v: share of %d bits, want about %d", length, s.BitLen(), bits)
				assert.GreaterOrEqual(t, s.BitLen(), bits-64, "%v: share of %d bits, want about %d", length, s.BitLen(), bits)
			}
		}
	}
}

func TestDealerDeterministic(t *testing.T) {
	a := newDealer(t, testkeys.RSA2048, 4, 2, 2, nil)
	b := newDealer(t, testkeys.RSA2048, 4, 2, 2, nil)
	c, err := NewDealer(testplan.Seeded(2), testkeys.Must(testkeys.RSA2048), 4, 2, 2, nil)
	require.NoError(t, err)
	assert.Zero(t, a.secrets().shares[3][1].Cmp(b.secrets().shares[3][1]), "same seed gave different shares")
	assert.NotZero(t, a.secrets().shares[3][1].Cmp(c.secrets().shares[3][1]), "different seeds gave the same share")
}

func TestDealerRefuses(t *testing.T) {
	k2048 := testkeys.Must(testkeys.RSA2048)
	k1024 := testkeys.Must(testkeys.RSA1024)
	for _, tc := range []struct {
		name    string
		key     *rsa.PrivateKey
		k, t, l int
		opts    *Options
		want    error
	}{
		{"small key", k1024, 3, 2, 1, nil, ErrKeySize},
		{"nil key", nil, 3, 2, 1, nil, ErrKeySize},
		{"t=k", k2048, 3, 3, 1, nil, ErrParameters},
		{"t=0", k2048, 3, 0, 1, nil, ErrParameters},
		{"l=0", k2048, 3, 2, 0, nil, ErrParameters},
		{"k too big", k2048, 65, 3, 1, nil, ErrParameters},
		{"l too big", k2048, 5, 3, 17, nil, ErrParameters},
	} {
		_, err := NewDealer(testplan.Seeded(1), tc.key, tc.k, tc.t, tc.l, tc.opts)
		assert.ErrorIs(t, err, tc.want, tc.name)
	}
	_, err := NewDealer(testplan.Seeded(1), k1024, 3, 2, 1, &Options{InsecureAllowSmallKeysForTests: true})
	assert.NoError(t, err, "small key with the test option")
	_, err = NewDealer(strings.NewReader("short"), k2048, 3, 2, 1, nil)
	assert.Error(t, err, "a failing random source must be an error")
	dl := newDealer(t, testkeys.RSA2048, 5, 3, 2, nil)
	for _, r := range []grouping.Rep{testplan.Rep(11, 22), testplan.Rep(11, 12, 31), testplan.Rep(11, 23, 31), testplan.Rep(11, 22, 61), testplan.Rep(31, 22, 11)} {
		_, err := dl.SecondKey(r)
		assert.ErrorIs(t, err, grouping.ErrInvalidRep, "SecondKey(%v)", r)
	}
	_, err = dl.Calculator(6)
	assert.ErrorIs(t, err, ErrParameters, "Calculator(6)")
	_, err = dl.Combiner(1, []grouping.Rep{testplan.Rep(11, 22, 31), testplan.Rep(11, 22, 31)})
	assert.Error(t, err, "a repeated representation must be refused")
}

// bigExponentKey builds a valid key with e > 2^32 from a test key's primes.
func bigExponentKey(t *testing.T) *rsa.PrivateKey {
	base := testkeys.Must(testkeys.RSA2048)
	p, q := base.Primes[0], base.Primes[1]
	one := big.NewInt(1)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
	e := big.NewInt(1<<33 + 1)
	for new(big.Int).GCD(nil, nil, e, phi).Cmp(one) != 0 {
		e.Add(e, big.NewInt(2))
	}
	d := new(big.Int).ModInverse(e, phi)
	k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: base.N, E: int(e.Int64())}, D: d, Primes: []*big.Int{p, q}}
	k.Precompute()
	return k
}

func TestHalfLengthRefusedForLargeExponent(t *testing.T) {
	key := bigExponentKey(t)
	_, err := NewDealer(testplan.Seeded(1), key, 3, 2, 1, &Options{Length: HalfLength})
	require.Error(t, err, "half-length shares accepted with e > 2^32")
	if !errors.Is(err, ErrExponent) {
		// Some Go versions refuse such a key in Validate; either way it is refused.
		t.Logf("refused by key validation: %v", err)
	}
}

func TestKeyMaterialRoundTrip(t *testing.T) {
	dl := newDealer(t, testkeys.RSA2048, 5, 3, 2, &Options{Epoch: 7, KeyID: "ca-root-2026"})
	plan := &grouping.Plan{K: 5, T: 3, L: 2, Combiners: [][]grouping.Rep{{testplan.Rep(11, 22, 31), testplan.Rep(21, 32, 41)}}}
	dealing, err := dl.Deal(plan)
	require.NoError(t, err)
	for _, ck := range dealing.Calculators {
		b, err := ck.Marshal()
		require.NoError(t, err, "calculator %d", ck.Number)
		got, err := ParseCalculatorKey(b)
		require.NoError(t, err, "calculator %d", ck.Number)
		assert.Equal(t, ck.Number, got.Number, "calculator %d: number changed in the round trip", ck.Number)
		assert.Equal(t, "ca-root-2026", got.KeyID, "calculator %d: key id changed in the round trip", ck.Number)
		assert.Equal(t, uint32(7), got.Epoch, "calculator %d: epoch changed in the round trip", ck.Number)
		assert.Zero(t, got.PublicKey.N.Cmp(ck.PublicKey.N), "calculator %d: N changed in the round trip", ck.Number)
		// Compared one by one, so that a failure does not print a share.
		require.Len(t, got.Shares, len(ck.Shares), "calculator %d: shares", ck.Number)
		for i := range ck.Shares {
			assert.Zero(t, got.Shares[i].Cmp(ck.Shares[i]), "calculator %d share %d changed", ck.Number, i+1)
		}
		_, err = ParseCombinerKey(b)
		assert.ErrorIs(t, err, ErrMalformed, "a calculator key parsed as a combiner key")
	}
	cb := dealing.Combiners[0]
	b, err := cb.Marshal()
	require.NoError(t, err)
	got, err := ParseCombinerKey(b)
	require.NoError(t, err)
	require.Len(t, got.Entries, len(cb.Entries), "combiner entries")
	for n, e := range cb.Entries {
		assert.True(t, got.Entries[n].Rep.Equal(e.Rep), "entry %d: representation %v, want %v", n, got.Entries[n].Rep, e.Rep)
		assert.Zero(t, got.Entries[n].C.Cmp(e.C), "entry %d: c_a changed", n)
	}
}

// TestNoSecretInPrint: key material never prints its numbers.
func TestNoSecretInPrint(t *testing.T) {
	dl := newDealer(t, testkeys.RSA2048, 3, 2, 1, nil)
	ck, err := dl.Calculator(1)
	require.NoError(t, err)
	cb, err := dl.Combiner(1, []grouping.Rep{testplan.Rep(11, 21)})
	require.NoError(t, err)
	secrets := []string{ck.Shares[0].Text(16), ck.Shares[0].Text(10), cb.Entries[0].C.Text(16), cb.Entries[0].C.Text(10)}
	for _, v := range []any{ck, cb, dl} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				// Not require.NotContains: its message would print the secret.
				if strings.Contains(out, s[:16]) {
					t.Fatalf("%s of %T prints a secret", verb, v)
				}
			}
		}
	}
}

func FuzzParseKeyMaterial(f *testing.F) {
	dl, err := NewDealer(testplan.Seeded(1), testkeys.Must(testkeys.RSA1024), 3, 2, 1, &Options{InsecureAllowSmallKeysForTests: true})
	require.NoError(f, err)
	ck, err := dl.Calculator(2)
	require.NoError(f, err)
	cb, err := dl.Combiner(1, []grouping.Rep{testplan.Rep(11, 21), testplan.Rep(11, 31)})
	require.NoError(f, err)
	b1, err := ck.Marshal()
	require.NoError(f, err)
	b2, err := cb.Marshal()
	require.NoError(f, err)
	f.Add(b1)
	f.Add(b2)
	f.Add([]byte(`{"format":"tolerant calculator key v1","n":"-5","k":-1}`))
	f.Add([]byte(`{"format":"tolerant combiner key v1","entries":[{"rep":[[1,1],[99,99]],"c":"zz"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, err := ParseCalculatorKey(b); err == nil {
			_, err := NewCalculator(k, nil)
			assert.NoError(t, err, "parsed calculator key rejected")
			_, err = k.Marshal()
			assert.NoError(t, err, "parsed calculator key does not marshal")
		}
		if k, err := ParseCombinerKey(b); err == nil {
			_, err := k.Marshal()
			assert.NoError(t, err, "parsed combiner key does not marshal")
		}
	})
}

func TestCalculatorPartials(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	dl := newDealer(t, testkeys.RSA2048, 3, 2, 2, nil)
	ck, err := dl.Calculator(2)
	require.NoError(t, err)
	calc, err := NewCalculator(ck, nil)
	require.NoError(t, err)
	content := []byte("tbs certificate")
	digest := sha256.Sum256(content)
	req := &Request{KeyID: dl.KeyID(), Hash: crypto.SHA256, Digest: digest[:], Scheme: PKCS1v15, Content: content}
	parts, err := calc.Compute(context.Background(), req)
	require.NoError(t, err)
	em, err := emsa.PKCS1v15(crypto.SHA256, digest[:], 256)
	require.NoError(t, err)
	m := new(big.Int).SetBytes(em)
	require.Len(t, parts, 2, "one partial per share")
	for n, p := range parts {
		want := new(big.Int).Exp(m, ck.Shares[n], key.N)
		assert.Equal(t, 2, p.J, "partial %d: calculator", n+1)
		assert.Equal(t, n+1, p.I, "partial %d: share", n+1)
		assert.Len(t, p.Value, 256, "partial %d: length", n+1)
		assert.Zero(t, new(big.Int).SetBytes(p.Value).Cmp(want), "partial %d is not M^d_2%d mod N", n+1, n+1)
	}
}

func TestCalculatorRefuses(t *testing.T) {
	dl := newDealer(t, testkeys.RSA2048, 3, 2, 1, nil)
	ck, err := dl.Calculator(1)
	require.NoError(t, err)
	declined := errors.New("operator said no")
	calc, err := NewCalculator(ck, func(_ context.Context, r *Request) error {
		if string(r.Content) == "evil" {
			return declined
		}
		return nil
	})
	require.NoError(t, err)
	key := testkeys.Must(testkeys.RSA2048)
	good := sha256.Sum256([]byte("good"))
	evil := sha256.Sum256([]byte("evil"))
	s384 := sha512.Sum384([]byte("good"))
	pssEM, err := emsa.PSSEncode(testplan.Seeded(3), crypto.SHA256, good[:], emsa.SaltLengthEqualsHash, key.N.BitLen())
	require.NoError(t, err)
	badEM := append([]byte(nil), pssEM...)
	badEM[10] ^= 1
	id := dl.KeyID()
	for _, tc := range []struct {
		name string
		req  *Request
		want error
	}{
		{"digest length", &Request{KeyID: id, Hash: crypto.SHA256, Digest: good[:31], Scheme: PKCS1v15}, ErrDigestLength},
		{"sha384 with a sha256-size digest", &Request{KeyID: id, Hash: crypto.SHA384, Digest: good[:], Scheme: PKCS1v15}, ErrDigestLength},
		{"content mismatch", &Request{KeyID: id, Hash: crypto.SHA256, Digest: good[:], Scheme: PKCS1v15, Content: []byte("other")}, ErrContentMismatch},
		{"pss encoding", &Request{KeyID: id, Hash: crypto.SHA256, Digest: good[:], Scheme: PSS, Encoded: badEM, SaltLength: -1}, ErrPSSEncoding},
		{"pss encoding of another digest", &Request{KeyID: id, Hash: crypto.SHA256, Digest: evil[:], Scheme: PSS, Encoded: pssEM, SaltLength: -1}, ErrPSSEncoding},
		{"pss without encoding", &Request{KeyID: id, Hash: crypto.SHA256, Digest: good[:], Scheme: PSS}, ErrPSSEncoding},
		{"declined", &Request{KeyID: id, Hash: crypto.SHA256, Digest: evil[:], Scheme: PKCS1v15, Content: []byte("evil")}, ErrDeclined},
		{"sha1", &Request{KeyID: id, Hash: crypto.SHA1, Digest: good[:20], Scheme: PKCS1v15}, ErrUnsupportedHash},
		{"no hash", &Request{KeyID: id, Digest: good[:], Scheme: PKCS1v15}, ErrUnsupportedHash},
		{"scheme", &Request{KeyID: id, Hash: crypto.SHA256, Digest: good[:], Scheme: 9}, ErrUnsupported},
		{"key id", &Request{KeyID: "other", Hash: crypto.SHA256, Digest: good[:], Scheme: PKCS1v15}, ErrWrongKey},
		{"nil", nil, ErrWrongKey},
	} {
		parts, err := calc.Compute(context.Background(), tc.req)
		assert.ErrorIs(t, err, tc.want, tc.name)
		assert.Nil(t, parts, "%s: partials of a refused request", tc.name)
	}
	require.ErrorIs(t, fmt.Errorf("x: %w", ErrDeclined), ErrDeclined)
	// The same calculator still signs what it should.
	for _, req := range []*Request{
		{KeyID: id, Hash: crypto.SHA256, Digest: good[:], Scheme: PKCS1v15, Content: []byte("good")},
		{KeyID: id, Hash: crypto.SHA384, Digest: s384[:], Scheme: PKCS1v15},
		{KeyID: id, Hash: crypto.SHA256, Digest: good[:], Scheme: PSS, Encoded: pssEM, SaltLength: -1},
	} {
		_, err := calc.Compute(context.Background(), req)
		assert.NoError(t, err, "%v %v", req.Hash, req.Scheme)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = calc.Compute(ctx, &Request{KeyID: id, Hash: crypto.SHA256, Digest: good[:], Scheme: PKCS1v15})
	assert.ErrorIs(t, err, context.Canceled, "cancelled context")
}

func TestAddCalculatorKeepsSecondKeys(t *testing.T) {
	dl := newDealer(t, testkeys.RSA2048, 4, 3, 2, nil)
	before, err := dl.SecondKey(testplan.Rep(11, 22, 31))
	require.NoError(t, err)
	ck, err := dl.AddCalculator(testplan.Seeded(9))
	require.NoError(t, err)
	require.Equal(t, 5, ck.Number, "new calculator's number")
	require.Equal(t, 5, ck.K, "new calculator's k")
	after, err := dl.SecondKey(testplan.Rep(11, 22, 31))
	require.NoError(t, err)
	assert.Zero(t, before.Cmp(after), "adding a calculator changed an existing c_a")
	_, err = dl.SecondKey(testplan.Rep(11, 22, 52))
	assert.NoError(t, err, "representation with the new calculator")
}
