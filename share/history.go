package share

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tolerantca/tolerant/grouping"
)

// ErrNoHistory is returned when a dealer whose state does not record what
// each combiner was dealt is asked to deal combiners: it cannot tell
// whether the new representations, with the old ones, let a combiner and
// t-1 calculators recover d.
var ErrNoHistory = errors.New("share: the dealer's state does not record what each combiner was dealt")

// Plan returns a copy of the plan of the last [Dealer.Deal], nil before the
// first one. It is the plan every later change (a calculator added or
// retired) starts from; public copies of it are outputs only.
func (dl *Dealer) Plan() *grouping.Plan {
	if dl.plan == nil {
		return nil
	}
	return dl.plan.Clone()
}

// History returns, for every combiner number dealt so far (History()[a] for
// combiner a+1), every representation dealt to it in this epoch, those no
// longer in the plan included: a combiner keeps its old key material, and
// those equations stay true. It is nil when [Dealer.HasHistory] is false.
func (dl *Dealer) History() [][]grouping.Rep {
	if dl.noHistory {
		return nil
	}
	out := make([][]grouping.Rep, len(dl.history))
	for a, reps := range dl.history {
		out[a] = make([]grouping.Rep, len(reps))
		for n, r := range reps {
			out[a][n] = slices.Clone(r)
		}
	}
	return out
}

// HasHistory reports whether the dealer knows everything it dealt to each
// combiner in this epoch. It is false for a state written before that was
// recorded; such a dealer refuses to deal combiners ([ErrNoHistory]).
func (dl *Dealer) HasHistory() bool { return !dl.noHistory }

// Guarantees returns what every dealing keeps: the least number of
// combiners serving every calculator set (0: not required) and whether any
// two combiners are kept safe ([Options.Redundancy], [Options.Pairs]).
func (dl *Dealer) Guarantees() (redundancy int, pairs bool) { return dl.redundancy, dl.pairs }

// historyPlan returns the plan an adversary who holds everything dealt
// faces: every calculator ever dealt (retired ones included: they keep
// their shares and may collude), and for each combiner its whole history
// with add[a] joined to combiner a+1's. No calculator is retired in it and
// its coverage means nothing; [grouping.Check] of it decides whether a
// combiner (or a pair) with t-1 calculators recovers d from all it holds.
func (dl *Dealer) historyPlan(add [][]grouping.Rep) *grouping.Plan {
	n := max(len(dl.history), len(add))
	p := &grouping.Plan{K: dl.k, T: dl.t, L: dl.l, Combiners: make([][]grouping.Rep, n)}
	for a := range n {
		var reps []grouping.Rep
		seen := map[string]bool{}
		var old, extra []grouping.Rep
		if a < len(dl.history) {
			old = dl.history[a]
		}
		if a < len(add) {
			extra = add[a]
		}
		for _, r := range append(slices.Clip(old), extra...) {
			if !seen[r.String()] {
				seen[r.String()] = true
				reps = append(reps, slices.Clone(r))
			}
		}
		p.Combiners[a] = reps
	}
	return p
}

// checkHistory checks that dealing add[a] to combiner a+1, on top of every
// combiner's history, keeps every combiner (and, with pairs, every pair of
// combiners) secure against t-1 calculators ([0073], exactly as
// [grouping.Check] decides it). It returns the histories that would result.
func (dl *Dealer) checkHistory(add [][]grouping.Rep) ([][]grouping.Rep, error) {
	if dl.noHistory {
		return nil, ErrNoHistory
	}
	h := dl.historyPlan(add)
	if dl.skipCheck {
		return h.Combiners, nil
	}
	report, err := grouping.Check(h)
	if err != nil {
		return nil, fmt.Errorf("share: checking what each combiner holds: %w", err)
	}
	for _, c := range report.Combiners {
		if len(c.Leaks) > 0 {
			return nil, fmt.Errorf("%w: combiner %d, with everything dealt to it in epoch %d, and calculators %v recover d",
				grouping.ErrInsecure, c.Index, dl.epoch, c.Leaks[0])
		}
	}
	if dl.pairs && !report.PairsSecure {
		pr := report.Pairs[0]
		return nil, fmt.Errorf("%w: combiners %d and %d, with everything dealt to them in epoch %d, and calculators %v recover d",
			grouping.ErrInsecure, pr.A, pr.B, dl.epoch, pr.Leaks[0])
	}
	return h.Combiners, nil
}

// coverage returns every calculator set of plan without a retired
// calculator, and how many distinct combiners serve each. ok is false when
// there are more sets than representations: they cannot all be served,
// and the limit keeps the enumeration bounded.
func coverage(plan *grouping.Plan) (sets [][]int, served []int, ok bool) {
	serving := map[string]map[int]bool{}
	total := 0
	for a, reps := range plan.Combiners {
		total += len(reps)
		for _, r := range reps {
			key := fmt.Sprint(r.Calculators())
			if serving[key] == nil {
				serving[key] = map[int]bool{}
			}
			serving[key][a] = true
		}
	}
	sets = calculatorSets(plan.K, plan.T, plan.Retired, total+1)
	if len(sets) > total {
		return nil, nil, false
	}
	served = make([]int, len(sets))
	for i, set := range sets {
		served[i] = len(serving[fmt.Sprint(set)])
	}
	return sets, served, true
}

// checkRedundancy checks that plan serves every calculator set (without
// retired calculators) by at least the dealer's redundancy.
func (dl *Dealer) checkRedundancy(plan *grouping.Plan) error {
	if dl.redundancy == 0 {
		return nil
	}
	sets, served, ok := coverage(plan)
	if !ok {
		return fmt.Errorf("%w: more calculator sets than representations", grouping.ErrIncomplete)
	}
	for i, set := range sets {
		if served[i] < dl.redundancy {
			return fmt.Errorf("%w: calculators %v served by %d combiners, the dealer keeps %d", grouping.ErrIncomplete, set, served[i], dl.redundancy)
		}
	}
	return nil
}

// calculatorSets returns the t-subsets of 1..k without a retired
// calculator, each ascending, in lexicographic order, at most limit of them.
func calculatorSets(k, t int, retired []int, limit int) [][]int {
	var out [][]int
	var rec func(start int, set []int)
	rec = func(start int, set []int) {
		if len(out) >= limit {
			return
		}
		if len(set) == t {
			out = append(out, slices.Clone(set))
			return
		}
		for j := start; j <= k; j++ {
			if !slices.Contains(retired, j) {
				rec(j+1, append(set, j))
			}
		}
	}
	rec(1, nil)
	return out
}

// record makes h the combiners' histories.
func (dl *Dealer) record(h [][]grouping.Rep) {
	dl.history = h
	dl.combiners = max(dl.combiners, len(h))
	for len(dl.history) < dl.combiners {
		dl.history = append(dl.history, nil)
	}
}
