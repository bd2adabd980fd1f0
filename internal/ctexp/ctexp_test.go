package ctexp

import (
	"fmt"
	"math/big"
	mrand "math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testkeys"
)

// withKernel runs f once for every kernel this machine has.
func withKernel(t *testing.T, f func(t *testing.T)) {
	for _, k := range kernels() {
		t.Run(fmt.Sprintf("kernel%d", k), func(t *testing.T) {
			saved := kernel
			kernel = k
			defer func() { kernel = saved }()
			f(t)
		})
	}
}

// randOdd returns a random odd modulus of exactly bits bits.
func randOdd(t *testing.T, r *mrand.Rand, bits int) *big.Int {
	b := make([]byte, (bits+7)/8)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	n := new(big.Int).SetBytes(b)
	n.Rsh(n, uint(8*len(b)-bits))
	n.SetBit(n, bits-1, 1).SetBit(n, 0, 1)
	require.Equal(t, bits, n.BitLen())
	return n
}

// checkExp compares one Exp against math/big.
func checkExp(t *testing.T, m *Modulus, base *big.Int, exp []byte) {
	t.Helper()
	got, err := m.Exp(base.Bytes(), exp)
	require.NoError(t, err)
	want := new(big.Int).Exp(base, new(big.Int).SetBytes(exp), m.n)
	require.Len(t, got, m.Size())
	require.Zero(t, want.Cmp(new(big.Int).SetBytes(got)), "base %x exp %x", base, exp)
}

// edgeBases are 0, 1, 2, N-1, N-2 and a random value.
func edgeBases(n *big.Int, r *mrand.Rand) []*big.Int {
	one := big.NewInt(1)
	rnd := new(big.Int).Rand(r, n)
	return []*big.Int{new(big.Int), one, big.NewInt(2), new(big.Int).Sub(n, one), new(big.Int).Sub(n, big.NewInt(2)), rnd}
}

// edgeExps are the empty exponent, zeros, one, all ones, N-1 and random
// bytes, each of length l.
func edgeExps(n *big.Int, l int, r *mrand.Rand) [][]byte {
	ones := make([]byte, l)
	rnd := make([]byte, l)
	for i := range ones {
		ones[i] = 0xff
		rnd[i] = byte(r.Uint32())
	}
	one := make([]byte, l)
	one[l-1] = 1
	nm1 := new(big.Int).Sub(n, big.NewInt(1))
	exps := [][]byte{nil, make([]byte, l), one, ones, rnd}
	if e, err := FixedBytes(nm1, l); err == nil {
		exps = append(exps, e)
	}
	return exps
}

// TestExpMatchesMathBig: every limb count from 1 to 66, moduli whose size is
// and is not a multiple of 64 bits, edge and random bases and exponents.
func TestExpMatchesMathBig(t *testing.T) {
	withKernel(t, func(t *testing.T) {
		r := mrand.New(mrand.NewSource(12))
		for words := 1; words <= 66; words++ {
			// Random moduli of the least and the most bits for this limb
			// count, and 2^(64·words) - 1, whose words are all ones (the
			// largest products and carries).
			allOnes := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(64*words)), big.NewInt(1))
			for _, n := range []*big.Int{randOdd(t, r, max(2, 64*words-63)), randOdd(t, r, 64*words), allOnes} {
				bits := n.BitLen()
				m, err := NewModulus(n)
				require.NoError(t, err)
				l := 8
				if words < 8 {
					l = (bits + 128) / 8
				}
				bases := edgeBases(n, r)
				if words > 8 {
					bases = bases[3:] // 0, 1 and 2 are covered below
				}
				for _, base := range bases {
					for _, e := range edgeExps(n, l, r) {
						checkExp(t, m, base, e)
					}
				}
			}
		}
	})
}

