// Package ctexp holds the modular arithmetic shared by calculators and
// combiners: constant-time exponentiation with secret exponents, backed by
// filippo.io/bigmod.
//
// bigmod's Exp loops over every byte of the exponent it is given, so the time
// it takes depends on the exponent's length in bytes, never on its value.
// Callers therefore encode every secret exponent of a key to one fixed length
// with [FixedBytes] before calling [Modulus.Exp].
package ctexp

import (
	"errors"
	"math/big"

	"filippo.io/bigmod"
)

// ErrNotInvertible is returned when a base shares a factor with the modulus.
// That never happens for an honest encoded message; it is an error, not a panic.
var ErrNotInvertible = errors.New("ctexp: base is not invertible modulo N")

// ErrRange is returned for a value that is not in [0, N).
var ErrRange = errors.New("ctexp: value out of range")

// Modulus is an RSA modulus N prepared for arithmetic.
type Modulus struct {
	m    *bigmod.Modulus
	n    *big.Int
	size int // bytes
}

// NewModulus prepares N, which must be odd and greater than one.
func NewModulus(n *big.Int) (*Modulus, error) {
	if n == nil || n.Sign() <= 0 || n.Bit(0) == 0 || n.BitLen() < 2 {
		return nil, errors.New("ctexp: modulus must be odd and > 1")
	}
	m, err := bigmod.NewModulus(n.Bytes())
	if err != nil {
		return nil, err
	}
	return &Modulus{m: m, n: new(big.Int).Set(n), size: (n.BitLen() + 7) / 8}, nil
}

// Size is the length in bytes of N, and of every value Modulus returns.
func (m *Modulus) Size() int { return m.size }

// nat parses b (big-endian, any length up to Size) as a value in [0, N).
func (m *Modulus) nat(b []byte) (*bigmod.Nat, error) {
	x, err := bigmod.NewNat().SetBytes(b, m.m)
	if err != nil {
		return nil, ErrRange
	}
	return x, nil
}

// Check reports whether b is a value in [1, N) of exactly Size bytes.
func (m *Modulus) Check(b []byte) error {
	if len(b) != m.size {
		return ErrRange
	}
	x, err := m.nat(b)
	if err != nil {
		return err
	}
	if x.IsZero() == 1 {
		return ErrRange
	}
	return nil
}

// Exp returns base^exp mod N as Size bytes. exp is a big-endian secret
// exponent; the running time depends only on len(exp) and on N.
func (m *Modulus) Exp(base, exp []byte) ([]byte, error) {
	x, err := m.nat(base)
	if err != nil {
		return nil, err
	}
	return bigmod.NewNat().Exp(x, exp, m.m).Bytes(m.m), nil
}

// Inverse returns base^-1 mod N. base is public (an encoded message), so a
// variable-time inversion is fine; math/big's is several times faster than
// bigmod's here.
func (m *Modulus) Inverse(base []byte) ([]byte, error) {
	if _, err := m.nat(base); err != nil {
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
	acc, err := m.nat(values[0])
	if err != nil {
		return nil, err
	}
	for _, v := range values[1:] {
		y, err := m.nat(v)
		if err != nil {
			return nil, err
		}
		acc.Mul(y, m.m)
	}
	return acc.Bytes(m.m), nil
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
