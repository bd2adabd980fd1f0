package grouping

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// AddCalculator returns a plan for k+1 calculators that keeps every
// combiner's representations unchanged (so their c_a stay valid and running
// combiners keep working) and only adds representations for the new
// calculator sets, those containing calculator k+1 (which holds shares
// 1..l). added[a] lists the representations added to combiner a+1 (new
// combiners come last); the dealer computes their c_a.
//
// Old representations stay secure: a coalition containing calculator k+1
// knows nothing about them, so for them it is a smaller coalition. New
// representations are placed (first-fit, or best-fit with Method Best) only
// where the exact check allows, together with everything each combiner was
// dealt before (opts.History), so the result is secure for each combiner's
// whole history; with opts.Pairs it is pair-secure as well, which needs the
// histories to be pair-secure. A combiner that has a history but no
// representation in p keeps its number and may be given new ones; if it
// takes none it is left out at the end of next, or left empty before a
// combiner that took some (which a dealer cannot deal).
// opts.Redundancy 0 means the least redundancy p has now (at least 1).
func (p *Plan) AddCalculator(opts *Options) (next *Plan, added [][]Rep, err error) {
	if err := p.ValidateStructure(); err != nil {
		return nil, nil, err
	}
	// The limits of the grown plan, before anything is enumerated.
	if err := CheckParams(p.K+1, p.T, p.L); err != nil {
		return nil, nil, err
	}
	o, err := opts.norm()
	if err != nil {
		return nil, nil, err
	}
	if opts == nil || opts.Redundancy == 0 {
		red := p.redundancy()
		least := -1
		for _, m := range p.activeSets() {
			if n := len(red[m]); least < 0 || n < least {
				least = n
			}
		}
		o.Redundancy = max(least, 1)
	}
	k := p.K + 1
	s, err := p.historyState(k, o)
	if err != nil {
		return nil, nil, err
	}
	if !s.pairRoom(max(len(p.Combiners), len(o.History))) {
		return nil, nil, fmt.Errorf("%w: %d combiners in pair mode", ErrLimits, max(len(p.Combiners), len(o.History)))
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0xadd))
	var fresh []uint64
	retired := p.retiredMask()
	for _, m := range subsets(k, p.T) {
		if m&(1<<(k-1)) != 0 && m&retired == 0 {
			fresh = append(fresh, m)
		}
	}
	rng.Shuffle(len(fresh), func(i, j int) { fresh[i], fresh[j] = fresh[j], fresh[i] })
	eqs := make([][]Rep, len(fresh))
	for n, m := range fresh {
		eqs[n] = equivalents(m, p.L)
		rng.Shuffle(len(eqs[n]), func(i, j int) { eqs[n][i], eqs[n][j] = eqs[n][j], eqs[n][i] })
	}
	for round := 0; round < o.Redundancy; round++ {
		for n, m := range fresh {
			ok := false
			if o.Method == Best {
				ok = s.placeBest(m, eqs[n], 1<<min(p.T, 4))
			} else {
				ok = s.placeFirstFit(m, eqs[n])
			}
			if !ok {
				return nil, nil, fmt.Errorf("%w: pair mode: no combiner can take calculators %v", ErrInsecure, members(m))
			}
		}
	}
	next = s.plan()
	next.Retired = slices.Clone(p.Retired)
	// Combiners known only from the history that took nothing are left out
	// at the end.
	for n := len(next.Combiners); n > len(p.Combiners) && len(next.Combiners[n-1]) == 0; n-- {
		next.Combiners = next.Combiners[:n-1]
	}
	added = make([][]Rep, len(next.Combiners))
	for a, reps := range next.Combiners {
		start := 0
		if a < len(p.Combiners) {
			start = len(p.Combiners[a])
		}
		added[a] = slices.Clone(reps[start:])
	}
	return next, added, nil
}

// historyState returns the search state for k calculators holding, for
// every combiner, its history (o.History) in its systems and p's
// representations as its own. It fails with ErrInsecure when a combiner's
// history and representations (or, in pair mode, a pair's) already leak.
func (p *Plan) historyState(k int, o Options) (*state, error) {
	if len(o.History) > MaxCombiners {
		return nil, fmt.Errorf("%w: history of %d combiners", ErrLimits, len(o.History))
	}
	total := 0
	for a, reps := range o.History {
		total += len(reps)
		if total > MaxReps {
			return nil, fmt.Errorf("%w: more than %d representations in the history", ErrLimits, MaxReps)
		}
		for _, r := range reps {
			if err := r.Validate(p.K, p.T, p.L); err != nil {
				return nil, fmt.Errorf("history of combiner %d: %w", a+1, err)
			}
		}
	}
	s, err := newState(k, p.T, p.L, o.Pairs, &Stats{})
	if err != nil {
		return nil, err
	}
	for a := 0; a < max(len(p.Combiners), len(o.History)); a++ {
		s.open()
		var reps []Rep
		if a < len(p.Combiners) {
			reps = p.Combiners[a]
		}
		var hist []Rep
		if a < len(o.History) {
			hist = o.History[a]
		}
		for n, r := range append(slices.Clip(hist), reps...) {
			if ok, _ := s.canAdd(a, r, false); !ok {
				return nil, fmt.Errorf("%w: combiner %d with %v", ErrInsecure, a+1, r)
			}
			if n < len(hist) {
				s.absorb(a, r)
			} else {
				s.commit(a, r)
			}
		}
	}
	return s, nil
}