// TestExpRSAKeys: the test keys, 1024 to 4096 bits, full-length exponents.
func TestExpRSAKeys(t *testing.T) {
	withKernel(t, func(t *testing.T) {
		r := mrand.New(mrand.NewSource(34))
		for _, name := range []string{testkeys.RSA1024, testkeys.RSA2048, testkeys.RSA3072, testkeys.RSA4096} {
			key := testkeys.Must(name)
			m, err := NewModulus(key.N)
			require.NoError(t, err)
			l := (key.N.BitLen() + 128) / 8
			for _, base := range edgeBases(key.N, r)[3:] {
				checkExp(t, m, base, edgeExps(key.N, l, r)[4])
			}
			d, err := FixedBytes(key.D, l)
			require.NoError(t, err)
			checkExp(t, m, big.NewInt(0x1234567), d)
		}
	})
}

// TestExpEveryLength: exponents of every bit length up to the fixed one,
// all encoded to that fixed length.
func TestExpEveryLength(t *testing.T) {
	key := testkeys.Must(testkeys.RSA1024)
	m, err := NewModulus(key.N)
	require.NoError(t, err)
	l := (key.N.BitLen() + 128) / 8
	r := mrand.New(mrand.NewSource(56))
	base := new(big.Int).Rand(r, key.N)
	for bits := 0; bits <= 8*l; bits++ {
		e := new(big.Int)
		if bits > 0 {
			e.Rand(r, new(big.Int).Lsh(big.NewInt(1), uint(bits-1)))
			e.SetBit(e, bits-1, 1)
		}
		eb, err := FixedBytes(e, l)
		require.NoError(t, err)
		checkExp(t, m, base, eb)
	}
}

// FuzzExp compares Exp with math/big on a 1024-bit modulus (the base is
// reduced mod N first) and on a small one.
func FuzzExp(f *testing.F) {
	key := testkeys.Must(testkeys.RSA1024)
	big1024, err := NewModulus(key.N)
	require.NoError(f, err)
	small, err := NewModulus(new(big.Int).SetUint64(0xfffffffffffffff1))
	require.NoError(f, err)
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1}, []byte{0xff, 0xff})
	f.Add(key.N.Bytes(), key.D.Bytes())
	f.Fuzz(func(t *testing.T, base, exp []byte) {
		for _, m := range []*Modulus{big1024, small} {
			x := new(big.Int).SetBytes(base)
			x.Mod(x, m.n)
			for _, k := range kernels() {
				saved := kernel
				kernel = k
				got, err := m.Exp(x.Bytes(), exp)
				kernel = saved
				require.NoError(t, err)
				want := new(big.Int).Exp(x, new(big.Int).SetBytes(exp), m.n)
				require.Zero(t, want.Cmp(new(big.Int).SetBytes(got)), "kernel %d", k)
			}
		}
	})
}

// TestExpNoAllocs: ExpTo and Check do not allocate in steady state.
func TestExpNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	key := testkeys.Must(testkeys.RSA2048)
	m, err := NewModulus(key.N)
	require.NoError(t, err)
	exp, err := FixedBytes(key.D, 272)
	require.NoError(t, err)
	base := make([]byte, m.Size())
	base[10] = 7
	out := make([]byte, m.Size())
	require.NoError(t, m.ExpTo(out, base, exp)) // fill the pool
	allocs := testing.AllocsPerRun(10, func() {
		require.NoError(t, m.ExpTo(out, base, exp))
		require.NoError(t, m.Check(out))
	})
	require.Zero(t, allocs)
}

func TestMul(t *testing.T) {
	withKernel(t, func(t *testing.T) {
		key := testkeys.Must(testkeys.RSA2048)
		m, err := NewModulus(key.N)
		require.NoError(t, err)
		r := mrand.New(mrand.NewSource(78))
		want := big.NewInt(1)
		var vals [][]byte
		for range 4 {
			v := new(big.Int).Rand(r, key.N)
			vals = append(vals, v.Bytes())
			want.Mul(want, v).Mod(want, key.N)
			got, err := m.Mul(vals...)
			require.NoError(t, err)
			require.Zero(t, want.Cmp(new(big.Int).SetBytes(got)))
		}
	})
}

