package grouping

import (
	"math/big"
	"math/bits"
)

// Arithmetic names the exact arithmetic used by the rank tests.
type Arithmetic string

const (
	// ArithPrime is elimination over GF(p), p = 2^61-1, used when the
	// Hadamard bound below shows that it decides ranks exactly as over Q.
	ArithPrime Arithmetic = "GF(2^61-1)"
	// ArithRational is elimination over math/big.Rat, the fallback.
	ArithRational Arithmetic = "big.Rat"
)

const prime = 1<<61 - 1

// chooseArithmetic decides which arithmetic decides the leak test exactly.
//
// The rational leak test is a statement about ranks: the coalition
// learns d iff rank([1|V]) > rank(V), where V holds the equations' indicator
// vectors on the unknown shares (signs do not change ranks: they are column
// scalings). A rank over a field is the size of the largest non-zero minor.
// Every minor of an integer matrix is an integer, so a minor that is zero over
// Q is zero mod p: rank over GF(p) <= rank over Q. Conversely a non-zero
// integer minor whose absolute value is < p cannot be divisible by p, so it
// stays non-zero mod p. Every entry is 0 or 1 and every row of [1|V] has at
// most t+1 non-zeros (t terms and the d column), so each row has Euclidean
// norm <= sqrt(t+1), and by Hadamard's inequality every s x s minor has
// |minor| <= (t+1)^(s/2) <= (t+1)^(D/2) with D = min(rows, columns). Hence,
// if (t+1)^D < p^2, every non-zero minor of [1|V] and of V is non-zero mod p,
// both ranks are the same over GF(p) and over Q, and so is the verdict.
// Otherwise elimination runs over math/big.Rat.
func chooseArithmetic(t, rows, cols int) Arithmetic {
	d := min(rows, cols)
	if d <= 0 {
		return ArithPrime
	}
	bound := new(big.Int).Exp(big.NewInt(int64(t+1)), big.NewInt(int64(d)), nil)
	p := new(big.Int).SetUint64(prime)
	p.Mul(p, p)
	if bound.Cmp(p) < 0 {
		return ArithPrime
	}
	return ArithRational
}

func mulmod(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	// a*b = (hi*8 + lo>>61) * 2^61 + (lo & p), and 2^61 = 1 mod p.
	x := (hi<<3 | lo>>61) + (lo & prime)
	if x >= prime {
		x -= prime
	}
	if x >= prime {
		x -= prime
	}
	return x
}

func submod(a, b uint64) uint64 {
	if a >= b {
		return a - b
	}
	return a + prime - b
}

func invmod(a uint64) uint64 {
	// Fermat: a^(p-2).
	r, e := uint64(1), uint64(prime-2)
	for e > 0 {
		if e&1 == 1 {
			r = mulmod(r, a)
		}
		a = mulmod(a, a)
		e >>= 1
	}
	return r
}

// addResult is the outcome of adding one equation to a coalition's system.
type addResult uint8

const (
	resDependent   addResult = iota // the row space does not change
	resIndependent                  // the rank grows, d stays hidden
	resLeak                         // the unit vector on d enters the row space
)

// basis is a reduced row echelon basis of the rows [v | 1] of one coalition's
// system: the columns 0..n-2 are the unknown shares, column n-1 is d. Pivots
// are always share columns: a row whose reduction leaves only the d column is
// a leak and is never stored.
type basis interface {
	// add reduces the row with ones in cols (share columns) and in the d
	// column. With commit, an independent row is stored.
	add(cols []int, commit bool) addResult
	clone() basis
}

// resetBasis returns an empty basis like b (arithmetic a, width n),
// b itself emptied where it can.
func resetBasis(b basis, a Arithmetic, n int) basis {
	if z, ok := b.(*zBasis); ok && z.n == n {
		z.reset()
		return z
	}
	return newBasis(a, n)
}

// copyBasis returns a copy of src, written into dst's memory where it can.
func copyBasis(dst, src basis) basis {
	d, ok1 := dst.(*zBasis)
	o, ok2 := src.(*zBasis)
	if ok1 && ok2 && d.n == o.n {
		d.copyFrom(o)
		return d
	}
	return src.clone()
}

// storeRow stores a row known not to leak: for the integer basis without
// the leak test (which would run the same reduction once more).
func storeRow(b basis, cols []int) {
	if z, ok := b.(*zBasis); ok {
		z.apply(cols)
		return
	}
	b.add(cols, true)
}

