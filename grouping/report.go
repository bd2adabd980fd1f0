package grouping

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// maxListedPairLeaks caps the coalitions listed per pair of combiners.
const maxListedPairLeaks = 16

// CombinerReport is the audit of one combiner.
type CombinerReport struct {
	// Index is the combiner number, starting at 1.
	Index int `json:"index"`
	// Reps are its equation combination representations.
	Reps []Rep `json:"reps"`
	// Sets is the number of distinct calculator sets it serves.
	Sets int `json:"sets"`
	// Leaks lists every coalition of t-1 calculators that recovers d with
	// this combiner; empty for a secure combiner.
	Leaks [][]int `json:"leaks"`
	// ModularLeaks lists every coalition of t-1 calculators that, with
	// this combiner, learns d mod g for some g > 2 without recovering d
	// (the integer check); empty for a secure combiner.
	ModularLeaks []ModularLeak `json:"modular_leaks,omitempty"`
	// LargestSafeCoalition is the largest coalition size (<= t-1) proven
	// safe with this combiner (integer check), -1 if the combiner alone
	// learns d or d mod g > 2.
	LargestSafeCoalition int `json:"largest_safe_coalition"`
}

// ModularLeak is a coalition of calculators that learns d mod G.
type ModularLeak struct {
	Coalition []int `json:"coalition"`
	// G > 2 is the modulus; -1 means a modulus beyond 2^63-1.
	G int64 `json:"g"`
}

// String returns "d mod G with calculators [..]".
func (m ModularLeak) String() string {
	if m.G < 0 {
		return fmt.Sprintf("d mod a g >= 2^63 with calculators %v", m.Coalition)
	}
	return fmt.Sprintf("d mod %d with calculators %v", m.G, m.Coalition)
}

func toModular(ls []coalLeak) []ModularLeak {
	var out []ModularLeak
	for _, x := range ls {
		if x.g != 0 {
			out = append(out, ModularLeak{Coalition: members(x.mask), G: x.g})
		}
	}
	return out
}

// PairReport is the audit of two combiners pooling their equations.
type PairReport struct {
	// A and B are the combiner numbers (1-based, A < B).
	A int `json:"a"`
	B int `json:"b"`
	// LeakCount is the number of coalitions of t-1 calculators that recover
	// d with both combiners; Leaks lists the first few of them.
	LeakCount int     `json:"leak_count"`
	Leaks     [][]int `json:"leaks,omitempty"`
	// ModularLeakCount is the number of coalitions of t-1 calculators that
	// learn d mod g for some g > 2 (without d) with both combiners;
	// ModularLeaks lists the first few of them.
	ModularLeakCount int           `json:"modular_leak_count,omitempty"`
	ModularLeaks     []ModularLeak `json:"modular_leaks,omitempty"`
	// LargestSafeCoalition is the largest coalition size proven safe with
	// both combiners (integer check), -1 if the two alone learn d or
	// d mod g > 2.
	LargestSafeCoalition int `json:"largest_safe_coalition"`
}

// SetRedundancy says which combiners serve one calculator set.
type SetRedundancy struct {
	Set       []int `json:"set"`
	Combiners []int `json:"combiners"`
}

