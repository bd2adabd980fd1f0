package grouping

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// setsPerCombiner counts the distinct calculator sets of every combiner,
// with the oldest API only (so that it runs against earlier versions).
func setsPerCombiner(p *Plan) []int {
	out := make([]int, len(p.Combiners))
	for a, reps := range p.Combiners {
		seen := map[uint64]bool{}
		for _, r := range reps {
			seen[r.mask()] = true
		}
		out[a] = len(seen)
	}
	return out
}

// TestRegressionSearchUnevenSplit: Search split (5,3,2) 8+2, (6,3,2) 13+7,
// (6,4,2) 10+5 and (5,2,2) 9+1; the split is now even within one set.
func TestRegressionSearchUnevenSplit(t *testing.T) {
	for _, c := range [][3]int{{5, 3, 2}, {6, 3, 2}, {6, 4, 2}, {5, 2, 2}} {
		p, _, err := Search(c[0], c[1], c[2], nil)
		require.NoError(t, err)
		n := setsPerCombiner(p)
		require.Len(t, n, 2, "%v", c)
		require.LessOrEqual(t, max(n[0], n[1])-min(n[0], n[1]), 1, "%v: split %v", c, n)
	}
}

// TestRegressionSearchTooManyCombiners: Search used 3 combiners for
// (7,3,2), 4 for (8,4,2) and 6 for (9,4,2) where 2, 3 and 4 suffice, and
// 5 for (7,3,2) with r=2 where 4 suffice.
func TestRegressionSearchTooManyCombiners(t *testing.T) {
	for _, c := range [][5]int{{7, 3, 2, 1, 2}, {8, 4, 2, 1, 3}, {9, 4, 2, 1, 4}, {7, 3, 2, 2, 4}} {
		p, _, err := Search(c[0], c[1], c[2], &Options{Redundancy: c[3]})
		require.NoError(t, err)
		require.LessOrEqual(t, len(p.Combiners), c[4], "%v", c)
		rep, err := Check(p)
		require.NoError(t, err)
		require.NoError(t, rep.Verdict())
		require.GreaterOrEqual(t, rep.MinRedundancy, c[3])
	}
}

// TestRegressionPairSearchTooManyCombiners: Search with Pairs and Optimal
// used 6 combiners for pair-safe (6,4,2) and (6,3,2) where 5 and 4
// suffice, and with Optimal 4 for (6,4,2) with r=2 where 3 suffice.
// Under -race only (6,4,2) runs (TestTableRows runs the rest in .ci/run).
func TestRegressionPairSearchTooManyCombiners(t *testing.T) {
	for _, c := range []struct {
		k, t, l, r, want int
		pairs, long      bool
	}{
		{6, 4, 2, 1, 5, true, false},
		{6, 3, 2, 1, 4, true, true},
		{6, 4, 2, 2, 3, false, true},
	} {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			if c.long && (testing.Short() || raceEnabled) {
				t.Skip("long: TestTableRows runs it without -race")
			}
			p, _, err := Search(c.k, c.t, c.l, &Options{Redundancy: c.r, Pairs: c.pairs, Optimal: true, TimeLimit: time.Minute})
			require.NoError(t, err)
			require.LessOrEqual(t, len(p.Combiners), c.want)
			rep, err := Check(p)
			require.NoError(t, err)
			require.NoError(t, rep.Verdict())
			require.GreaterOrEqual(t, rep.MinRedundancy, c.r)
			if c.pairs {
				require.True(t, rep.PairsSecure)
			}
		})
	}
}
