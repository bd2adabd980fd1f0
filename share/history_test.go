package share

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/internal/testplan"
)

// smallDealer is a dealer of the 1024-bit test key (fast, tests only).
func smallDealer(t testing.TB, seed byte, k, tt, l int, opts Options) *Dealer {
	t.Helper()
	opts.InsecureAllowSmallKeysForTests = true
	dl, err := NewDealer(testplan.Seeded(uint64(seed)), testkeys.Must(testkeys.RSA1024), k, tt, l, &opts)
	require.NoError(t, err)
	return dl
}

// held is what the combiners hold, as a test sees it from the key material
// handed out: held[a] lists combiner a+1's representations.
type held [][]grouping.Rep

func (h *held) take(ck *CombinerKey) {
	for len(*h) < ck.Number {
		*h = append(*h, nil)
	}
	for _, r := range ck.Reps() {
		if !slices.ContainsFunc((*h)[ck.Number-1], r.Equal) {
			(*h)[ck.Number-1] = append((*h)[ck.Number-1], r)
		}
	}
}

func (h *held) takeAll(d *Dealing) {
	for _, ck := range d.Combiners {
		h.take(ck)
	}
}

// check fails unless every combiner (and, with pairs, every pair), with
// everything it holds, is safe against t-1 of the k calculators.
func (h held) check(t require.TestingT, k, tt, l int, pairs bool) {
	p := &grouping.Plan{K: k, T: tt, L: l, Combiners: h}
	report, err := grouping.Check(p)
	require.NoError(t, err)
	require.True(t, report.Secure, "a combiner's history leaks: %+v", report.Combiners)
	if pairs {
		require.True(t, report.PairsSecure, "a pair's history leaks: %+v", report.Pairs)
	}
}

// TestRegressionDealUnsafePlan: Deal refuses a plan under which a combiner
// with t-1 calculators recovers d. With l=1, (1,2,3), (1,2,4) and (1,3,4)
// with calculators {1,2} give d = c_123 + c_124 - c_134 + known shares.
func TestRegressionDealUnsafePlan(t *testing.T) {
	dl := smallDealer(t, 1, 4, 3, 1, Options{})
	plan := &grouping.Plan{K: 4, T: 3, L: 1, Combiners: [][]grouping.Rep{
		{testplan.Rep(11, 21, 31)}, {testplan.Rep(11, 21, 31), testplan.Rep(11, 21, 41), testplan.Rep(11, 31, 41)}}}
	_, err := dl.Deal(plan)
	require.ErrorIs(t, err, grouping.ErrInsecure)
	require.Contains(t, err.Error(), "combiner 2")
	require.Contains(t, err.Error(), "[1 2]")
	require.Nil(t, dl.Plan(), "a refused plan was recorded")
	require.Empty(t, dl.History())
}

// TestRegressionCombinerHistoryLeak: Combiner refuses representations that
// leak together with what the combiner was dealt before.
func TestRegressionCombinerHistoryLeak(t *testing.T) {
	dl := smallDealer(t, 1, 4, 3, 1, Options{})
	_, err := dl.Combiner(1, []grouping.Rep{testplan.Rep(11, 21, 31), testplan.Rep(11, 21, 41)})
	require.NoError(t, err)
	_, err = dl.Combiner(1, []grouping.Rep{testplan.Rep(11, 31, 41)})
	require.ErrorIs(t, err, grouping.ErrInsecure)
	require.Contains(t, err.Error(), "combiner 1")
	require.Contains(t, err.Error(), "[1 2]")
	// Another combiner may take it; the first one's history is unchanged.
	_, err = dl.Combiner(2, []grouping.Rep{testplan.Rep(11, 31, 41)})
	require.NoError(t, err)
	require.Equal(t, [][]grouping.Rep{{testplan.Rep(11, 21, 31), testplan.Rep(11, 21, 41)}, {testplan.Rep(11, 31, 41)}}, dl.History())
	// A plan giving it to combiner 1 is refused as well.
	_, err = dl.Deal(&grouping.Plan{K: 4, T: 3, L: 1, Combiners: [][]grouping.Rep{{testplan.Rep(11, 31, 41)}}})
	require.ErrorIs(t, err, grouping.ErrInsecure)
	require.Contains(t, err.Error(), "combiner 1")
}

