package grouping

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Method selects a search.
type Method int

const (
	// Best runs several seeded orderings with a best-fit choice of share
	// numbers, then tries to dissolve the smallest combiners (the default).
	Best Method = iota
	// FirstFitMethod is the patent's first-fit, steps 1-6 of [0076]-[0082],
	// generalised to redundancy r (step 7, [0083]).
	FirstFitMethod
)

// String names the method.
func (m Method) String() string {
	switch m {
	case Best:
		return "best"
	case FirstFitMethod:
		return "first-fit"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// MaxRedundancy is the largest redundancy Options accept.
const MaxRedundancy = 16

// Options tune a search. The zero value (and nil) means: r=1, seed 1, Best,
// single-combiner security only.
type Options struct {
	// Redundancy r: every calculator set is served by at least r distinct
	// combiners, so that any r-1 combiners may be lost ([0083] step 7
	// turned into a requirement). 0 means 1.
	Redundancy int
	// Seed makes the search deterministic: the same parameters, options and
	// seed give the same plan. 0 means 1.
	Seed uint64
	// Pairs asks for plans where any two combiners together with t-1
	// calculators learn neither d nor d mod g > 2 (the patent's plans are
	// not pair-safe).
	Pairs bool
	// Method selects the search.
	Method Method
	// Restarts is the number of orderings Best tries; 0 picks one from the
	// problem size.
	Restarts int
	// NoLowerBound skips the lower-bound computation in Search.
	NoLowerBound bool
	// History lists, for AddCalculator and FillEmpty, every representation
	// dealt to each combiner before (History[a] for combiner a+1), those no
	// longer in the plan included: a combiner keeps what it was dealt, so
	// new representations must be secure together with all of it. Search
	// ignores it.
	History [][]Rep
	// Optimal makes Search run, after its heuristics and without Pairs, a
	// simulated annealing (anneal.go) for one combiner less at a time
	// while above the lower bound, then an exact search for a plan with
	// fewer combiners, from the lower bound up, each within TimeLimit:
	// Stats.Proven then says whether the plan is proven to have the
	// fewest combiners. Only these searches read the clock (the annealing
	// runs are bounded by a move count, the clock only cuts them short),
	// so with Optimal the result may depend on the machine's speed.
	// With Pairs, Optimal makes the pair search try every count several
	// times on small problems instead, then runs the symmetric pair search
	// (symmetric.go; bounded by a node count, the clock within TimeLimit
	// only cutting it short) and rebalances the result: fewer and more
	// evenly loaded combiners, which leave less room for AddCalculator.
	Optimal bool
	// TimeLimit bounds the annealing, the exact search and the symmetric
	// pair search, each; 0 means DefaultTimeLimit.
	TimeLimit time.Duration
}

// timeLimit returns o.TimeLimit, or DefaultTimeLimit when it is 0.
func (o Options) timeLimit() time.Duration {
	if o.TimeLimit <= 0 {
		return DefaultTimeLimit
	}
	return o.TimeLimit
}

func (o *Options) norm() (Options, error) {
	var v Options
	if o != nil {
		v = *o
	}
	if v.Redundancy == 0 {
		v.Redundancy = 1
	}
	if v.Seed == 0 {
		v.Seed = 1
	}
	if v.Redundancy < 0 || v.Redundancy > MaxRedundancy || v.Restarts < 0 || v.Restarts > 1<<16 || v.TimeLimit < 0 {
		return v, fmt.Errorf("%w: redundancy %d (1..%d), restarts %d", ErrParams, v.Redundancy, MaxRedundancy, v.Restarts)
	}
	if v.Method != Best && v.Method != FirstFitMethod {
		return v, fmt.Errorf("%w: unknown method %d", ErrParams, int(v.Method))
	}
	return v, nil
}

// combState is one combiner (subgroup) during the search, with one
// incrementally eliminated basis per coalition of t-1 calculators.
type combState struct {
	reps    []Rep
	sets    map[uint64]bool
	bases   []basis
	used    []int32 // representations using each share column
	killers []int   // coalitions that refused recently, tried first
	// stale marks the bases that no longer hold exactly reps (after a
	// removal): they are rebuilt from reps when next used.
	stale  []bool
	nStale int
}

// state is a plan under construction.
type state struct {
	k, t, l int
	n       int
	arith   Arithmetic
	coal    []uint64
	pairs   bool
	combs   []*combState
	pairB   map[[2]int][]basis // pair of combiner indices (a<b) -> bases of the union
	stats   *Stats
	buf     []int
	limit   int // with limit > 0, placePair skips combiners serving as many sets
}

func newState(k, t, l int, pairs bool, stats *Stats) (*state, error) {
	if err := checkParams(k, t, l); err != nil {
		return nil, err
	}
	s := &state{k: k, t: t, l: l, n: k*l + 1, pairs: pairs, stats: stats, coal: subsets(k, t-1), buf: make([]int, 0, t)}
	// Every candidate is tested with the integer check (lattice.go), so
	// the plans returned are secure over the integers.
	s.arith = ArithInteger
	stats.Arithmetic = s.arith
	if pairs {
		s.pairB = map[[2]int][]basis{}
	}
	return s, nil
}

func (s *state) newComb() *combState {
	c := &combState{sets: map[uint64]bool{}, bases: make([]basis, len(s.coal)), used: make([]int32, s.n), stale: make([]bool, len(s.coal))}
	for i := range c.bases {
		c.bases[i] = newBasis(s.arith, s.n)
	}
	return c
}

// open appends an empty combiner.
func (s *state) open() int {
	s.combs = append(s.combs, s.newComb())
	a := len(s.combs) - 1
	if s.pairs {
		for b := 0; b < a; b++ {
			s.pairB[[2]int{b, a}] = cloneBases(s.combs[b].bases)
		}
	}
	return a
}

func cloneBases(bs []basis) []basis {
	out := make([]basis, len(bs))
	for i, b := range bs {
		out[i] = b.clone()
	}
	return out
}

// freshMask returns the calculators of r's terms that no representation
// counted in used touches. A coalition that misses one of them cannot leak
// when r is added: that share column is new to its system, so the reduced
// row keeps a non-zero share entry.
func freshMask(r Rep, l int, used ...[]int32) uint64 {
	var m uint64
outer:
	for _, x := range r {
		c := col(x, l)
		for _, u := range used {
			if u[c] != 0 {
				continue outer
			}
		}
		m |= 1 << (x.J - 1)
	}
	return m
}

// fits reports whether adding r to bases (those of combiner cs, or of a
// pair with cs nil) keeps them leak-free. When it does, it returns the
// number of coalitions where r raises the rank (a smaller number leaves
// more room for later representations); when not, the index of the
// refusing coalition (without killers the first one in order).
func (s *state) fits(cs *combState, bases []basis, killers *[]int, fresh uint64, r Rep, score bool) (bool, int) {
	if killers != nil {
		for _, ci := range *killers {
			c := s.coal[ci]
			if c&fresh != fresh {
				continue
			}
			s.refresh(cs, ci)
			s.buf = restrict(r, c, s.l, s.buf)
			s.stats.Checks++
			if bases[ci].add(s.buf, false) >= resLeak {
				return false, ci
			}
		}
	}
	grow := 0
	for ci, c := range s.coal {
		if c&fresh != fresh {
			grow++
			continue
		}
		s.refresh(cs, ci)
		s.buf = restrict(r, c, s.l, s.buf)
		s.stats.Checks++
		switch bases[ci].add(s.buf, false) {
		case resLeak, resOverflow:
			if killers != nil {
				ks := *killers
				if i := slices.Index(ks, ci); i >= 0 {
					ks = slices.Delete(ks, i, i+1)
				}
				ks = slices.Insert(ks, 0, ci)
				if len(ks) > 8 {
					ks = ks[:8]
				}
				*killers = ks
			}
			return false, ci
		case resIndependent:
			grow++
		}
	}
	return true, grow
}

// canAdd reports whether combiner a may take r (and, in pair mode, every
// pair containing a stays safe), with the rank growth when score is set.
func (s *state) canAdd(a int, r Rep, score bool) (bool, int) {
	s.stats.Candidates++
	c := s.combs[a]
	ok, grow := s.fits(c, c.bases, &c.killers, freshMask(r, s.l, c.used), r, score)
	if !ok || !s.pairs {
		return ok, grow
	}
	for b := range s.combs {
		if b == a {
			continue
		}
		key := [2]int{min(a, b), max(a, b)}
		if ok, _ := s.fits(nil, s.pairB[key], nil, freshMask(r, s.l, c.used, s.combs[b].used), r, false); !ok {
			return false, 0
		}
	}
	return true, grow
}

// commit adds r to combiner a. The caller has checked canAdd.
func (s *state) commit(a int, r Rep) {
	c := s.combs[a]
	for ci, cm := range s.coal {
		if c.stale[ci] {
			continue // rebuilt from reps, r included, when next used
		}
		s.buf = restrict(r, cm, s.l, s.buf)
		s.stats.Checks++
		c.bases[ci].add(s.buf, true)
	}
	s.applyPairs(a, r, func(b basis, row []int) { b.add(row, true) })
	s.record(c, r)
}

// applyPairs applies, in pair mode, the rows of r (restricted to each
// coalition) to the bases of every pair holding combiner a.
func (s *state) applyPairs(a int, r Rep, apply func(b basis, row []int)) {
	if !s.pairs {
		return
	}
	for b := range s.combs {
		if b == a {
			continue
		}
		bs := s.pairB[[2]int{min(a, b), max(a, b)}]
		for ci, cm := range s.coal {
			s.buf = restrict(r, cm, s.l, s.buf)
			s.stats.Checks++
			apply(bs[ci], s.buf)
		}
	}
}

// record adds r to combiner c's representations, sets and used columns.
func (s *state) record(c *combState, r Rep) {
	for _, x := range r {
		c.used[col(x, s.l)]++
	}
	c.reps = append(c.reps, r)
	c.sets[r.mask()] = true
}

// plan returns the current plan.
func (s *state) plan() *Plan {
	p := &Plan{K: s.k, T: s.t, L: s.l, Combiners: make([][]Rep, 0, len(s.combs))}
	for _, c := range s.combs {
		reps := make([]Rep, len(c.reps))
		for n, r := range c.reps {
			reps[n] = slices.Clone(r)
		}
		p.Combiners = append(p.Combiners, reps)
	}
	return p
}

// equivalents returns the l^t equivalent combinations of calculator set m
// ([0070], [0078] step 2), in the order of the share numbers.
func equivalents(m uint64, l int) []Rep {
	js := members(m)
	t := len(js)
	total := 1
	for range t {
		total *= l
	}
	out := make([]Rep, 0, total)
	idx := make([]int, t)
	for {
		r := make(Rep, t)
		for n, j := range js {
			r[n] = Term{J: j, I: idx[n] + 1}
		}
		out = append(out, r)
		n := t - 1
		for n >= 0 {
			idx[n]++
			if idx[n] < l {
				break
			}
			idx[n] = 0
			n--
		}
		if n < 0 {
			return out
		}
	}
}

// placeFirstFit is [0080] step 4 for one equivalent combination set: try
// the subgroups in order and, inside a subgroup, the equivalent combinations
// in their (random) order; the first that satisfies the security condition
// is taken. Subgroups that already serve the set (redundancy rounds) are
// skipped; a new subgroup is opened when none takes it.
func (s *state) placeFirstFit(m uint64, eqs []Rep) bool {
	for a, c := range s.combs {
		if c.sets[m] {
			continue
		}
		for _, r := range eqs {
			if ok, _ := s.canAdd(a, r, false); ok {
				s.commit(a, r)
				return true
			}
		}
	}
	return s.openWith(eqs)
}

// openWith opens a combiner for one of eqs. A single equation is always
// secure; in pair mode it must also be safe together with every existing
// combiner, which can fail (the greedy is then blocked).
func (s *state) openWith(eqs []Rep) bool {
	if !s.pairRoom(len(s.combs) + 1) {
		return false
	}
	a := s.open()
	if !s.pairs {
		s.commit(a, eqs[0])
		return true
	}
	for _, r := range eqs {
		if ok, _ := s.canAdd(a, r, false); ok {
			s.commit(a, r)
			return true
		}
	}
	return false
}

// placeBest tries the combiners in order like first-fit, but inside the
// first combiner that can take the set it picks, among at most maxTry
// fitting equivalents, the one that raises the fewest coalition ranks.
func (s *state) placeBest(m uint64, eqs []Rep, maxTry int) bool {
	for a, c := range s.combs {
		if c.sets[m] {
			continue
		}
		best, bestGrow, tried := -1, 0, 0
		for n, r := range eqs {
			ok, g := s.canAdd(a, r, true)
			if !ok {
				continue
			}
			if best < 0 || g < bestGrow {
				best, bestGrow = n, g
			}
			tried++
			if tried >= maxTry {
				break
			}
		}
		if best >= 0 {
			s.commit(a, eqs[best])
			return true
		}
	}
	return s.openWith(eqs)
}

// FirstFit runs the patent's grouping ([0076]-[0083]) with the options'
// redundancy, seed and pair mode (opts.Method is ignored).
func FirstFit(k, t, l int, opts *Options) (*Plan, error) {
	if err := CheckParams(k, t, l); err != nil {
		return nil, err
	}
	o, err := opts.norm()
	if err != nil {
		return nil, err
	}
	var st Stats
	return firstFitRetry(k, t, l, o, &st)
}

// firstFitRetry runs firstFit; in pair mode a blocked greedy is retried
// with the next seeds, and finally replaced by the trivial plan.
func firstFitRetry(k, t, l int, o Options, st *Stats) (*Plan, error) {
	seed := o.Seed
	for try := 0; try < pairRetries; try++ {
		o.Seed = seed + uint64(try)
		p, err := firstFit(k, t, l, o, st)
		if err != errBlocked {
			return p, err
		}
	}
	if satMul(binom(k, t), o.Redundancy) > MaxCombiners {
		return nil, fmt.Errorf("%w: pair mode needs up to C(%d,%d)*%d combiners (max %d)", ErrLimits, k, t, o.Redundancy, MaxCombiners)
	}
	return trivialPlan(k, t, l, o.Redundancy), nil
}

// pairRetries is the number of seeds a blocked pair-mode greedy tries.
const pairRetries = 8

// errBlocked reports a pair-mode greedy that could not open a combiner.
var errBlocked = errors.New("grouping: pair-mode greedy blocked")

// trivialPlan gives every calculator set its own combiners, r of them, all
// holding the share-1 representation. Any two single equations are safe
// with any t-1 calculators (their restricted indicator vectors are non-zero
// and non-negative, so no affine combination is the origin), so this plan
// is pair-secure; it is the fallback of pair mode.
func trivialPlan(k, t, l, r int) *Plan {
	p := &Plan{K: k, T: t, L: l}
	for _, m := range subsets(k, t) {
		for range r {
			p.Combiners = append(p.Combiners, []Rep{equivalents(m, l)[0]})
		}
	}
	return p
}

func firstFit(k, t, l int, o Options, st *Stats) (*Plan, error) {
	s, err := newState(k, t, l, o.Pairs, st)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x7e63299e07be9ca9))
	// [0076] step 1: the C(k,t) machine combinations.
	sets := subsets(k, t)
	// [0078] step 2: each extended to its set of l^t equivalent
	// combinations, sorted randomly.
	eqs := make([][]Rep, len(sets))
	for n, m := range sets {
		eqs[n] = equivalents(m, l)
		rng.Shuffle(len(eqs[n]), func(i, j int) { eqs[n][i], eqs[n][j] = eqs[n][j], eqs[n][i] })
	}
	// [0079] step 3: all sets in one big group, sorted randomly.
	order := rng.Perm(len(sets))
	// [0080]-[0081] steps 4-5: take the sets in order, place each into the
	// first subgroup that can take one of its combinations.
	for _, n := range order {
		if !s.placeFirstFit(sets[n], eqs[n]) {
			return nil, errBlocked
		}
	}
	// [0083] step 7 as a requirement: further rounds give every set r
	// distinct subgroups; an equivalent set is no longer discarded once one
	// of its combinations has been taken.
	for round := 1; round < o.Redundancy; round++ {
		for _, n := range order {
			if !s.placeFirstFit(sets[n], eqs[n]) {
				return nil, errBlocked
			}
		}
	}
	// [0082] step 6: each subgroup is one combiner's store.
	return s.plan(), nil
}

