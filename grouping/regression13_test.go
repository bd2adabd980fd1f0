package grouping

import (
	"testing"

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
