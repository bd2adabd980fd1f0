package grouping

import (
	"math/rand/v2"
	"slices"
)

// placePair places one more representation of calculator set m: the
// combiners that do not serve m yet are tried from the least loaded (a
// fuller combiner blocks more pairs), each with the representations of m
// already stored elsewhere first (the union of two combiners then gains
// nothing from m) and then the equivalents in their (random) order; the
// first that keeps the combiner and every pair containing it secure is
// taken.
func (s *state) placePair(m uint64, eqs []Rep) bool {
	var prev []Rep
	for _, c := range s.combs {
		if !c.sets[m] {
			continue
		}
		for _, r := range c.reps {
			if r.mask() == m && !slices.ContainsFunc(prev, r.Equal) {
				prev = append(prev, r)
			}
		}
	}
	idx := make([]int, 0, len(s.combs))
	for a, c := range s.combs {
		if !c.sets[m] {
			idx = append(idx, a)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return len(s.combs[a].reps) - len(s.combs[b].reps) })
	for _, a := range idx {
		if s.limit > 0 && len(s.combs[a].reps) >= s.limit {
			continue
		}
		for _, e := range prev {
			if ok, _, _ := s.whyNot(a, e); ok {
				s.commit(a, e)
				return true
			}
		}
		for _, e := range eqs {
			if slices.ContainsFunc(prev, e.Equal) {
				continue
			}
			if ok, _, _ := s.whyNot(a, e); ok {
				s.commit(a, e)
				return true
			}
		}
	}
	return false
}

// whyNot reports whether combiner a can take e (combiner and every pair
// containing a secure); if not, the partner b of the refusing pair (-1 for
// the combiner itself) and the refusing coalition's index.
func (s *state) whyNot(a int, e Rep) (ok bool, b, ci int) {
	s.stats.Candidates++
	c := s.combs[a]
	if ok, ci := s.fits(c, c.bases, nil, freshMask(e, s.l, c.used), e, false); !ok {
		return false, -1, ci
	}
	if !s.pairs {
		return true, 0, 0
	}
	for b := range s.combs {
		if b == a {
			continue
		}
		bs := s.pairB[[2]int{min(a, b), max(a, b)}]
		if ok, ci := s.fits(nil, bs, nil, freshMask(e, s.l, c.used, s.combs[b].used), e, false); !ok {
			return false, b, ci
		}
	}
	return true, 0, 0
}

// remove deletes representation n of combiner a and rebuilds the bases
// that held it (in pair mode at once, otherwise when next used).
func (s *state) remove(a, n int) Rep {
	c := s.combs[a]
	r := c.reps[n]
	if s.pairs {
		s.replay(a, slices.Delete(slices.Clone(c.reps), n, n+1))
		return r
	}
	// Without pairs the bases are rebuilt lazily (refresh): a chain of
	// removals before the next successful check rebuilds each basis once.
	last := len(c.reps) - 1
	c.reps = append(slices.Delete(slices.Clone(c.reps), n, n+1), r)
	s.truncate(a, last)
	return r
}

// repairTry builds a plan with exactly c combiners, all opened up front,
// placing the sets with placePair; when no combiner can take a set, a
// random combiner takes it after conflicting representations are ejected
// (and queued again). Without pairs only each combiner must stay secure.
func repairTry(k, t, l, c, r int, pairs bool, rng *rand.Rand, st *Stats, budget int) (*state, bool) {
	return repairTryCap(k, t, l, c, r, pairs, rng, st, budget, 0)
}

// repairTryCap is repairTry where, with limit > 0, no combiner serves more
// than limit calculator sets: placements skip full combiners, a forced
// placement prefers one that is not full and ejects another of its sets
// when it overflows.
func repairTryCap(k, t, l, c, r int, pairs bool, rng *rand.Rand, st *Stats, budget, limit int) (*state, bool) {
	s, err := newState(k, t, l, pairs, st)
	if err != nil || !s.pairRoom(c) {
		return nil, false
	}
	s.limit = limit
	for range c {
		s.open()
	}
	queue := repairQueue(k, t, r, rng)
	eqCache := map[uint64][]Rep{}
	steps := 0
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		eqs := eqCache[m]
		if eqs == nil {
			eqs = equivalents(m, l)
			eqCache[m] = eqs
		}
		rng.Shuffle(len(eqs), func(i, j int) { eqs[i], eqs[j] = eqs[j], eqs[i] })
		if s.placePair(m, eqs) {
			continue
		}
		steps++
		if steps > budget {
			return nil, false
		}
		a, ok := s.forceTarget(m, rng)
		if !ok {
			return nil, false
		}
		queue = s.force(a, eqs[0], rng, queue)
	}
	return s, true
}

