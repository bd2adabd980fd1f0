package x509sign_test

// Run with: go test -run XXX -bench . -benchmem ./x509sign/
//
// All at 2048 bits, in one run, so that the figures compare:
//   - BenchmarkRSASignPKCS1v15: crypto/rsa with the whole key (CRT);
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
	"testing"

	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

var benchMsg = []byte("a TBSCertificate of a few hundred bytes, more or less")

func benchRequest(keyID string) *share.Request {
	sum := sha256.Sum256(benchMsg)
	return &share.Request{KeyID: keyID, Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: benchMsg}
}

func BenchmarkRSASignPKCS1v15(b *testing.B) {
	key := testkeys.Must(testkeys.RSA2048)
	sum := sha256.Sum256(benchMsg)
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCalculatorPartial(b *testing.B) {
	key := testkeys.Must(testkeys.RSA2048)
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
}

func BenchmarkCombinerFinish(b *testing.B) {
	key := testkeys.Must(testkeys.RSA2048)
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
	var parts []share.Partial
	for _, x := range rep {
		k, _ := dl.Calculator(x.J)
		calc, err := share.NewCalculator(k, nil)
		if err != nil {
			b.Fatal(err)
		}
		p, err := calc.Prepare(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		part, err := p.Partial(x.I)
		if err != nil {
			b.Fatal(err)
		}
		parts = append(parts, part)
	}
	for b.Loop() {
		if _, err := comb.Combine(ctx, req, parts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSigner(b *testing.B) {
	key := testkeys.Must(testkeys.RSA2048)
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
}

func BenchmarkSignerBroadcast(b *testing.B) {
	key := testkeys.Must(testkeys.RSA2048)
	local, dl := startLocal(b, key, 5, 3, 2, nil)
	s, err := x509sign.New(dl.PublicKey(), dl.KeyID(), local.Distributor(), nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.SignMessage(nil, benchMsg, crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}
