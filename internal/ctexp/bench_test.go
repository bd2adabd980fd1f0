package ctexp

import (
	"crypto/rand"
	"math"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tolerantca/tolerant/internal/testkeys"
)

// BenchmarkTimingLeak is a timing-leak check in the style of dudect
// (Reparaz, Balasch, Verbauwhede, "Dude, is my code constant time?", 2017):
// it times Exp on one fixed base with exponents of two classes, interleaved
// in random order, and reports Welch's t statistic of the two samples of
// durations as "t". |t| < 4.5 is the usual bar for "no leak found". The
// classes are a fixed exponent (all zero bits, or all one bits) against a
// fresh random exponent per call, all of the full-share length (2048-bit
// modulus, 2176-bit exponent). Samples above the pooled 95th percentile are
// dropped first: they are preemption by other processes, not the code.
// math/big's Exp is measured the same way as a control that the check does
// see a leak when there is one.
//
//	go test -run XXX -bench TimingLeak -benchtime 400x ./internal/ctexp/
func BenchmarkTimingLeak(b *testing.B) {
	key := testkeys.Must(testkeys.RSA2048)
	m, err := NewModulus(key.N)
	require.NoError(b, err)
	l := (key.N.BitLen() + 128) / 8
	base, _ := rand.Int(rand.Reader, key.N)
	bb := make([]byte, m.Size())
	base.FillBytes(bb)
	out := make([]byte, m.Size())
	ours := func(exp []byte) {
		if err := m.ExpTo(out, bb, exp); err != nil {
			b.Fatal(err)
		}
	}
	z, e := new(big.Int), new(big.Int)
	mathBig := func(exp []byte) { z.Exp(base, e.SetBytes(exp), key.N) }
	ones := make([]byte, l)
	for i := range ones {
		ones[i] = 0xff
	}
	for _, c := range []struct {
		name  string
		fixed []byte
		exp   func([]byte)
	}{
		{"ctexp/zeros-vs-random", make([]byte, l), ours},
		{"ctexp/ones-vs-random", ones, ours},
		{"mathbig/zeros-vs-random", make([]byte, l), mathBig},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportMetric(welchT(b, l, c.fixed, c.exp), "t")
		})
	}
}

// welchT runs exp b.N times on inputs of two classes in random order and
// returns Welch's t of their durations.
func welchT(b *testing.B, l int, fixed []byte, exp func([]byte)) float64 {
	class := make([]byte, b.N)
	inputs := make([]byte, b.N*l)
	_, err := rand.Read(class)
	require.NoError(b, err)
	_, err = rand.Read(inputs)
	require.NoError(b, err)
	for i := range b.N {
		if class[i]&1 == 0 {
			copy(inputs[i*l:(i+1)*l], fixed)
		}
	}
	d := make([]float64, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		exp(inputs[i*l : (i+1)*l])
		d[i] = float64(time.Since(start))
	}
	b.StopTimer()
	cut := slices.Clone(d)
	slices.Sort(cut)
	limit := cut[len(cut)*95/100]
	var s [2]struct{ n, sum, sq float64 }
	for i, x := range d {
		if x > limit {
			continue
		}
		c := &s[class[i]&1]
		c.n++
		c.sum += x
		c.sq += x * x
	}
	if s[0].n < 2 || s[1].n < 2 {
		return 0
	}
	mean0, mean1 := s[0].sum/s[0].n, s[1].sum/s[1].n
	var0 := (s[0].sq - s[0].n*mean0*mean0) / (s[0].n - 1)
	var1 := (s[1].sq - s[1].n*mean1*mean1) / (s[1].n - 1)
	return (mean0 - mean1) / math.Sqrt(var0/s[0].n+var1/s[1].n)
}