// Search returns a plan for (k, t, l) that covers every calculator set with
// the options' redundancy and is combiner-secure over the integers (and
// pair-secure with opts.Pairs), with statistics. With Method Best it looks
// for the fewest combiners (the partition construction and the searches of
// the package doc) and, among plans with as many, the most even split of
// the calculator sets ([0036] point 1); with opts.Optimal it then runs the
// exact search and Stats.Proven says whether the count is the fewest
// possible. Parameters outside CheckParams are refused before anything is
// enumerated. opts nil means the defaults of Options.
func Search(k, t, l int, opts *Options) (*Plan, *Stats, error) {
	start := time.Now()
	if err := CheckParams(k, t, l); err != nil {
		return nil, nil, err
	}
	o, err := opts.norm()
	if err != nil {
		return nil, nil, err
	}
	st := &Stats{Method: o.Method.String(), Seed: o.Seed, Arithmetic: ArithInteger}
	if !o.NoLowerBound {
		st.LowerBound, st.MaxPerCombiner = lowerBound(k, t, l, o)
	}
	// For large problems without pairs the partition construction comes
	// first and the patent's greedy (slow there) runs only if it fails.
	large := o.Method == Best && !o.Pairs && searchWork(k, t) > repairWorkLimit
	var best *Plan
	if !large {
		ff, err := firstFitRetry(k, t, l, o, st)
		if err != nil {
			return nil, nil, err
		}
		st.FirstFitCombiners = len(ff.Combiners)
		best = ff
	}
	st.Restarts = 1
	if o.Method == Best && !o.Pairs {
		best = compactSearch(k, t, l, o, st, best)
	}
	if best == nil {
		return nil, nil, fmt.Errorf("%w: no plan found", ErrLimits)
	}
	if o.Method == Best && o.Pairs {
		if len(best.Combiners) > st.LowerBound {
			best = bestSearch(k, t, l, o, st, best)
		}
		if len(best.Combiners) > st.LowerBound {
			best = pairSearch(k, t, l, o, st, best)
		}
		// Rebalancing pair plans changes representations and can leave
		// less room for AddCalculator: only with Optimal.
		if o.Optimal {
			best = symmetricPairs(k, t, l, o, st, best)
			if q := rebalance(best, o.Redundancy, true); better(q, best) {
				best = q
			}
			best = balancedPairs(k, t, l, o, st, best)
		}
	}
	if o.Optimal && o.Method == Best && !o.Pairs && len(best.Combiners) > st.LowerBound {
		best = anneal(k, t, l, o, st, best)
	}
	if o.Optimal && o.Method == Best && !o.Pairs {
		best = optimise(k, t, l, o, st, best)
	}
	if o.Method == Best && !o.Pairs {
		best = balanceSearch(k, t, l, o, st, best)
	}
	st.Proven = st.LowerBound > 0 && len(best.Combiners) <= st.LowerBound
	st.Duration = time.Since(start)
	return best, st, nil
}

