package grouping

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAnnealTargets runs the annealing search from random starts, seeds
// 1..annealRuns, on (6,4,2) r=2 with 3 combiners (the constructive
// searches find 4) and on pair-safe (5,3,2) with 3, and checks the plans
// exactly.
func TestAnnealTargets(t *testing.T) {
	for _, c := range []struct {
		k, t, l, r, m int
		pairs         bool
	}{
		{6, 4, 2, 2, 3, false},
		{5, 3, 2, 1, 3, true},
	} {
		t.Run(fmt.Sprintf("%v", c), func(t *testing.T) {
			if !c.pairs && (testing.Short() || raceEnabled) {
				t.Skip("long: run without -short and -race (TestTableRows runs it through Search)")
			}
			start := time.Now()
			var p *Plan
			for seed := uint64(1); p == nil && seed <= annealRuns; seed++ {
				p = annealSearch(c.k, c.t, c.l, c.r, c.m, c.pairs, nil, seed, annealIters, time.Now().Add(60*time.Second))
			}
			t.Logf("%v", time.Since(start))
			require.NotNil(t, p)
			if c.pairs {
				refCheckPlan(t, p, c.r, c.pairs)
			}
			rep, err := Check(p)
			require.NoError(t, err)
			require.True(t, rep.Secure)
			require.GreaterOrEqual(t, rep.MinRedundancy, c.r)
			if c.pairs {
				require.True(t, rep.PairsSecure)
			}
		})
	}
}

// TestAnnealDeterministic: the same seed gives the same plan, the clock
// only cutting a run short.
func TestAnnealDeterministic(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	p := annealSearch(5, 3, 2, 1, 3, true, nil, 1, annealIters, deadline)
	q := annealSearch(5, 3, 2, 1, 3, true, nil, 1, annealIters, deadline)
	require.NotNil(t, p)
	require.True(t, p.Equal(q))
	p = annealSearch(6, 3, 2, 2, 3, false, nil, 2, 2000, deadline)
	q = annealSearch(6, 3, 2, 2, 3, false, nil, 2, 2000, deadline)
	require.Equal(t, p == nil, q == nil)
	if p != nil {
		require.True(t, p.Equal(q))
	}
}
