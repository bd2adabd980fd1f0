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
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/emsa"
	"github.com/tolerantca/tolerant/internal/testkeys"
)

func seeded(n byte) *rand.ChaCha8 { return rand.NewChaCha8([32]byte{n}) }

func rep(terms ...int) grouping.Rep {
	var r grouping.Rep
	for _, x := range terms {
		r = append(r, grouping.Term{J: x / 10, I: x % 10})
	}
	return r
}

func newDealer(t *testing.T, name string, k, tt, l int, opts *Options) *Dealer {
	t.Helper()
	dl, err := NewDealer(seeded(1), testkeys.Must(name), k, tt, l, opts)
	if err != nil {
		t.Fatal(err)
	}
	return dl
}

func TestSecondKeyReconstructsD(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	for _, length := range []ShareLength{FullLength, HalfLength} {
		dl := newDealer(t, testkeys.RSA2048, 5, 3, 2, &Options{Length: length})
		for _, r := range []grouping.Rep{rep(11, 22, 31), rep(21, 32, 41), rep(12, 41, 52)} {
			c, err := dl.SecondKey(r)
			if err != nil {
				t.Fatal(err)
			}
			sum := new(big.Int).Set(c)
			for _, x := range r {
				sum.Add(sum, dl.secrets().shares[x.J-1][x.I-1])
			}
			if sum.Cmp(key.D) != 0 { // [0063]: d = d_{j1 i1} + ... + d_{jt it} + c_a
				t.Fatalf("%v %v: c_a + sum of shares != d", length, r)
			}
			if length == FullLength && c.Sign() >= 0 {
				t.Errorf("full-length c_a should be negative, got sign %d", c.Sign())
			}
			if length == HalfLength && c.Sign() <= 0 {
				t.Errorf("half-length c_a should be positive")
			}
		}
		bits := key.N.BitLen() + 128
		if length == HalfLength {
			bits = key.N.BitLen() / 2
		}
		for _, row := range dl.secrets().shares {
			for _, s := range row {
				if s.BitLen() > bits || s.BitLen() < bits-64 {
					t.Errorf("%v: share of %d bits, want about %d", length, s.BitLen(), bits)
				}
			}
		}
	}
}

func TestDealerDeterministic(t *testing.T) {
	a := newDealer(t, testkeys.RSA2048, 4, 2, 2, nil)
	b := newDealer(t, testkeys.RSA2048, 4, 2, 2, nil)
	c, err := NewDealer(seeded(2), testkeys.Must(testkeys.RSA2048), 4, 2, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.secrets().shares[3][1].Cmp(b.secrets().shares[3][1]) != 0 {
		t.Error("same seed gave different shares")
	}
	if a.secrets().shares[3][1].Cmp(c.secrets().shares[3][1]) == 0 {
		t.Error("different seeds gave the same share")
	}
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
		_, err := NewDealer(seeded(1), tc.key, tc.k, tc.t, tc.l, tc.opts)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := NewDealer(seeded(1), k1024, 3, 2, 1, &Options{InsecureAllowSmallKeysForTests: true}); err != nil {
		t.Errorf("small key with the test option: %v", err)
	}
	if _, err := NewDealer(strings.NewReader("short"), k2048, 3, 2, 1, nil); err == nil {
		t.Error("a failing random source must be an error")
	}
	dl := newDealer(t, testkeys.RSA2048, 5, 3, 2, nil)
	for _, r := range []grouping.Rep{rep(11, 22), rep(11, 12, 31), rep(11, 23, 31), rep(11, 22, 61), rep(31, 22, 11)} {
		if _, err := dl.SecondKey(r); !errors.Is(err, grouping.ErrInvalidRep) {
			t.Errorf("SecondKey(%v) = %v, want ErrInvalidRep", r, err)
		}
	}
	if _, err := dl.Calculator(6); !errors.Is(err, ErrParameters) {
		t.Errorf("Calculator(6): %v", err)
	}
	if _, err := dl.Combiner(1, []grouping.Rep{rep(11, 22, 31), rep(11, 22, 31)}); err == nil {
		t.Error("a repeated representation must be refused")
	}
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
	_, err := NewDealer(seeded(1), key, 3, 2, 1, &Options{Length: HalfLength})
	if err == nil {
		t.Fatal("half-length shares accepted with e > 2^32")
	}
	if !errors.Is(err, ErrExponent) {
		// Some Go versions refuse such a key in Validate; either way it is refused.
		t.Logf("refused by key validation: %v", err)
	}
}

func TestKeyMaterialRoundTrip(t *testing.T) {
	dl := newDealer(t, testkeys.RSA2048, 5, 3, 2, &Options{Epoch: 7, KeyID: "ca-root-2026"})
	plan := &grouping.Plan{K: 5, T: 3, L: 2, Combiners: [][]grouping.Rep{{rep(11, 22, 31), rep(21, 32, 41)}}}
	dealing, err := dl.Deal(plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range dealing.Calculators {
		b, err := ck.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseCalculatorKey(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.Number != ck.Number || got.KeyID != "ca-root-2026" || got.Epoch != 7 || got.PublicKey.N.Cmp(ck.PublicKey.N) != 0 {
			t.Errorf("calculator %d: metadata changed in the round trip", ck.Number)
		}
		for i := range ck.Shares {
			if got.Shares[i].Cmp(ck.Shares[i]) != 0 {
				t.Errorf("calculator %d share %d changed", ck.Number, i+1)
			}
		}
		if _, err := ParseCombinerKey(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("a calculator key parsed as a combiner key: %v", err)
		}
	}
	cb := dealing.Combiners[0]
	b, err := cb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCombinerKey(b)
	if err != nil {
		t.Fatal(err)
	}
	for n, e := range cb.Entries {
		if !got.Entries[n].Rep.Equal(e.Rep) || got.Entries[n].C.Cmp(e.C) != 0 {
			t.Errorf("entry %d changed", n)
		}
	}
}

// TestNoSecretInPrint: key material never prints its numbers.
func TestNoSecretInPrint(t *testing.T) {
	dl := newDealer(t, testkeys.RSA2048, 3, 2, 1, nil)
	ck, _ := dl.Calculator(1)
	cb, _ := dl.Combiner(1, []grouping.Rep{rep(11, 21)})
	secrets := []string{ck.Shares[0].Text(16), ck.Shares[0].Text(10), cb.Entries[0].C.Text(16), cb.Entries[0].C.Text(10)}
	for _, v := range []any{ck, cb, dl} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				if strings.Contains(out, s[:16]) {
					t.Fatalf("%s of %T prints a secret", verb, v)
				}
			}
		}
	}
}

