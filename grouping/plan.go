package grouping

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

var (
	// ErrParams is returned for (k, t, l) that do not describe a scheme:
	// the patent needs 1 <= t < k ([0068]) and l >= 1 ([0067]).
	ErrParams = errors.New("grouping: invalid parameters")
	// ErrLimits is returned when a plan or a request exceeds the package
	// limits (CheckParams and the Max constants).
	ErrLimits = errors.New("grouping: outside the package limits")
	// ErrIncomplete is returned when some calculator set is served by fewer
	// combiners than required.
	ErrIncomplete = errors.New("grouping: plan does not cover every calculator set")
	// ErrInsecure is returned when a combiner (or a pair of combiners, when
	// asked) together with t-1 calculators can recover d.
	ErrInsecure = errors.New("grouping: plan is not combiner-secure")
	// ErrNoCalculator is returned by RemoveCalculator for an unknown number.
	ErrNoCalculator = errors.New("grouping: no such calculator")
)

// binom returns C(n, r), saturating at a large value instead of overflowing.
func binom(n, r int) int {
	if r < 0 || r > n {
		return 0
	}
	r = min(r, n-r)
	const sat = 1 << 50
	v := 1
	for i := 1; i <= r; i++ {
		// v * (n-r+i) / i is exact at every step.
		hi, lo := bits.Mul64(uint64(v), uint64(n-r+i))
		if hi != 0 || lo/uint64(i) > sat {
			return sat
		}
		v = int(lo / uint64(i))
	}
	return v
}

// subsets returns every r-subset of {1..k} as a bit mask (bit j-1 for
// calculator j), in lexicographic order of the sorted member lists.
func subsets(k, r int) []uint64 {
	var out []uint64
	var rec func(start int, left int, m uint64)
	rec = func(start, left int, m uint64) {
		if left == 0 {
			out = append(out, m)
			return
		}
		for j := start; j <= k-left+1; j++ {
			rec(j+1, left-1, m|1<<(j-1))
		}
	}
	rec(1, r, 0)
	return out
}

// members returns the calculator numbers in a mask, ascending.
func members(m uint64) []int {
	out := make([]int, 0, bits.OnesCount64(m))
	for m != 0 {
		j := bits.TrailingZeros64(m)
		out = append(out, j+1)
		m &^= 1 << j
	}
	return out
}

// mask returns the calculator set of r as a bit mask.
func (r Rep) mask() uint64 {
	var m uint64
	for _, x := range r {
		m |= 1 << (x.J - 1)
	}
	return m
}

// Clone returns a deep copy of p.
func (p *Plan) Clone() *Plan {
	q := &Plan{K: p.K, T: p.T, L: p.L, Combiners: make([][]Rep, len(p.Combiners)), Retired: slices.Clone(p.Retired)}
	for a, reps := range p.Combiners {
		q.Combiners[a] = make([]Rep, len(reps))
		for n, r := range reps {
			q.Combiners[a][n] = slices.Clone(r)
		}
	}
	return q
}

// ValidateStructure checks the parameters, the limits and every
// representation (Rep.Validate), but not coverage or security.
func (p *Plan) ValidateStructure() error {
	if p == nil {
		return fmt.Errorf("%w: nil plan", ErrParams)
	}
	if err := CheckParams(p.K, p.T, p.L); err != nil {
		return err
	}
	if len(p.Combiners) > MaxCombiners {
		return fmt.Errorf("%w: %d combiners (max %d)", ErrLimits, len(p.Combiners), MaxCombiners)
	}
	for n, j := range p.Retired {
		if j < 1 || j > p.K || (n > 0 && p.Retired[n-1] >= j) {
			return fmt.Errorf("%w: retired calculators %v: want distinct numbers 1..k, ascending", ErrParams, p.Retired)
		}
	}
	if p.K-len(p.Retired) <= p.T {
		return fmt.Errorf("%w: %d calculators in service, want more than t=%d ([0068])", ErrParams, p.K-len(p.Retired), p.T)
	}
	retired := p.retiredMask()
	total := 0
	for a, reps := range p.Combiners {
		total += len(reps)
		if total > MaxReps {
			return fmt.Errorf("%w: more than %d representations", ErrLimits, MaxReps)
		}
		for _, r := range reps {
			if err := r.Validate(p.K, p.T, p.L); err != nil {
				return fmt.Errorf("combiner %d: %w", a+1, err)
			}
			if r.mask()&retired != 0 {
				return fmt.Errorf("combiner %d: %w: %v uses a retired calculator", a+1, ErrInvalidRep, r)
			}
		}
	}
	return nil
}

// retiredMask is the set of retired calculators.
func (p *Plan) retiredMask() uint64 {
	var m uint64
	for _, j := range p.Retired {
		if j >= 1 && j <= 64 {
			m |= 1 << (j - 1)
		}
	}
	return m
}

// activeSets returns the calculator sets of size t without a retired
// calculator: the sets a plan must cover.
func (p *Plan) activeSets() []uint64 {
	retired := p.retiredMask()
	var out []uint64
	for _, m := range subsets(p.K, p.T) {
		if m&retired == 0 {
			out = append(out, m)
		}
	}
	return out
}

// Validate checks the structure (ValidateStructure) and that every one of the
// C(k,t) calculator sets (without retired calculators) is served by at least
// one combiner ([0089]). It does
// not check security: Check does. Validate never panics on any Plan value.
func (p *Plan) Validate() error {
	if err := p.ValidateStructure(); err != nil {
		return err
	}
	return p.checkCoverage(1)
}

// checkCoverage reports ErrIncomplete unless every calculator set is served
// by at least r distinct combiners.
func (p *Plan) checkCoverage(r int) error {
	n := binom(p.K, p.T)
	if n > MaxReps {
		// Fewer representations than sets: coverage is impossible.
		return fmt.Errorf("%w: C(%d,%d) sets exceed the %d representations a plan may hold", ErrIncomplete, p.K, p.T, MaxReps)
	}
	red := p.redundancy()
	for _, m := range p.activeSets() {
		if got := len(red[m]); got < r {
			return fmt.Errorf("%w: calculators %v served by %d combiners, want %d", ErrIncomplete, members(m), got, r)
		}
	}
	return nil
}

// redundancy maps each calculator set to the distinct combiners (0-based)
// serving it.
func (p *Plan) redundancy() map[uint64][]int {
	red := make(map[uint64][]int)
	for a, reps := range p.Combiners {
		for _, r := range reps {
			m := r.mask()
			if s := red[m]; len(s) == 0 || s[len(s)-1] != a {
				red[m] = append(s, a)
			}
		}
	}
	return red
}

// ParsePlan decodes a plan from JSON ({"k":K,"t":T,"l":L,"combiners":...};
// unknown fields such as "report" are ignored) and validates it with
// Validate. It never panics.
func ParsePlan(b []byte) (*Plan, error) {
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("grouping: decoding plan: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}