// optimise runs the exact search (exact.go) within the time limit and
// raises st.LowerBound to what it proved.
func optimise(k, t, l int, o Options, st *Stats, best *Plan) *Plan {
	start := time.Now()
	bound, _ := setsBound(k, t, l)
	q, lb := exactSearch(k, t, l, o, st, best, bound, start.Add(o.timeLimit()))
	if q != best {
		best = q
		if b := rebalance(q, o.Redundancy, false); better(b, best) {
			best = b
		}
	}
	st.LowerBound = max(st.LowerBound, lb)
	st.ExactDuration = time.Since(start)
	return best
}

// autoRestarts picks the number of orderings Best tries from the size of
// the problem, so that the search stays within the documented targets.
func autoRestarts(k, t, l int) int {
	work := binom(k, t) * binom(k, t-1)
	switch {
	case work <= 500:
		return 48
	case work <= 5000:
		return 12
	case work <= 50000:
		return 8
	case work <= 500000:
		return 2
	}
	return 1
}

// bestSearch improves on the first-fit plan ff: several orderings with a
// best-fit choice of share numbers, each followed by dissolving the
// smallest combiners into the others.
func bestSearch(k, t, l int, o Options, st *Stats, ff *Plan) *Plan {
	best := ff
	restarts := o.Restarts
	if restarts == 0 {
		restarts = autoRestarts(k, t, l)
	}
	maxTry := 1 << min(t, 4)
	sets := subsets(k, t)
	rng := rand.New(rand.NewPCG(o.Seed, 0xb35f))
	for it := 0; it < restarts; it++ {
		st.Restarts++
		s, err := newState(k, t, l, o.Pairs, st)
		if err != nil {
			return best
		}
		order := rng.Perm(len(sets))
		eqs := make([][]Rep, len(sets))
		for n, m := range sets {
			eqs[n] = equivalents(m, l)
			rng.Shuffle(len(eqs[n]), func(i, j int) { eqs[n][i], eqs[n][j] = eqs[n][j], eqs[n][i] })
		}
		blocked := false
		for round := 0; round < o.Redundancy && !blocked; round++ {
			for _, n := range order {
				if !s.placeBest(sets[n], eqs[n], maxTry) {
					blocked = true
					break
				}
			}
		}
		if blocked {
			continue
		}
		s.dissolve(o.Redundancy, st.LowerBound)
		if len(s.combs) < len(best.Combiners) {
			best = s.plan()
		}
		if len(best.Combiners) <= st.LowerBound {
			break
		}
	}
	return best
}

