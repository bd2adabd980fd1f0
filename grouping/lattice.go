package grouping

import (
	"math/big"
	"slices"
)

// The integer check. The shares d_ji and the c_a are integers, so a
// combination of equations whose unknown terms all have coefficients
// divisible by g tells d mod g even when d itself stays undetermined over
// the rationals. The exact statement, for one coalition C:
//
// The unknowns are d and the shares x of the calculators outside C; the
// equations are d*1 - V x = c, with V the 0/1 indicator rows of the
// representations restricted to those shares. The integer solutions form
// z0 + K with K = ker_Z([1 | -V]); flipping the sign of the x coordinates
// maps K onto ker_Z([1 | V]) and leaves the d coordinate alone. The d
// coordinates of K form a subgroup gZ of Z, so the equations fix exactly
// d mod g and nothing else about d (every other residue class of d is
// reached by some integer x). g = 0: d is determined (the rational leak of
// the rank test); g > 2: d mod g leaks; g = 1 or 2: nothing beyond d's
// parity, which is public (d is odd). Equivalently g is the least y > 0
// with y*(1,...,1) in the integer column lattice of V.
//
// zBasis keeps an integer basis of K while rows are added. Adding a row r
// replaces K by {z in K : r.z = 0}: with s_i = r.b_i for the basis vectors
// b_i, Euclid's algorithm on the s_i, applying every step (b_i -= q*b_p)
// to the vectors as well, is a unimodular change of basis after which a
// single vector has s != 0 (s = +-gcd); the others span the new K. g is the
// gcd of the d coordinates of the basis. The unit vector of a share column
// that no row uses yet is an implicit basis vector: it has d coordinate 0,
// so it never changes g, and it is written out when a row first uses its
// column. A row that uses such a fresh column cannot change g: the fresh
// unit vector has s = 1 and absorbs the row (no reduction of the others
// changes their d coordinates, since the fresh vector's is 0).
//
// The arithmetic is int64 with every entry kept within +-2^61; a step that
// would leave that range marks the basis inexact (resOverflow), which the
// search treats as a refusal and Check answers by recomputing the
// coalition with math/big (bigG).

// ArithInteger is the exact integer lattice check (int64, math/big when an
// entry outgrows 2^61).
const ArithInteger Arithmetic = "Z (integer lattice; int64, math/big on overflow)"

// resOverflow reports that the int64 basis can no longer decide exactly.
const resOverflow addResult = resLeak + 1

const zLimit = 1 << 61

// zBasis is the integer kernel basis described above; column n-1 is d.
type zBasis struct {
	n       int
	vecs    []int64 // q x n, the written-out basis vectors of K
	touched []bool  // share columns used by some row
	bad     bool    // an entry left +-2^61: no longer exact
	s, dd   []int64 // scratch
}

func newZBasis(n int) *zBasis {
	b := &zBasis{n: n, vecs: make([]int64, n), touched: make([]bool, n)}
	b.vecs[n-1] = 1
	return b
}

func (b *zBasis) count() int { return len(b.vecs) / b.n }

// reset empties b in place: no row stored.
func (b *zBasis) reset() {
	b.vecs = b.vecs[:b.n]
	clear(b.vecs)
	b.vecs[b.n-1] = 1
	clear(b.touched)
	b.bad = false
}

// copyFrom makes b a copy of o (of the same width), reusing b's memory.
func (b *zBasis) copyFrom(o *zBasis) {
	b.vecs = append(b.vecs[:0], o.vecs...)
	copy(b.touched, o.touched)
	b.bad = o.bad
}

func (b *zBasis) clone() basis {
	return &zBasis{n: b.n, vecs: append([]int64(nil), b.vecs...), touched: append([]bool(nil), b.touched...), bad: b.bad}
}

// add tests the row with ones in cols and in the d column: resLeak when it
// would make g = 0 or g > 2. With commit, a row that is not refused is
// stored.
func (b *zBasis) add(cols []int, commit bool) addResult {
	if b.bad {
		return resOverflow
	}
	res := b.try(cols)
	if commit && res == resIndependent {
		b.apply(cols)
	}
	return res
}

// try classifies the row without changing the basis, reducing only the
// d coordinates.
func (b *zBasis) try(cols []int) addResult {
	for _, c := range cols {
		if !b.touched[c] {
			return resIndependent
		}
	}
	if !b.dots(cols) {
		return resOverflow
	}
	q := b.count()
	b.dd = b.dd[:0]
	for i := range q {
		b.dd = append(b.dd, b.vecs[i*b.n+b.n-1])
	}
	p, ok := reduce(b.s, b.dd, 1)
	if !ok {
		return resOverflow
	}
	if p < 0 {
		return resDependent
	}
	var g int64
	for i, v := range b.dd {
		if i != p {
			g = gcd64(g, v)
		}
	}
	if g == 0 || g > 2 {
		return resLeak
	}
	return resIndependent
}

