package grouping

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func rep(ts ...int) Rep {
	out := make(Rep, len(ts))
	for n, v := range ts {
		out[n] = Term{J: v / 10, I: v % 10}
	}
	return out
}

func TestPatentSubgroupsPass(t *testing.T) {
	for n, g := range PatentSubgroups() {
		assert.True(t, Secure(3, g), "subgroup %d: Secure = false, leaks %v", n+1, Leaks(5, 3, g))
		assert.True(t, refSecure(5, 3, 2, g), "subgroup %d: reference check refuses it", n+1)
	}
}

func TestL1CounterexampleRefused(t *testing.T) {
	g := []Rep{rep(11, 21, 31), rep(11, 21, 41), rep(11, 31, 41)}
	require.False(t, Secure(3, g), "l=1 counterexample accepted")
	require.Contains(t, Leaks(4, 3, g), []int{1, 2}, "coalition {1,2} not reported")
	require.True(t, refLeaks(4, 1, g, map[int]bool{1: true, 2: true}), "reference says {1,2} does not leak")
}

func TestSingleEquationNeverLeaks(t *testing.T) {
	for _, r := range []Rep{rep(11, 21, 31), rep(12, 32, 52)} {
		assert.True(t, Secure(3, []Rep{r}), "%v leaks alone", r)
	}
}

func TestPatentPlanCheck(t *testing.T) {
	p := &Plan{K: 5, T: 3, L: 2, Combiners: PatentSubgroups()[:2]}
	r, err := Check(p)
	require.NoError(t, err)
	require.True(t, r.Secure, "patent's first two subgroups")
	require.Equal(t, 10, r.Covered, "sets covered by the patent's first two subgroups")
	require.NoError(t, r.Verdict())
	require.False(t, r.PairsSecure, "union of the first two subgroups reported pair-safe: %+v", r.Pairs)
	require.Len(t, r.Pairs, 1)
	// Two combiners and one calculator recover d, the two alone do not.
	require.Equal(t, 0, r.Pairs[0].LargestSafeCoalition, "largest safe coalition for the pair")
	require.Equal(t, 0, r.PairLargestSafeCoalition, "largest safe coalition over all pairs")
	union := append(slices.Clone(p.Combiners[0]), p.Combiners[1]...)
	require.False(t, refSecure(5, 3, 2, union), "reference says the union is safe")
	var b strings.Builder
	require.NoError(t, r.WriteText(&b))
	require.Contains(t, b.String(), "SECURE", "text report")
}

func TestPatentParamsTwoCombiners(t *testing.T) {
	p, st, err := Search(5, 3, 2, nil)
	require.NoError(t, err)
	require.LessOrEqual(t, len(p.Combiners), 2, "(5,3,2) combiners")
	assert.Equal(t, 2, st.LowerBound, "lower bound (one combiner holds at most 8 of 10 sets)")
	checkPlan(t, p, 1, false)
}

// checkPlan verifies p with the independent reference.
func checkPlan(t *testing.T, p *Plan, r int, pairs bool) {
	t.Helper()
	require.NoError(t, p.Validate())
	for a, reps := range p.Combiners {
		require.True(t, refSecure(p.K, p.T, p.L, reps), "combiner %d insecure (reference): %v", a+1, reps)
	}
	if pairs {
		for a := range p.Combiners {
			for b := a + 1; b < len(p.Combiners); b++ {
				u := append(slices.Clone(p.Combiners[a]), p.Combiners[b]...)
				require.True(t, refSecure(p.K, p.T, p.L, u), "combiners %d+%d insecure together (reference)", a+1, b+1)
			}
		}
	}
	// Coverage with redundancy r, computed from scratch.
	count := map[string]map[int]bool{}
	for a, reps := range p.Combiners {
		for _, rp := range reps {
			key := ""
			for _, j := range rp.Calculators() {
				key += string(rune('A' + j))
			}
			if count[key] == nil {
				count[key] = map[int]bool{}
			}
			count[key][a] = true
		}
	}
	want := binom(p.K-len(p.Retired), p.T) // sets without a retired calculator
	require.Len(t, count, want, "sets covered")
	for key, cs := range count {
		require.GreaterOrEqual(t, len(cs), r, "combiners serving set %q", key)
	}
}

func TestSearchProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		k, tt, l := drawParams(rt, 6, 2)
		r := rapid.IntRange(1, 2).Draw(rt, "r")
		pairs := rapid.Bool().Draw(rt, "pairs") && k <= 5
		method := FirstFitMethod
		if rapid.Bool().Draw(rt, "best") {
			method = Best
		}
		seed := rapid.Uint64Range(1, 1000).Draw(rt, "seed")
		o := &Options{Redundancy: r, Seed: seed, Pairs: pairs, Method: method, Restarts: 2}
		p, _, err := Search(k, tt, l, o)
		require.NoError(rt, err)
		checkPlan(t, p, r, pairs)
		q, _, _ := Search(k, tt, l, o)
		require.Empty(rt, cmp.Diff(p, q, cmpopts.EquateEmpty()), "same seed, different plan")
		requireChecked(rt, p, r, pairs)
	})
}

// TestCheckMatchesReference compares the package's check with the integer
// reference (refG) on random combiner contents, secure or not.
func TestCheckMatchesReference(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		k, tt, l := drawParams(rt, 6, 3)
		reps := drawReps(rt, k, tt, l, rapid.IntRange(1, 8).Draw(rt, "n"))
		for size := 0; size < tt; size++ {
			got, _, err := CoalitionLeaks(k, tt, l, reps, size)
			require.NoError(rt, err)
			var want [][]int
			for _, c := range refCoalitions(k, size) {
				if gLeaks(refG(k, l, reps, c)) {
					var cs []int
					for j := 1; j <= k; j++ {
						if c[j] {
							cs = append(cs, j)
						}
					}
					want = append(want, cs)
				}
			}
			slices.SortFunc(want, slices.Compare)
			require.Empty(rt, cmp.Diff(want, got, cmpopts.EquateEmpty()), "size %d coalitions (-want +got) for %v", size, reps)
		}
	})
}

func seq(a, b int) []int {
	var out []int
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

// requireChecked fails unless Check finds p secure, pair-secure if pairs
// is set, with every set served by at least r combiners.
func requireChecked(t require.TestingT, p *Plan, r int, pairs bool) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	rep, err := Check(p)
	require.NoError(t, err)
	require.NoError(t, rep.Verdict())
	if pairs {
		require.True(t, rep.PairsSecure, "pair mode plan not pair-secure per Check")
	}
	require.GreaterOrEqual(t, rep.MinRedundancy, r, "redundancy")
}

// drawParams draws 3 <= k <= maxK, 2 <= t < k and 1 <= l <= maxL.
func drawParams(rt *rapid.T, maxK, maxL int) (k, t, l int) {
	k = rapid.IntRange(3, maxK).Draw(rt, "k")
	t = rapid.IntRange(2, k-1).Draw(rt, "t")
	l = rapid.IntRange(1, maxL).Draw(rt, "l")
	return k, t, l
}

func TestSmallParamsUsedElsewhere(t *testing.T) {
	for _, c := range [][3]int{{3, 2, 1}, {4, 2, 2}, {5, 3, 2}, {6, 4, 2}} {
		p, _, err := Search(c[0], c[1], c[2], nil)
		require.NoError(t, err)
		checkPlan(t, p, 1, false)
		f, err := FirstFit(c[0], c[1], c[2], nil)
		require.NoError(t, err)
		checkPlan(t, f, 1, false)
		assert.LessOrEqual(t, len(p.Combiners), len(f.Combiners), "%v: best needs more combiners than first-fit", c)
	}
}

