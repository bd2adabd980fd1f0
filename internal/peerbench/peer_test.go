package peerbench

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"

	trsa "github.com/cloudflare/circl/tss/rsa"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
)

func safeKey(tb testing.TB) *rsa.PrivateKey {
	b, err := os.ReadFile("testdata/safe2048.pem")
	require.NoError(tb, err)
	block, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(tb, err)
	return k.(*rsa.PrivateKey)
}

var digest = sha256.Sum256([]byte("a TBSCertificate"))

func BenchmarkCryptoRSA(b *testing.B) {
	key := safeKey(b)
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// circl: 5 players, threshold 3, the shape of our (5,3,2) cluster.
func circlShares(b *testing.B) (*rsa.PublicKey, []trsa.KeyShare, []byte) {
	key := safeKey(b)
	shares, err := trsa.Deal(rand.Reader, 5, 3, key, false)
	require.NoError(b, err)
	padded, err := trsa.PadHash(&trsa.PKCS1v15Padder{}, crypto.SHA256, &key.PublicKey, digest[:])
	require.NoError(b, err)
	return &key.PublicKey, shares, padded
}

func BenchmarkCirclShare(b *testing.B) {
	pub, shares, padded := circlShares(b)
	b.Run("unblinded", func(b *testing.B) {
		for b.Loop() {
			if _, err := shares[0].Sign(nil, pub, padded, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("blinded", func(b *testing.B) {
		for b.Loop() {
			if _, err := shares[0].Sign(rand.Reader, pub, padded, true); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCirclSign: pad, three blinded shares and combine, in one process.
func BenchmarkCirclSign(b *testing.B) {
	pub, shares, _ := circlShares(b)
	for b.Loop() {
		padded, err := trsa.PadHash(&trsa.PKCS1v15Padder{}, crypto.SHA256, pub, digest[:])
		if err != nil {
			b.Fatal(err)
		}
		var ss []trsa.SignShare
		for _, ks := range shares[:3] {
			s, err := ks.Sign(rand.Reader, pub, padded, true)
			if err != nil {
				b.Fatal(err)
			}
			ss = append(ss, s)
		}
		if _, err := trsa.CombineSignShares(pub, 5, 3, ss, padded); err != nil {
			b.Fatal(err)
		}
	}
}

// tolerant: k=5, t=3, the patent's plan for l=2 and a searched one for l=1.
type tolerant struct {
	req   *share.Request
	calcs []*share.Calculator
	comb  *combine.Combiner
}

func newTolerant(b *testing.B, l int, length share.ShareLength) *tolerant {
	key := safeKey(b)
	plan, _, err := grouping.Search(5, 3, l, nil)
	require.NoError(b, err)
	dl, err := share.NewDealer(rand.Reader, key, 5, 3, l, &share.Options{Length: length})
	require.NoError(b, err)
	d, err := dl.Deal(plan)
	require.NoError(b, err)
	tt := &tolerant{req: &share.Request{KeyID: dl.KeyID(), Hash: crypto.SHA256, Digest: digest[:], Scheme: share.PKCS1v15}}
	for _, ck := range d.Calculators {
		c, err := share.NewCalculator(ck, nil)
		require.NoError(b, err)
		tt.calcs = append(tt.calcs, c)
	}
	// The combiner serving calculators 1, 2 and 3.
	for _, ck := range d.Combiners {
		c, err := combine.New(ck, nil)
		require.NoError(b, err)
		if _, ok := c.Match(tt.partials(b, 1, 2, 3)); ok {
			tt.comb = c
			return tt
		}
	}
	require.FailNow(b, "no combiner serves calculators {1,2,3}")
	return nil
}

func (tt *tolerant) partials(b *testing.B, js ...int) []share.Partial {
	var out []share.Partial
	for _, j := range js {
		p, err := tt.calcs[j-1].Compute(context.Background(), tt.req)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, p...)
	}
	return out
}

func BenchmarkTolerantPartial(b *testing.B) {
	for _, tc := range []struct {
		name   string
		length share.ShareLength
	}{{"full", share.FullLength}, {"half", share.HalfLength}} {
		tt := newTolerant(b, 1, tc.length)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				tt.partials(b, 1)
			}
		})
	}
}

func BenchmarkTolerantFinish(b *testing.B) {
	tt := newTolerant(b, 1, share.FullLength)
	parts := tt.partials(b, 1, 2, 3)
	for b.Loop() {
		if _, err := tt.comb.Combine(context.Background(), tt.req, parts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTolerantSign: three calculators' partials (l each) and a
// combiner's finish with its check, in one process: the counterpart of
// BenchmarkCirclSign.
func BenchmarkTolerantSign(b *testing.B) {
	for _, tc := range []struct {
		name   string
		l      int
		length share.ShareLength
	}{{"l=1,full", 1, share.FullLength}, {"l=2,full", 2, share.FullLength}, {"l=1,half", 1, share.HalfLength}} {
		tt := newTolerant(b, tc.l, tc.length)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := tt.comb.Combine(context.Background(), tt.req, tt.partials(b, 1, 2, 3)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