// cloneWithout returns a copy of s without combiner drop.
func (s *state) cloneWithout(drop int) *state {
	ns := &state{k: s.k, t: s.t, l: s.l, n: s.n, arith: s.arith, coal: s.coal, pairs: s.pairs, stats: s.stats, buf: s.buf}
	idx := make([]int, len(s.combs)) // old index -> new index
	for a, c := range s.combs {
		if a == drop {
			idx[a] = -1
			continue
		}
		idx[a] = len(ns.combs)
		ns.combs = append(ns.combs, c.clone())
	}
	if s.pairs {
		ns.pairB = map[[2]int][]basis{}
		for key, bs := range s.pairB {
			a, b := idx[key[0]], idx[key[1]]
			if a >= 0 && b >= 0 {
				ns.pairB[[2]int{a, b}] = cloneBases(bs)
			}
		}
	}
	return ns
}

func (c *combState) clone() *combState {
	n := &combState{reps: slices.Clone(c.reps), sets: make(map[uint64]bool, len(c.sets)), bases: cloneBases(c.bases),
		used: slices.Clone(c.used), killers: slices.Clone(c.killers), stale: slices.Clone(c.stale), nStale: c.nStale}
	for m := range c.sets {
		n.sets[m] = true
	}
	return n
}

// dissolve repeatedly tries to empty the combiner with the fewest
// representations by moving each of its sets (with any equivalent
// combination) into another combiner that does not serve it yet. A failed
// attempt is undone by rebuilding the combiners it touched (or, in pair
// mode, by working on a copy).
func (s *state) dissolve(r, lower int) {
	failed := map[int]bool{}
	for len(s.combs) > max(lower, r) {
		z := -1
		for a, c := range s.combs {
			if failed[a] {
				continue
			}
			if z < 0 || len(c.reps) <= len(s.combs[z].reps) {
				z = a
			}
		}
		if z < 0 {
			return
		}
		if s.pairs {
			trial := s.cloneWithout(z)
			if trial.moveAll(s.combs[z].reps, -1) == nil {
				*s = *trial
				failed = map[int]bool{}
			} else {
				failed[z] = true
			}
			continue
		}
		touched := s.moveAll(s.combs[z].reps, z)
		if touched != nil {
			for a, n := range touched {
				s.rebuild(a, n)
			}
			failed[z] = true
			continue
		}
		s.combs = slices.Delete(s.combs, z, z+1)
		failed = map[int]bool{}
	}
}

