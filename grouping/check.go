package grouping

import (
	"fmt"
	"math/bits"
)

// The combiner-security condition, exactly (NOTES section 2; the patent's
// prose in [0073] approximates it). A combiner knows its equations
// d - sum_{(j,i) in a} d_ji = c_a. A coalition C of calculators knows the
// d_ji with j in C and moves them to the right side. The combiner and C
// recover d iff the unit vector on d lies in the row space of the remaining
// coefficient matrix [1 | V], V being the rows' indicator vectors on the
// shares of calculators outside C: iff rank([1|V]) > rank(V), iff the origin
// lies in the affine hull of V's rows. Enlarging C only removes columns, so a
// leak for C is a leak for every superset: checking the coalitions of size
// t-1 (the largest that may be corrupted, [0068]) decides security.

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

// leakingCoalitions returns the coalitions (masks) among cs for which the
// equations reps recover d. With first, it stops at the first one.
func leakingCoalitions(arith Arithmetic, k, l int, reps []Rep, cs []uint64, first bool, checks *int64) []uint64 {
	var out []uint64
	buf := make([]int, 0, 64)
	n := k*l + 1
	for _, c := range cs {
		b := newBasis(arith, n)
		for _, r := range reps {
			buf = restrict(r, c, l, buf)
			if checks != nil {
				*checks++
			}
			if b.add(buf, true) == resLeak {
				out = append(out, c)
				break
			}
		}
		if first && len(out) > 0 {
			return out
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
// exactly size calculators out of 1..k that recovers d together with them,
// in lexicographic order, and the arithmetic that decided it. The reps must
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
	for _, r := range reps {
		if err := r.Validate(k, t, l); err != nil {
			return nil, "", err
		}
	}
	arith := chooseArithmetic(t, len(reps), k*l+1)
	return masksToLists(leakingCoalitions(arith, k, l, reps, subsets(k, size), false, nil)), arith, nil
}

// Leaks returns the coalitions of t-1 calculators (out of 1..k) that recover
// d together with a combiner holding reps; the share count l is taken from
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
// coalition of t-1 calculators recovers d with it (NOTES section 2). The
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
// coalition of size s recovers d with reps, or -1 if reps alone do.
func largestSafe(arith Arithmetic, k, t, l int, reps []Rep, checks *int64) int {
	for s := t - 1; s >= 0; s-- {
		if len(leakingCoalitions(arith, k, l, reps, subsets(k, s), true, checks)) == 0 {
			return s
		}
	}
	return -1
}

// popcount is bits.OnesCount64, named for brevity.
func popcount(m uint64) int { return bits.OnesCount64(m) }