// apply stores the row whatever it leaks.
func (b *zBasis) apply(cols []int) {
	if b.bad {
		return
	}
	for _, c := range cols {
		if !b.touched[c] {
			b.touched[c] = true
			m := len(b.vecs)
			b.vecs = slices.Grow(b.vecs, b.n)[:m+b.n]
			clear(b.vecs[m:])
			b.vecs[m+c] = 1
		}
	}
	if !b.dots(cols) {
		b.bad = true
		return
	}
	p, ok := reduce(b.s, b.vecs, b.n)
	if !ok {
		b.bad = true
		return
	}
	if p >= 0 {
		b.vecs = append(b.vecs[:p*b.n], b.vecs[(p+1)*b.n:]...)
	}
}

// g returns the gcd of the d coordinates of the basis.
func (b *zBasis) g() int64 {
	var g int64
	for i := range b.count() {
		g = gcd64(g, b.vecs[i*b.n+b.n-1])
	}
	return g
}

// dots sets b.s to r.b_i for the row r (ones on cols and on d).
func (b *zBasis) dots(cols []int) bool {
	b.s = b.s[:0]
	for i := range b.count() {
		v := b.vecs[i*b.n : (i+1)*b.n]
		acc := v[b.n-1]
		for _, c := range cols {
			acc += v[c]
			if acc > zLimit || acc < -zLimit {
				return false
			}
		}
		b.s = append(b.s, acc)
	}
	return true
}

// reduce runs Euclid's algorithm on s, applying each step to the vectors
// of width w in vs, until at most one s is non-zero. It returns that index
// (-1 when all are zero), false when an entry would leave +-2^61.
func reduce(s, vs []int64, w int) (int, bool) {
	for {
		p := -1
		for i, v := range s {
			if v != 0 && (p < 0 || abs64(v) < abs64(s[p])) {
				p = i
			}
		}
		if p < 0 {
			return -1, true
		}
		done := true
		for i, v := range s {
			if i == p || v == 0 {
				continue
			}
			q := v / s[p]
			s[i] = v - q*s[p] // |q*s[p]| <= |v|
			vi, vp := vs[i*w:(i+1)*w], vs[p*w:(p+1)*w]
			for x, y := range vp {
				r, ok := mulSub(vi[x], q, y)
				if !ok {
					return -1, false
				}
				vi[x] = r
			}
			if s[i] != 0 {
				done = false
			}
		}
		if done {
			return p, true
		}
	}
}

// mulSub returns a - q*b for |a|, |b| <= 2^61, false unless the product
// and the result stay within +-2^61.
func mulSub(a, q, b int64) (int64, bool) {
	if q == 0 || b == 0 {
		return a, true
	}
	if abs64(q) > zLimit/abs64(b) {
		return 0, false
	}
	r := a - q*b
	if r > zLimit || r < -zLimit {
		return 0, false
	}
	return r, true
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func gcd64(a, b int64) int64 {
	a, b = abs64(a), abs64(b)
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// bigG is the same computation as zBasis, all in math/big and without the
// implicit vectors: the basis starts as the identity on all n columns and
// every row in rows (share columns; the d column n-1 is implied) is
// reduced in. It returns g.
func bigG(rows [][]int, n int) *big.Int {
	var vecs [][]*big.Int
	for c := range n {
		v := make([]*big.Int, n)
		for x := range v {
			v[x] = new(big.Int)
		}
		v[c].SetInt64(1)
		vecs = append(vecs, v)
	}
	q, t := new(big.Int), new(big.Int)
	for _, cols := range rows {
		s := make([]*big.Int, len(vecs))
		for i, v := range vecs {
			s[i] = new(big.Int).Set(v[n-1])
			for _, c := range cols {
				s[i].Add(s[i], v[c])
			}
		}
		for {
			p := -1
			for i, v := range s {
				if v.Sign() != 0 && (p < 0 || v.CmpAbs(s[p]) < 0) {
					p = i
				}
			}
			if p < 0 {
				break
			}
			done := true
			for i, v := range s {
				if i == p || v.Sign() == 0 {
					continue
				}
				q.Quo(v, s[p])
				v.Sub(v, t.Mul(q, s[p]))
				for x := range vecs[i] {
					vecs[i][x].Sub(vecs[i][x], t.Mul(q, vecs[p][x]))
				}
				done = done && v.Sign() == 0
			}
			if done {
				vecs = append(vecs[:p], vecs[p+1:]...)
				break
			}
		}
	}
	g := new(big.Int)
	for _, v := range vecs {
		g.GCD(nil, nil, g, new(big.Int).Abs(v[n-1]))
	}
	return g
}