func TestFixedBytes(t *testing.T) {
	exp := new(big.Int).Lsh(big.NewInt(3), 2100)
	eb, err := FixedBytes(exp, 300)
	require.NoError(t, err)
	require.Len(t, eb, 300)
	_, err = FixedBytes(exp, 10)
	require.ErrorIs(t, err, ErrRange)
	neg, err := FixedBytes(big.NewInt(-5), 2)
	require.NoError(t, err)
	require.Equal(t, []byte{0, 5}, neg)
}

// TestNotInvertible: a base sharing a factor with N is an error, never a panic.
func TestNotInvertible(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	m, _ := NewModulus(key.N)
	_, err := m.Inverse(key.Primes[0].Bytes())
	require.ErrorIs(t, err, ErrNotInvertible)
	_, err = m.Inverse(nil)
	require.ErrorIs(t, err, ErrNotInvertible)
	inv, err := m.Inverse([]byte{7})
	require.NoError(t, err)
	prod, err := m.Mul(inv, []byte{7})
	require.NoError(t, err)
	require.Zero(t, new(big.Int).SetBytes(prod).Cmp(big.NewInt(1)), "7 * 7^-1 != 1")
}

func TestRejects(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	m, _ := NewModulus(key.N)
	for _, b := range [][]byte{nil, {1}, make([]byte, 256), key.N.Bytes(), make([]byte, 257)} {
		require.Error(t, m.Check(b), "Check accepted %d bytes", len(b))
	}
	_, err := m.Exp(key.N.Bytes(), []byte{1})
	require.ErrorIs(t, err, ErrRange)
	_, err = m.Exp(make([]byte, 257), []byte{1})
	require.ErrorIs(t, err, ErrRange)
	require.ErrorIs(t, m.ExpTo(make([]byte, 255), []byte{2}, []byte{1}), ErrRange)
	_, err = m.Mul()
	require.ErrorIs(t, err, ErrRange)
	_, err = m.Mul([]byte{2}, key.N.Bytes())
	require.ErrorIs(t, err, ErrRange)
	for _, n := range []*big.Int{nil, big.NewInt(0), big.NewInt(10), big.NewInt(-7), big.NewInt(1)} {
		_, err := NewModulus(n)
		require.ErrorIs(t, err, ErrModulus, "NewModulus(%v)", n)
	}
}

// TestExpConcurrent: one Modulus shared by goroutines (each takes its own
// scratch from the pool).
func TestExpConcurrent(t *testing.T) {
	key := testkeys.Must(testkeys.RSA1024)
	m, err := NewModulus(key.N)
	require.NoError(t, err)
	exp, err := FixedBytes(key.D, 144)
	require.NoError(t, err)
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			base := big.NewInt(int64(g + 2))
			want := new(big.Int).Exp(base, key.D, key.N)
			for range 10 {
				got, err := m.Exp(base.Bytes(), exp)
				if err == nil && want.Cmp(new(big.Int).SetBytes(got)) != 0 {
					err = fmt.Errorf("goroutine %d: wrong result", g)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
}

// TestExpWipesScratch: no exponent-dependent value stays in the pool.
func TestExpWipesScratch(t *testing.T) {
	key := testkeys.Must(testkeys.RSA1024)
	m, err := NewModulus(key.N)
	require.NoError(t, err)
	exp, err := FixedBytes(key.D, 144)
	require.NoError(t, err)
	_, err = m.Exp([]byte{5}, exp)
	require.NoError(t, err)
	s := m.pool.Get().(*scratch)
	for _, w := range [][]uint64{s.acc, s.sel, s.t, s.p} {
		require.Equal(t, make([]uint64, len(w)), w)
	}
}