// Stats are the statistics of a search or check.
type Stats struct {
	// Method is the search that produced the plan ("first-fit", "best",
	// "add-calculator"), empty for a plain check.
	Method string `json:"method,omitempty"`
	// Seed is the seed the search used.
	Seed uint64 `json:"seed"`
	// Duration is the wall time spent.
	Duration time.Duration `json:"duration_ns"`
	// Checks counts single-coalition row reductions (one row reduced
	// against one coalition's lattice basis).
	Checks int64 `json:"checks"`
	// Candidates counts representations tried against a combiner.
	Candidates int64 `json:"candidates"`
	// Restarts is the number of orderings the search tried.
	Restarts int `json:"restarts,omitempty"`
	// FirstFitCombiners is the combiner count of the patent's first-fit
	// under the same options (0 if not run).
	FirstFitCombiners int `json:"first_fit_combiners,omitempty"`
	// LowerBound is a proven lower bound on the number of combiners for
	// these parameters and options (0 if none was computed).
	LowerBound int `json:"lower_bound,omitempty"`
	// MaxPerCombiner is the largest number of calculator sets one combiner
	// can hold securely, when proven (0 if unknown).
	MaxPerCombiner int `json:"max_per_combiner,omitempty"`
	// Arithmetic is the arithmetic of the security checks (ArithInteger).
	Arithmetic Arithmetic `json:"arithmetic"`
	// Proven says that the plan has the fewest combiners possible: its
	// count equals LowerBound.
	Proven bool `json:"proven"`
	// ExactDuration is the time the exact search took (Options.Optimal),
	// 0 if it did not run.
	ExactDuration time.Duration `json:"exact_duration_ns,omitempty"`
}

// Report is the exact audit of a plan (Check).
type Report struct {
	K int `json:"k"`
	T int `json:"t"`
	L int `json:"l"`
	// Combiners has one entry per combiner.
	Combiners []CombinerReport `json:"combiners"`
	// Sets is C(k,t); Covered counts the sets served by at least one
	// combiner, MinRedundancy is the least number of distinct combiners
	// serving a set.
	Sets          int `json:"sets"`
	Covered       int `json:"covered"`
	MinRedundancy int `json:"min_redundancy"`
	// Redundancy lists, for each calculator set, the combiners serving it.
	Redundancy []SetRedundancy `json:"redundancy"`
	// Secure says that no combiner with t-1 calculators learns d, or d mod
	// g for any g > 2: the integer check, exact over the integers (the
	// rank test over the rationals alone misses the modular leaks).
	Secure bool `json:"secure"`
	// Pairs has one entry per pair of combiners that leaks (d or d mod
	// g > 2) with t-1 calculators; PairsSecure says there is none.
	Pairs       []PairReport `json:"pairs,omitempty"`
	PairsSecure bool         `json:"pairs_secure"`
	// PairLargestSafeCoalition is the largest coalition size proven safe
	// with any two combiners together (t-1 when PairsSecure).
	PairLargestSafeCoalition int `json:"pair_largest_safe_coalition"`
	// Stats describes the check (and the search, when the report comes
	// from Search).
	Stats  Stats  `json:"stats"`
	Search *Stats `json:"search,omitempty"`
	// Problem is Verdict's message, absent for a valid plan.
	Problem string `json:"problem,omitempty"`
}

// Verdict returns nil when the report shows a complete and combiner-secure
// plan, an error wrapping ErrIncomplete or ErrInsecure otherwise. Pair
// security is not required (see PairsSecure).
func (r *Report) Verdict() error {
	var errs []error
	if r.Covered < r.Sets {
		errs = append(errs, fmt.Errorf("%w: %d of %d calculator sets served", ErrIncomplete, r.Covered, r.Sets))
	}
	if !r.Secure {
		n := len(errs)
		for _, c := range r.Combiners {
			if len(c.Leaks) > 0 {
				errs = append(errs, fmt.Errorf("%w: combiner %d with calculators %v recovers d", ErrInsecure, c.Index, c.Leaks[0]))
			} else if len(c.ModularLeaks) > 0 {
				errs = append(errs, fmt.Errorf("%w: combiner %d learns %v", ErrInsecure, c.Index, c.ModularLeaks[0]))
			}
		}
		if len(errs) == n {
			errs = append(errs, fmt.Errorf("%w: report marked insecure", ErrInsecure))
		}
	}
	return errors.Join(errs...)
}