// absorb adds r to combiner a's systems (and its pairs') like commit, but
// not to its representations: a representation dealt before and dropped
// from the plan still binds the combiner that keeps it.
func (s *state) absorb(a int, r Rep) {
	c := s.combs[a]
	s.refreshAll(c)
	had := c.sets[r.mask()]
	s.commit(a, r)
	c.reps = c.reps[:len(c.reps)-1]
	if !had {
		delete(c.sets, r.mask())
	}
}

// Equal reports whether p and q are the same plan: the same (k, t, l),
// retired calculators and representations per combiner, in order.
func (p *Plan) Equal(q *Plan) bool {
	if p == nil || q == nil {
		return p == q
	}
	if p.K != q.K || p.T != q.T || p.L != q.L || !slices.Equal(p.Retired, q.Retired) || len(p.Combiners) != len(q.Combiners) {
		return false
	}
	for a := range p.Combiners {
		if !slices.EqualFunc(p.Combiners[a], q.Combiners[a], Rep.Equal) {
			return false
		}
	}
	return true
}

// RemoveCalculator retires calculator j ([0054] point 3): every
// representation involving j is dropped (removed[a] lists those of combiner
// a+1) and nothing else changes: no calculator or representation is renamed,
// so running combiners and calculators keep their key material. j joins
// Plan.Retired. Combiners keep their numbers, even when left empty. Dropping
// equations keeps every combiner (and pair) as secure as before, and every
// calculator set without j keeps its combiners. More than t calculators
// must stay in service ([0068]).
func (p *Plan) RemoveCalculator(j int) (next *Plan, removed [][]Rep, err error) {
	if err := p.ValidateStructure(); err != nil {
		return nil, nil, err
	}
	if j < 1 || j > p.K || slices.Contains(p.Retired, j) {
		return nil, nil, fmt.Errorf("%w: %d (k=%d, retired %v)", ErrNoCalculator, j, p.K, p.Retired)
	}
	if p.K-len(p.Retired)-1 <= p.T {
		return nil, nil, fmt.Errorf("%w: removing calculator %d leaves %d in service, want more than t=%d ([0068])", ErrParams, j, p.K-len(p.Retired)-1, p.T)
	}
	next = &Plan{K: p.K, T: p.T, L: p.L, Combiners: make([][]Rep, len(p.Combiners)), Retired: slices.Clone(p.Retired)}
	next.Retired = append(next.Retired, j)
	slices.Sort(next.Retired)
	removed = make([][]Rep, len(p.Combiners))
	for a, reps := range p.Combiners {
		next.Combiners[a] = []Rep{}
		for _, r := range reps {
			if slices.ContainsFunc(r, func(x Term) bool { return x.J == j }) {
				removed[a] = append(removed[a], slices.Clone(r))
				continue
			}
			next.Combiners[a] = append(next.Combiners[a], slices.Clone(r))
		}
	}
	return next, removed, nil
}

// FillEmpty gives every combiner of p that holds no representation (as
// RemoveCalculator may leave it) one representation it can hold securely
// together with everything it was dealt before (opts.History) and, with
// opts.Pairs, together with every other combiner's, so that it keeps key
// material and its number. added[a] lists what combiner a+1 got; a
// combiner that no representation fits is left empty. Calculator sets
// served by the fewest combiners are tried first ([0083] step 7).
func (p *Plan) FillEmpty(opts *Options) (next *Plan, added [][]Rep, err error) {
	if err := p.ValidateStructure(); err != nil {
		return nil, nil, err
	}
	o, err := opts.norm()
	if err != nil {
		return nil, nil, err
	}
	s, err := p.historyState(p.K, o)
	if err != nil {
		return nil, nil, err
	}
	sets := p.activeSets()
	red := p.redundancy()
	slices.SortStableFunc(sets, func(a, b uint64) int { return len(red[a]) - len(red[b]) })
	added = make([][]Rep, len(p.Combiners))
	for a, reps := range p.Combiners {
		if len(reps) > 0 {
			continue
		}
		if s.fillOne(a, sets, p.L) {
			added[a] = slices.Clone(s.combs[a].reps)
		}
	}
	next = s.plan()
	next.Combiners = next.Combiners[:len(p.Combiners)]
	next.Retired = slices.Clone(p.Retired)
	return next, added, nil
}

// fillOne commits to combiner a the first representation of sets that it
// can take.
func (s *state) fillOne(a int, sets []uint64, l int) bool {
	for _, m := range sets {
		for _, r := range equivalents(m, l) {
			if ok, _ := s.canAdd(a, r, false); ok {
				s.commit(a, r)
				return true
			}
		}
	}
	return false
}
