package x509sign_test

// Run with: go test -run XXX -bench . -benchmem ./x509sign/
//
// Every benchmark runs at 2048, 3072 and 4096 bits, in one run, so that the
// figures compare:
//   - BenchmarkRSASignPKCS1v15: crypto/rsa with the whole key (CRT);
//   - BenchmarkExp: internal/ctexp's constant-time Exp (what calculators and
//     combiners run on secret exponents) next to math/big's variable-time
//     Exp, same base and same |N|+128-bit exponent;
//   - BenchmarkCalculatorPartial: one M^{d_ji} ([0092]) with full-length
//     (|N|+128-bit) and the patent's half-length (|N|/2-bit) shares;
//   - BenchmarkCombinerFinish: combine.Combine over exactly t partials
//     (M^{c_a}, the product and the S^e = M check, [0093]);
//   - BenchmarkSigner/direct: one whole signature through x509sign, in
//     process without transport: t=3 calculators (l=2) one after the
//     other, then the combiner;
//   - BenchmarkSignerBroadcast: one whole signature through x509sign over
//     broadcast.StartLocal (k=5, t=3, l=2): all calculators work in
//     parallel on the 2 cores, every combiner finishes, the distributor
//     verifies.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/ctexp"
	"github.com/tolerantca/tolerant/internal/testcluster/memcluster"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// benchKeys are the key sizes every benchmark runs at.
var benchKeys = []string{testkeys.RSA2048, testkeys.RSA3072, testkeys.RSA4096}

// eachKey runs f as one sub-benchmark per key size, named by its bits.
func eachKey(b *testing.B, f func(b *testing.B, key *rsa.PrivateKey)) {
	for _, name := range benchKeys {
		key := testkeys.Must(name)
		b.Run(fmt.Sprint(key.N.BitLen()), func(b *testing.B) { f(b, key) })
	}
}

var benchMsg = []byte("a TBSCertificate of a few hundred bytes, more or less")

func benchRequest(keyID string) *share.Request {
	sum := sha256.Sum256(benchMsg)
	return &share.Request{KeyID: keyID, Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: benchMsg}
}

func BenchmarkRSASignPKCS1v15(b *testing.B) {
	sum := sha256.Sum256(benchMsg)
	eachKey(b, func(b *testing.B, key *rsa.PrivateKey) {
		for b.Loop() {
			if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkExp alternates ctexp's Exp and math/big's Exp on the same base
// and exponent, one call of each per iteration, so that both see the same
// load on a shared machine. It reports the median time of each and the
// median of the per-iteration ratios ctexp/mathbig.
func BenchmarkExp(b *testing.B) {
	eachKey(b, func(b *testing.B, key *rsa.PrivateKey) {
		m, err := ctexp.NewModulus(key.N)
		if err != nil {
			b.Fatal(err)
		}
		bits := key.N.BitLen() + 128
		exp, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits)))
		eb, err := ctexp.FixedBytes(exp, bits/8)
		if err != nil {
			b.Fatal(err)
		}
		base, _ := rand.Int(rand.Reader, key.N)
		bb := make([]byte, m.Size())
		base.FillBytes(bb)
		out := make([]byte, m.Size())
		z := new(big.Int)
		var ours, theirs []time.Duration
		for b.Loop() {
			start := time.Now()
			if err := m.ExpTo(out, bb, eb); err != nil {
				b.Fatal(err)
			}
			mid := time.Now()
			z.Exp(base, exp, key.N)
			ours, theirs = append(ours, mid.Sub(start)), append(theirs, time.Since(mid))
		}
		if z.Cmp(new(big.Int).SetBytes(out)) != 0 {
			b.Fatal("ctexp and math/big disagree")
		}
		ratios := make([]float64, len(ours))
		for i := range ours {
			ratios[i] = float64(ours[i]) / float64(theirs[i])
		}
		b.ReportMetric(float64(median(ours).Microseconds())/1000, "ctexp-ms")
		b.ReportMetric(float64(median(theirs).Microseconds())/1000, "mathbig-ms")
		b.ReportMetric(median(ratios), "ratio")
	})
}

// median returns the middle of d (which it sorts).
func median[T time.Duration | float64](d []T) T {
	slices.Sort(d)
	return d[len(d)/2]
}

func BenchmarkCalculatorPartial(b *testing.B) {
	eachKey(b, func(b *testing.B, key *rsa.PrivateKey) {
		for _, length := range []share.ShareLength{share.FullLength, share.HalfLength} {
			name := map[share.ShareLength]string{share.FullLength: "full", share.HalfLength: "half"}[length]
			b.Run(name, func(b *testing.B) {
				dl, err := share.NewDealer(rand.Reader, key, 5, 3, 2, &share.Options{Length: length})
				if err != nil {
					b.Fatal(err)
				}
				ck, _ := dl.Calculator(1)
				calc, err := share.NewCalculator(ck, nil)
				if err != nil {
					b.Fatal(err)
				}
				p, err := calc.Prepare(context.Background(), benchRequest(dl.KeyID()))
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := p.Partial(1); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})
}

func BenchmarkCombinerFinish(b *testing.B) {
	eachKey(b, func(b *testing.B, key *rsa.PrivateKey) {
		dl, err := share.NewDealer(rand.Reader, key, 5, 3, 2, nil)
		if err != nil {
			b.Fatal(err)
		}
		rep := grouping.Rep{{J: 1, I: 1}, {J: 2, I: 2}, {J: 3, I: 1}}
		ck, err := dl.Combiner(1, []grouping.Rep{rep})
		if err != nil {
			b.Fatal(err)
		}
		comb, err := combine.New(ck, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		req := benchRequest(dl.KeyID())
		parts := benchPartials(b, dl, req, rep)
		for b.Loop() {
			if _, err := comb.Combine(ctx, req, parts); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchPartials computes the partials of rep for req.
func benchPartials(b *testing.B, dl *share.Dealer, req *share.Request, rep grouping.Rep) []share.Partial {
	var parts []share.Partial
	for _, x := range rep {
		k, _ := dl.Calculator(x.J)
		calc, err := share.NewCalculator(k, nil)
		if err != nil {
			b.Fatal(err)
		}
		p, err := calc.Prepare(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		part, err := p.Partial(x.I)
		if err != nil {
			b.Fatal(err)
		}
		parts = append(parts, part)
	}
	return parts
}

func BenchmarkSigner(b *testing.B) {
	eachKey(b, func(b *testing.B, key *rsa.PrivateKey) {
		b.Run("direct", func(b *testing.B) {
			d, _ := newDirect(b, key, 5, 3, 2, 11)
			d.Answer = []int{1, 2, 3}
			d.NoRecord = true
			s := newSigner(b, key, d)
			for b.Loop() {
				if _, err := s.SignMessage(nil, benchMsg, crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func BenchmarkSignerBroadcast(b *testing.B) {
	eachKey(b, func(b *testing.B, key *rsa.PrivateKey) {
		local, dl := memcluster.Deal(b, 5, 3, 2, dealt(key), nil)
		s, err := x509sign.New(dl.PublicKey(), dl.KeyID(), local.Distributor(), nil)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := s.SignMessage(nil, benchMsg, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
}
