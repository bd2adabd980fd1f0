package grouping

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAnnealTargets runs the annealing search on the rows where it beats
// the constructive searches and checks the plans exactly.
func TestAnnealTargets(t *testing.T) {
	for _, c := range []struct {
		k, t, l, r, m int
		pairs         bool
	}{
		{6, 4, 2, 2, 3, false},
		{6, 3, 2, 1, 4, true},
		{6, 4, 2, 1, 5, true},
	} {
		t.Run(fmt.Sprintf("%v", c), func(t *testing.T) {
			start := time.Now()
			p := annealSearch(c.k, c.t, c.l, c.r, c.m, c.pairs, 1, 2000000, time.Now().Add(60*time.Second))
			t.Logf("%v", time.Since(start))
			require.NotNil(t, p)
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

func TestAnnealTune(t *testing.T) {
	if os.Getenv("ANNEAL_TUNE") == "" {
		t.Skip()
	}
	fmt.Sscan(os.Getenv("ANNEAL_T0"), &annealT0)
	fmt.Sscan(os.Getenv("ANNEAL_T1"), &annealT1)
	fmt.Sscan(os.Getenv("ANNEAL_CYCLE"), &annealCycle)
	var k, tt, r, m int
	fmt.Sscan(os.Getenv("ANNEAL_TUNE"), &k, &tt, &r, &m)
	for seed := uint64(1); seed <= 3; seed++ {
		start := time.Now()
		p := annealSearch(k, tt, 2, r, m, true, seed, 1<<30, time.Now().Add(40*time.Second))
		t.Logf("seed %d: %v %v %d", seed, p != nil, time.Since(start), 0)
	}
}

func TestAnnealRows(t *testing.T) {
	if os.Getenv("ANNEAL_ROW") == "" {
		t.Skip()
	}
	var k, tt, r, pairs int
	fmt.Sscan(os.Getenv("ANNEAL_ROW"), &k, &tt, &r, &pairs)
	start := time.Now()
	p, st, err := Search(k, tt, 2, &Options{Redundancy: r, Pairs: pairs == 1, Optimal: true, TimeLimit: 60 * time.Second})
	require.NoError(t, err)
	t.Logf("%d combiners %v proven %v %v", len(p.Combiners), p.Load().Sets, st.Proven, time.Since(start))
}
