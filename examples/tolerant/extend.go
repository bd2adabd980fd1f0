package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

const extendUsage = `Usage: tolerant extend -cluster DIR -out NEWDIR -recipients FILE [-passphrase-file FILE]
       tolerant extend -cluster DIR -out NEWDIR -insecure-plaintext-keys

Adds calculator k+1 to a dealt cluster from the dealer's state alone, without
the CA key ([0054] point 2): it draws l shares for the new calculator, adds
representations that use it to the plan (the existing ones and their c_a
stay as they are, so running combiners keep working), and writes NEWDIR:
every node's bundle again (they carry the roster, which now lists the new
calculator), the new calculator's, and the dealer's state. The recipients
file lists every node of the extended cluster, the new calculator included.

The plan comes from the sealed dealer's state, never from plan.json: a
plan.json that disagrees with it is refused. New representations are
placed so that every combiner, with everything it was ever dealt in this
epoch, stays secure against t-1 calculators, and the guarantees the plan
was dealt with (redundancy, -pairs) are kept.

`

// clusterChange is what extend and retire share: the flags naming the old
// and new cluster directories and how the new one is sealed, and the
// opening and writing of clusters.
type clusterChange struct {
	name           string
	fs             *flag.FlagSet
	dir, out       *string
	recipientsPath *string
	passFile       *string
	plaintext      *bool
	stderr         io.Writer
}

func newClusterChange(name, usage string, stderr io.Writer) *clusterChange {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cc := &clusterChange{
		name:           name,
		fs:             fs,
		dir:            fs.String("cluster", "", "cluster directory written by deal (required)"),
		out:            fs.String("out", "", "directory to write the changed cluster to (required)"),
		recipientsPath: fs.String("recipients", "", "file of the nodes' age recipients of the changed cluster"),
		passFile:       fs.String("passphrase-file", "", "file holding the dealer's passphrase (default: $"+passphraseEnv+")"),
		plaintext:      fs.Bool("insecure-plaintext-keys", false, "the cluster is plaintext, and so is the result (tests and demos only)"),
		stderr:         stderr,
	}
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return cc
}

// usage prints what is wrong with the flags, then the usage; it returns
// errUsage.
func (cc *clusterChange) usage(problem string) error {
	fmt.Fprintf(cc.stderr, "%s: %s\n", cc.name, problem)
	cc.fs.Usage()
	return errUsage
}

// parse parses args; help is true after -h.
func (cc *clusterChange) parse(args []string) (help bool, err error) {
	if help, err := parseFlags(cc.fs, args, cc.stderr); help || err != nil {
		return help, err
	}
	if *cc.dir == "" || *cc.out == "" || *cc.plaintext == (*cc.recipientsPath != "") {
		return false, cc.usage("-cluster, -out, and either -recipients or -insecure-plaintext-keys are required")
	}
	return false, nil
}

func (cc *clusterChange) progress(format string, args ...any) {
	fmt.Fprintf(cc.stderr, cc.name+": "+format+"\n", args...)
}

// errNoPlan is returned for a dealer's state that records no plan or no
// history of what each combiner holds.
var errNoPlan = errors.New("the dealer's state records no plan or no history of what each combiner was dealt " +
	"(it predates that record); it cannot be changed safely: deal the key again with a new -epoch")

// open loads the public files of the old cluster and the dealer's state,
// which must keep a plan and the combiners' histories and agree with
// plan.json, and reads the recipients and the passphrase.
func (cc *clusterChange) open() (c *seal.Cluster, dl *share.Dealer, rc *seal.Recipients, passphrase string, err error) {
	if _, err := os.Lstat(filepath.Join(*cc.out, seal.InfoFile)); err == nil {
		return nil, nil, nil, "", fmt.Errorf("%s: %s already holds a cluster", cc.name, *cc.out)
	}
	// The public files are checked against the dealer's own key once its
	// state is open (Cluster.Dealer): nothing is trusted before that.
	if c, err = seal.LoadPublic(*cc.dir, seal.Trust{InsecureTrustOnFirstUse: true}); err != nil {
		return nil, nil, nil, "", fmt.Errorf("%s: %w", cc.name, err)
	}
	if c.Info.Sealed == *cc.plaintext {
		return nil, nil, nil, "", fmt.Errorf("%s: %s is sealed=%v: %s", cc.name, *cc.dir, c.Info.Sealed, "use -recipients for a sealed cluster, -insecure-plaintext-keys for a plaintext one")
	}
	if !*cc.plaintext {
		f, err := os.Open(*cc.recipientsPath)
		if err != nil {
			return nil, nil, nil, "", fmt.Errorf("%s: %w", cc.name, err)
		}
		rc, err = seal.ParseRecipients(f)
		f.Close()
		if err != nil {
			return nil, nil, nil, "", fmt.Errorf("%s: %s: %w", cc.name, *cc.recipientsPath, err)
		}
		if passphrase, err = readPassphrase(*cc.passFile, cc.stderr); err != nil {
			return nil, nil, nil, "", err
		}
	}
	cc.progress("opening the dealer's state")
	if dl, err = c.Dealer(passphrase); err != nil {
		return nil, nil, nil, "", fmt.Errorf("%s: %w", cc.name, err)
	}
	if !dl.HasHistory() || dl.Plan() == nil {
		return nil, nil, nil, "", fmt.Errorf("%s: %s: %w", cc.name, *cc.dir, errNoPlan)
	}
	return c, dl, rc, passphrase, nil
}

