// Package testplan holds what the tests of several packages share that
// needs nothing but grouping: representations written as numbers, seeded
// random sources, the calculator sets of a (k, t) scheme with their
// representations, and the patent's example plan. It is for tests only.
//
// share's in-package tests use it, which is why it imports neither share
// nor anything above it; [github.com/tolerantca/tolerant/internal/testcluster]
// builds dealings on top of it. grouping's own in-package tests cannot
// import it (it imports grouping) and keep their own copies.
package testplan

import (
	"math/rand/v2"

	"github.com/tolerantca/tolerant/grouping"
)

// Rep returns the representation whose terms are written as two-digit
// numbers ji, calculator j and share i: Rep(11, 22, 31) is
// (d_11, d_22, d_31) ([0072]).
func Rep(terms ...int) grouping.Rep {
	var r grouping.Rep
	for _, x := range terms {
		r = append(r, grouping.Term{J: x / 10, I: x % 10})
	}
	return r
}

// Seeded returns a reproducible random source: ChaCha8 keyed with seed's
// eight bytes, least significant first, and 24 zero bytes. Seeded(n) for
// n < 256 is rand.NewChaCha8([32]byte{n}).
func Seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return rand.NewChaCha8(s)
}

// Subsets returns every t-subset of the calculators {1..k}, in
// lexicographic order.
func Subsets(k, t int) [][]int {
	var out [][]int
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		if len(cur) == t {
			out = append(out, append([]int(nil), cur...))
			return
		}
		for j := start; j <= k; j++ {
			rec(j+1, append(cur, j))
		}
	}
	rec(1, nil)
	return out
}

// Equivalents returns the l^t representations on the calculators js, one
// share of each ([0072]), the last calculator's share number changing
// fastest.
func Equivalents(js []int, l int) []grouping.Rep {
	out := []grouping.Rep{{}}
	for _, j := range js {
		var next []grouping.Rep
		for _, r := range out {
			for i := 1; i <= l; i++ {
				next = append(next, append(append(grouping.Rep(nil), r...), grouping.Term{J: j, I: i}))
			}
		}
		out = next
	}
	return out
}

// PatentFirstTwo returns the plan of the patent's first two subgroups of
// its (5, 3, 2) example ([0085], [0086]) as two combiners. Together they
// serve all ten calculator triples, each combiner being secure on its own,
// although the two together are not; [grouping.PatentPlan] is the whole
// example with its third subgroup.
func PatentFirstTwo() *grouping.Plan {
	return &grouping.Plan{K: 5, T: 3, L: 2, Combiners: grouping.PatentSubgroups()[:2]}
}