// TestRegressionRetireThenAddDealer: for (6,3,2), seeds 1-6 and every
// calculator retired, then one added: the dealer refuses the extension
// placed without the history whenever it leaks, and deals the one placed
// with it; no combiner's history leaks.
func TestRegressionRetireThenAddDealer(t *testing.T) {
	refused := 0
	for seed := uint64(1); seed <= 6; seed++ {
		p, _, err := grouping.Search(6, 3, 2, &grouping.Options{Seed: seed})
		require.NoError(t, err)
		for j := 1; j <= 6; j++ {
			dl := smallDealer(t, byte(seed), 6, 3, 2, Options{Redundancy: 1})
			var h held
			d, err := dl.Deal(p)
			require.NoError(t, err)
			h.takeAll(d)
			q, _, err := dl.Plan().RemoveCalculator(j)
			require.NoError(t, err)
			d, err = dl.Deal(q)
			require.NoError(t, err)
			h.takeAll(d)
			_, err = dl.AddCalculator(testplan.Seeded(9))
			require.NoError(t, err)
			blind, _, err := q.AddCalculator(nil)
			require.NoError(t, err)
			if d, err = dl.Deal(blind); err != nil {
				require.ErrorIs(t, err, grouping.ErrInsecure)
				refused++
				next, _, err := q.AddCalculator(&grouping.Options{History: dl.History()})
				require.NoError(t, err, "seed %d, calculator %d retired", seed, j)
				d, err = dl.Deal(next)
				require.NoError(t, err, "seed %d, calculator %d retired", seed, j)
			}
			h.takeAll(d)
			h.check(t, 7, 3, 2, false)
		}
	}
	require.Positive(t, refused)
}

// TestRegressionExtendLosesPairs: a dealer that keeps pairs safe refuses an
// extension placed without pair mode when it leaks, and one placed with the
// dealer's guarantees keeps every pair's history safe.
func TestRegressionExtendLosesPairs(t *testing.T) {
	p, _, err := grouping.Search(5, 3, 2, &grouping.Options{Pairs: true})
	require.NoError(t, err)
	dl := smallDealer(t, 2, 5, 3, 2, Options{Pairs: true})
	var h held
	d, err := dl.Deal(p)
	require.NoError(t, err)
	h.takeAll(d)
	_, err = dl.AddCalculator(testplan.Seeded(3))
	require.NoError(t, err)
	blind, _, err := p.AddCalculator(nil)
	require.NoError(t, err)
	if report, _ := grouping.Check(blind); !report.PairsSecure {
		_, err := dl.Deal(blind)
		require.ErrorIs(t, err, grouping.ErrInsecure)
		require.Contains(t, err.Error(), "combiners ")
	}
	r, pairs := dl.Guarantees()
	require.True(t, pairs)
	next, _, err := dl.Plan().AddCalculator(&grouping.Options{Redundancy: r, Pairs: pairs, History: dl.History()})
	require.NoError(t, err)
	d, err = dl.Deal(next)
	require.NoError(t, err)
	h.takeAll(d)
	h.check(t, 6, 3, 2, true)
}

// TestDealRedundancy: a dealer that keeps redundancy r refuses a plan that
// serves some calculator set by fewer combiners.
func TestDealRedundancy(t *testing.T) {
	p, _, err := grouping.Search(4, 2, 1, nil)
	require.NoError(t, err)
	dl := smallDealer(t, 1, 4, 2, 1, Options{Redundancy: 2})
	_, err = dl.Deal(p)
	require.ErrorIs(t, err, grouping.ErrIncomplete)
	p2, _, err := grouping.Search(4, 2, 1, &grouping.Options{Redundancy: 2})
	require.NoError(t, err)
	_, err = dl.Deal(p2)
	require.NoError(t, err)
	_, err = NewDealer(testplan.Seeded(1), testkeys.Must(testkeys.RSA1024), 4, 2, 1, &Options{InsecureAllowSmallKeysForTests: true, Redundancy: -1})
	require.ErrorIs(t, err, ErrParameters)
}