// write checks the changed plan (coverage and security; the dealer has
// checked every combiner's history) and writes the new cluster.
func (cc *clusterChange) write(dl *share.Dealer, dealing *share.Dealing, rc *seal.Recipients, passphrase string) error {
	report, err := grouping.Check(dealing.Plan)
	if err != nil {
		return fmt.Errorf("%s: checking the plan: %w", cc.name, err)
	}
	if err := report.Verdict(); err != nil {
		return fmt.Errorf("%s: the changed plan is not usable: %w", cc.name, err)
	}
	k, _, _ := dl.Params()
	if rc != nil {
		if err := rc.CheckNumbers(len(dealing.Distributors), k, seal.InService(dealing.Plan)); err != nil {
			return fmt.Errorf("%s: %s: %w", cc.name, *cc.recipientsPath, err)
		}
		err = seal.WriteClusterWithOptions(*cc.out, dl, dealing, rc, passphrase, &seal.Options{
			Progress:                         func(m string) { cc.progress("%s", m) },
			InsecureScryptWorkFactorForTests: testScryptWorkFactor,
		})
	} else {
		err = seal.WritePlaintextCluster(*cc.out, dl, dealing)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", cc.name, err)
	}
	return nil
}

// runExtend implements "tolerant extend".
func runExtend(args []string, stdout, stderr io.Writer) error {
	cc := newClusterChange("extend", extendUsage, stderr)
	if help, err := cc.parse(args); help || err != nil {
		return err
	}
	_, dl, rc, passphrase, err := cc.open()
	if err != nil {
		return err
	}
	plan, history, numbers := inService(dl)
	k, _, l := dl.Params()
	redundancy, pairs := dl.Guarantees()
	cc.progress("placing the representations of calculator %d", k+1)
	compact, added, err := plan.AddCalculator(&grouping.Options{Redundancy: redundancy, Pairs: pairs, History: history})
	if err != nil {
		return fmt.Errorf("extend: plan: %w", err)
	}
	next, numbers := renumber(dl, compact, numbers)
	cc.progress("drawing %d shares for calculator %d", l, k+1)
	if _, err := dl.AddCalculator(rand.Reader); err != nil {
		return fmt.Errorf("extend: %w", err)
	}
	dealing, err := dl.Deal(next)
	if err != nil {
		return fmt.Errorf("extend: %w", err)
	}
	if err := cc.write(dl, dealing, rc, passphrase); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added calculator %d to key %s: %d calculators, %d combiners\n", k+1, dl.KeyID(), k+1, len(next.Combiners))
	for a, reps := range added {
		if len(reps) == 0 {
			continue
		}
		state := "new representations"
		if a >= len(plan.Combiners) {
			state = "a new combiner"
		}
		fmt.Fprintf(stdout, "  combiner %d: %s %s\n", numbers[a], state, joinReps(reps))
	}
	fmt.Fprintf(stdout, "every representation dealt before keeps its second sub-key; restart each node with its bundle from %s\n", *cc.out)
	return nil
}

// inService returns the dealer's plan and history without the combiners
// taken out of service, and the numbers of those kept (numbers[a] for
// entry a): the grouping package would deal new representations to a
// combiner that holds none. Leaving the removed combiners' histories out
// is exact for each combiner's own security; pairs with a removed
// combiner are checked by the dealer against every history when it deals.
func inService(dl *share.Dealer) (plan *grouping.Plan, history [][]grouping.Rep, numbers []int) {
	full, hist := dl.Plan(), dl.History()
	plan = full.Clone()
	plan.Combiners = nil
	for a, reps := range full.Combiners {
		if len(reps) == 0 {
			continue
		}
		plan.Combiners = append(plan.Combiners, reps)
		if a < len(hist) {
			history = append(history, hist[a])
		} else {
			history = append(history, nil)
		}
		numbers = append(numbers, a+1)
	}
	return plan, history, numbers
}

// renumber maps a plan over the combiners numbered numbers, and new ones
// after them, back to the dealer's numbering: combiners out of service
// stay empty and new ones get numbers above every number dealt. It
// returns the plan and the number of every entry of compact.
func renumber(dl *share.Dealer, compact *grouping.Plan, numbers []int) (*grouping.Plan, []int) {
	next := compact.Clone()
	next.Combiners = make([][]grouping.Rep, len(dl.Plan().Combiners))
	for a := range next.Combiners {
		next.Combiners[a] = []grouping.Rep{}
	}
	numbers = slices.Clone(numbers)
	for a, reps := range compact.Combiners {
		if a < len(numbers) {
			next.Combiners[numbers[a]-1] = reps
			continue
		}
		next.Combiners = append(next.Combiners, reps)
		numbers = append(numbers, len(next.Combiners))
	}
	return next, numbers
}
