package grouping

import (
	"time"
)

// Balanced pair search. The pair-secure plans with the fewest combiners
// found by the random and symmetric searches can be uneven (pair-safe
// (6,3,2): 5,4,7,4), and moving sets between their combiners does not
// help (rebalance). balancedPairs searches afresh, depth first, for a plan
// with as many combiners whose loads lie in a band around the even share
// ([0036] point 1): one calculator set at a time, the one with the fewest
// options left (an option that leaks stays excluded below, since adding
// equations never removes a leak), cut when a set has no option, a
// combiner can no longer reach the band's floor, or the open sets cannot
// be matched to free places. Symmetries that fix the partial plan are
// broken: empty combiners are interchangeable (only the first is tried),
// and so are the share numbers of a calculator no equation touches yet
// (its first term has share 1).

// balancedPairNodes bounds the nodes of one band's search, so that the
// result depends on the search order only, not on the clock (which only
// cuts it short).
const balancedPairNodes = 1000

// balancedPairWork bounds C(k,t)*C(k,t-1) for the balanced pair search
// (pair-safe (6,3,2) and (6,4,2) are 300): every node tests each open
// option of every set against every pair of combiners.
const balancedPairWork = 300

// balancedPairs runs, for an r = 1 pair plan on a small problem
// (balancedPairWork) whose split is uneven by more than one set,
// balancedPairSearch with bands of growing width around the even share,
// while a band is narrower than best's spread, and returns the first plan
// found (or best).
func balancedPairs(k, t, l int, o Options, st *Stats, best *Plan) *Plan {
	if o.Redundancy != 1 || spread(best) <= 1 || searchWork(k, t) > balancedPairWork {
		return best
	}
	n, c := binom(k, t), len(best.Combiners)
	deadline := time.Now().Add(o.timeLimit())
	for w := 0; ; w++ {
		lo, hi := max(n/c-w, 0), (n+c-1)/c+w
		if hi-lo >= spread(best) {
			return best
		}
		if q := balancedPairSearch(k, t, l, c, lo, hi, st, deadline); q != nil {
			return q
		}
	}
}

// bpSearch is one balanced pair search: the calculator sets, their
// equivalent representations, the band and the node count.
type bpSearch struct {
	sets     []uint64
	eqs      [][]Rep
	c        int
	lo, hi   int
	nodes    int
	deadline time.Time
	stop     bool
}

// bpNode is the part of a search node besides the state: which combiner
// serves each set (-1: none yet), the options still open
// (alive[set][comb*len(eqs)+eq]) and the calculators touched.
type bpNode struct {
	s       *state
	comb    []int
	alive   [][]bool
	touched uint64
}

// balancedPairSearch returns a pair-secure plan with r = 1 and c combiners
// of lo..hi sets each, or nil if none was found within
// balancedPairNodes nodes and before deadline.
func balancedPairSearch(k, t, l, c, lo, hi int, st *Stats, deadline time.Time) *Plan {
	s, err := newState(k, t, l, true, st)
	if err != nil || !s.pairRoom(c) {
		return nil
	}
	for range c {
		s.open()
	}
	b := &bpSearch{sets: subsets(k, t), c: c, lo: lo, hi: hi, deadline: deadline}
	nd := &bpNode{s: s}
	for _, m := range b.sets {
		eqs := equivalents(m, l)
		b.eqs = append(b.eqs, eqs)
		nd.comb = append(nd.comb, -1)
		alive := make([]bool, c*len(eqs))
		for i := range alive {
			alive[i] = true
		}
		nd.alive = append(nd.alive, alive)
	}
	st.Restarts++
	if q := b.dfs(nd); q != nil {
		return q.s.plan()
	}
	return nil
}

