// Package ctexp holds the modular arithmetic shared by calculators and
// combiners: constant-time exponentiation with secret exponents.
//
// Exponentiation is Montgomery multiplication with a fixed 4-bit window:
// every window costs four squarings and one multiplication by a table entry
// that is read by scanning the whole table under a mask, and every product
// ends with a masked, not branched, subtraction. No branch and no memory
// address depends on the exponent or the base, so the running time depends
// only on the modulus and on the exponent's length in bytes. Callers
// therefore encode every secret exponent of a key to one fixed length with
// [FixedBytes] before calling [Modulus.Exp].
//
// On amd64 the multiply-accumulate loops are assembly for every modulus
// size; elsewhere (or with the purego build tag) they are pure Go. The
// kernels are the FIOS and CIOS forms of Koç, Acar and Kaliski, "Analyzing
// and Comparing Montgomery Multiplication Algorithms" (IEEE Micro, 1996),
// with a separate squaring and reduction where MULX, ADCX and ADOX exist.
package ctexp

import (
	"errors"
	"math/big"
	"sync"
)

// ErrNotInvertible is returned when a base shares a factor with the modulus.
// That never happens for an honest encoded message; it is an error, not a panic.
var ErrNotInvertible = errors.New("ctexp: base is not invertible modulo N")

// ErrRange is returned for a value that is not in [0, N), or a buffer of the
// wrong length.
var ErrRange = errors.New("ctexp: value out of range")

// ErrModulus is returned by [NewModulus] for a modulus that is not odd and
// greater than one.
var ErrModulus = errors.New("ctexp: modulus must be odd and > 1")

const (
	windowBits = 4
	entries    = 1 << windowBits
)

// Modulus is an RSA modulus N prepared for arithmetic. It is safe for
// concurrent use.
type Modulus struct {
	n    *big.Int
	size int      // bytes
	m    []uint64 // N, least significant word first
	k0   uint64   // -N^-1 mod 2^64
	rr   []uint64 // R^2 mod N, R = 2^(64·len(m))
	one  []uint64 // R mod N: 1 in Montgomery form
	unit []uint64 // 1
	pool sync.Pool
}

// scratch is the working memory of one operation, reused through a pool so
// that a steady stream of operations does not allocate.
type scratch struct {
	t      []uint64 // n+2 words
	p      []uint64 // 2n+1 words, for squaring
	x, sel []uint64
	acc    []uint64
	table  []uint64 // entries·n words
}

// NewModulus prepares N, which must be odd and greater than one.
func NewModulus(n *big.Int) (*Modulus, error) {
	if n == nil || n.Sign() <= 0 || n.Bit(0) == 0 || n.BitLen() < 2 {
		return nil, ErrModulus
	}
	size := (n.BitLen() + 7) / 8
	words := (size + 7) / 8
	md := &Modulus{n: new(big.Int).Set(n), size: size}
	md.m = md.words(n)
	md.k0 = negInverse(md.m[0])
	r := new(big.Int).Lsh(big.NewInt(1), uint(64*words))
	md.one = md.words(new(big.Int).Mod(r, n))
	md.rr = md.words(new(big.Int).Mod(new(big.Int).Mul(r, r), n))
	md.unit = make([]uint64, words)
	md.unit[0] = 1
	md.pool.New = func() any {
		return &scratch{
			t:     make([]uint64, words+2),
			p:     make([]uint64, 2*words+1),
			x:     make([]uint64, words),
			sel:   make([]uint64, words),
			acc:   make([]uint64, words),
			table: make([]uint64, entries*words),
		}
	}
	return md, nil
}

// words converts a public x in [0, N) to little-endian words.
func (m *Modulus) words(x *big.Int) []uint64 {
	b := make([]byte, m.size)
	x.FillBytes(b)
	w := make([]uint64, (m.size+7)/8)
	setBytes(w, b)
	return w
}

// negInverse returns -a^-1 mod 2^64 for odd a, by Newton's iteration: each
// step doubles the number of correct low bits (a·a = 1 mod 8 to start).
func negInverse(a uint64) uint64 {
	inv := a
	for range 5 {
		inv *= 2 - a*inv
	}
	return -inv
}

// Size is the length in bytes of N, and of every value Modulus returns.
func (m *Modulus) Size() int { return m.size }

// mul sets z = x·y·R^-1 mod N, fully reduced. z may alias x or y.
func (m *Modulus) mul(z, x, y []uint64, s *scratch) {
	montMulKernel(s.t, x, y, m.m, m.k0)
	reduce(z, s.t, m.m)
}

