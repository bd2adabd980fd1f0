package main

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/tolerantca/tolerant/grouping"
)

const retireUsage = `Usage: tolerant retire -cluster DIR -calculator J -out NEWDIR -recipients FILE [-passphrase-file FILE]
       tolerant retire -cluster DIR -calculator J -out NEWDIR -insecure-plaintext-keys

Takes calculator J out of service ([0054] point 3) from the dealer's state
alone: every representation that uses J is dropped from the plan, nothing
is renumbered, and NEWDIR gets every node's bundle again (combiners hold
only their remaining representations) and the dealer's state, which
remembers what each combiner was dealt: a combiner that keeps its old
bundle still knows the dropped equations, so every later extend places new
representations against all of them. More than t calculators must stay in
service. Calculator J's bundle is written too (the layout numbers
calculators 1..k); do not deploy it. A combiner left without any
representation gets one it can hold safely with everything it was dealt
(and, for a pair-safe plan, with every other combiner), so that every
combiner keeps key material; when none fits, retire refuses (deal the key
again with a new -epoch). The recipients file lists every node of the
changed cluster.

`

// runRetire implements "tolerant retire".
func runRetire(args []string, stdout, stderr io.Writer) error {
	cc := newClusterChange("retire", retireUsage, stderr)
	j := cc.fs.Int("calculator", 0, "number of the calculator to retire (required)")
	if help, err := cc.parse(args); help || err != nil {
		return err
	}
	if *j < 1 {
		return cc.usage("-calculator J is required")
	}
	_, dl, rc, passphrase, err := cc.open()
	if err != nil {
		return err
	}
	cc.progress("dropping the representations of calculator %d", *j)
	next, removed, err := dl.Plan().RemoveCalculator(*j)
	if err != nil {
		return fmt.Errorf("retire: %w", err)
	}
	_, pairs := dl.Guarantees()
	next, filled, err := next.FillEmpty(&grouping.Options{Pairs: pairs, History: dl.History()})
	if err != nil {
		return fmt.Errorf("retire: calculator %d: %w", *j, err)
	}
	// Combiners out of service stay empty: what FillEmpty gave them is
	// dropped (dropping equations never helps a coalition).
	for _, a := range dl.RemovedCombiners() {
		if a <= len(next.Combiners) {
			next.Combiners[a-1], filled[a-1] = []grouping.Rep{}, nil
		}
	}
	for a, reps := range next.Combiners {
		if slices.Contains(dl.RemovedCombiners(), a+1) {
			continue
		}
		if len(reps) == 0 {
			return fmt.Errorf("retire: calculator %d: combiner %d %w", *j, a+1, errEmptyCombiner)
		}
	}
	dealing, err := dl.Deal(next)
	if err != nil {
		return fmt.Errorf("retire: %w", err)
	}
	if err := cc.write(dl, dealing, rc, passphrase); err != nil {
		return err
	}
	k, _, _ := dl.Params()
	fmt.Fprintf(stdout, "retired calculator %d of key %s: %d of %d calculators in service, %d combiners\n",
		*j, dl.KeyID(), k-len(next.Retired), k, len(next.Combiners))
	for a, reps := range removed {
		if len(reps) == 0 {
			continue
		}
		fmt.Fprintf(stdout, "  combiner %d: dropped %s", a+1, joinReps(reps))
		if len(filled[a]) > 0 {
			fmt.Fprintf(stdout, "; left with nothing, it gets %s", joinReps(filled[a]))
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "restart each node with its bundle from %s; stop calculator %d\n", *cc.out, *j)
	return nil
}

// errEmptyCombiner is returned by retire when a combiner would be left
// without any representation: every combiner of the layout (and of the
// roster) holds key material.
var errEmptyCombiner = errors.New("would hold no representation, and none fits it with what it was dealt")