// Check audits p exactly: for every combiner every coalition of t-1
// calculators that recovers d, for every pair of combiners the same and the
// largest coalition proven safe, coverage and redundancy per calculator set.
// It returns an error only for a plan that fails ValidateStructure or the
// limits; an insecure or incomplete plan yields a report whose Verdict
// says so.
func Check(p *Plan) (*Report, error) {
	start := time.Now()
	if err := p.ValidateStructure(); err != nil {
		return nil, err
	}
	k, t, l := p.K, p.T, p.L
	total := 0
	for _, reps := range p.Combiners {
		total += len(reps)
	}
	if err := checkWork(binom(k, t-1), total, len(p.Combiners)); err != nil {
		return nil, err
	}
	rep := &Report{K: k, T: t, L: l, Secure: true, PairsSecure: true, PairLargestSafeCoalition: t - 1}
	rep.Stats.Arithmetic = ArithInteger
	coal := subsets(k, t-1)
	var checks int64
	for a, reps := range p.Combiners {
		leaks := integerLeaks(k, l, reps, coal, false, &checks)
		cr := CombinerReport{Index: a + 1, Reps: reps, Leaks: masksToLists(leakMasks(leaks, true)), ModularLeaks: toModular(leaks), LargestSafeCoalition: t - 1}
		sets := map[uint64]bool{}
		for _, r := range reps {
			sets[r.mask()] = true
		}
		cr.Sets = len(sets)
		if len(leaks) > 0 {
			rep.Secure = false
			cr.LargestSafeCoalition = largestSafe(k, t, l, reps, &checks)
		}
		rep.Combiners = append(rep.Combiners, cr)
	}
	for a := range p.Combiners {
		for b := a + 1; b < len(p.Combiners); b++ {
			union := append(slices.Clip(p.Combiners[a]), p.Combiners[b]...)
			leaks := integerLeaks(k, l, union, coal, false, &checks)
			if len(leaks) == 0 {
				continue
			}
			full, mod := leakMasks(leaks, true), toModular(leaks)
			pr := PairReport{A: a + 1, B: b + 1, LeakCount: len(full), Leaks: masksToLists(full[:min(len(full), maxListedPairLeaks)]),
				ModularLeakCount: len(mod), ModularLeaks: mod[:min(len(mod), maxListedPairLeaks)]}
			pr.LargestSafeCoalition = largestSafe(k, t, l, union, &checks)
			rep.PairsSecure = false
			rep.PairLargestSafeCoalition = min(rep.PairLargestSafeCoalition, pr.LargestSafeCoalition)
			rep.Pairs = append(rep.Pairs, pr)
		}
	}
	red := p.redundancy()
	all := p.activeSets()
	rep.Sets = len(all)
	rep.MinRedundancy = -1
	for _, m := range all {
		cs := red[m]
		names := make([]int, len(cs))
		for i, c := range cs {
			names[i] = c + 1
		}
		rep.Redundancy = append(rep.Redundancy, SetRedundancy{Set: members(m), Combiners: names})
		if len(cs) > 0 {
			rep.Covered++
		}
		if rep.MinRedundancy < 0 || len(cs) < rep.MinRedundancy {
			rep.MinRedundancy = len(cs)
		}
	}
	rep.Stats.Checks = checks
	rep.Stats.Duration = time.Since(start)
	if err := rep.Verdict(); err != nil {
		rep.Problem = err.Error()
	}
	return rep, nil
}

