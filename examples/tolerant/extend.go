package main

import (
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tolerantca/tolerant/grouping"
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

`

// runExtend implements "tolerant extend".
func runExtend(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("extend", flag.ContinueOnError)
	dir := fs.String("cluster", "", "cluster directory written by deal (required)")
	out := fs.String("out", "", "directory to write the extended cluster to (required)")
	recipientsPath := fs.String("recipients", "", "file of the nodes' age recipients, the new calculator's included")
	passFile := fs.String("passphrase-file", "", "file holding the dealer's passphrase (default: $"+passphraseEnv+")")
	plaintext := fs.Bool("insecure-plaintext-keys", false, "the cluster is plaintext, and so is the result (tests and demos only)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), extendUsage)
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	if *dir == "" || *out == "" || *plaintext == (*recipientsPath != "") {
		fmt.Fprintln(stderr, "extend: -cluster, -out, and either -recipients or -insecure-plaintext-keys are required")
		fs.Usage()
		return errUsage
	}
	progress := func(format string, args ...any) { fmt.Fprintf(stderr, "extend: "+format+"\n", args...) }
	if _, err := os.Lstat(filepath.Join(*out, seal.InfoFile)); err == nil {
		return fmt.Errorf("extend: %s already holds a cluster", *out)
	}
	// The public files are checked against the dealer's own key once its
	// state is open (Cluster.Dealer): nothing is trusted before that.
	c, err := seal.LoadPublic(*dir, seal.Trust{InsecureTrustOnFirstUse: true})
	if err != nil {
		return fmt.Errorf("extend: %w", err)
	}
	if c.Info.Sealed == *plaintext {
		return fmt.Errorf("extend: %s is sealed=%v: %s", *dir, c.Info.Sealed, "use -recipients for a sealed cluster, -insecure-plaintext-keys for a plaintext one")
	}
	var rc *seal.Recipients
	var passphrase string
	if !*plaintext {
		f, err := os.Open(*recipientsPath)
		if err != nil {
			return fmt.Errorf("extend: %w", err)
		}
		rc, err = seal.ParseRecipients(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("extend: %s: %w", *recipientsPath, err)
		}
		if passphrase, err = readPassphrase(*passFile, stderr); err != nil {
			return err
		}
	}
	progress("opening the dealer's state")
	dl, err := c.Dealer(passphrase)
	if err != nil {
		return fmt.Errorf("extend: %w", err)
	}
	k, _, l := dl.Params()
	progress("placing the representations of calculator %d", k+1)
	next, added, err := c.Plan.AddCalculator(nil)
	if err != nil {
		return fmt.Errorf("extend: plan: %w", err)
	}
	report, err := grouping.Check(next)
	if err != nil {
		return fmt.Errorf("extend: checking the plan: %w", err)
	}
	if err := report.Verdict(); err != nil {
		return fmt.Errorf("extend: the extended plan is not usable: %w", err)
	}
	progress("drawing %d shares for calculator %d", l, k+1)
	if _, err := dl.AddCalculator(rand.Reader); err != nil {
		return fmt.Errorf("extend: %w", err)
	}
	dealing, err := dl.Deal(next)
	if err != nil {
		return fmt.Errorf("extend: %w", err)
	}
	if rc != nil {
		if err := rc.Check(len(dealing.Distributors), k+1, len(next.Combiners)); err != nil {
			return fmt.Errorf("extend: %s: %w", *recipientsPath, err)
		}
		err = seal.WriteClusterWithOptions(*out, dl, dealing, rc, passphrase, &seal.Options{
			Progress:                         func(m string) { progress("%s", m) },
			InsecureScryptWorkFactorForTests: testScryptWorkFactor,
		})
	} else {
		err = seal.WritePlaintextCluster(*out, dl, dealing)
	}
	if err != nil {
		return fmt.Errorf("extend: %w", err)
	}
	fmt.Fprintf(stdout, "added calculator %d to key %s: %d calculators, %d combiners\n", k+1, dl.KeyID(), k+1, len(next.Combiners))
	for a, reps := range added {
		if len(reps) == 0 {
			continue
		}
		state := "new representations"
		if a >= len(c.Plan.Combiners) {
			state = "a new combiner"
		}
		fmt.Fprintf(stdout, "  combiner %d: %s %s\n", a+1, state, joinReps(reps))
	}
	fmt.Fprintf(stdout, "every representation dealt before keeps its second sub-key; restart each node with its bundle from %s\n", *out)
	return nil
}
