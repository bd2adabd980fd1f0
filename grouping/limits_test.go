package grouping

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// bounded runs f and fails unless it returns ErrLimits within a second,
// having allocated less than 1 MiB.
func bounded(t *testing.T, name string, f func() error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	err := f()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, ErrLimits, name)
	require.Less(t, elapsed, time.Second, name)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), name)
}

func searchErr(k, t, l int) func() error {
	return func() error { _, _, err := Search(k, t, l, nil); return err }
}

func firstFitErr(k, t, l int) func() error {
	return func() error { _, err := FirstFit(k, t, l, nil); return err }
}

// TestRegressionPlanLimitsMakeslice: plan -k 11 -t 10 -l 64 panicked in
// makeslice (64^10 equivalents); l^t is now checked first.
func TestRegressionPlanLimitsMakeslice(t *testing.T) {
	bounded(t, "Search(11,10,64)", searchErr(11, 10, 64))
	bounded(t, "FirstFit(11,10,64)", firstFitErr(11, 10, 64))
	bounded(t, "Search(11,10,3)", searchErr(11, 10, 3))
}

// TestRegressionPlanLimitsOOM: plan -k 6 -t 5 -l 64 ran out of memory
// (2^30 equivalents per set); it must fail at once, allocating little.
func TestRegressionPlanLimitsOOM(t *testing.T) {
	bounded(t, "Search(6,5,64)", searchErr(6, 5, 64))
	bounded(t, "Search(6,5,16)", searchErr(6, 5, 16))
	bounded(t, "FirstFit(6,5,16)", firstFitErr(6, 5, 16))
}

// TestRegressionAddCalculatorLimits: AddCalculator at k=64, t=6 took 11 s
// and 3.5 GB enumerating C(64,6) sets before refusing k=65.
func TestRegressionAddCalculatorLimits(t *testing.T) {
	for _, p := range []*Plan{{K: 64, T: 6, L: 2}, {K: 63, T: 6, L: 2}, {K: 64, T: 2, L: 2}} {
		bounded(t, "AddCalculator", func() error { _, _, err := p.AddCalculator(nil); return err })
		if p.K == 64 && p.T == 6 {
			bounded(t, "Check", func() error { _, err := Check(p); return err })
			bounded(t, "ValidateStructure", p.ValidateStructure)
		}
	}
}

// TestCheckParamsLimits shows each limit with a case that only it refuses.
func TestCheckParamsLimits(t *testing.T) {
	for _, c := range []struct {
		k, t, l int
		what    string
	}{
		{65, 2, 1, "MaxCalculators"},
		{5, 3, 17, "MaxShares"},
		{64, 3, 1, "MaxSets"},
		{17, 11, 1, "MaxCoalitions"},
		{11, 10, 3, "MaxEquivalents"},
		{16, 8, 2, "MaxRepresentations"},
		{64, 2, 8, "MaxBasisWords"},
	} {
		err := CheckParams(c.k, c.t, c.l)
		require.ErrorIs(t, err, ErrLimits, c.what)
	}
	for _, c := range [][3]int{{5, 3, 2}, {10, 5, 2}, {12, 6, 2}, {11, 10, 2}, {64, 2, 7}, {64, 63, 1}, {16, 8, 1}} {
		require.NoError(t, CheckParams(c[0], c[1], c[2]), "%v", c)
	}
	for _, c := range [][3]int{{1, 1, 1}, {5, 5, 2}, {5, 0, 2}, {5, 3, 0}, {-1 << 62, 3, 2}, {5, 3, -1 << 62}, {1 << 62, 1 << 61, 1 << 62}} {
		require.Error(t, CheckParams(c[0], c[1], c[2]), "%v", c)
	}
	// The check of a plan bounds its work: many combiners against many
	// coalitions.
	p := &Plan{K: 12, T: 6, L: 2}
	for range MaxCombiners {
		p.Combiners = append(p.Combiners, []Rep{rep(11, 21, 31, 41, 51, 61)})
	}
	bounded(t, "Check", func() error { _, err := Check(p); return err })
}

// TestPairRoom: pair mode opens no more combiners than MaxPairWords allows
// (the pair bases grow with the square of the combiner count).
func TestPairRoom(t *testing.T) {
	var st Stats
	s, err := newState(10, 5, 2, true, &st)
	require.NoError(t, err)
	require.True(t, s.pairRoom(50))
	require.False(t, s.pairRoom(60))
	s, err = newState(10, 5, 2, false, &st)
	require.NoError(t, err)
	require.True(t, s.pairRoom(MaxCombiners))
	_, ok := repairTry(10, 5, 2, 60, 1, true, nil, &st, 0)
	require.False(t, ok)
}
