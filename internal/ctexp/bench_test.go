package ctexp

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"testing"

	"github.com/tolerantca/tolerant/internal/testkeys"
)

// BenchmarkExp compares Exp with math/big's Exp at each key size, with an
// exponent of |N|+128 bits (the full-length share), in one run.
func BenchmarkExp(b *testing.B) {
	for _, name := range []string{testkeys.RSA2048, testkeys.RSA3072, testkeys.RSA4096} {
		key := testkeys.Must(name)
		bits := key.N.BitLen()
		m, err := NewModulus(key.N)
		if err != nil {
			b.Fatal(err)
		}
		exp, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits+128)))
		eb, _ := FixedBytes(exp, (bits+128)/8)
		base, _ := rand.Int(rand.Reader, key.N)
		bb := make([]byte, m.Size())
		base.FillBytes(bb)
		out := make([]byte, m.Size())
		b.Run(fmt.Sprintf("ctexp/%d", bits), func(b *testing.B) {
			for b.Loop() {
				if err := m.ExpTo(out, bb, eb); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("mathbig/%d", bits), func(b *testing.B) {
			z := new(big.Int)
			for b.Loop() {
				z.Exp(base, exp, key.N)
			}
		})
	}
}
