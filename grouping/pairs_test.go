package grouping

import (
	"fmt"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPairPlansSmall checks the pair-mode search with the independent
// reference (every pair of combiners, every coalition of t-1, over
// big.Rat), coverage with redundancy r, determinism, and that the plans are
// smaller than one combiner per calculator set (the earlier fallback).
func TestPairPlansSmall(t *testing.T) {
	cases := [][4]int{{5, 3, 2, 1}, {5, 3, 2, 2}, {6, 3, 3, 1}, {7, 4, 2, 1}}
	for _, c := range cases {
		k, tt, l, r := c[0], c[1], c[2], c[3]
		if testing.Short() && k == 7 {
			continue
		}
		o := &Options{Redundancy: r, Pairs: true, Seed: 3}
		p, st, err := Search(k, tt, l, o)
		require.NoError(t, err)
		checkPlan(t, p, r, true)
		trivial := r * binom(k, tt)
		assert.Less(t, len(p.Combiners), trivial, "%v r=%d: combiners, not below one per set", c[:3], r)
		assert.GreaterOrEqual(t, len(p.Combiners), st.LowerBound, "%v r=%d: combiners below the proven bound", c[:3], r)
		if k <= 6 {
			q, _, _ := Search(k, tt, l, o)
			assert.Empty(t, cmp.Diff(p, q, cmpopts.EquateEmpty()), "%v: same seed, different plan", c[:3])
		}
	}
}

func TestPairLowerBound(t *testing.T) {
	for _, c := range [][4]int{
		// total, bound, r, want
		{10, 8, 1, 3}, // (5,3,2): two combiners hold 10 > 8 sets
		{10, 8, 2, 5},
		{10, 10, 1, 1}, // (5,3,3): one combiner holds everything
		{10, 10, 2, 2},
		{35, 28, 1, 3},
	} {
		assert.Equal(t, c[3], pairLowerBound(c[0], c[1], c[2]), "pairLowerBound(%d,%d,%d)", c[0], c[1], c[2])
	}
	// Exhaustive cross-check of the (5,3,2) r=1 bound's premise: three
	// combiners are possible (the bound is tight there) for some seed.
	found := false
	for seed := uint64(1); seed <= 8 && !found; seed++ {
		p, _, err := Search(5, 3, 2, &Options{Pairs: true, Seed: seed})
		require.NoError(t, err)
		if len(p.Combiners) == 3 {
			checkPlan(t, p, 1, true)
			found = true
		}
	}
	if !found {
		t.Log("no 3-combiner pair plan for (5,3,2) in seeds 1..8")
	}
}

func BenchmarkSearchPairs_7_4_2(b *testing.B) {
	b.ReportAllocs()
	combiners := 0
	for b.Loop() {
		p, _, err := Search(7, 4, 2, &Options{Pairs: true})
		if err != nil {
			b.Fatal(err)
		}
		combiners = len(p.Combiners)
	}
	b.ReportMetric(float64(combiners), "combiners")
}

// TestPairTable prints the pair-mode table of the package documentation:
//
//	GROUPING_TABLE=1 go test -run TestPairTable -v ./grouping/
func TestPairTable(t *testing.T) {
	if os.Getenv("GROUPING_TABLE") == "" {
		t.Skip("set GROUPING_TABLE=1")
	}
	for _, c := range [][3]int{{5, 3, 2}, {6, 3, 2}, {7, 3, 2}, {7, 4, 2}, {5, 3, 3}, {6, 3, 3}} {
		for _, r := range []int{1, 2} {
			o := &Options{Redundancy: r, Pairs: true}
			p, st, err := Search(c[0], c[1], c[2], o)
			require.NoError(t, err)
			requireChecked(t, p, r, true)
			fmt.Printf("| (%d,%d,%d) | %d | %d | %d | %d | %v |\n", c[0], c[1], c[2], r, st.FirstFitCombiners, len(p.Combiners), st.LowerBound, st.Duration.Round(1e6))
		}
	}
}