func FuzzParseKeyMaterial(f *testing.F) {
	dl, err := NewDealer(seeded(1), testkeys.Must(testkeys.RSA1024), 3, 2, 1, &Options{InsecureAllowSmallKeysForTests: true})
	if err != nil {
		f.Fatal(err)
	}
	ck, _ := dl.Calculator(2)
	cb, _ := dl.Combiner(1, []grouping.Rep{rep(11, 21), rep(11, 31)})
	b1, _ := ck.Marshal()
	b2, _ := cb.Marshal()
	f.Add(b1)
	f.Add(b2)
	f.Add([]byte(`{"format":"tolerant calculator key v1","n":"-5","k":-1}`))
	f.Add([]byte(`{"format":"tolerant combiner key v1","entries":[{"rep":[[1,1],[99,99]],"c":"zz"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, err := ParseCalculatorKey(b); err == nil {
			if _, err := NewCalculator(k, nil); err != nil {
				t.Errorf("parsed calculator key rejected: %v", err)
			}
			if _, err := k.Marshal(); err != nil {
				t.Errorf("parsed calculator key does not marshal: %v", err)
			}
		}
		if k, err := ParseCombinerKey(b); err == nil {
			if _, err := k.Marshal(); err != nil {
				t.Errorf("parsed combiner key does not marshal: %v", err)
			}
		}
	})
}

func TestCalculatorPartials(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	dl := newDealer(t, testkeys.RSA2048, 3, 2, 2, nil)
	ck, _ := dl.Calculator(2)
	calc, err := NewCalculator(ck, nil)
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("tbs certificate")
	digest := sha256.Sum256(content)
	req := &Request{KeyID: dl.KeyID(), Hash: crypto.SHA256, Digest: digest[:], Scheme: PKCS1v15, Content: content}
	parts, err := calc.Compute(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	em, _ := emsa.PKCS1v15(crypto.SHA256, digest[:], 256)
	m := new(big.Int).SetBytes(em)
	for n, p := range parts {
		want := new(big.Int).Exp(m, ck.Shares[n], key.N)
		if p.J != 2 || p.I != n+1 || new(big.Int).SetBytes(p.Value).Cmp(want) != 0 || len(p.Value) != 256 {
			t.Errorf("partial %d is not M^d_2%d mod N", n+1, n+1)
		}
	}
}

func TestCalculatorRefuses(t *testing.T) {
	dl := newDealer(t, testkeys.RSA2048, 3, 2, 1, nil)
	ck, _ := dl.Calculator(1)
	declined := errors.New("operator said no")
	calc, err := NewCalculator(ck, func(_ context.Context, r *Request) error {
		if string(r.Content) == "evil" {
			return declined
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	key := testkeys.Must(testkeys.RSA2048)
	good := sha256.Sum256([]byte("good"))
	evil := sha256.Sum256([]byte("evil"))
	s384 := sha512.Sum384([]byte("good"))
	pssEM, err := emsa.PSSEncode(seeded(3), crypto.SHA256, good[:], emsa.SaltLengthEqualsHash, key.N.BitLen())
	if err != nil {
		t.Fatal(err)
	}
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
		if !errors.Is(err, tc.want) || parts != nil {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if !errors.Is(fmt.Errorf("x: %w", ErrDeclined), ErrDeclined) {
		t.Fatal("unreachable")
	}
	// The same calculator still signs what it should.
	for _, req := range []*Request{
		{KeyID: id, Hash: crypto.SHA256, Digest: good[:], Scheme: PKCS1v15, Content: []byte("good")},
		{KeyID: id, Hash: crypto.SHA384, Digest: s384[:], Scheme: PKCS1v15},
		{KeyID: id, Hash: crypto.SHA256, Digest: good[:], Scheme: PSS, Encoded: pssEM, SaltLength: -1},
	} {
		if _, err := calc.Compute(context.Background(), req); err != nil {
			t.Errorf("%v %v: %v", req.Hash, req.Scheme, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := calc.Compute(ctx, &Request{KeyID: id, Hash: crypto.SHA256, Digest: good[:], Scheme: PKCS1v15}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestAddCalculatorKeepsSecondKeys(t *testing.T) {
	dl := newDealer(t, testkeys.RSA2048, 4, 3, 2, nil)
	before, _ := dl.SecondKey(rep(11, 22, 31))
	ck, err := dl.AddCalculator(seeded(9))
	if err != nil {
		t.Fatal(err)
	}
	if ck.Number != 5 || ck.K != 5 {
		t.Fatalf("new calculator %d of %d", ck.Number, ck.K)
	}
	after, _ := dl.SecondKey(rep(11, 22, 31))
	if before.Cmp(after) != 0 {
		t.Error("adding a calculator changed an existing c_a")
	}
	if _, err := dl.SecondKey(rep(11, 22, 52)); err != nil {
		t.Errorf("representation with the new calculator: %v", err)
	}
}
