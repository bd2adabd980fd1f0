package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tolerantca/tolerant/grouping"
)

// planOutput is the JSON printed by the plan command: the plan's own fields
// ("k", "t", "l", "combiners") and the audit.
type planOutput struct {
	*grouping.Plan
	Report *grouping.Report `json:"report"`
}

// runPlan implements
//
//	plan -k K -t T -l L [-r R] [-pairs] [-seed S] [-method best|first-fit] [-text]
//
// It searches a combiner plan, audits it with the exact check and prints the
// plan as JSON (with the report under "report"), or with -text the report
// for people.
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("plan: unexpected arguments %q", fs.Args())
	}
	opts := &grouping.Options{Redundancy: *r, Seed: *seed, Pairs: *pairs}
	switch *method {
	case "best":
		opts.Method = grouping.Best
	case "first-fit":
		opts.Method = grouping.FirstFitMethod
	default:
		return fmt.Errorf("plan: unknown -method %q (best or first-fit)", *method)
	}
	if *r < 1 {
		return fmt.Errorf("plan: -r must be at least 1")
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
	if *text {
		return rep.WriteText(stdout)
	}
	enc := json.NewEncoder(stdout)
	return enc.Encode(planOutput{Plan: p, Report: rep})
}

// runCheck implements
//
//	check -plan FILE [-text=false]
//
// It reads a plan (the JSON of the plan command; extra fields are ignored),
// runs the exact check and prints the report (text by default, JSON with
// -json). It returns an error when the plan cannot be read, is incomplete,
// or a combiner with t-1 calculators recovers d.
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
	var b []byte
	var err error
	if *file == "-" {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 256<<20))
	} else {
		b, err = os.ReadFile(*file)
	}
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
		return fmt.Errorf("check: %s: %w: two combiners with t-1 calculators recover d", *file, grouping.ErrInsecure)
	}
	return nil
}
