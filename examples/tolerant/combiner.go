package main

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
)

const combinerUsage = `Usage: tolerant combiner add -cluster DIR -out NEWDIR [-copy A] (-recipients FILE [-passphrase-file FILE] | -insecure-plaintext-keys)
       tolerant combiner remove -cluster DIR -combiner A -out NEWDIR [-insecure-below-redundancy] (-recipients FILE [-passphrase-file FILE] | -insecure-plaintext-keys)

add puts a new combiner in service, numbered one above every combiner ever
dealt. It serves what combiner A serves (-copy A; by default the combiner
that serves the most of the calculator sets with the fewest combiners),
which raises their redundancy: the new combiner knows only what A knows,
so it is as safe as A, and any two combiners stay as safe as before. The
dealer checks it against every combiner's history anyway.

remove takes combiner A out of service. Its number is never reused and
its history stays in the dealer's state (it keeps its old bundle); its
bundle and roster entry are left out of NEWDIR, so nodes restarted with
NEWDIR refuse its packets. It is refused when a calculator set would be
left with fewer combiners than the redundancy the key was dealt with,
unless -insecure-below-redundancy lowers that redundancy to what remains;
a set without any combiner is always refused.

Both write every node's bundle again (the roster changed) and the dealer's
state; existing shares and second sub-keys are unchanged, so nodes can be
restarted with their new bundles one by one while the cluster signs. The
recipients file lists every node of the changed cluster.

`

// runCombiner implements "tolerant combiner add|remove".
func runCombiner(args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stderr, combinerUsage)
		return nil
	}
	if len(args) == 0 || (args[0] != "add" && args[0] != "remove") {
		fmt.Fprint(stderr, combinerUsage)
		return errUsage
	}
	if args[0] == "add" {
		return runCombinerAdd(args[1:], stdout, stderr)
	}
	return runCombinerRemove(args[1:], stdout, stderr)
}

func runCombinerAdd(args []string, stdout, stderr io.Writer) error {
	cc := newClusterChange("combiner add", combinerUsage, stderr)
	from := cc.fs.Int("copy", 0, "serve what this combiner serves (default: the one serving the least served calculator sets)")
	if help, err := cc.parse(args); help || err != nil {
		return err
	}
	_, dl, rc, passphrase, err := cc.open()
	if err != nil {
		return err
	}
	a := *from
	if a == 0 {
		a = weakestCombiner(dl.Plan())
	}
	reps, err := servedBy(dl, a)
	if err != nil {
		return fmt.Errorf("combiner add: %w", err)
	}
	n := dl.NextCombiner()
	cc.progress("dealing combiner %d the representations of combiner %d", n, a)
	dealing, err := dl.AddCombiner(reps)
	if err != nil {
		return fmt.Errorf("combiner add: %w", err)
	}
	if err := cc.write(dl, dealing, rc, passphrase); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added combiner %d to key %s, serving what combiner %d serves: %s\n", n, dl.KeyID(), a, joinReps(reps))
	fmt.Fprintf(stdout, "start combiner %d with its bundle from %s, then restart every node with its bundle from %s one by one\n", n, *cc.out, *cc.out)
	return nil
}

// errNotServing is returned by combiner add for a -copy combiner that has
// nothing to copy.
var errNotServing = errors.New("serves no calculator set in service")

// servedBy returns what combiner a serves now, or, for a combiner out of
// service, what it served: its history without representations that use
// a retired calculator. Either is safe to copy (see share.Dealer.AddCombiner).
func servedBy(dl *share.Dealer, a int) ([]grouping.Rep, error) {
	plan, hist := dl.Plan(), dl.History()
	if a < 1 || a > len(hist) {
		return nil, fmt.Errorf("%w: no combiner %d", share.ErrParameters, a)
	}
	if a <= len(plan.Combiners) && len(plan.Combiners[a-1]) > 0 {
		return plan.Combiners[a-1], nil
	}
	var reps []grouping.Rep
	for _, r := range hist[a-1] {
		if !slices.ContainsFunc(r, func(x grouping.Term) bool { return slices.Contains(plan.Retired, x.J) }) {
			reps = append(reps, r)
		}
	}
	if len(reps) == 0 {
		return nil, fmt.Errorf("combiner %d %w", a, errNotServing)
	}
	return reps, nil
}

// weakestCombiner returns the combiner in service that serves the most
// calculator sets among those served by the fewest combiners (the lowest
// number on a tie).
func weakestCombiner(plan *grouping.Plan) int {
	serving := map[string]map[int]bool{}
	for a, reps := range plan.Combiners {
		for _, r := range reps {
			key := fmt.Sprint(r.Calculators())
			if serving[key] == nil {
				serving[key] = map[int]bool{}
			}
			serving[key][a+1] = true
		}
	}
	least := -1
	for _, s := range serving {
		if least < 0 || len(s) < least {
			least = len(s)
		}
	}
	best, bestCount := 0, -1
	for a, reps := range plan.Combiners {
		count := 0
		for _, r := range reps {
			if len(serving[fmt.Sprint(r.Calculators())]) == least {
				count++
			}
		}
		if len(reps) > 0 && count > bestCount {
			best, bestCount = a+1, count
		}
	}
	return best
}

func runCombinerRemove(args []string, stdout, stderr io.Writer) error {
	cc := newClusterChange("combiner remove", combinerUsage, stderr)
	a := cc.fs.Int("combiner", 0, "number of the combiner to take out of service (required)")
	below := cc.fs.Bool("insecure-below-redundancy", false, "allow calculator sets to keep fewer combiners than the key's redundancy (never none), and lower it")
	if help, err := cc.parse(args); help || err != nil {
		return err
	}
	if *a < 1 {
		return cc.usage("-combiner A is required")
	}
	_, dl, rc, passphrase, err := cc.open()
	if err != nil {
		return err
	}
	before, _ := dl.Guarantees()
	cc.progress("taking combiner %d out of service", *a)
	dealing, err := dl.RemoveCombiner(*a, &share.ChangeOptions{InsecureBelowRedundancy: *below})
	if err != nil {
		return fmt.Errorf("combiner remove: %w", err)
	}
	if err := cc.write(dl, dealing, rc, passphrase); err != nil {
		return err
	}
	after, _ := dl.Guarantees()
	fmt.Fprintf(stdout, "removed combiner %d of key %s: %d combiners in service\n", *a, dl.KeyID(), len(dealing.Combiners))
	if after < before {
		fmt.Fprintf(stdout, "warning: the key's redundancy is now %d (was %d)\n", after, before)
	}
	fmt.Fprintf(stdout, "restart every node with its bundle from %s one by one, then stop combiner %d and destroy its bundle\n", *cc.out, *a)
	return nil
}