func TestIncremental(t *testing.T) {
	for _, c := range [][4]int{{4, 2, 2, 1}, {4, 3, 2, 1}, {5, 3, 2, 2}, {5, 4, 2, 1}} {
		p, _, err := Search(c[0], c[1], c[2], &Options{Redundancy: c[3]})
		require.NoError(t, err)
		next, added, err := p.AddCalculator(nil)
		require.NoError(t, err)
		require.Equal(t, c[0]+1, next.K)
		for a, reps := range p.Combiners {
			require.Empty(t, cmp.Diff(reps, next.Combiners[a][:len(reps)]), "combiner %d changed (-before +after)", a+1)
			require.Len(t, next.Combiners[a], len(reps)+len(added[a]), "combiner %d: kept plus added", a+1)
		}
		for a, reps := range added {
			for _, r := range reps {
				require.Contains(t, r.Calculators(), next.K, "combiner %d: added %v without the new calculator", a+1, r)
			}
		}
		checkPlan(t, next, c[3], false)

		for j := 1; j <= next.K; j++ {
			if next.K-1 <= next.T {
				break
			}
			back, removed, err := next.RemoveCalculator(j)
			require.NoError(t, err)
			kept := 0
			for a := range next.Combiners {
				kept += len(back.Combiners[a])
				require.Len(t, next.Combiners[a], len(back.Combiners[a])+len(removed[a]), "remove %d: combiner %d kept plus removed", j, a+1)
				for _, r := range removed[a] {
					require.Contains(t, r.Calculators(), j, "removed %v without %d", r, j)
				}
				// Nothing is renamed: what is kept is exactly what was there.
				for _, r := range back.Combiners[a] {
					require.True(t, slices.ContainsFunc(next.Combiners[a], r.Equal), "remove %d: combiner %d has %v, which it did not have", j, a+1, r)
				}
			}
			require.Equal(t, next.K, back.K, "remove %d: k", j)
			require.Equal(t, []int{j}, back.Retired, "remove %d: retired", j)
			checkPlan(t, back, c[3], false)
		}
	}
	p := PatentPlan()
	_, _, err := p.RemoveCalculator(9)
	require.ErrorIs(t, err, ErrNoCalculator)
	small := &Plan{K: 3, T: 2, L: 1, Combiners: [][]Rep{{rep(11, 21)}}}
	_, _, err = small.RemoveCalculator(1)
	require.ErrorIs(t, err, ErrParams, "k-1 = t accepted")
}

func TestJSONRoundTrip(t *testing.T) {
	p, _, err := Search(5, 3, 2, nil)
	require.NoError(t, err)
	b, err := json.Marshal(p)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(b), `{"k":5,"t":3,"l":2,"combiners":[[[[`), "format: %s", b)
	q, err := ParsePlan(b)
	require.NoError(t, err)
	require.Empty(t, cmp.Diff(p, q, cmpopts.EquateEmpty()), "round trip changed the plan (-before +after)")
	patent := `{"k":5,"t":3,"l":2,"combiners":[[[[1,1],[2,2],[3,1]],[[2,1],[3,2],[4,1]]]]}`
	_, err = ParsePlan([]byte(patent))
	require.ErrorIs(t, err, ErrIncomplete)
}

func TestValidateRefuses(t *testing.T) {
	for _, s := range []string{
		`{"k":-1,"t":3,"l":2,"combiners":[]}`,
		`{"k":1000000,"t":3,"l":2,"combiners":[]}`,
		`{"k":5,"t":5,"l":2,"combiners":[]}`,
		`{"k":5,"t":3,"l":0,"combiners":[]}`,
		`{"k":5,"t":3,"l":2,"combiners":[[[[1,1],[1,2],[3,1]]]]}`,
		`{"k":5,"t":3,"l":2,"combiners":[[[[1,1],[2,3],[3,1]]]]}`,
		`{"k":5,"t":3,"l":2,"combiners":[[[[1,1],[2,1]]]]}`,
		`{"k":64,"t":32,"l":2,"combiners":[]}`,
		`{"k":5,"t":3,"l":2,"combiners":[[[[1]]]]}`,
		`nonsense`,
	} {
		_, err := ParsePlan([]byte(s))
		assert.Error(t, err, "accepted %s", s)
	}
	var nilPlan *Plan
	assert.Error(t, nilPlan.Validate(), "nil plan validated")
}

func TestOptionsRefused(t *testing.T) {
	for _, o := range []*Options{{Redundancy: -1}, {Redundancy: 100}, {Method: 7}} {
		_, _, err := Search(5, 3, 2, o)
		assert.ErrorIs(t, err, ErrParams, "%+v", o)
	}
	for _, c := range [][3]int{{0, 0, 0}, {3, 3, 1}, {65, 2, 1}, {5, 3, 0}, {40, 20, 2}} {
		_, _, err := Search(c[0], c[1], c[2], nil)
		assert.Error(t, err, "%v accepted", c)
	}
}

func TestArithmeticChoice(t *testing.T) {
	assert.Equal(t, ArithPrime, chooseArithmetic(6, 100, 15), "(12,6,2)")
	assert.Equal(t, ArithRational, chooseArithmetic(30, 1000, 200), "large case")
	// The rational fallback gives the same verdicts.
	g := []Rep{rep(11, 21, 31), rep(11, 21, 41), rep(11, 31, 41)}
	for _, a := range []Arithmetic{ArithPrime, ArithRational} {
		got := leakingCoalitions(a, 4, 1, g, subsets(4, 2), false, nil)
		if assert.NotEmpty(t, got, "%s: no leaking coalition", a) {
			assert.Equal(t, uint64(0b11), got[0], "%s: first leaking coalition", a)
		}
		for n, sub := range PatentSubgroups() {
			assert.Empty(t, leakingCoalitions(a, 5, 2, sub, subsets(5, 2), false, nil), "%s: patent subgroup %d leaks", a, n+1)
		}
	}
}