// repairQueue returns the calculator sets in a random order, r rounds of
// that order one after the other.
func repairQueue(k, t, r int, rng *rand.Rand) []uint64 {
	sets := subsets(k, t)
	order := rng.Perm(len(sets))
	var queue []uint64
	for round := 0; round < r; round++ {
		for _, n := range order {
			queue = append(queue, sets[n])
		}
	}
	return queue
}

// forceTarget picks, at random, a combiner not serving m that is below
// the limit; if there is none, any combiner not serving m; false if every
// combiner serves m.
func (s *state) forceTarget(m uint64, rng *rand.Rand) (int, bool) {
	var free []int
	for a, cs := range s.combs {
		if !cs.sets[m] && (s.limit == 0 || len(cs.reps) < s.limit) {
			free = append(free, a)
		}
	}
	for a, cs := range s.combs {
		if len(free) == 0 && !cs.sets[m] {
			free = append(free, a)
		}
	}
	if len(free) == 0 {
		return 0, false
	}
	return free[rng.IntN(len(free))], true
}

// force commits e to combiner a after ejecting, one at a time, a random
// representation from the refusing combiner or pair until a takes e, and
// then, when a is over the limit, another of a's representations. The
// ejected calculator sets are appended to queue.
func (s *state) force(a int, e Rep, rng *rand.Rand, queue []uint64) []uint64 {
	for {
		ok, b, ci := s.whyNot(a, e)
		if ok {
			break
		}
		cands := s.ejectable(a, b, ci, e)
		p := cands[rng.IntN(len(cands))]
		out := s.remove(p[0], p[1])
		queue = append(queue, out.mask())
	}
	s.commit(a, e)
	if s.limit > 0 && len(s.combs[a].reps) > s.limit {
		out := s.remove(a, rng.IntN(len(s.combs[a].reps)-1))
		queue = append(queue, out.mask())
	}
	return queue
}

// ejectable returns the representations (combiner, index) of combiners a
// and b (b < 0: a only) whose restriction to coalition ci shares a column
// with e's, or, if none does, all their representations.
func (s *state) ejectable(a, b, ci int, e Rep) [][2]int {
	coal := s.coal[ci]
	ecols := restrict(e, coal, s.l, nil)
	var cands [][2]int
	for _, x := range []int{a, b} {
		if x < 0 {
			continue
		}
		for n, rp := range s.combs[x].reps {
			rc := restrict(rp, coal, s.l, s.buf)
			if slices.ContainsFunc(rc, func(y int) bool { return slices.Contains(ecols, y) }) {
				cands = append(cands, [2]int{x, n})
			}
		}
	}
	if len(cands) > 0 {
		return cands
	}
	for _, x := range []int{a, b} {
		if x < 0 {
			continue
		}
		for n := range s.combs[x].reps {
			cands = append(cands, [2]int{x, n})
		}
	}
	return cands
}

// pairSearch looks for a pair-secure plan with fewer combiners than
// incumbent (the union of any two combiners, with any t-1
// calculators, must not recover d). The combiners are opened up front and
// filled evenly (placePair); phase 1 raises the number of combiners from
// the pair lower bound until a pass with a few ejections succeeds, phase 2
// lowers it while the repairing search (repairTry) still succeeds. For
// r >= 2 it starts from r copies of a pair-secure r=1 plan: a combiner and
// its copy hold the same equations (their union is the combiner itself)
// and a copy of B with A is the pair (A, B), so the copies stay pair-secure
// and every calculator set gets r combiners ([0083] step 7). Everything is
// driven by the seed and step budgets, never by the clock.
func pairSearch(k, t, l int, o Options, st *Stats, incumbent *Plan) *Plan {
	best := incumbent
	rng := rand.New(rand.NewPCG(o.Seed, 0x9a125))
	r := o.Redundancy
	if r > 1 {
		lb1, _ := lowerBound(k, t, l, Options{Redundancy: 1, Pairs: true})
		if p := pairDescend(k, t, l, 1, lb1, rng, st, len(best.Combiners), true, o.Optimal); p != nil {
			if cp := replicate(p, r); len(cp.Combiners) < len(best.Combiners) {
				best = cp
				if p := pairDescend(k, t, l, r, st.LowerBound, rng, st, len(best.Combiners), false, o.Optimal); p != nil {
					best = p
				}
				return best
			}
		}
	}
	if p := pairDescend(k, t, l, r, st.LowerBound, rng, st, len(best.Combiners), true, o.Optimal); p != nil {
		best = p
	}
	return best
}

