package grouping

import (
	"fmt"
	"math/bits"
)

// Limits. CheckParams applies them to (k, t, l) before anything is
// enumerated or allocated, so that every function of the package runs in
// bounded time and memory on any input; the share package uses the same
// ones. Sizes beyond them are refused with ErrLimits.
const (
	// MaxCalculators is the largest k: calculator sets are 64-bit masks.
	MaxCalculators = 64
	// MaxShares is the largest l, the shares per calculator.
	MaxShares = 16
	// MaxSets bounds C(k,t), the calculator sets a plan covers (each is
	// enumerated, and each needs a stored representation).
	MaxSets = 1 << 14
	// MaxCoalitions bounds C(k,t-1), the coalitions every check
	// enumerates per combiner.
	MaxCoalitions = 1 << 14
	// MaxEquivalents bounds l^t, the equivalent representations of one
	// calculator set ([0070]) that a search enumerates.
	MaxEquivalents = 1 << 10
	// MaxRepresentations bounds C(k,t)*l^t, all representations a search
	// holds at once (at most 2^18 of t terms: under 300 MiB even for t=63).
	MaxRepresentations = 1 << 18
	// MaxBasisWords bounds C(k,t-1)*(k*l+1)^2, the int64 words of one
	// combiner's per-coalition lattice bases in the worst case (128 MiB).
	MaxBasisWords = 1 << 24
	// MaxPairWords bounds, in pair mode, C(c,2)*C(k,t-1)*(k*l+1)^2 for c
	// combiners: the int64 words of the per-pair lattice bases in the worst
	// case (1 GiB). A pair search does not open more combiners than that.
	MaxPairWords = 1 << 27
	// MaxCombiners is the largest number of combiners in a plan.
	MaxCombiners = 1 << 12
	// MaxReps is the largest total number of representations in a plan.
	MaxReps = 1 << 20
	// MaxCheckWork bounds the row reductions of one Check:
	// C(k,t-1) coalitions times the representations of the plan times
	// the number of combiners (every pair is checked as well).
	MaxCheckWork = 1 << 28
)

// CheckParams reports whether (k, t, l) describe a scheme, wrapping
// ErrParams (the patent needs 1 <= t < k, [0068], and l >= 1, [0067]), and
// whether it is within the limits above, wrapping ErrLimits. Every size is
// computed with saturating arithmetic, so any int is accepted as input.
func CheckParams(k, t, l int) error {
	if k < 2 || t < 1 || t >= k || l < 1 {
		return fmt.Errorf("%w: k=%d, t=%d, l=%d (need 1 <= t < k, l >= 1)", ErrParams, k, t, l)
	}
	if k > MaxCalculators || l > MaxShares {
		return fmt.Errorf("%w: k=%d (max %d), l=%d (max %d)", ErrLimits, k, MaxCalculators, l, MaxShares)
	}
	sets, coal, eq := binom(k, t), binom(k, t-1), satPow(l, t)
	n := k*l + 1
	switch {
	case sets > MaxSets:
		return fmt.Errorf("%w: C(%d,%d) calculator sets (max %d)", ErrLimits, k, t, MaxSets)
	case coal > MaxCoalitions:
		return fmt.Errorf("%w: C(%d,%d) coalitions (max %d)", ErrLimits, k, t-1, MaxCoalitions)
	case eq > MaxEquivalents:
		return fmt.Errorf("%w: l^t = %d^%d equivalent representations (max %d)", ErrLimits, l, t, MaxEquivalents)
	case satMul(sets, eq) > MaxRepresentations:
		return fmt.Errorf("%w: C(%d,%d)*%d^%d representations (max %d)", ErrLimits, k, t, l, t, MaxRepresentations)
	case satMul(coal, n*n) > MaxBasisWords:
		return fmt.Errorf("%w: C(%d,%d) coalitions of %d columns (max %d words)", ErrLimits, k, t-1, n, MaxBasisWords)
	}
	return nil
}

// checkParams is CheckParams.
func checkParams(k, t, l int) error { return CheckParams(k, t, l) }

// satLimit is where the saturating helpers stop counting.
const satLimit = 1 << 50

// satMul returns a*b for a, b >= 0, saturating at satLimit.
func satMul(a, b int) int {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > satLimit {
		return satLimit
	}
	return int(lo)
}

// satPow returns b^e for b, e >= 0, saturating at satLimit.
func satPow(b, e int) int {
	v := 1
	for range e {
		v = satMul(v, b)
	}
	return v
}

// pairRoom reports whether a pair-mode state may hold c combiners
// (MaxPairWords); outside pair mode it always may.
func (s *state) pairRoom(c int) bool {
	return !s.pairs || satMul(satMul(binom(c, 2), len(s.coal)), s.n*s.n) <= MaxPairWords
}

// checkWork refuses a check of reps representations in combiners
// combiners against coalitions coalitions beyond MaxCheckWork.
func checkWork(coalitions, reps, combiners int) error {
	if satMul(satMul(coalitions, reps), max(combiners, 1)) > MaxCheckWork {
		return fmt.Errorf("%w: checking %d representations in %d combiner(s) against %d coalitions (max %d row reductions)", ErrLimits, reps, combiners, coalitions, MaxCheckWork)
	}
	return nil
}
