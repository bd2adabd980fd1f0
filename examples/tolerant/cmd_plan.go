package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/fileio"
)

// planOutput is the JSON printed by the plan command: the plan's own fields
// ("k", "t", "l", "combiners") and the audit.
type planOutput struct {
	*grouping.Plan
	Report *grouping.Report `json:"report"`
	Load   *grouping.Load   `json:"load"`
}

// runPlan implements
//
//	plan -k K -t T -l L [-r R] [-pairs] [-seed S] [-method best|first-fit]
//	     [-optimal [-time-limit D]] [-text]
//
// It searches a combiner plan, audits it with the check that is exact over
// the integers (a combiner with t-1 calculators must learn neither d nor
// d mod g for any g > 2) and prints the plan as JSON (with the report under
// "report" and the load under "load"), or with -text the report for
// people, which lists every modular leak, each combiner's share of the
// calculator sets and of the tasks, where a lost combiner's tasks go, and
// the trade-off between l and the number of combiners. With -optimal an
// exact search runs within -time-limit and the output says whether the
// count is proven to be the fewest. Parameters outside
// grouping.CheckParams are refused before any search.
func runPlan(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	k := fs.Int("k", 5, "number of secret share calculators")
	t := fs.Int("t", 3, "threshold: calculators needed for a signature")
	l := fs.Int("l", 2, "first sub-secret-keys (shares) per calculator")
	r := fs.Int("r", 1, "redundancy: combiners serving every calculator set")
	pairs := fs.Bool("pairs", false, "make any two combiners together with t-1 calculators safe")
	seed := fs.Uint64("seed", 1, "seed of the search")
	method := fs.String("method", "best", "search: best or first-fit (the patent's [0076]-[0083])")
	text := fs.Bool("text", false, "print the report for people instead of JSON")
	optimal := fs.Bool("optimal", false, "run an exact search for fewer combiners and say whether the count is proven")
	limit := fs.Duration("time-limit", grouping.DefaultTimeLimit, "time limit of the exact search (-optimal)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("plan: unexpected arguments %q", fs.Args())
	}
	opts := &grouping.Options{Redundancy: *r, Seed: *seed, Pairs: *pairs, Optimal: *optimal, TimeLimit: *limit}
	switch *method {
	case "best":
		opts.Method = grouping.Best
	case "first-fit":
		opts.Method = grouping.FirstFitMethod
	default:
		return fmt.Errorf("plan: unknown -method %q (best or first-fit)", *method)
	}
	if *limit <= 0 {
		return fmt.Errorf("plan: -time-limit must be positive")
	}
	if *r < 1 {
		return fmt.Errorf("plan: -r must be at least 1")
	}
	if err := grouping.CheckParams(*k, *t, *l); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	p, stats, err := grouping.Search(*k, *t, *l, opts)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	rep, err := grouping.Check(p)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	rep.Search = stats
	load := p.Load()
	if !*text {
		return json.NewEncoder(stdout).Encode(planOutput{Plan: p, Report: rep, Load: load})
	}
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if err := load.WriteText(stdout); err != nil {
		return err
	}
	return writeShareCosts(stdout, *k, *t, *l, opts)
}

// tradeoffWork bounds C(k,t)*C(k,t-1) for the l-against-combiners table of
// plan -text, which runs one search per l.
const tradeoffWork = 20000

// writeShareCosts prints the trade-off between l and the number of
// combiners: up to the smallest l with which r combiners serve every
// calculator set (at least the l asked for, at most grouping.MaxShares).
func writeShareCosts(w io.Writer, k, t, l int, opts *grouping.Options) error {
	if binomial(k, t)*binomial(k, t-1) > tradeoffWork {
		_, err := fmt.Fprintf(w, "l against combiners: not computed for (k,t)=(%d,%d) (one search per l; too large)\n", k, t)
		return err
	}
	o := *opts
	o.TimeLimit = grouping.ShareCostTimeLimit
	rows, err := grouping.ShareCosts(k, t, min(grouping.MaxShares, max(l, 4)), &o)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	fmt.Fprintf(w, "l against combiners (each calculator makes l exponentiations per task):\n")
	for _, row := range rows {
		proven := ""
		if row.Proven {
			proven = ", proven fewest"
		}
		fmt.Fprintf(w, "  l=%d: %d combiners (lower bound %d%s), %d exponentiations per calculator per task\n", row.L, row.Combiners, row.LowerBound, proven, row.ExpsPerTask)
	}
	return nil
}

// binomial returns C(n, r), saturating at 1<<40.
func binomial(n, r int) int {
	if r < 0 || r > n {
		return 0
	}
	v := 1
	for i := 1; i <= r; i++ {
		v = v * (n - r + i) / i
		if v > 1<<40 {
			return 1 << 40
		}
	}
	return v
}

// runCheck implements
//
//	check -plan FILE [-text=false]
//
// It reads a plan (the JSON of the plan command; extra fields are ignored),
// runs the check that is exact over the integers and prints the report
// (text by default, JSON with -json; both list the coalitions that learn d
// and those that learn d mod g). It returns an error when the plan cannot
// be read, is incomplete, or a combiner with t-1 calculators learns d or
// d mod g for some g > 2.
func runCheck(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	file := fs.String("plan", "", "plan JSON file (\"-\" for standard input)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pairs := fs.Bool("pairs", false, "also fail when two combiners together with t-1 calculators recover d")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" || fs.NArg() > 0 {
		return errors.New("check: usage: check -plan FILE [-json] [-pairs]")
	}
	b, err := readPlanFile(*file)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	var p grouping.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("check: %s: %w", *file, err)
	}
	rep, err := grouping.Check(&p)
	if err != nil {
		return fmt.Errorf("check: %s: %w", *file, err)
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if err := rep.Verdict(); err != nil {
		return fmt.Errorf("check: %s: %w", *file, err)
	}
	if *pairs && !rep.PairsSecure {
		return fmt.Errorf("check: %s: %w: two combiners with t-1 calculators learn d or d mod g > 2", *file, grouping.ErrInsecure)
	}
	return nil
}

// maxPlanFile bounds the plan file check reads.
const maxPlanFile = 256 << 20

// readPlanFile reads at most maxPlanFile bytes of name ("-": standard input).
func readPlanFile(name string) ([]byte, error) {
	f := os.Stdin
	if name != "-" {
		var err error
		if f, err = os.Open(name); err != nil {
			return nil, err
		}
		defer f.Close()
	}
	b, err := fileio.ReadAll(f, maxPlanFile)
	if errors.Is(err, fileio.ErrTooLarge) {
		return nil, fmt.Errorf("%w: plan file larger than %d bytes", grouping.ErrLimits, maxPlanFile)
	}
	return b, err
}
