package grouping

import (
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"

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
		if !Secure(3, g) {
			t.Errorf("subgroup %d: Secure = false, leaks %v", n+1, Leaks(5, 3, g))
		}
		if !refSecure(5, 3, 2, g) {
			t.Errorf("subgroup %d: reference check refuses it", n+1)
		}
	}
}

func TestL1CounterexampleRefused(t *testing.T) {
	g := []Rep{rep(11, 21, 31), rep(11, 21, 41), rep(11, 31, 41)}
	if Secure(3, g) {
		t.Fatal("l=1 counterexample accepted")
	}
	leaks := Leaks(4, 3, g)
	if !slices.ContainsFunc(leaks, func(c []int) bool { return slices.Equal(c, []int{1, 2}) }) {
		t.Fatalf("coalition {1,2} not reported: %v", leaks)
	}
	if !refLeaks(4, 1, g, map[int]bool{1: true, 2: true}) {
		t.Fatal("reference disagrees")
	}
}

func TestSingleEquationNeverLeaks(t *testing.T) {
	for _, r := range []Rep{rep(11, 21, 31), rep(12, 32, 52)} {
		if !Secure(3, []Rep{r}) {
			t.Errorf("%v leaks alone", r)
		}
	}
}

func TestPatentPlanCheck(t *testing.T) {
	p := &Plan{K: 5, T: 3, L: 2, Combiners: PatentSubgroups()[:2]}
	r, err := Check(p)
	require.NoError(t, err)
	if !r.Secure || r.Covered != 10 || r.Verdict() != nil {
		t.Fatalf("patent's first two subgroups: secure=%v covered=%d verdict=%v", r.Secure, r.Covered, r.Verdict())
	}
	if r.PairsSecure || len(r.Pairs) != 1 {
		t.Fatalf("union of the first two subgroups reported pair-safe: %+v", r.Pairs)
	}
	// Two combiners and one calculator recover d, the two alone do not.
	if r.Pairs[0].LargestSafeCoalition != 0 || r.PairLargestSafeCoalition != 0 {
		t.Fatalf("largest safe coalition for the pair = %d, want 0", r.Pairs[0].LargestSafeCoalition)
	}
	union := append(slices.Clone(p.Combiners[0]), p.Combiners[1]...)
	if refSecure(5, 3, 2, union) {
		t.Fatal("reference says the union is safe")
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil || !strings.Contains(b.String(), "SECURE") {
		t.Fatalf("text report: %v\n%s", err, b.String())
	}
}

func TestPatentParamsTwoCombiners(t *testing.T) {
	p, st, err := Search(5, 3, 2, nil)
	require.NoError(t, err)
	if len(p.Combiners) > 2 {
		t.Fatalf("(5,3,2) needs %d combiners, want <= 2", len(p.Combiners))
	}
	if st.LowerBound != 2 {
		t.Errorf("lower bound %d, want 2 (one combiner holds at most 8 of 10 sets)", st.LowerBound)
	}
	checkPlan(t, p, 1, false)
}

// checkPlan verifies p with the independent reference.
func checkPlan(t *testing.T, p *Plan, r int, pairs bool) {
	t.Helper()
	require.NoError(t, p.Validate())
	for a, reps := range p.Combiners {
		if !refSecure(p.K, p.T, p.L, reps) {
			t.Fatalf("combiner %d insecure (reference): %v", a+1, reps)
		}
	}
	if pairs {
		for a := range p.Combiners {
			for b := a + 1; b < len(p.Combiners); b++ {
				u := append(slices.Clone(p.Combiners[a]), p.Combiners[b]...)
				if !refSecure(p.K, p.T, p.L, u) {
					t.Fatalf("combiners %d+%d insecure together (reference)", a+1, b+1)
				}
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
	if len(count) != want {
		t.Fatalf("%d of %d sets covered", len(count), want)
	}
	for key, cs := range count {
		if len(cs) < r {
			t.Fatalf("set %q served by %d combiners, want %d", key, len(cs), r)
		}
	}
}

func TestSearchProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		k := rapid.IntRange(3, 6).Draw(rt, "k")
		tt := rapid.IntRange(2, k-1).Draw(rt, "t")
		l := rapid.IntRange(1, 2).Draw(rt, "l")
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
		if !plansEqual(p, q) {
			rt.Fatal("same seed, different plan")
		}
		rep, err := Check(p)
		if err != nil || rep.Verdict() != nil {
			rt.Fatalf("Check: %v %v", err, rep.Verdict())
		}
		if pairs && !rep.PairsSecure {
			rt.Fatal("pair mode plan not pair-secure per Check")
		}
		if rep.MinRedundancy < r {
			rt.Fatalf("redundancy %d < %d", rep.MinRedundancy, r)
		}
	})
}

// TestCheckMatchesReference compares the package's check with the integer
// reference (refG) on random combiner contents, secure or not.
func TestCheckMatchesReference(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		k := rapid.IntRange(3, 6).Draw(rt, "k")
		tt := rapid.IntRange(2, k-1).Draw(rt, "t")
		l := rapid.IntRange(1, 3).Draw(rt, "l")
		n := rapid.IntRange(1, 8).Draw(rt, "n")
		var reps []Rep
		for range n {
			perm := rapid.Permutation(seq(1, k)).Draw(rt, "perm")[:tt]
			slices.Sort(perm)
			r := make(Rep, tt)
			for i, j := range perm {
				r[i] = Term{J: j, I: rapid.IntRange(1, l).Draw(rt, "i")}
			}
			reps = append(reps, r)
		}
		for size := 0; size < tt; size++ {
			got, _, err := CoalitionLeaks(k, tt, l, reps, size)
			require.NoError(rt, err)
			var want [][]int
			for _, c := range refCoalitions(k, size) {
				if g := refG(k, l, reps, c); g.Sign() == 0 || g.Cmp(big.NewInt(2)) > 0 {
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
			if len(got) != len(want) {
				rt.Fatalf("size %d: got %v want %v for %v", size, got, want, reps)
			}
			for i := range got {
				if !slices.Equal(got[i], want[i]) {
					rt.Fatalf("size %d: got %v want %v", size, got, want)
				}
			}
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

func plansEqual(p, q *Plan) bool {
	a, _ := json.Marshal(p)
	b, _ := json.Marshal(q)
	return string(a) == string(b)
}

func TestSmallParamsUsedElsewhere(t *testing.T) {
	for _, c := range [][3]int{{3, 2, 1}, {4, 2, 2}, {5, 3, 2}, {6, 4, 2}} {
		p, _, err := Search(c[0], c[1], c[2], nil)
		require.NoError(t, err)
		checkPlan(t, p, 1, false)
		f, err := FirstFit(c[0], c[1], c[2], nil)
		require.NoError(t, err)
		checkPlan(t, f, 1, false)
		if len(p.Combiners) > len(f.Combiners) {
			t.Errorf("%v: best %d > first-fit %d", c, len(p.Combiners), len(f.Combiners))
		}
	}
}

func TestIncremental(t *testing.T) {
	for _, c := range [][4]int{{4, 2, 2, 1}, {4, 3, 2, 1}, {5, 3, 2, 2}, {5, 4, 2, 1}} {
		p, _, err := Search(c[0], c[1], c[2], &Options{Redundancy: c[3]})
		require.NoError(t, err)
		next, added, err := p.AddCalculator(nil)
		require.NoError(t, err)
		if next.K != c[0]+1 {
			t.Fatalf("k=%d", next.K)
		}
		for a, reps := range p.Combiners {
			if !slices.EqualFunc(reps, next.Combiners[a][:len(reps)], Rep.Equal) {
				t.Fatalf("combiner %d changed", a+1)
			}
			if len(next.Combiners[a]) != len(reps)+len(added[a]) {
				t.Fatalf("combiner %d: added list mismatch", a+1)
			}
		}
		for a, reps := range added {
			for _, r := range reps {
				if !slices.Contains(r.Calculators(), next.K) {
					t.Fatalf("combiner %d: added %v without the new calculator", a+1, r)
				}
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
				if len(back.Combiners[a])+len(removed[a]) != len(next.Combiners[a]) {
					t.Fatalf("remove %d: combiner %d lost more than j's reps", j, a+1)
				}
				for _, r := range removed[a] {
					if !slices.Contains(r.Calculators(), j) {
						t.Fatalf("removed %v without %d", r, j)
					}
				}
				// Nothing is renamed: what is kept is exactly what was there.
				for _, r := range back.Combiners[a] {
					if !slices.ContainsFunc(next.Combiners[a], r.Equal) {
						t.Fatalf("remove %d: combiner %d has %v, which it did not have", j, a+1, r)
					}
				}
			}
			if back.K != next.K || !slices.Equal(back.Retired, []int{j}) {
				t.Fatalf("remove %d: k=%d retired %v", j, back.K, back.Retired)
			}
			checkPlan(t, back, c[3], false)
		}
	}
	p := PatentPlan()
	if _, _, err := p.RemoveCalculator(9); !errors.Is(err, ErrNoCalculator) {
		t.Fatalf("err = %v", err)
	}
	small := &Plan{K: 3, T: 2, L: 1, Combiners: [][]Rep{{rep(11, 21)}}}
	if _, _, err := small.RemoveCalculator(1); !errors.Is(err, ErrParams) {
		t.Fatalf("k-1 = t accepted: %v", err)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	p, _, err := Search(5, 3, 2, nil)
	require.NoError(t, err)
	b, err := json.Marshal(p)
	require.NoError(t, err)
	if !strings.HasPrefix(string(b), `{"k":5,"t":3,"l":2,"combiners":[[[[`) {
		t.Fatalf("format: %s", b)
	}
	q, err := ParsePlan(b)
	require.NoError(t, err)
	if !plansEqual(p, q) {
		t.Fatal("round trip changed the plan")
	}
	patent := `{"k":5,"t":3,"l":2,"combiners":[[[[1,1],[2,2],[3,1]],[[2,1],[3,2],[4,1]]]]}`
	if _, err := ParsePlan([]byte(patent)); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("incomplete plan: %v", err)
	}
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
		if _, err := ParsePlan([]byte(s)); err == nil {
			t.Errorf("accepted %s", s)
		}
	}
	var nilPlan *Plan
	if nilPlan.Validate() == nil {
		t.Error("nil plan validated")
	}
}

func TestOptionsRefused(t *testing.T) {
	for _, o := range []*Options{{Redundancy: -1}, {Redundancy: 100}, {Method: 7}} {
		if _, _, err := Search(5, 3, 2, o); !errors.Is(err, ErrParams) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	for _, c := range [][3]int{{0, 0, 0}, {3, 3, 1}, {65, 2, 1}, {5, 3, 0}, {40, 20, 2}} {
		if _, _, err := Search(c[0], c[1], c[2], nil); err == nil {
			t.Errorf("%v accepted", c)
		}
	}
}

func TestArithmeticChoice(t *testing.T) {
	if a := chooseArithmetic(6, 100, 15); a != ArithPrime {
		t.Errorf("(12,6,2) uses %s", a)
	}
	if a := chooseArithmetic(30, 1000, 200); a != ArithRational {
		t.Errorf("large case uses %s", a)
	}
	// The rational fallback gives the same verdicts.
	g := []Rep{rep(11, 21, 31), rep(11, 21, 41), rep(11, 31, 41)}
	for _, a := range []Arithmetic{ArithPrime, ArithRational} {
		got := leakingCoalitions(a, 4, 1, g, subsets(4, 2), false, nil)
		if len(got) == 0 || got[0] != 0b11 {
			t.Errorf("%s: %v", a, got)
		}
		for n, sub := range PatentSubgroups() {
			if len(leakingCoalitions(a, 5, 2, sub, subsets(5, 2), false, nil)) != 0 {
				t.Errorf("%s: patent subgroup %d leaks", a, n+1)
			}
		}
	}
}

func TestProvenMaxPerCombiner(t *testing.T) {
	for _, c := range [][3]int{{3, 2, 1}, {3, 2, 2}, {4, 2, 1}, {4, 2, 2}, {5, 2, 1}, {4, 3, 1}, {5, 3, 1}, {4, 3, 2}, {5, 3, 2}, {5, 4, 1}, {5, 4, 2}, {6, 4, 1}} {
		want, ok := provenMaxPerCombiner(c[0], c[1], c[2])
		if !ok {
			t.Fatalf("%v missing", c)
		}
		got, exact := maxPerCombiner(c[0], c[1], c[2], 1<<30)
		if !exact || got != want {
			t.Errorf("%v: computed %d (exact %v), table %d", c, got, exact, want)
		}
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
			if _, err := Check(p); err != nil {
				t.Fatal(err)
			}
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
	if _, _, err := q.RemoveCalculator(2); !errors.Is(err, ErrNoCalculator) {
		t.Errorf("retiring calculator 2 twice: %v", err)
	}
	r, added, err := q.AddCalculator(nil)
	require.NoError(t, err)
	if r.K != 6 || !slices.Equal(r.Retired, []int{2}) {
		t.Fatalf("k=%d retired %v", r.K, r.Retired)
	}
	for _, reps := range added {
		for _, x := range reps {
			if slices.Contains(x.Calculators(), 2) {
				t.Fatalf("added %v on a retired calculator", x)
			}
		}
	}
	checkPlan(t, r, 1, false)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	back, err := ParsePlan(b)
	if err != nil || !slices.Equal(back.Retired, []int{2}) {
		t.Fatalf("round trip: %v, retired %v", err, back.Retired)
	}
	// A representation on a retired calculator is refused.
	bad := r.Clone()
	bad.Combiners[0] = append(bad.Combiners[0], rep(11, 21, 31))
	if err := bad.Validate(); !errors.Is(err, ErrInvalidRep) {
		t.Errorf("representation on a retired calculator: %v", err)
	}
	for _, retired := range [][]int{{0}, {7}, {3, 3}, {4, 3}, {1, 2, 3}} {
		bad := r.Clone()
		bad.Retired = retired
		bad.Combiners = nil
		if err := bad.ValidateStructure(); err == nil {
			t.Errorf("retired %v accepted", retired)
		}
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