// dfs searches below nd and returns a complete node, or nil.
func (b *bpSearch) dfs(nd *bpNode) *bpNode {
	n := b.mostConstrained(nd)
	if n < 0 {
		return nd
	}
	emptyTried := false
	for a := range b.c {
		if len(nd.s.combs[a].reps) == 0 {
			if emptyTried {
				continue // empty combiners are interchangeable
			}
			emptyTried = true
		}
		for e, r := range b.eqs[n] {
			if !nd.alive[n][a*len(b.eqs[n])+e] || !shareNormal(r, nd.touched) {
				continue
			}
			b.nodes++
			if b.nodes > balancedPairNodes || b.nodes&15 == 0 && time.Now().After(b.deadline) {
				b.stop = true
			}
			if b.stop {
				return nil
			}
			child := nd.place(n, a, r)
			if !b.prune(child) {
				continue
			}
			if q := b.dfs(child); q != nil {
				return q
			}
		}
	}
	return nil
}

// mostConstrained returns the unassigned set with the fewest open
// options (the first on ties), or -1 when every set is assigned.
func (b *bpSearch) mostConstrained(nd *bpNode) int {
	best, fewest := -1, 0
	for n, a := range nd.comb {
		if a >= 0 {
			continue
		}
		cnt := 0
		for _, ok := range nd.alive[n] {
			if ok {
				cnt++
			}
		}
		if best < 0 || cnt < fewest {
			best, fewest = n, cnt
		}
	}
	return best
}

// shareNormal reports whether r has share 1 at every calculator outside
// touched.
func shareNormal(r Rep, touched uint64) bool {
	for _, x := range r {
		if touched&(1<<(x.J-1)) == 0 && x.I != 1 {
			return false
		}
	}
	return true
}

// place returns the child node where combiner a serves set n with r.
func (nd *bpNode) place(n, a int, r Rep) *bpNode {
	child := &bpNode{s: nd.s.cloneWithout(-1), comb: append([]int(nil), nd.comb...), touched: nd.touched | r.mask()}
	child.alive = make([][]bool, len(nd.alive))
	for i, al := range nd.alive {
		child.alive[i] = append([]bool(nil), al...)
	}
	child.s.commit(a, r)
	child.comb[n] = a
	return child
}

// prune closes the options of nd that no longer fit (or whose combiner is
// full) and reports whether nd can still be completed.
func (b *bpSearch) prune(nd *bpNode) bool {
	avail := make([]int, b.c)
	for n, served := range nd.comb {
		if served >= 0 {
			continue
		}
		open := false
		for a := range b.c {
			full := len(nd.s.combs[a].reps) >= b.hi
			has := false
			for e, r := range b.eqs[n] {
				i := a*len(b.eqs[n]) + e
				if nd.alive[n][i] {
					ok := !full
					if ok {
						ok, _ = nd.s.canAdd(a, r, false)
					}
					nd.alive[n][i] = ok
				}
				has = has || nd.alive[n][i]
			}
			if has {
				avail[a]++
				open = true
			}
		}
		if !open {
			return false
		}
	}
	for a := range b.c {
		if len(nd.s.combs[a].reps)+avail[a] < b.lo {
			return false
		}
	}
	return b.matchable(nd)
}

// matchable reports whether the open sets can go to distinct free places
// (hi per combiner) of combiners they still fit (augmenting paths).
func (b *bpSearch) matchable(nd *bpNode) bool {
	owner := make([][]int, b.c) // place -> set
	for a := range owner {
		owner[a] = make([]int, 0, b.hi)
	}
	fitsAt := func(n, a int) bool {
		for e := range b.eqs[n] {
			if nd.alive[n][a*len(b.eqs[n])+e] {
				return true
			}
		}
		return false
	}
	var augment func(n int, seen []bool) bool
	augment = func(n int, seen []bool) bool {
		for a := range b.c {
			if seen[a] || !fitsAt(n, a) {
				continue
			}
			seen[a] = true
			if len(owner[a])+len(nd.s.combs[a].reps) < b.hi {
				owner[a] = append(owner[a], n)
				return true
			}
			for i, m := range owner[a] {
				if augment(m, seen) {
					owner[a][i] = n
					return true
				}
			}
		}
		return false
	}
	for n, served := range nd.comb {
		if served < 0 && !augment(n, make([]bool, b.c)) {
			return false
		}
	}
	return true
}