// pairDescend returns a pair-secure plan with redundancy r and fewer than
// ub combiners, or nil. With up, phase 1 first finds a feasible number of
// combiners upward from lb (growing by about a quarter per failure);
// phase 2 then tries one combiner less at a time, down to lb.
func pairDescend(k, t, l, r, lb int, rng *rand.Rand, st *Stats, ub int, up, thorough bool) *Plan {
	n := binom(k, t)
	var best *Plan
	c := ub
	if up {
		for c = max(lb, r, 1); c < ub; c += max(1, c/4) {
			st.Restarts++
			if s, ok := repairTry(k, t, l, c, r, true, rng, st, n*r/4); ok {
				best = s.plan()
				break
			}
		}
		if best == nil {
			return nil
		}
		c = len(best.Combiners)
	}
	budget := max(2*n*r, 100)
	tries := 1
	if thorough && searchWork(k, t) <= pairRetryWork {
		tries, budget = pairDescendTries, max(20*n*r, 400)
	}
	if q := repairDescend(k, t, l, r, c-1, max(lb, 1), true, rng, st, budget, tries); q != nil {
		best = q
	}
	return best
}

// repairDescend runs the repairing search (repairTry, up to tries times
// each) for c = from, from-1, ... down to lb combiners while it succeeds,
// and returns the plan of the last success (nil if none).
func repairDescend(k, t, l, r, from, lb int, pairs bool, rng *rand.Rand, st *Stats, budget, tries int) *Plan {
	var best *Plan
	for c := from; c >= lb; c-- {
		var s *state
		for try := 0; try < tries && s == nil; try++ {
			st.Restarts++
			s, _ = repairTry(k, t, l, c, r, pairs, rng, st, budget)
		}
		if s == nil {
			break
		}
		best = s.plan()
	}
	return best
}

// pairRetryWork bounds C(k,t)*C(k,t-1) for the problems on which a
// thorough pairDescend (Options.Optimal) tries each count pairDescendTries
// times with a larger budget. It is not the default: the fewest pair-safe
// combiners leave little room, and AddCalculator may then find no place
// for a new calculator's sets (e.g. the 3-combiner (5,3,2) plan).
const (
	pairRetryWork    = 1000
	pairDescendTries = 8
)

// replicate returns r copies of the combiners of p, one after the other.
func replicate(p *Plan, r int) *Plan {
	q := &Plan{K: p.K, T: p.T, L: p.L}
	for range r {
		q.Combiners = append(q.Combiners, p.Clone().Combiners...)
	}
	return q
}

// pairLowerBound returns a proven lower bound on the number of combiners of
// a pair-secure plan, given bound, an upper bound on the number of
// calculator sets one secure set of equations can serve (lowerBound). The
// union of two combiners is such a set, so with c >= 2 combiners serving
// the sets S_1..S_c, |S_a u S_b| <= bound for every pair. A calculator set
// served by at least r combiners is missed by at most C(c-r,2) of the
// C(c,2) pairs, so summing over the pairs
// total*(C(c,2)-C(c-r,2)) <= C(c,2)*bound; with c = 1 the one combiner
// holds everything (total <= bound, r = 1). The smallest c meeting this is
// the bound.
func pairLowerBound(total, bound, r int) int {
	for c := max(r, 1); ; c++ {
		if c == 1 {
			if total <= bound {
				return 1
			}
			continue
		}
		pairs := binom(c, 2)
		if total*(pairs-binom(c-r, 2)) <= pairs*bound {
			return c
		}
	}
}
