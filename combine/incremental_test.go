package combine

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
)

// TestAddRemoveCalculatorKeepsOldCombiners: adding calculator k+1 ([0054]
// point 2) only adds representations, and removing one (point 3) only removes
// them; a combiner dealt before the change still signs afterwards.
func TestAddRemoveCalculatorKeepsOldCombiners(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	plan, _, err := grouping.Search(4, 3, 2, nil)
	require.NoError(t, err)
	dl, err := share.NewDealer(rand.NewChaCha8([32]byte{4}), key, 4, 3, 2, nil)
	require.NoError(t, err)
	old, err := dl.Deal(plan)
	require.NoError(t, err)
	// Add calculator 5.
	next, added, err := plan.AddCalculator(nil)
	require.NoError(t, err)
	ck5, err := dl.AddCalculator(rand.NewChaCha8([32]byte{5}))
	require.NoError(t, err)
	for a, reps := range plan.Combiners {
		require.Empty(t, cmp.Diff(reps, next.Combiners[a][:len(reps)], cmpopts.EquateEmpty()), "combiner %d: existing representations changed (-before +after)", a+1)
	}
	calcs := map[int]*share.Calculator{}
	for _, ck := range append(slices.Clone(old.Calculators), ck5) {
		c, err := share.NewCalculator(ck, nil)
		require.NoError(t, err)
		calcs[ck.Number] = c
	}
	f := &fixture{key: key}
	req := (&fixture{deal: old}).request("after a change")
	want := f.want(t, req)
	partials := func(js ...int) []share.Partial {
		var out []share.Partial
		for _, j := range js {
			p, err := calcs[j].Compute(context.Background(), req)
			require.NoError(t, err)
			out = append(out, p...)
		}
		return out
	}
	signs := func(ck *share.CombinerKey, js ...int) bool {
		c, err := New(ck, nil)
		require.NoError(t, err)
		res, err := c.Combine(context.Background(), req, partials(js...))
		if errors.Is(err, ErrNoMatch) {
			return false
		}
		require.NoError(t, err)
		return slices.Equal(res.Signature, want)
	}
	// Old combiners, with their old key material, still sign every old set.
	for _, set := range [][]int{{1, 2, 3}, {1, 2, 4}, {1, 3, 4}, {2, 3, 4}} {
		ok := false
		for _, ck := range old.Combiners {
			ok = ok || signs(ck, set...)
		}
		assert.True(t, ok, "after adding calculator 5, no old combiner signs %v", set)
	}
	// The added representations, dealt with the same dealer, sign sets with 5.
	var fresh []*share.CombinerKey
	for a, reps := range added {
		if len(reps) == 0 {
			continue
		}
		ck, err := dl.Combiner(a+1, reps)
		require.NoError(t, err)
		fresh = append(fresh, ck)
	}
	for _, set := range [][]int{{1, 2, 5}, {3, 4, 5}, {2, 4, 5}} {
		ok := false
		for _, ck := range fresh {
			ok = ok || signs(ck, set...)
		}
		assert.True(t, ok, "no new representation signs %v", set)
	}
	// Remove calculator 2: what is left of the plan only lost representations,
	// and the old combiners still sign the sets without calculator 2.
	_, removed, err := next.RemoveCalculator(2)
	require.NoError(t, err)
	for _, reps := range removed {
		for _, r := range reps {
			assert.Contains(t, r.Calculators(), 2, "removing calculator 2 removed %v", r)
		}
	}
	ok := false
	for _, ck := range old.Combiners {
		ok = ok || signs(ck, 1, 3, 4)
	}
	assert.True(t, ok, "after removing calculator 2, no old combiner signs {1,3,4}")
}
