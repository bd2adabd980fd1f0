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
// where the exact check allows, so the result is secure; with opts.Pairs it
// is pair-secure as well, which needs p to be pair-secure. opts.Redundancy 0
// means the least redundancy p has now (at least 1).
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
	st := &Stats{}
	s, err := newState(k, p.T, p.L, o.Pairs, st)
	if err != nil {
		return nil, nil, err
	}
	if !s.pairRoom(len(p.Combiners)) {
		return nil, nil, fmt.Errorf("%w: %d combiners in pair mode", ErrLimits, len(p.Combiners))
	}
	for a, reps := range p.Combiners {
		s.open()
		for _, r := range reps {
			if ok, _ := s.canAdd(a, r, false); !ok {
				return nil, nil, fmt.Errorf("%w: combiner %d with %v", ErrInsecure, a+1, r)
			}
			s.commit(a, r)
		}
	}
	old := len(s.combs)
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
	added = make([][]Rep, len(next.Combiners))
	for a, reps := range next.Combiners {
		start := 0
		if a < old {
			start = len(p.Combiners[a])
		}
		added[a] = slices.Clone(reps[start:])
	}
	return next, added, nil
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