// TestDealerStateHistory: the state keeps the plan, the histories and the
// guarantees; a version 1 state is read but deals no combiner.
func TestDealerStateHistory(t *testing.T) {
	dl := smallDealer(t, 1, 5, 3, 2, Options{Redundancy: 1, Pairs: true})
	p, _, err := grouping.Search(5, 3, 2, &grouping.Options{Pairs: true})
	require.NoError(t, err)
	_, err = dl.Deal(p)
	require.NoError(t, err)
	var q *grouping.Plan
	for j := 1; q == nil; j++ {
		next, _, err := p.RemoveCalculator(j)
		require.NoError(t, err)
		if _, err := dl.Deal(next); err == nil {
			q = next
		}
	}
	b, err := dl.MarshalState()
	require.NoError(t, err)
	require.Contains(t, string(b), dealerFormat)
	back, err := ParseDealerState(b)
	require.NoError(t, err)
	require.Empty(t, cmp.Diff(q, back.Plan(), cmpopts.EquateEmpty()), "plan of the parsed state (-before +after)")
	require.Equal(t, dl.History(), back.History())
	r, pairs := back.Guarantees()
	require.Equal(t, 1, r)
	require.True(t, pairs)
	// Tampered histories and plans are refused.
	for _, bad := range []string{
		strings.Replace(string(b), `"combiners": `, `"combiners": 1`, 1),
		strings.Replace(string(b), `"redundancy": 1`, `"redundancy": 99`, 1),
	} {
		_, err := ParseDealerState([]byte(bad))
		require.ErrorIs(t, err, ErrMalformed)
	}

	// A version 1 state: no history, so no combiner is dealt.
	v1 := dealerJSON{}
	require.NoError(t, decodeStrict(b, &v1))
	v1.Format, v1.Plan, v1.History, v1.Redundancy, v1.Pairs = dealerFormatV1, nil, nil, 0, false
	old, err := json.Marshal(v1)
	require.NoError(t, err)
	dl1, err := ParseDealerState(old)
	require.NoError(t, err)
	require.False(t, dl1.HasHistory())
	require.Nil(t, dl1.Plan())
	_, err = dl1.Deal(q)
	require.ErrorIs(t, err, ErrNoHistory)
	_, err = dl1.Combiner(1, []grouping.Rep{testplan.Rep(11, 21, 31)})
	require.ErrorIs(t, err, ErrNoHistory)
	again, err := dl1.MarshalState()
	require.NoError(t, err)
	require.Contains(t, string(again), dealerFormatV1)
	v1.History = [][]grouping.Rep{{testplan.Rep(11, 21, 31)}}
	withHistory, err := json.Marshal(v1)
	require.NoError(t, err)
	_, err = ParseDealerState(withHistory)
	require.ErrorIs(t, err, ErrMalformed)
}

// TestInsecureSkipSecurityCheckForTests: the option deals what the check
// refuses, and is not kept in the state.
func TestInsecureSkipSecurityCheckForTests(t *testing.T) {
	dl := smallDealer(t, 1, 4, 3, 1, Options{InsecureSkipSecurityCheckForTests: true})
	_, err := dl.Combiner(1, []grouping.Rep{testplan.Rep(11, 21, 31), testplan.Rep(11, 21, 41), testplan.Rep(11, 31, 41)})
	require.NoError(t, err)
	b, err := dl.MarshalState()
	require.NoError(t, err)
	back, err := ParseDealerState(b)
	require.NoError(t, err)
	_, err = back.Combiner(2, []grouping.Rep{testplan.Rep(11, 21, 31), testplan.Rep(11, 21, 41), testplan.Rep(11, 31, 41)})
	require.ErrorIs(t, err, grouping.ErrInsecure)
}

// TestHistoryProperty: for random (k, t, l) with k <= 7, any sequence of
// calculators added and retired, plans re-dealt and combiners dealt keeps
// every combiner's whole history (and every pair's, for a dealer keeping
// pairs safe) secure, as grouping.Check decides on a plan built from what
// the combiners were handed; the dealer's own history is exactly that.
func TestHistoryProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		k := rapid.IntRange(3, 5).Draw(rt, "k")
		tt := rapid.IntRange(2, k-1).Draw(rt, "t")
		l := rapid.IntRange(1, 2).Draw(rt, "l")
		pairs := rapid.Bool().Draw(rt, "pairs")
		r := rapid.IntRange(0, 1).Draw(rt, "r")
		p, _, err := grouping.Search(k, tt, l, &grouping.Options{Pairs: pairs, NoLowerBound: true, Restarts: 2})
		require.NoError(rt, err)
		dl, err := NewDealer(testplan.Seeded(1), testkeys.Must(testkeys.RSA1024), k, tt, l,
			&Options{InsecureAllowSmallKeysForTests: true, Redundancy: r, Pairs: pairs})
		require.NoError(rt, err)
		var h held
		d, err := dl.Deal(p)
		require.NoError(rt, err)
		h.takeAll(d)
		for step := range rapid.IntRange(1, 6).Draw(rt, "steps") {
			switch rapid.IntRange(0, 3).Draw(rt, "op") {
			case 0:
				propAdd(rt, dl, &h, r, pairs)
			case 1:
				propRetire(rt, dl, &h)
			case 2:
				propRedeal(rt, dl, &h)
			case 3:
				propCombiner(rt, dl, &h)
			}
			k, tt, l := dl.Params()
			h.check(rt, k, tt, l, pairs)
			require.Equal(rt, normalize(h), normalize(dl.History()), "step %d: the dealer's history is not what was handed out", step)
		}
	})
}

