package grouping

import (
	"fmt"
)

// The combiner-security condition, exactly (the patent's prose in [0073]
// approximates it). A combiner knows its equations
// d - sum_{(j,i) in a} d_ji = c_a. A coalition C of calculators knows the
// d_ji with j in C and moves them to the right side. The combiner and C
// recover d iff the unit vector on d lies in the row space of the remaining
// coefficient matrix [1 | V], V being the rows' indicator vectors on the
// shares of calculators outside C: iff rank([1|V]) > rank(V), iff the origin
// lies in the affine hull of V's rows. That rank test is exact over the
// rationals only: the shares are integers, and the integer check of
// lattice.go also finds the coalitions that learn d mod g (g > 2); it is
// the one every verdict uses. Enlarging C to C' only removes columns: the
// kernel lattice of C' is a sublattice of that of C, so its g' is a
// multiple of g (or 0), and a leak for C (g = 0 or g > 2) is a leak for
// every superset. Checking the coalitions of size t-1 (the largest that
// may be corrupted, [0068]) decides security.

// col is the share column of term x.
func col(x Term, l int) int { return (x.J-1)*l + (x.I - 1) }

// restrict appends to buf the share columns of r outside coalition c.
func restrict(r Rep, c uint64, l int, buf []int) []int {
	buf = buf[:0]
	for _, x := range r {
		if c&(1<<(x.J-1)) == 0 {
			buf = append(buf, col(x, l))
		}
	}
	return buf
}

// coalLeak is one coalition that learns something about d: G = 0 when it
// recovers d, G > 2 when it learns d mod G, -1 when it learns d mod some
// g too large for an int64.
type coalLeak struct {
	mask uint64
	g    int64
}

// integerLeaks returns the coalitions (masks) among cs that learn d or
// d mod g for some g > 2 together with the equations reps (the integer
// check of lattice.go). With first, it stops at the first one.
func integerLeaks(k, l int, reps []Rep, cs []uint64, first bool, checks *int64) []coalLeak {
	var out []coalLeak
	buf := make([]int, 0, 64)
	for _, c := range cs {
		g := coalitionG(k, l, reps, c, buf, checks)
		if g == 1 || g == 2 {
			continue
		}
		out = append(out, coalLeak{mask: c, g: g})
		if first {
			return out
		}
	}
	return out
}

// coalitionG returns the g of lattice.go for coalition c and the equations
// reps: they fix exactly d mod g (g = 0: d itself; -1: a g beyond int64).
func coalitionG(k, l int, reps []Rep, c uint64, buf []int, checks *int64) int64 {
	n := k*l + 1
	b := newZBasis(n)
	for _, r := range reps {
		buf = restrict(r, c, l, buf)
		if checks != nil {
			*checks++
		}
		b.apply(buf)
		if b.bad || b.g() == 0 {
			break
		}
	}
	if !b.bad {
		return b.g()
	}
	rows := make([][]int, len(reps))
	for i, r := range reps {
		rows[i] = restrict(r, c, l, nil)
	}
	g := bigG(rows, n)
	if !g.IsInt64() {
		return -1
	}
	return g.Int64()
}

func leakMasks(ls []coalLeak, full bool) []uint64 {
	var out []uint64
	for _, x := range ls {
		if (x.g == 0) == full {
			out = append(out, x.mask)
		}
	}
	return out
}

func masksToLists(ms []uint64) [][]int {
	out := make([][]int, len(ms))
	for i, m := range ms {
		out[i] = members(m)
	}
	return out
}

// paramsOf returns the smallest k and l that fit reps.
func paramsOf(reps []Rep) (k, l int) {
	for _, r := range reps {
		for _, x := range r {
			k, l = max(k, x.J), max(l, x.I)
		}
	}
	return k, l
}

// CoalitionLeaks returns, for the equations reps held together by one
// adversary (one combiner, or the union of several), every coalition of
// exactly size calculators out of 1..k that recovers d, or d mod g for some
// g > 2, together with them (the integer check), in lexicographic order,
// and the arithmetic that decided it (ArithInteger). The reps must
// pass Rep.Validate(k, t, l); size must be in 0..k.
func CoalitionLeaks(k, t, l int, reps []Rep, size int) ([][]int, Arithmetic, error) {
	if err := checkParams(k, t, l); err != nil {
		return nil, "", err
	}
	if size < 0 || size > k {
		return nil, "", fmt.Errorf("%w: coalition size %d", ErrParams, size)
	}
	if binom(k, size) > MaxCoalitions || len(reps) > MaxReps {
		return nil, "", fmt.Errorf("%w: C(%d,%d) coalitions", ErrLimits, k, size)
	}
	if err := checkWork(binom(k, size), len(reps), 1); err != nil {
		return nil, "", err
	}
	for _, r := range reps {
		if err := r.Validate(k, t, l); err != nil {
			return nil, "", err
		}
	}
	var out []uint64
	for _, x := range integerLeaks(k, l, reps, subsets(k, size), false, nil) {
		out = append(out, x.mask)
	}
	return masksToLists(out), ArithInteger, nil
}

// Leaks returns the coalitions of t-1 calculators (out of 1..k) that recover
// d or d mod g > 2 (CoalitionLeaks) together with a combiner holding reps; the share count l is taken from
// the reps. Input that CoalitionLeaks refuses (invalid representations,
// limits) yields [][]int{{}}: the empty coalition, meaning "refused".
func Leaks(k, t int, reps []Rep) [][]int {
	_, l := paramsOf(reps)
	out, _, err := CoalitionLeaks(k, t, max(l, 1), reps, t-1)
	if err != nil {
		return [][]int{{}}
	}
	return out
}

// Secure reports whether a combiner holding reps is combiner-secure: no
// coalition of t-1 calculators learns d or d mod g > 2 with it. The
// number of calculators and of shares is taken from the reps; invalid input
// is reported as not secure.
func Secure(t int, reps []Rep) bool {
	k, _ := paramsOf(reps)
	if len(reps) == 0 {
		return t >= 1
	}
	return len(Leaks(max(k, t+1), t, reps)) == 0
}

// largestSafe returns the largest coalition size s <= t-1 such that no
// coalition of size s learns d or d mod g > 2 with reps, or -1 if reps
// alone do.
func largestSafe(k, t, l int, reps []Rep, checks *int64) int {
	for s := t - 1; s >= 0; s-- {
		if len(integerLeaks(k, l, reps, subsets(k, s), true, checks)) == 0 {
			return s
		}
	}
	return -1
}
