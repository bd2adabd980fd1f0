package grouping

import (
	"slices"
	"time"
)

// Symmetric pair search. Renumbering the calculators by a permutation
// sigma maps a pair-secure plan onto a pair-secure plan (security depends
// on the equations' shape only). A plan of c = b*p combiners invariant
// under a sigma of order p is given by one representation per orbit of
// sigma on the calculator sets: the orbit goes to one of b blocks of p
// combiners, combiner i of the block holding sigma^i of the
// representation. Searching only such plans divides the number of choices
// by about p per orbit, and a depth-first search over the orbits then
// finds pair-secure plans the random searches miss: (6,4,2) in 5
// combiners of 3 sets (sigma a 5-cycle) and (6,3,2) in 4 combiners
// (sigma = (1 2)(3 4), every combiner mapped onto itself; split 5,4,7,4,
// which balancedPairs then improves to 6,4,4,6: no even plan is invariant
// under three transpositions or under (1 2 3)(4 5 6), as
// balance_pairs_test.go shows exhaustively).

// symNodes bounds the nodes of one symmetric search, so that its result
// depends on the seed-free order of the search only, not on the clock
// (which only cuts it short).
const symNodes = 100000

// symmetricPairs runs, on small problems (as the thorough pair search),
// symmetricPairSearch for one combiner less than best at a time, down to
// the lower bound, within o.TimeLimit. For r >= 2 it searches r = 1 plans
// and takes r copies (pairSearch).
func symmetricPairs(k, t, l int, o Options, st *Stats, best *Plan) *Plan {
	if searchWork(k, t) > pairRetryWork {
		return best
	}
	deadline := time.Now().Add(o.timeLimit())
	r := o.Redundancy
	lb, _ := lowerBound(k, t, l, Options{Redundancy: 1, Pairs: true})
	for c := (len(best.Combiners)+r-1)/r - 1; c >= lb; c-- {
		q := symmetricPairSearch(k, t, l, c, st, deadline)
		if q == nil {
			break
		}
		if q = replicate(q, r); len(q.Combiners) < len(best.Combiners) {
			best = q
		}
	}
	return best
}

// symmetricPairSearch looks for a pair-secure plan with r = 1 and c
// combiners invariant under a c-cycle of the calculators that cycles the
// combiners, then under sigma = (1 2)(3 4) mapping every combiner onto
// itself; nil if neither was found within the node budget and before
// deadline.
func symmetricPairSearch(k, t, l, c int, st *Stats, deadline time.Time) *Plan {
	if c >= 2 && c <= k {
		if q := symSearch(k, t, l, c, cyclePerm(k, c), c, c, st, deadline); q != nil {
			return q
		}
	}
	if k >= 4 {
		perm := cyclePerm(k, 1)
		perm[1], perm[2], perm[3], perm[4] = 2, 1, 4, 3
		return symSearch(k, t, l, c, perm, 1, 2, st, deadline)
	}
	return nil
}

// cyclePerm returns the permutation of 1..k (index 0 unused) that cycles
// 1..p and fixes the rest.
func cyclePerm(k, p int) []int {
	perm := make([]int, k+1)
	for j := 1; j <= k; j++ {
		perm[j] = j
	}
	for i := range p {
		perm[1+i] = 1 + (i+1)%p
	}
	return perm
}

// symSearch is the depth-first search for one permutation perm of order
// p: orbit by orbit, a block (blocks in order of first use), a calculator
// set of the orbit (the first one only for a new block: the blocks are
// interchangeable and sigma moves every set of an orbit onto the first)
// and its share numbers; sigma^i of the representation goes to combiner i
// of the block, and a branch is cut as soon as a combiner or a pair of
// combiners leaks.
func symSearch(k, t, l, c int, perm []int, p, ord int, st *Stats, deadline time.Time) *Plan {
	s, err := newState(k, t, l, true, st)
	if err != nil || !s.pairRoom(c) {
		return nil
	}
	for range c {
		s.open()
	}
	orbits := symOrbits(k, t, perm)
	blocks := c / p
	nodes, stop := 0, false
	var dfs func(o, used int, s *state) *state
	dfs = func(o, used int, s *state) *state {
		if o == len(orbits) {
			return s
		}
		if stop {
			return nil
		}
		for b := 0; b < min(blocks, used+1); b++ {
			for n, m := range orbits[o] {
				if b == used && n > 0 {
					break
				}
				for _, e := range equivalents(m, l) {
					nodes++
					if nodes > symNodes || nodes&63 == 0 && time.Now().After(deadline) {
						stop = true
						return nil
					}
					if ok, _ := s.canAdd(b*p, e, false); !ok {
						continue
					}
					ns := s.cloneWithout(-1)
					if !ns.placeOrbit(e, perm, b*p, p, ord) {
						continue
					}
					if q := dfs(o+1, max(used, b+1), ns); q != nil {
						return q
					}
				}
			}
		}
		return nil
	}
	q := dfs(0, 0, s)
	st.Restarts++
	if q == nil {
		return nil
	}
	return q.plan()
}

// placeOrbit commits sigma^i of e, for i below ord (the order of sigma),
// to combiner first + i mod p, if each keeps its combiner and every pair
// secure; a combiner already holding the representation skips it. An
// orbit shorter than p gives its sets to more than one combiner of the
// block.
func (s *state) placeOrbit(e Rep, perm []int, first, p, ord int) bool {
	for i := range ord {
		a := first + i%p
		if !slices.ContainsFunc(s.combs[a].reps, e.Equal) {
			if ok, _ := s.canAdd(a, e, false); !ok {
				return false
			}
			s.commit(a, e)
		}
		e = permuteRep(e, perm)
	}
	return true
}

// symOrbits returns the orbits of perm on the t-sets of 1..k, each in the
// order sigma^0, sigma^1, ... of its first set.
func symOrbits(k, t int, perm []int) [][]uint64 {
	seen := map[uint64]bool{}
	var out [][]uint64
	for _, m := range subsets(k, t) {
		var orb []uint64
		for x := m; !seen[x]; x = permuteMask(x, perm) {
			seen[x] = true
			orb = append(orb, x)
		}
		if orb != nil {
			out = append(out, orb)
		}
	}
	return out
}

// permuteRep renames calculator j of r to perm[j], sorted again.
func permuteRep(r Rep, perm []int) Rep {
	out := make(Rep, len(r))
	for i, x := range r {
		out[i] = Term{J: perm[x.J], I: x.I}
	}
	slices.SortFunc(out, func(a, b Term) int { return a.J - b.J })
	return out
}

// permuteMask renames the calculators of the set m by perm.
func permuteMask(m uint64, perm []int) uint64 {
	var out uint64
	for _, j := range members(m) {
		out |= 1 << (perm[j] - 1)
	}
	return out
}
