package share

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
)

// inServiceNumbers returns the numbers of the dealing's combiners.
func inServiceNumbers(d *Dealing) []int {
	var out []int
	for _, ck := range d.Combiners {
		out = append(out, ck.Number)
	}
	return out
}

// TestRemoveCombiner: a removed combiner keeps its number and history,
// gets no key material, leaves the roster, and is never dealt again; a
// removal below the dealer's redundancy is refused unless asked for, and
// one that leaves a calculator set without a combiner always.
func TestRemoveCombiner(t *testing.T) {
	p, _, err := grouping.Search(5, 3, 2, &grouping.Options{Redundancy: 2})
	require.NoError(t, err)
	m := len(p.Combiners)
	dl := smallDealer(t, 1, 5, 3, 2, Options{Redundancy: 2})
	_, err = dl.Deal(p)
	require.NoError(t, err)
	hist := dl.History()

	// Combiner 1 serves a set that only one other combiner serves.
	_, err = dl.RemoveCombiner(1, nil)
	require.ErrorIs(t, err, ErrBelowRedundancy)
	require.Empty(t, dl.RemovedCombiners(), "a refused removal was recorded")
	require.Equal(t, 2, must(dl.Guarantees()))

	d, err := dl.RemoveCombiner(1, &ChangeOptions{InsecureBelowRedundancy: true})
	require.NoError(t, err)
	require.Equal(t, []int{1}, dl.RemovedCombiners())
	require.Equal(t, 1, must(dl.Guarantees()), "the forced removal lowers the redundancy")
	require.Empty(t, d.Plan.Combiners[0])
	require.NotContains(t, inServiceNumbers(d), 1)
	require.Len(t, d.Combiners, m-1)
	require.Equal(t, hist, dl.History(), "the removed combiner's history stays")
	_, err = d.Calculators[0].Roster.Lookup(Node{Role: RoleCombiner, Number: 1})
	require.ErrorIs(t, err, ErrNotInRoster)
	_, err = d.Calculators[0].Roster.Lookup(Node{Role: RoleCombiner, Number: 2})
	require.NoError(t, err)

	// Never dealt again, through any path.
	_, err = dl.Combiner(1, p.Combiners[0])
	require.ErrorIs(t, err, ErrCombinerRemoved)
	_, err = dl.Deal(p)
	require.ErrorIs(t, err, ErrCombinerRemoved)
	_, err = dl.RemoveCombiner(1, nil)
	require.ErrorIs(t, err, ErrParameters)
	require.Equal(t, m+1, dl.NextCombiner())

	// Removing until a set has no combiner is refused, even when forced.
	gone := 1
	for a := 2; a <= m; a++ {
		if _, err := dl.RemoveCombiner(a, &ChangeOptions{InsecureBelowRedundancy: true}); err != nil {
			require.ErrorIs(t, err, grouping.ErrIncomplete)
			continue
		}
		gone++
	}
	require.Less(t, gone, m)
	report, err := grouping.Check(dl.Plan())
	require.NoError(t, err)
	require.NoError(t, report.Verdict())

	// The state keeps the removed combiners.
	b, err := dl.MarshalState()
	require.NoError(t, err)
	back, err := ParseDealerState(b)
	require.NoError(t, err)
	require.Equal(t, dl.RemovedCombiners(), back.RemovedCombiners())
	require.Equal(t, dl.Roster(), back.Roster())
}

func must(r int, _ bool) int { return r }

// TestAddCombiner: a new combiner gets the next number, never a removed
// one; copying a combiner's representations is accepted (pairs kept),
// representations that leak with t-1 calculators are refused.
func TestAddCombiner(t *testing.T) {
	p, _, err := grouping.Search(5, 3, 2, &grouping.Options{Pairs: true})
	require.NoError(t, err)
	m := len(p.Combiners)
	dl := smallDealer(t, 2, 5, 3, 2, Options{Pairs: true})
	_, err = dl.Deal(p)
	require.NoError(t, err)
	_, err = dl.RemoveCombiner(2, &ChangeOptions{InsecureBelowRedundancy: true})
	if err != nil {
		require.ErrorIs(t, err, grouping.ErrIncomplete)
		// Only one combiner per set: add a copy first.
		_, err = dl.AddCombiner(p.Combiners[1])
		require.NoError(t, err)
		_, err = dl.RemoveCombiner(2, nil)
	}
	require.NoError(t, err)
	n := dl.NextCombiner()
	require.Greater(t, n, m)
	d, err := dl.AddCombiner(p.Combiners[0])
	require.NoError(t, err)
	require.Equal(t, n, inServiceNumbers(d)[len(d.Combiners)-1])
	require.Equal(t, p.Combiners[0], d.Combiners[len(d.Combiners)-1].Reps())
	require.Equal(t, n+1, dl.NextCombiner())
	var h held
	for a, reps := range dl.History() {
		for len(h) <= a {
			h = append(h, nil)
		}
		h[a] = reps
	}
	h.check(t, 5, 3, 2, true)

	// Every calculator set at once leaks with t-1 calculators.
	var all []grouping.Rep
	for _, reps := range p.Combiners {
		all = append(all, reps...)
	}
	_, err = dl.AddCombiner(all)
	require.ErrorIs(t, err, grouping.ErrInsecure)
	require.Equal(t, n+1, dl.NextCombiner(), "a refused combiner took a number")
}

// TestDealerStateV2: a version 2 state (before removed combiners and past
// epochs) is read and written again as version 3; a version 2 state that
// names removed combiners is refused.
func TestDealerStateV2(t *testing.T) {
	p, _, err := grouping.Search(5, 3, 2, &grouping.Options{Redundancy: 2})
	require.NoError(t, err)
	dl := smallDealer(t, 4, 5, 3, 2, Options{})
	_, err = dl.Deal(p)
	require.NoError(t, err)
	b, err := dl.MarshalState()
	require.NoError(t, err)
	require.Contains(t, string(b), dealerFormat)
	v2 := []byte(strings.Replace(string(b), dealerFormat, dealerFormatV2, 1))
	back, err := ParseDealerState(v2)
	require.NoError(t, err)
	again, err := back.MarshalState()
	require.NoError(t, err)
	require.Equal(t, string(b), string(again))

	_, err = dl.RemoveCombiner(1, nil)
	require.NoError(t, err)
	b, err = dl.MarshalState()
	require.NoError(t, err)
	_, err = ParseDealerState([]byte(strings.Replace(string(b), dealerFormat, dealerFormatV2, 1)))
	require.ErrorIs(t, err, ErrMalformed)
	// A removed combiner that the plan still serves is refused.
	bad := strings.Replace(string(b), `"removed_combiners": [
    1
  ]`, `"removed_combiners": [
    2
  ]`, 1)
	require.NotEqual(t, string(b), bad)
	_, err = ParseDealerState([]byte(bad))
	require.ErrorIs(t, err, ErrMalformed)
}