// moveAll places the sets of reps into combiners other than skip. It
// returns nil on success, otherwise the combiners it changed with their
// earlier number of representations.
func (s *state) moveAll(reps []Rep, skip int) map[int]int {
	touched := map[int]int{}
	for _, rp := range reps {
		m := rp.mask()
		// The same representation first: its c_a is the same.
		eqs := append([]Rep{rp}, equivalents(m, s.l)...)
		placed := false
		for a, c := range s.combs {
			if a == skip || c.sets[m] {
				continue
			}
			for _, e := range eqs {
				if fit, _ := s.canAdd(a, e, false); fit {
					if _, ok := touched[a]; !ok {
						touched[a] = len(c.reps)
					}
					s.commit(a, e)
					placed = true
					break
				}
			}
			if placed {
				break
			}
		}
		if !placed {
			if len(touched) == 0 {
				touched[-1] = 0
			}
			return touched
		}
	}
	return nil
}

// rebuild recomputes combiner a from its first n representations (not used
// in pair mode).
func (s *state) rebuild(a, n int) {
	if a < 0 {
		return
	}
	s.truncate(a, n)
}

// truncate keeps the first n representations of combiner a (not in pair
// mode) and marks its bases stale: each is rebuilt when next used.
func (s *state) truncate(a, n int) {
	c := s.combs[a]
	for _, r := range c.reps[n:] {
		for _, x := range r {
			c.used[col(x, s.l)]--
		}
		delete(c.sets, r.mask())
	}
	c.reps = slices.Clone(c.reps[:n])
	for _, r := range c.reps {
		c.sets[r.mask()] = true
	}
	for ci := range c.stale {
		c.stale[ci] = true
	}
	c.nStale = len(c.stale)
}

