package share

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tolerantca/tolerant/grouping"
)

// Errors of the membership changes.
var (
	// ErrCombinerRemoved is returned for representations dealt to a
	// combiner number taken out of service: numbers are never reused.
	ErrCombinerRemoved = errors.New("share: combiner taken out of service")
	// ErrBelowRedundancy is returned when a change would leave some
	// calculator set served by fewer combiners than the dealer keeps.
	ErrBelowRedundancy = errors.New("share: the change leaves a calculator set below the dealer's redundancy")
	// ErrWrongEpoch is returned for key material, a file or a task of
	// another dealing (epoch) than the one expected. Package seal returns
	// it for a bundle of another epoch than the caller trusts.
	ErrWrongEpoch = errors.New("share: key material of another epoch")
)

// ChangeOptions tune [Dealer.RemoveCombiner]. The zero value is the safe
// default.
type ChangeOptions struct {
	// InsecureBelowRedundancy lets the change leave calculator sets served
	// by fewer combiners than [Options.Redundancy] (never by none); the
	// dealer's redundancy is lowered to what remains, and every later
	// dealing keeps that.
	InsecureBelowRedundancy bool
}

// RemovedCombiners returns the numbers of the combiners taken out of
// service, ascending. They stay in the history and are never dealt again.
func (dl *Dealer) RemovedCombiners() []int { return slices.Clone(dl.removed) }

func (dl *Dealer) isRemoved(n int) bool { return slices.Contains(dl.removed, n) }

// RemoveCombiner takes combiner n out of service and returns the dealing
// of the plan without it: n keeps its number (its entry in the plan is
// empty; it gets no key material and leaves the roster, so that nodes
// dealt from now on refuse its packets) and its history stays, since the
// combiner keeps its old key material. Removing equations never helps a
// coalition, so only coverage is checked: every calculator set must stay
// served by at least the dealer's redundancy (at least one combiner), or,
// with [ChangeOptions.InsecureBelowRedundancy], by at least one. On error
// the dealer is left as it was.
func (dl *Dealer) RemoveCombiner(n int, opts *ChangeOptions) (*Dealing, error) {
	if dl.noHistory || dl.plan == nil {
		return nil, ErrNoHistory
	}
	if n < 1 || n > len(dl.plan.Combiners) || dl.isRemoved(n) {
		return nil, fmt.Errorf("%w: combiner %d is not in service", ErrParameters, n)
	}
	next := dl.plan.Clone()
	next.Combiners[n-1] = []grouping.Rep{}
	least := leastCoverage(next)
	if least < 1 {
		return nil, fmt.Errorf("%w: without combiner %d some calculator set has no combiner", grouping.ErrIncomplete, n)
	}
	savedRemoved, savedRed := dl.removed, dl.redundancy
	if least < dl.redundancy {
		if opts == nil || !opts.InsecureBelowRedundancy {
			return nil, fmt.Errorf("%w: without combiner %d some calculator set has %d combiners, the dealer keeps %d",
				ErrBelowRedundancy, n, least, dl.redundancy)
		}
		dl.redundancy = least
	}
	dl.removed = append(slices.Clone(dl.removed), n)
	slices.Sort(dl.removed)
	d, err := dl.Deal(next)
	if err != nil {
		dl.removed, dl.redundancy = savedRemoved, savedRed
		return nil, err
	}
	return d, nil
}

// AddCombiner puts a new combiner in service with the representations
// reps and returns the dealing of the plan with it. Its number is one
// above every number dealt so far (never a removed one). Like
// [Dealer.Deal], it refuses reps that, with every combiner's history, let
// t-1 calculators recover d, or d mod g > 2 ([0073]; with [Options.Pairs]
// for any two combiners too). Copying the representations an existing
// combiner serves is always safe for it alone, and keeps pairs safe when
// the dealer does: the new combiner then knows only what that one knows.
func (dl *Dealer) AddCombiner(reps []grouping.Rep) (*Dealing, error) {
	if dl.noHistory || dl.plan == nil {
		return nil, ErrNoHistory
	}
	if len(dl.plan.Combiners) != dl.combiners {
		return nil, fmt.Errorf("%w: the plan does not list every combiner dealt", ErrParameters)
	}
	next := dl.plan.Clone()
	next.Combiners = append(next.Combiners, reps)
	return dl.Deal(next)
}

// NextCombiner returns the number [Dealer.AddCombiner] gives a new combiner.
func (dl *Dealer) NextCombiner() int { return dl.combiners + 1 }

// leastCoverage returns the least number of distinct combiners of plan
// serving a calculator set without a retired calculator.
func leastCoverage(plan *grouping.Plan) int {
	_, served, ok := coverage(plan)
	if !ok || len(served) == 0 {
		return 0
	}
	return slices.Min(served)
}