func TestProvenMaxPerCombiner(t *testing.T) {
	for _, c := range [][3]int{{3, 2, 1}, {3, 2, 2}, {4, 2, 1}, {4, 2, 2}, {5, 2, 1}, {4, 3, 1}, {5, 3, 1}, {4, 3, 2}, {5, 3, 2}, {5, 4, 1}, {5, 4, 2}, {6, 4, 1}} {
		want, ok := provenMaxPerCombiner(c[0], c[1], c[2])
		require.True(t, ok, "%v missing", c)
		got, exact := maxPerCombiner(c[0], c[1], c[2], 1<<30)
		assert.True(t, exact, "%v: computed bound not exact", c)
		assert.Equal(t, want, got, "%v: computed bound against the table", c)
	}
}

func FuzzParsePlan(f *testing.F) {
	f.Add([]byte(`{"k":5,"t":3,"l":2,"combiners":[[[[1,1],[2,2],[3,1]]]]}`))
	f.Add([]byte(`{"k":-3,"t":3,"l":2,"combiners":null}`))
	f.Add([]byte(`{"k":64,"t":63,"l":64,"combiners":[[[[64,64]]]]}`))
	f.Add([]byte(`{"k":4,"t":2,"l":1,"combiners":[[[[1,1],[2,1]],[[3,1],[4,1]]],[[[1,1],[3,1]]]]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePlan(b)
		if err != nil {
			var q Plan
			if json.Unmarshal(b, &q) == nil {
				_, _ = Check(&q)
				_, _, _ = q.AddCalculator(nil)
				_, _, _ = q.RemoveCalculator(1)
			}
			return
		}
		if binom(p.K, p.T-1) <= 64 && len(p.Combiners) <= 8 {
			_, err := Check(p)
			require.NoError(t, err)
		}
	})
}

// TestRetireThenAdd: a retired calculator keeps its number, stays out of
// every representation, also after a calculator is added, and survives JSON.
func TestRetireThenAdd(t *testing.T) {
	p, _, err := Search(5, 3, 2, nil)
	require.NoError(t, err)
	q, _, err := p.RemoveCalculator(2)
	require.NoError(t, err)
	_, _, err = q.RemoveCalculator(2)
	assert.ErrorIs(t, err, ErrNoCalculator, "retiring calculator 2 twice")
	r, added, err := q.AddCalculator(nil)
	require.NoError(t, err)
	require.Equal(t, 6, r.K)
	require.Equal(t, []int{2}, r.Retired)
	for _, reps := range added {
		for _, x := range reps {
			require.NotContains(t, x.Calculators(), 2, "added %v on a retired calculator", x)
		}
	}
	checkPlan(t, r, 1, false)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	back, err := ParsePlan(b)
	require.NoError(t, err)
	require.Equal(t, []int{2}, back.Retired, "retired after the JSON round trip")
	// A representation on a retired calculator is refused.
	bad := r.Clone()
	bad.Combiners[0] = append(bad.Combiners[0], rep(11, 21, 31))
	assert.ErrorIs(t, bad.Validate(), ErrInvalidRep, "representation on a retired calculator")
	for _, retired := range [][]int{{0}, {7}, {3, 3}, {4, 3}, {1, 2, 3}} {
		bad := r.Clone()
		bad.Retired = retired
		bad.Combiners = nil
		assert.Error(t, bad.ValidateStructure(), "retired %v accepted", retired)
	}
}

// leakingCoalitions returns the coalitions among cs whose rank test (over
// the rationals only) says that reps recover d.
func leakingCoalitions(arith Arithmetic, k, l int, reps []Rep, cs []uint64, first bool, checks *int64) []uint64 {
	var out []uint64
	for _, c := range cs {
		b := newBasis(arith, k*l+1)
		for _, r := range reps {
			if b.add(restrict(r, c, l, nil), true) >= resLeak {
				out = append(out, c)
				break
			}
		}
		if first && len(out) > 0 {
			return out
		}
	}
	return out
}