// replay empties combiner a (keeping its killers), resets its pairs' bases
// to the partners' own and commits reps again. The caller guarantees that
// reps were held securely before, by a (and with every partner): a subset
// of a secure set of equations is secure (the kernel lattice can only grow,
// so its g divides the larger set's), so each row is stored without the
// leak test, and the bases are reused instead of allocated.
func (s *state) replay(a int, reps []Rep) {
	c := s.combs[a]
	for i, b := range c.bases {
		c.bases[i] = resetBasis(b, s.arith, s.n)
	}
	clear(c.used)
	clear(c.sets)
	clear(c.stale)
	c.nStale = 0
	c.reps = c.reps[:0]
	if s.pairs {
		for b := range s.combs {
			if b == a {
				continue
			}
			key := [2]int{min(a, b), max(a, b)}
			bs := s.pairB[key]
			for ci, x := range s.combs[b].bases {
				bs[ci] = copyBasis(bs[ci], x)
			}
		}
	}
	for _, r := range reps {
		s.store(a, r)
	}
}

// store is commit for a representation known not to leak: the rows are
// applied without the leak test.
func (s *state) store(a int, r Rep) {
	c := s.combs[a]
	for ci, cm := range s.coal {
		s.buf = restrict(r, cm, s.l, s.buf)
		s.stats.Checks++
		storeRow(c.bases[ci], s.buf)
	}
	s.applyPairs(a, r, storeRow)
	s.record(c, r)
}

// refresh rebuilds basis ci of combiner c from its representations when it
// is stale (c nil: a pair's bases, never stale). The representations were
// held securely together before, so every subset is secure and the rows
// are stored without the leak test.
func (s *state) refresh(c *combState, ci int) {
	if c == nil || !c.stale[ci] {
		return
	}
	b := resetBasis(c.bases[ci], s.arith, s.n)
	c.bases[ci] = b
	for _, r := range c.reps {
		s.buf = restrict(r, s.coal[ci], s.l, s.buf)
		s.stats.Checks++
		storeRow(b, s.buf)
	}
	c.stale[ci] = false
	c.nStale--
}

// refreshAll rebuilds every stale basis of combiner c.
func (s *state) refreshAll(c *combState) {
	for ci := 0; c.nStale > 0 && ci < len(c.stale); ci++ {
		s.refresh(c, ci)
	}
}
