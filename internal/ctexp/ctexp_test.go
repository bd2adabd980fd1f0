package ctexp

import (
	"errors"
	"math/big"
	"testing"

	"github.com/tolerantca/tolerant/internal/testkeys"
)

func TestExpMatchesMathBig(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	m, err := NewModulus(key.N)
	if err != nil {
		t.Fatal(err)
	}
	base := big.NewInt(0x1234567)
	exp := new(big.Int).Lsh(big.NewInt(3), 2100)
	eb, err := FixedBytes(exp, 300)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Exp(base.Bytes(), eb)
	if err != nil {
		t.Fatal(err)
	}
	if want := new(big.Int).Exp(base, exp, key.N); new(big.Int).SetBytes(got).Cmp(want) != 0 || len(got) != 256 {
		t.Error("Exp differs from math/big")
	}
	if _, err := FixedBytes(exp, 10); !errors.Is(err, ErrRange) {
		t.Error("FixedBytes accepted a number that does not fit")
	}
}

// TestNotInvertible: a base sharing a factor with N is an error, never a panic.
func TestNotInvertible(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	m, _ := NewModulus(key.N)
	if _, err := m.Inverse(key.Primes[0].Bytes()); !errors.Is(err, ErrNotInvertible) {
		t.Errorf("Inverse(p) = %v", err)
	}
	if _, err := m.Inverse(nil); !errors.Is(err, ErrNotInvertible) {
		t.Errorf("Inverse(0) = %v", err)
	}
	inv, err := m.Inverse([]byte{7})
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := m.Mul(inv, []byte{7})
	if new(big.Int).SetBytes(prod).Cmp(big.NewInt(1)) != 0 {
		t.Error("7 * 7^-1 != 1")
	}
}

func TestRejects(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	m, _ := NewModulus(key.N)
	for _, b := range [][]byte{nil, {1}, make([]byte, 256), key.N.Bytes(), make([]byte, 257)} {
		if m.Check(b) == nil {
			t.Errorf("Check accepted %d bytes", len(b))
		}
	}
	if _, err := m.Exp(key.N.Bytes(), []byte{1}); err == nil {
		t.Error("Exp accepted N as a base")
	}
	if _, err := m.Mul(); err == nil {
		t.Error("Mul of nothing")
	}
	for _, n := range []*big.Int{nil, big.NewInt(0), big.NewInt(10), big.NewInt(-7), big.NewInt(1)} {
		if _, err := NewModulus(n); err == nil {
			t.Errorf("NewModulus(%v) accepted", n)
		}
	}
}