// sqr sets z = x·x·R^-1 mod N, fully reduced. z may alias x.
func (m *Modulus) sqr(z, x []uint64, s *scratch) {
	if !montSqrKernel(s.p, x, m.m, m.k0) {
		m.mul(z, x, x, s)
		return
	}
	reduce(z, s.p[len(m.m):], m.m)
}

// load parses big-endian b (at most Size bytes) into x and checks x < N.
func (m *Modulus) load(x []uint64, b []byte) error {
	if len(b) > m.size {
		return ErrRange
	}
	setBytes(x, b)
	if lessThan(x, m.m) != 1 {
		return ErrRange
	}
	return nil
}

// Check reports whether b is a value in [1, N) of exactly Size bytes.
func (m *Modulus) Check(b []byte) error {
	if len(b) != m.size {
		return ErrRange
	}
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	if err := m.load(s.x, b); err != nil {
		return err
	}
	var or uint64
	for _, w := range s.x {
		or |= w
	}
	if or == 0 {
		return ErrRange
	}
	return nil
}

// Exp returns base^exp mod N as Size bytes. exp is a big-endian secret
// exponent; the running time depends only on len(exp) and on N.
func (m *Modulus) Exp(base, exp []byte) ([]byte, error) {
	out := make([]byte, m.size)
	if err := m.ExpTo(out, base, exp); err != nil {
		return nil, err
	}
	return out, nil
}

// ExpTo is [Modulus.Exp] writing into out, which must be Size bytes long.
// It does not allocate in steady state.
func (m *Modulus) ExpTo(out, base, exp []byte) error {
	if len(out) != m.size {
		return ErrRange
	}
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	if err := m.load(s.x, base); err != nil {
		return err
	}
	n := len(m.m)
	// table[e] = base^e in Montgomery form.
	copy(s.table[:n], m.one)
	m.mul(s.table[n:2*n], s.x, m.rr, s)
	for e := 2; e < entries; e++ {
		m.mul(s.table[e*n:(e+1)*n], s.table[(e-1)*n:e*n], s.table[n:2*n], s)
	}
	copy(s.acc, m.one)
	for _, by := range exp {
		for _, w := range [2]uint64{uint64(by >> 4), uint64(by & 0x0f)} {
			for range windowBits {
				m.sqr(s.acc, s.acc, s)
			}
			selectEntry(s.sel, s.table, w, entries)
			m.mul(s.acc, s.acc, s.sel, s)
		}
	}
	m.mul(s.acc, s.acc, m.unit, s) // leave Montgomery form
	putBytes(out, s.acc)
	s.wipe()
	return nil
}

// wipe clears what depends on a secret exponent (the running power and
// the products' working memory), so that the pool keeps none of it; the
// table holds powers of the public base only.
func (s *scratch) wipe() {
	clear(s.acc)
	clear(s.sel)
	clear(s.t)
	clear(s.p)
}

// Inverse returns base^-1 mod N. base is public (an encoded message), so a
// variable-time inversion is fine; math/big's is fast.
func (m *Modulus) Inverse(base []byte) ([]byte, error) {
	s := m.pool.Get().(*scratch)
	err := m.load(s.x, base)
	m.pool.Put(s)
	if err != nil {
		return nil, err
	}
	inv := new(big.Int).ModInverse(new(big.Int).SetBytes(base), m.n)
	if inv == nil {
		return nil, ErrNotInvertible
	}
	out := make([]byte, m.size)
	inv.FillBytes(out)
	return out, nil
}

// Mul returns the product of the values mod N. It needs at least one value.
func (m *Modulus) Mul(values ...[]byte) ([]byte, error) {
	if len(values) == 0 {
		return nil, ErrRange
	}
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	if err := m.load(s.acc, values[0]); err != nil {
		return nil, err
	}
	for _, v := range values[1:] {
		if err := m.load(s.x, v); err != nil {
			return nil, err
		}
		m.mul(s.acc, s.acc, m.rr, s) // acc·R
		m.mul(s.acc, s.acc, s.x, s)  // acc·v
	}
	out := make([]byte, m.size)
	putBytes(out, s.acc)
	return out, nil
}

// FixedBytes returns |x| as exactly n big-endian bytes, or an error when it
// does not fit. It is how every secret exponent of a key gets one length.
func FixedBytes(x *big.Int, n int) ([]byte, error) {
	if x == nil || (x.BitLen()+7)/8 > n {
		return nil, ErrRange
	}
	out := make([]byte, n)
	new(big.Int).Abs(x).FillBytes(out)
	return out, nil
}