// normalize drops empty trailing histories, for comparison.
func normalize(h [][]grouping.Rep) [][]grouping.Rep {
	out := slices.Clone(h)
	for len(out) > 0 && len(out[len(out)-1]) == 0 {
		out = out[:len(out)-1]
	}
	for a := range out {
		if out[a] == nil {
			out[a] = []grouping.Rep{}
		}
	}
	return out
}

// propAdd adds calculator k+1 as extend does; it must be dealt whenever
// the placement succeeds.
func propAdd(rt *rapid.T, dl *Dealer, h *held, r int, pairs bool) {
	if k, _, _ := dl.Params(); k >= 7 {
		return
	}
	next, _, err := dl.Plan().AddCalculator(&grouping.Options{Redundancy: r, Pairs: pairs, History: dl.History(),
		Seed: rapid.Uint64().Draw(rt, "seed")})
	if err != nil {
		require.ErrorIs(rt, err, grouping.ErrInsecure) // pair mode may find no place
		return
	}
	if slices.ContainsFunc(next.Combiners, func(reps []grouping.Rep) bool { return len(reps) == 0 }) {
		return // a combiner known only from its history took nothing
	}
	_, err = dl.AddCalculator(testplan.Seeded(7))
	require.NoError(rt, err)
	d, err := dl.Deal(next)
	require.NoError(rt, err)
	h.takeAll(d)
}

// propRetire retires a calculator as retire does; it must be dealt
// whenever every combiner left empty gets a representation.
func propRetire(rt *rapid.T, dl *Dealer, h *held) {
	k, _, _ := dl.Params()
	next, _, err := dl.Plan().RemoveCalculator(rapid.IntRange(1, k).Draw(rt, "retire"))
	if err != nil {
		return // retired already, or too few left
	}
	_, pairs := dl.Guarantees()
	next, _, err = next.FillEmpty(&grouping.Options{Pairs: pairs, History: dl.History()})
	require.NoError(rt, err)
	if slices.ContainsFunc(next.Combiners, func(reps []grouping.Rep) bool { return len(reps) == 0 }) {
		return // nothing fits a combiner left empty: retire refuses
	}
	d, err := dl.Deal(next)
	require.NoError(rt, err)
	h.takeAll(d)
}

// randomReps draws 1..4 distinct representations on calculators in
// service.
func randomReps(rt *rapid.T, dl *Dealer, retired []int) []grouping.Rep {
	k, tt, l := dl.Params()
	var active []int
	for j := 1; j <= k; j++ {
		if !slices.Contains(retired, j) {
			active = append(active, j)
		}
	}
	var reps []grouping.Rep
	for range rapid.IntRange(1, 4).Draw(rt, "reps") {
		js := slices.Clone(active)
		rapid.Permutation(js)
		js = js[:tt]
		slices.Sort(js)
		var r grouping.Rep
		for _, j := range js {
			r = append(r, grouping.Term{J: j, I: rapid.IntRange(1, l).Draw(rt, "i")})
		}
		if !slices.ContainsFunc(reps, r.Equal) {
			reps = append(reps, r)
		}
	}
	return reps
}

// propRedeal deals a random plan: refused, or dealt and recorded.
func propRedeal(rt *rapid.T, dl *Dealer, h *held) {
	k, tt, l := dl.Params()
	retired := dl.Plan().Retired
	p := &grouping.Plan{K: k, T: tt, L: l, Retired: retired}
	for range rapid.IntRange(1, 3).Draw(rt, "combiners") {
		p.Combiners = append(p.Combiners, randomReps(rt, dl, retired))
	}
	d, err := dl.Deal(p)
	if err != nil {
		require.True(rt, errors.Is(err, grouping.ErrInsecure) || errors.Is(err, grouping.ErrIncomplete), "%v", err)
		return
	}
	h.takeAll(d)
}

// propCombiner deals random representations to one combiner.
func propCombiner(rt *rapid.T, dl *Dealer, h *held) {
	n := rapid.IntRange(1, len(dl.History())+1).Draw(rt, "combiner")
	ck, err := dl.Combiner(n, randomReps(rt, dl, dl.Plan().Retired))
	if err != nil {
		require.ErrorIs(rt, err, grouping.ErrInsecure)
		return
	}
	h.take(ck)
}
