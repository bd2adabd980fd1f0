package grouping

import (
	"math/rand/v2"
)

// better reports whether plan q beats p: fewer combiners, or as many and a
// more even split of the calculator sets ([0036] point 1).
func better(q, p *Plan) bool {
	if q == nil {
		return false
	}
	if p == nil || len(q.Combiners) != len(p.Combiners) {
		return p == nil || len(q.Combiners) < len(p.Combiners)
	}
	return spread(q) < spread(p)
}

// repairWorkLimit bounds C(k,t)*C(k,t-1) for the fixed-count repairing
// search without pairs (larger problems rely on the partition
// construction, which needs no lattice check).
const repairWorkLimit = 20000

// repairTries is the number of seeded attempts of the repairing search per
// combiner count.
const repairTries = 2

// compactSearch improves the incumbent plan (nil: none yet) (single-combiner security):
// the partition construction (partition.go), then for problems of at most
// repairWorkLimit (or when the construction found nothing) the seeded
// best-fit orderings (bestSearch) and the repairing search with a fixed number of
// combiners (repairTry) one combiner less at a time, and finally the
// balanced reassignment of the sets (balance.go).
func compactSearch(k, t, l int, o Options, st *Stats, incumbent *Plan) *Plan {
	best := incumbent
	r := o.Redundancy
	rng := rand.New(rand.NewPCG(o.Seed, 0xc0a1))
	lb := max(st.LowerBound, r, 1)
	ub := MaxCombiners + 1
	if best != nil {
		ub = len(best.Combiners) + 1
	}
	if f := partitionSearch(k, t, l, r, lb, ub, rng); f != nil {
		if q := assign(k, t, l, f.c, r, subsets(k, t), f.eligible()); better(q, best) {
			best = q
		}
	}
	if best == nil {
		// The construction failed on a large problem: the patent's greedy.
		ff, err := firstFitRetry(k, t, l, o, st)
		if err != nil {
			return nil
		}
		st.FirstFitCombiners = len(ff.Combiners)
		best, incumbent = ff, ff
	}
	n := binom(k, t)
	small := searchWork(k, t) <= repairWorkLimit
	if (small || best == incumbent) && len(best.Combiners) > lb {
		if q := bestSearch(k, t, l, o, st, best); better(q, best) {
			best = q
		}
	}
	if small {
		budget := max(2*n*r, 100)
		if q := repairDescend(k, t, l, r, len(best.Combiners)-1, lb, false, rng, st, budget, repairTries); q != nil {
			best = q
		}
	}
	if q := rebalance(best, r, false); better(q, best) {
		best = q
	}
	// Still uneven: other plans with as many combiners, each rebalanced.
	for try := 0; small && try < balanceTries && spread(best) > 1; try++ {
		st.Restarts++
		if s, ok := repairTry(k, t, l, len(best.Combiners), r, false, rng, st, max(40*n*r, 1000)); ok {
			if q := rebalance(s.plan(), r, false); better(q, best) {
				best = q
			}
		}
	}
	return best
}

// balanceTries is the number of further plans compactSearch tries when the
// best one's split is uneven by more than one set.
const balanceTries = 8

// balanceCapTries is the number of capped repairing searches balanceSearch
// makes.
const balanceCapTries = 16

// balanceSearch looks, for a plan without pairs whose split is uneven by
// more than one set, for another with as many combiners where no combiner
// serves more than its even share, ceil(C(k,t)*r/c) sets ([0036] point
// 1): the repairing search under that cap (repairTryCap), each result
// rebalanced (balance.go). Only small problems (repairWorkLimit); driven by
// the seed and step budgets, never by the clock.
func balanceSearch(k, t, l int, o Options, st *Stats, best *Plan) *Plan {
	n, r, c := binom(k, t), o.Redundancy, len(best.Combiners)
	if spread(best) <= 1 || searchWork(k, t) > repairWorkLimit {
		return best
	}
	limit := (n*r + c - 1) / c
	rng := rand.New(rand.NewPCG(o.Seed, 0xba1a))
	for try := 0; try < balanceCapTries && spread(best) > 1; try++ {
		st.Restarts++
		s, ok := repairTryCap(k, t, l, c, r, false, rng, st, max(100*n*r, 2000), limit)
		if !ok {
			continue
		}
		q := s.plan()
		if b := rebalance(q, r, false); better(b, q) {
			q = b
		}
		if better(q, best) {
			best = q
		}
	}
	return best
}

// searchWork is C(k,t)*C(k,t-1), the calculator sets times the
// coalitions each check covers: the size measure the work limits of the
// searches bound.
func searchWork(k, t int) int {
	return binom(k, t) * binom(k, t-1)
}