// WriteText writes a report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Combiner plan for k=%d calculators, threshold t=%d, l=%d shares each: %d combiners\n", r.K, r.T, r.L, len(r.Combiners))
	verdict := "SECURE: no combiner together with t-1 calculators learns d or d mod g for any g > 2"
	if !r.Secure {
		verdict = "INSECURE: a combiner together with t-1 calculators learns d or d mod g for some g > 2"
	}
	fmt.Fprintf(&b, "%s\n", verdict)
	b.WriteString("Verdict: exact over the integers (integer lattice of the equations, not only their rational rank)\n")
	fmt.Fprintf(&b, "Coverage: %d of %d calculator sets served; least redundancy %d combiner(s)\n", r.Covered, r.Sets, r.MinRedundancy)
	if r.PairsSecure {
		fmt.Fprintf(&b, "Pairs: any two combiners together with %d calculators are safe\n", r.T-1)
	} else {
		fmt.Fprintf(&b, "Pairs: %d pair(s) of combiners learn d or d mod g > 2 with t-1 calculators; any two combiners are proven safe only with at most %d calculator(s)", len(r.Pairs), r.PairLargestSafeCoalition)
		if r.PairLargestSafeCoalition < 0 {
			fmt.Fprintf(&b, " (some pair alone learns d or d mod g > 2)")
		}
		fmt.Fprintf(&b, "\n")
	}
	for _, c := range r.Combiners {
		fmt.Fprintf(&b, "\nCombiner %d: %d representation(s), %d calculator set(s), safe with up to %d calculator(s)\n", c.Index, len(c.Reps), c.Sets, c.LargestSafeCoalition)
		for n, rp := range c.Reps {
			if n > 0 && n%8 == 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, " %v", rp)
		}
		b.WriteString("\n")
		for _, lk := range c.Leaks {
			fmt.Fprintf(&b, "  LEAK of d with calculators %v\n", lk)
		}
		for _, lk := range c.ModularLeaks {
			fmt.Fprintf(&b, "  LEAK of %v\n", lk)
		}
	}
	for _, pr := range r.Pairs {
		fmt.Fprintf(&b, "Pair %d+%d: %d coalition(s) of t-1 recover d", pr.A, pr.B, pr.LeakCount)
		if len(pr.Leaks) > 0 {
			fmt.Fprintf(&b, " (e.g. %v)", pr.Leaks[0])
		}
		fmt.Fprintf(&b, ", %d learn d mod g > 2", pr.ModularLeakCount)
		if len(pr.ModularLeaks) > 0 {
			fmt.Fprintf(&b, " (e.g. %v)", pr.ModularLeaks[0])
		}
		fmt.Fprintf(&b, "; safe with up to %d calculator(s)\n", pr.LargestSafeCoalition)
	}
	hist := map[int]int{}
	for _, s := range r.Redundancy {
		hist[len(s.Combiners)]++
	}
	b.WriteString("\nRedundancy (combiners per calculator set):")
	for n := 0; n <= len(r.Combiners); n++ {
		if hist[n] > 0 {
			fmt.Fprintf(&b, " %d set(s) x%d;", hist[n], n)
		}
	}
	b.WriteString("\n")
	if len(r.Redundancy) <= 56 {
		for _, s := range r.Redundancy {
			fmt.Fprintf(&b, "  %v: %v\n", s.Set, s.Combiners)
		}
	}
	writeStats(&b, "Check", &r.Stats)
	if r.Search != nil {
		writeStats(&b, "Search", r.Search)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeStats(b *strings.Builder, what string, s *Stats) {
	fmt.Fprintf(b, "%s: %v, %d row reductions, arithmetic %s", what, s.Duration.Round(time.Microsecond), s.Checks, s.Arithmetic)
	if s.Method != "" {
		fmt.Fprintf(b, ", method %s, seed %d, %d candidates, %d ordering(s)", s.Method, s.Seed, s.Candidates, s.Restarts)
	}
	if s.FirstFitCombiners > 0 {
		fmt.Fprintf(b, ", patent first-fit: %d combiners", s.FirstFitCombiners)
	}
	if s.LowerBound > 0 {
		fmt.Fprintf(b, ", proven lower bound: %d combiners", s.LowerBound)
	}
	if s.MaxPerCombiner > 0 {
		fmt.Fprintf(b, ", at most %d sets per combiner", s.MaxPerCombiner)
	}
	if s.Method != "" {
		if s.Proven {
			b.WriteString(", proven optimal (count = lower bound)")
		} else {
			b.WriteString(", not proven optimal")
		}
	}
	if s.ExactDuration > 0 {
		fmt.Fprintf(b, ", exact search %v", s.ExactDuration.Round(time.Microsecond))
	}
	b.WriteString("\n")
}
