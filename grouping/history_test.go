package grouping

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// historyLeaks returns the combiners (1-based) whose whole history, old
// representations and next's together, lets t-1 of next.K calculators
// recover d: every calculator counts, retired ones included.
func historyLeaks(t *testing.T, old, next *Plan) []int {
	t.Helper()
	h := &Plan{K: next.K, T: next.T, L: next.L}
	for a := range max(len(old.Combiners), len(next.Combiners)) {
		var reps []Rep
		seen := map[string]bool{}
		for _, part := range [][][]Rep{old.Combiners, next.Combiners} {
			if a >= len(part) {
				continue
			}
			for _, r := range part[a] {
				if !seen[r.String()] {
					seen[r.String()] = true
					reps = append(reps, r)
				}
			}
		}
		h.Combiners = append(h.Combiners, reps)
	}
	report, err := Check(h)
	require.NoError(t, err)
	var out []int
	for _, c := range report.Combiners {
		if len(c.Leaks) > 0 {
			out = append(out, c.Index)
		}
	}
	return out
}

// TestRegressionRetireThenAdd: a calculator retired and one added later,
// for (6,3,2) and seeds 1-6. The representations dropped at retirement are
// still known to the combiners that kept their old bundles; AddCalculator
// without the history gives 33 (seed, retired calculator, combiner) cases
// where such a combiner and two calculators recover d, with the history
// none.
func TestRegressionRetireThenAdd(t *testing.T) {
	withoutHistory := 0
	for seed := uint64(1); seed <= 6; seed++ {
		p, _, err := Search(6, 3, 2, &Options{Seed: seed})
		require.NoError(t, err)
		for j := 1; j <= 6; j++ {
			q, _, err := p.RemoveCalculator(j)
			require.NoError(t, err)
			blind, _, err := q.AddCalculator(nil)
			require.NoError(t, err)
			withoutHistory += len(historyLeaks(t, p, blind))

			next, added, err := q.AddCalculator(&Options{Seed: seed, History: p.Combiners})
			require.NoError(t, err, "seed %d, calculator %d retired", seed, j)
			require.Empty(t, historyLeaks(t, p, next), "seed %d, calculator %d retired: leaking combiners", seed, j)
			checkPlan(t, next, 1, false)
			for a, reps := range added {
				if a < len(q.Combiners) {
					require.Equal(t, q.Combiners[a], next.Combiners[a][:len(q.Combiners[a])], "combiner %d changed", a+1)
				}
				for _, r := range reps {
					require.NotContains(t, r.Calculators(), j, "added %v on retired calculator %d", r, j)
				}
			}
		}
	}
	require.Equal(t, 33, withoutHistory, "leaking cases without the history (the defect this test guards)")
}

// TestAddCalculatorHistoryPairs: with Pairs and the history, every pair of
// combiners stays safe with everything it was dealt.
func TestAddCalculatorHistoryPairs(t *testing.T) {
	// Search's pair plan for (5,3,2) has the fewest combiners possible (3)
	// and leaves no room: every equivalent of a new set leaks with some
	// combiner's history, so AddCalculator refuses rather than deal it.
	tight, _, err := Search(5, 3, 2, &Options{Pairs: true})
	require.NoError(t, err)
	tq, _, err := tight.RemoveCalculator(1)
	require.NoError(t, err)
	if _, _, err := tq.AddCalculator(&Options{Pairs: true, History: tight.Combiners}); err != nil {
		require.ErrorIs(t, err, ErrInsecure)
	}
	// The patent's greedy pair plan has room.
	p, err := FirstFit(5, 3, 2, &Options{Pairs: true})
	require.NoError(t, err)
	q, _, err := p.RemoveCalculator(1)
	require.NoError(t, err)
	next, _, err := q.AddCalculator(&Options{Pairs: true, History: p.Combiners})
	require.NoError(t, err)
	h := next.Clone()
	h.Retired = nil
	for a := range p.Combiners {
		for _, r := range p.Combiners[a] {
			if !slices.ContainsFunc(h.Combiners[a], r.Equal) {
				h.Combiners[a] = append(h.Combiners[a], r)
			}
		}
	}
	report, err := Check(h)
	require.NoError(t, err)
	require.True(t, report.Secure)
	require.True(t, report.PairsSecure, "pairs %v", report.Pairs)
}

// TestAddCalculatorHistoryRefused: a history that already leaks, or that
// does not fit the plan, is refused.
func TestAddCalculatorHistoryRefused(t *testing.T) {
	p := &Plan{K: 4, T: 3, L: 1, Combiners: [][]Rep{{rep(11, 21, 31)}}}
	_, _, err := p.AddCalculator(&Options{History: [][]Rep{{rep(11, 21, 31), rep(11, 21, 41), rep(11, 31, 41)}}})
	require.ErrorIs(t, err, ErrInsecure)
	_, _, err = p.AddCalculator(&Options{History: [][]Rep{{rep(11, 21, 51)}}})
	require.ErrorIs(t, err, ErrInvalidRep)
	// A combiner known only from the history keeps its number.
	next, _, err := p.AddCalculator(&Options{History: [][]Rep{{rep(11, 21, 31)}, {rep(21, 31, 41)}}})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(next.Combiners), 2, fmt.Sprint(next.Combiners))
}

func TestPlanEqual(t *testing.T) {
	p, _, err := Search(5, 3, 2, nil)
	require.NoError(t, err)
	q := p.Clone()
	require.True(t, p.Equal(q))
	q.Combiners[0], q.Combiners[1] = q.Combiners[1], q.Combiners[0]
	require.False(t, p.Equal(q))
	r, _, err := p.RemoveCalculator(3)
	require.NoError(t, err)
	require.False(t, p.Equal(r))
	require.False(t, p.Equal(nil))
	require.True(t, (*Plan)(nil).Equal(nil))
}

// TestFillEmpty: a combiner left empty by RemoveCalculator gets one
// representation that is secure with its history; the others are unchanged.
func TestFillEmpty(t *testing.T) {
	p := &Plan{K: 4, T: 2, L: 1, Combiners: [][]Rep{{rep(11, 21), rep(31, 41)}, {rep(11, 31), rep(21, 41), rep(11, 41), rep(21, 31)}}}
	q, _, err := p.RemoveCalculator(1)
	require.NoError(t, err)
	q.Combiners[0] = nil // as if combiner 1 had held only sets with calculator 1
	next, added, err := q.FillEmpty(&Options{History: p.Combiners})
	require.NoError(t, err)
	require.Len(t, added[0], 1)
	require.Empty(t, added[1])
	require.Equal(t, q.Combiners[1], next.Combiners[1])
	require.Empty(t, historyLeaks(t, p, next))
	require.NotContains(t, added[0][0].Calculators(), 1)
	// A history that leaks is refused.
	_, _, err = q.FillEmpty(&Options{History: [][]Rep{{rep(11, 21), rep(11, 31), rep(21, 31)}}})
	require.ErrorIs(t, err, ErrInsecure)
}
