package grouping

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRemoveMatchesFreshState checks that removing representations (lazily
// rebuilt bases without pairs, replayed ones with pairs) leaves a state
// that answers every candidate like a state built afresh from the
// representations that are left.
func TestRemoveMatchesFreshState(t *testing.T) {
	for _, c := range []struct {
		k, t, l int
		pairs   bool
	}{{6, 3, 2, false}, {7, 4, 2, false}, {6, 3, 2, true}, {5, 3, 2, true}} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(c.k)))
			s, err := newState(c.k, c.t, c.l, c.pairs, &Stats{})
			require.NoError(t, err)
			s.open()
			s.open()
			var cands []Rep
			for _, m := range subsets(c.k, c.t) {
				cands = append(cands, equivalents(m, c.l)...)
			}
			for round := 0; round < 6; round++ {
				rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
				for _, r := range cands {
					a := rng.IntN(2)
					if s.combs[a].sets[r.mask()] {
						continue
					}
					if ok, _, _ := s.whyNot(a, r); ok {
						s.commit(a, r)
					}
				}
				// A chain of removals without a check in between.
				for range 1 + rng.IntN(4) {
					a := rng.IntN(2)
					if n := len(s.combs[a].reps); n > 0 {
						s.remove(a, rng.IntN(n))
					}
				}
				fresh, err := newState(c.k, c.t, c.l, c.pairs, &Stats{})
				require.NoError(t, err)
				fresh.open()
				fresh.open()
				for a, cs := range s.combs {
					for _, r := range cs.reps {
						fresh.commit(a, r)
					}
				}
				for _, r := range cands {
					for a := range s.combs {
						got, gb, _ := s.whyNot(a, r)
						want, wb, _ := fresh.whyNot(a, r)
						require.Equal(t, want, got, "round %d combiner %d %v", round, a, r)
						require.Equal(t, wb, gb)
					}
				}
			}
		})
	}
}

// TestRepairTryCap checks the capped repairing search: every plan it
// returns keeps every combiner within the cap, serves every set r times
// and passes Check; and balanceSearch evens out the patent greedy's
// uneven (5,3,2) plan.
func TestRepairTryCap(t *testing.T) {
	for _, c := range [][5]int{{5, 3, 2, 2, 1}, {6, 3, 2, 3, 2}, {6, 3, 2, 2, 1}} {
		k, tt, l, m, r := c[0], c[1], c[2], c[3], c[4]
		limit := (binom(k, tt)*r + m - 1) / m
		rng := rand.New(rand.NewPCG(1, 2))
		found := false
		for try := 0; try < 8 && !found; try++ {
			s, ok := repairTryCap(k, tt, l, m, r, false, rng, &Stats{}, 2000, limit)
			if !ok {
				continue
			}
			found = true
			p := s.plan()
			for _, reps := range p.Combiners {
				require.LessOrEqual(t, len(reps), limit, "%v", c)
			}
			rep, err := Check(p)
			require.NoError(t, err)
			require.NoError(t, rep.Verdict())
			require.GreaterOrEqual(t, rep.MinRedundancy, r)
		}
		require.True(t, found, "%v", c)
	}
	ff, err := FirstFit(5, 3, 2, nil)
	require.NoError(t, err)
	require.Len(t, ff.Combiners, 2)
	require.Greater(t, spread(ff), 1, "split %v", ff.Load().Sets)
	o, err := (&Options{}).norm()
	require.NoError(t, err)
	p := balanceSearch(5, 3, 2, o, &Stats{}, ff)
	require.LessOrEqual(t, spread(p), 1, "split %v", p.Load().Sets)
	rep, err := Check(p)
	require.NoError(t, err)
	require.NoError(t, rep.Verdict())
}
