package grouping

import (
	"slices"
)

// Balance. The patent asks that the working tasks of all key components be
// basically equal ([0036] point 1). A combiner's load is the number of
// calculator sets it serves (with calculators answering in random order,
// each set is equally likely to be the first t to answer). Once the
// combiners are fixed, each set may be given to any r of the combiners
// that can hold it (a subset of a secure set of equations is secure, and in
// pair mode a subset of a pair-secure union is pair-secure), so balancing is
// an assignment problem: assign spreads the sets with the fewest-loaded
// first, then moves sets along paths from a combiner to one with at least
// two sets less (the exchange argument of optimal semi-matchings) until no
// such path is left.

// elig says that combiner comb can serve a set with representation rep.
type elig struct {
	comb int
	rep  Rep
}

// assign gives every set r distinct combiners among its eligible ones,
// balanced as above, and returns the plan with c combiners; nil if some set
// has fewer than r eligible combiners.
func assign(k, t, l, c, r int, sets []uint64, el [][]elig) *Plan {
	load := make([]int, c)
	as := make([][]int, len(sets)) // indices into el[n]
	for n := range sets {
		if len(el[n]) < r {
			return nil
		}
	}
	// Most constrained sets first.
	order := make([]int, len(sets))
	for n := range order {
		order[n] = n
	}
	slices.SortStableFunc(order, func(x, y int) int { return len(el[x]) - len(el[y]) })
	for _, n := range order {
		for range r {
			best := -1
			for e, x := range el[n] {
				if slices.Contains(as[n], e) {
					continue
				}
				if best < 0 || load[x.comb] < load[el[n][best].comb] {
					best = e
				}
			}
			as[n] = append(as[n], best)
			load[el[n][best].comb]++
		}
	}
	for iter := 0; iter < 4*len(sets)*r+16; iter++ {
		if !balanceStep(c, load, as, el) {
			break
		}
	}
	p := &Plan{K: k, T: t, L: l, Combiners: make([][]Rep, c)}
	for n := range sets {
		es := slices.Clone(as[n])
		slices.Sort(es)
		for _, e := range es {
			x := el[n][e]
			p.Combiners[x.comb] = append(p.Combiners[x.comb], slices.Clone(x.rep))
		}
	}
	return p
}

// balanceStep finds, from the most loaded combiner down, a path of moves
// u -> ... -> v with load(v) <= load(u)-2 (breadth first) and applies it.
func balanceStep(c int, load []int, as [][]int, el [][]elig) bool {
	srcs := make([]int, c)
	for a := range srcs {
		srcs[a] = a
	}
	slices.SortStableFunc(srcs, func(x, y int) int { return load[y] - load[x] })
	type move struct{ n, from, to int } // set n: entry from -> entry to
	for _, u := range srcs {
		prev := make([]move, c)
		seen := make([]bool, c)
		seen[u] = true
		queue := []int{u}
		for len(queue) > 0 {
			a := queue[0]
			queue = queue[1:]
			if load[a] <= load[u]-2 {
				var path []move
				for v := a; v != u; v = el[path[len(path)-1].n][path[len(path)-1].from].comb {
					path = append(path, prev[v])
				}
				return applyPath(path, load, as, el, func(m move) (int, int, int) { return m.n, m.from, m.to })
			}
			for n, es := range as {
				for _, e := range es {
					if el[n][e].comb != a {
						continue
					}
					for f, x := range el[n] {
						if seen[x.comb] || slices.Contains(es, f) || servedBy(as[n], el[n], x.comb) {
							continue
						}
						seen[x.comb] = true
						prev[x.comb] = move{n, e, f}
						queue = append(queue, x.comb)
					}
				}
			}
		}
	}
	return false
}

func servedBy(es []int, el []elig, a int) bool {
	for _, e := range es {
		if el[e].comb == a {
			return true
		}
	}
	return false
}

// applyPath applies the moves if they are still valid one after the other
// (a set may appear twice on a path); it reports whether it changed
// anything.
func applyPath[M any](path []M, load []int, as [][]int, el [][]elig, parts func(M) (int, int, int)) bool {
	changed := false
	for _, m := range path {
		n, from, to := parts(m)
		i := slices.Index(as[n], from)
		if i < 0 || servedBy(as[n], el[n], el[n][to].comb) {
			return changed
		}
		as[n][i] = to
		load[el[n][from].comb]--
		load[el[n][to].comb]++
		changed = true
	}
	return changed
}

// spread returns the largest minus the smallest number of calculator sets
// of a combiner of p.
func spread(p *Plan) int {
	lo, hi := -1, 0
	for _, reps := range p.Combiners {
		n := len(setsOf(reps))
		if lo < 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	return hi - max(lo, 0)
}

func setsOf(reps []Rep) map[uint64]bool {
	m := map[uint64]bool{}
	for _, r := range reps {
		m[r.mask()] = true
	}
	return m
}

// maximalEligible extends every combiner of p, in order, with every
// calculator set it can still hold securely (any equivalent combination;
// in pair mode together with every other extended combiner), and returns
// for each set the combiners that can serve it, or nil when that is beyond
// workLimit row reductions.
func maximalEligible(p *Plan, pairs bool, workLimit int64) [][]elig {
	k, t, l := p.K, p.T, p.L
	sets := subsets(k, t)
	eqn := 1
	for range t {
		eqn *= l
	}
	work := int64(len(sets)) * int64(eqn) * int64(binom(k, t-1)) * int64(len(p.Combiners))
	if pairs {
		work *= int64(len(p.Combiners))
	}
	if work > workLimit {
		return nil
	}
	var st Stats
	s, err := newState(k, t, l, pairs, &st)
	if err != nil {
		return nil
	}
	for range p.Combiners {
		s.open()
	}
	for a, reps := range p.Combiners {
		for _, r := range reps {
			s.commit(a, r)
		}
	}
	for a := range s.combs {
		for _, m := range sets {
			if s.combs[a].sets[m] {
				continue
			}
			for _, e := range equivalents(m, l) {
				if ok, _ := s.canAdd(a, e, false); ok {
					s.commit(a, e)
					break
				}
			}
		}
	}
	idx := map[uint64]int{}
	for n, m := range sets {
		idx[m] = n
	}
	el := make([][]elig, len(sets))
	for a, c := range s.combs {
		for _, r := range c.reps {
			n := idx[r.mask()]
			el[n] = append(el[n], elig{comb: a, rep: r})
		}
	}
	return el
}

// rebalance returns p with its sets reassigned evenly (assign) over the
// extended combiners (maximalEligible), or p itself when that is too
// large or does not help.
func rebalance(p *Plan, r int, pairs bool) *Plan {
	el := maximalEligible(p, pairs, 1<<26)
	if el == nil {
		return p
	}
	q := assign(p.K, p.T, p.L, len(p.Combiners), r, subsets(p.K, p.T), el)
	if q == nil || spread(q) >= spread(p) {
		return p
	}
	return q
}