func newBasis(a Arithmetic, n int) basis {
	switch a {
	case ArithRational:
		return &ratBasis{n: n}
	case ArithInteger:
		return newZBasis(n)
	}
	return newGFBasis(n)
}

// gfBasis is a basis over GF(2^61-1).
type gfBasis struct {
	n      int
	rows   []uint64 // rank x n
	piv    []int
	pivRow []int16
	tmp    []uint64
}

func newGFBasis(n int) *gfBasis {
	b := &gfBasis{n: n, pivRow: make([]int16, n), tmp: make([]uint64, n)}
	for i := range b.pivRow {
		b.pivRow[i] = -1
	}
	return b
}

func (b *gfBasis) clone() basis {
	c := &gfBasis{n: b.n, rows: append([]uint64(nil), b.rows...), piv: append([]int(nil), b.piv...),
		pivRow: append([]int16(nil), b.pivRow...), tmp: make([]uint64, b.n)}
	return c
}

func (b *gfBasis) add(cols []int, commit bool) addResult {
	n := b.n
	r := b.tmp
	clear(r)
	for _, c := range cols {
		r[c] = 1
	}
	r[n-1] = 1
	// In reduced echelon form each stored row is zero on the other pivot
	// columns, so one pass over the pivots that r touches suffices. r only
	// has ones on cols, so only those pivots matter.
	for _, c := range cols {
		ri := b.pivRow[c]
		if ri < 0 {
			continue
		}
		f := r[c]
		if f == 0 {
			continue
		}
		row := b.rows[int(ri)*n : int(ri)*n+n]
		for x, v := range row {
			if v != 0 {
				r[x] = submod(r[x], mulmod(f, v))
			}
		}
	}
	q := -1
	for x := 0; x < n-1; x++ {
		if r[x] != 0 {
			q = x
			break
		}
	}
	if q < 0 {
		if r[n-1] != 0 {
			return resLeak
		}
		return resDependent
	}
	if !commit {
		return resIndependent
	}
	inv := invmod(r[q])
	for x := range r {
		if r[x] != 0 {
			r[x] = mulmod(r[x], inv)
		}
	}
	// Clear column q in the stored rows.
	for i := range b.piv {
		row := b.rows[i*n : i*n+n]
		f := row[q]
		if f == 0 {
			continue
		}
		for x, v := range r {
			if v != 0 {
				row[x] = submod(row[x], mulmod(f, v))
			}
		}
	}
	b.rows = append(b.rows, r...)
	b.pivRow[q] = int16(len(b.piv))
	b.piv = append(b.piv, q)
	return resIndependent
}

// ratBasis is the same basis over math/big.Rat, for sizes where the
// Hadamard bound does not allow GF(p).
type ratBasis struct {
	n    int
	rows [][]*big.Rat
	piv  []int
}

func (b *ratBasis) clone() basis {
	c := &ratBasis{n: b.n, piv: append([]int(nil), b.piv...)}
	for _, row := range b.rows {
		nr := make([]*big.Rat, len(row))
		for i, v := range row {
			nr[i] = new(big.Rat).Set(v)
		}
		c.rows = append(c.rows, nr)
	}
	return c
}

func (b *ratBasis) add(cols []int, commit bool) addResult {
	n := b.n
	r := make([]*big.Rat, n)
	for i := range r {
		r[i] = new(big.Rat)
	}
	for _, c := range cols {
		r[c].SetInt64(1)
	}
	r[n-1].SetInt64(1)
	tmp := new(big.Rat)
	for i, p := range b.piv {
		if r[p].Sign() == 0 {
			continue
		}
		f := new(big.Rat).Set(r[p])
		for x, v := range b.rows[i] {
			if v.Sign() != 0 {
				r[x].Sub(r[x], tmp.Mul(f, v))
			}
		}
	}
	q := -1
	for x := 0; x < n-1; x++ {
		if r[x].Sign() != 0 {
			q = x
			break
		}
	}
	if q < 0 {
		if r[n-1].Sign() != 0 {
			return resLeak
		}
		return resDependent
	}
	if !commit {
		return resIndependent
	}
	inv := new(big.Rat).Inv(r[q])
	for _, v := range r {
		v.Mul(v, inv)
	}
	for _, row := range b.rows {
		if row[q].Sign() == 0 {
			continue
		}
		f := new(big.Rat).Set(row[q])
		for x, v := range r {
			if v.Sign() != 0 {
				row[x].Sub(row[x], tmp.Mul(f, v))
			}
		}
	}
	b.rows = append(b.rows, r)
	b.piv = append(b.piv, q)
	return resIndependent
}
