package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// parseFlags parses args into fs. It reports help=true after -h (the usage
// has been printed) and errUsage for anything it cannot parse.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (help bool, err error) {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return false, errUsage
	}
	return false, nil
}

// File names inside a cluster directory; package seal owns the layout.
const (
	publicFile = seal.PublicFile
	planFile   = seal.PlanFile
)

// passphraseEnv holds the dealer's passphrase when -passphrase-file is not
// given. The passphrase is never a flag value: flags show in ps.
const passphraseEnv = "TOLERANT_DEALER_PASSPHRASE"

// testScryptWorkFactor, when nonzero, lowers the scrypt work factor of
// dealer.age; only tests set it (age's default takes ~10 s under -race).
var testScryptWorkFactor int

// errPlaintext is returned by deal without -recipients or -insecure-plaintext-keys.
var errPlaintext = errors.New("deal: refusing to write key shares in plaintext: pass -recipients FILE " +
	"(one \"ROLE NUMBER age1...\" line per node, the recipients printed by \"tolerant keygen\" on each node) " +
	"to seal every node's bundle, or -insecure-plaintext-keys to write them unencrypted (tests and demos only)")

const dealUsage = `Usage: tolerant deal -key KEY.pem (-k K -t T -l L [-r R] [-pairs] | -plan FILE) -out DIR -recipients FILE [-passphrase-file FILE]
       tolerant deal -key KEY.pem (-k K -t T -l L [-r R] [-pairs] | -plan FILE) -out DIR -insecure-plaintext-keys

Splits an existing RSA key and writes DIR: cluster.json, public.pem, plan.json
and roster.json (public), one bundle per node sealed with age to the node's
recipient (calculator-J.age, combiner-A.age, distributor-N.age), and the
dealer's state (d and every share, needed to add calculators later) in
dealer.age, sealed to the dealer's passphrase. The passphrase is read from
-passphrase-file or from the environment variable ` + passphraseEnv + `.

Recipients file: one line per node, "#" comments:
    calculator 1 age1...
    combiner 1 age1...
    distributor 1 age1...
Run "tolerant keygen -out FILE" on each node host for its recipient; run
"tolerant plan -k K -t T -l L" first to learn how many combiners the plan needs.

Without -plan, deal searches a plan with redundancy -r (and, with -pairs,
one where no two combiners with t-1 calculators recover d). With -plan FILE
it deals that plan (the JSON of "tolerant plan"; its (k, t, l) are the
plan's) if it passes the exact check, and -pairs / -r are requirements it
must meet. Either way the dealer's state keeps the redundancy and pair
safety, and extend and retire keep them.

Flags:
`

func runDeal(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseDealFlags(args, stderr)
	if cfg == nil || err != nil {
		return err
	}
	progress := func(format string, args ...any) { fmt.Fprintf(stderr, "deal: "+format+"\n", args...) }

	// Everything that can be checked is checked before the long steps.
	rc, passphrase, err := cfg.readSealInputs(stderr)
	if err != nil {
		return err
	}
	if err := refuseExistingCluster(cfg.out); err != nil {
		return err
	}
	key, err := readPrivateKey(cfg.keyPath)
	if err != nil {
		return err
	}

	plan, dl, dealing, err := cfg.deal(key, rc, progress)
	if err != nil {
		return err
	}
	if cfg.plaintext {
		progress("writing PLAINTEXT key material to %s", cfg.out)
		err = seal.WritePlaintextCluster(cfg.out, dl, dealing)
	} else {
		err = seal.WriteClusterWithOptions(cfg.out, dl, dealing, rc, passphrase, &seal.Options{
			Progress:                         func(m string) { progress("%s", m) },
			InsecureScryptWorkFactorForTests: testScryptWorkFactor,
		})
	}
	if err != nil {
		return fmt.Errorf("deal: %w", err)
	}
	cfg.report(stdout, key, plan, dl, dealing, rc)
	return nil
}

// dealConfig is what the flags of "tolerant deal" ask for.
type dealConfig struct {
	keyPath, out                      string
	k, t, l, redundancy, distributors int
	explicitRedundancy                bool // -r or -redundancy given
	epoch                             uint
	keyID                             string
	half, plaintext, pairs            bool
	recipientsPath, passFile          string
	given                             *grouping.Plan // from -plan, or nil
}

// parseDealFlags parses and checks the flags of "tolerant deal". It returns
// a nil config with a nil error when the user asked for help.
func parseDealFlags(args []string, stderr io.Writer) (*dealConfig, error) {
	cfg := &dealConfig{}
	fs := flag.NewFlagSet("deal", flag.ContinueOnError)
	fs.StringVar(&cfg.keyPath, "key", "", "the CA's RSA private key, PKCS#1 or PKCS#8 PEM (required)")
	fs.IntVar(&cfg.k, "k", 5, "number of calculators")
	fs.IntVar(&cfg.t, "t", 3, "threshold: calculators needed for a signature")
	fs.IntVar(&cfg.l, "l", 2, "shares per calculator")
	fs.StringVar(&cfg.out, "out", "", "directory to write the cluster to; must not hold one already (required)")
	fs.IntVar(&cfg.redundancy, "r", 1, "redundancy: combiners that must serve every calculator set")
	fs.IntVar(&cfg.redundancy, "redundancy", 1, "same as -r")
	fs.IntVar(&cfg.distributors, "distributors", 1, "number of task distributors given a signing key")
	fs.UintVar(&cfg.epoch, "epoch", 0, "epoch of this dealing of the key, written into every node's material")
	fs.StringVar(&cfg.keyID, "key-id", "", "key id written into every node's material (default: derived from the public key)")
	fs.BoolVar(&cfg.half, "half-length-shares", false, "use the patent's |N|/2-bit shares (each c_a then reveals the top half of d; refused for e > 2^32)")
	fs.StringVar(&cfg.recipientsPath, "recipients", "", "file of the nodes' age recipients: lines \"calculator 1 age1...\"")
	fs.StringVar(&cfg.passFile, "passphrase-file", "", "file holding the dealer's passphrase (default: $"+passphraseEnv+")")
	fs.BoolVar(&cfg.plaintext, "insecure-plaintext-keys", false, "write every node's key material and the dealer's state UNENCRYPTED (tests and demos only)")
	planPath := fs.String("plan", "", "deal this plan (JSON of \"tolerant plan\") instead of searching one")
	fs.BoolVar(&cfg.pairs, "pairs", false, "keep any two combiners together with t-1 calculators from recovering d, now and through extend and retire")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), dealUsage)
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg.explicitRedundancy = set["r"] || set["redundancy"]
	if *planPath != "" {
		p, err := readPlan(*planPath, cfg.k, cfg.t, cfg.l, set)
		if err != nil {
			return nil, err
		}
		cfg.given, cfg.k, cfg.t, cfg.l = p, p.K, p.T, p.L
	}
	if cfg.keyPath == "" || cfg.out == "" {
		fmt.Fprintln(stderr, "deal: -key and -out are required")
		fs.Usage()
		return nil, errUsage
	}
	if err := cfg.validate(stderr); err != nil {
		return nil, err
	}
	return cfg, nil
}

// validate checks the flags that go together and the epoch's range.
func (cfg *dealConfig) validate(stderr io.Writer) error {
	switch {
	case cfg.plaintext && (cfg.recipientsPath != "" || cfg.passFile != ""):
		fmt.Fprintln(stderr, "deal: -insecure-plaintext-keys writes no sealed file: drop -recipients and -passphrase-file")
		return errUsage
	case !cfg.plaintext && cfg.recipientsPath == "":
		return errPlaintext
	}
	if cfg.epoch > 1<<32-1 {
		fmt.Fprintln(stderr, "deal: -epoch must fit in 32 bits")
		return errUsage
	}
	return nil
}

// readSealInputs reads, unless the keys are written in plaintext, the
// nodes' recipients (checked for everything but the combiners, known once
// the plan is) and the dealer's passphrase.
func (cfg *dealConfig) readSealInputs(stderr io.Writer) (*seal.Recipients, string, error) {
	if cfg.plaintext {
		return nil, "", nil
	}
	f, err := os.Open(cfg.recipientsPath)
	if err != nil {
		return nil, "", fmt.Errorf("deal: %w", err)
	}
	rc, err := seal.ParseRecipients(f)
	f.Close()
	if err != nil {
		return nil, "", fmt.Errorf("deal: %s: %w", cfg.recipientsPath, err)
	}
	if err := rc.Check(cfg.distributors, cfg.k, len(rc.Combiners)); err != nil {
		return nil, "", fmt.Errorf("deal: %s: %w", cfg.recipientsPath, err)
	}
	passphrase, err := readPassphrase(cfg.passFile, stderr)
	if err != nil {
		return nil, "", err
	}
	return rc, passphrase, nil
}

// refuseExistingCluster fails if dir already holds a cluster's public
// files or a dealer's state.
func refuseExistingCluster(dir string) error {
	for _, name := range []string{seal.InfoFile, publicFile, planFile, seal.RosterFile, seal.DealerFile(seal.SealedExt), seal.DealerFile(seal.PlaintextExt)} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return fmt.Errorf("deal: %s already exists; deal into a new or empty directory", filepath.Join(dir, name))
		}
	}
	return nil
}

// deal finds (or takes) the plan, checks that rc, if not nil, has a
// recipient for each of its combiners, and deals key by it ([0041] steps
// C-E).
func (cfg *dealConfig) deal(key *rsa.PrivateKey, rc *seal.Recipients, progress func(string, ...any)) (*grouping.Plan, *share.Dealer, *share.Dealing, error) {
	plan, redundancy, err := dealPlan(cfg.given, cfg.k, cfg.t, cfg.l, cfg.redundancy, cfg.explicitRedundancy, cfg.pairs, progress)
	if err != nil {
		return nil, nil, nil, err
	}
	if rc != nil {
		if err := rc.Check(cfg.distributors, cfg.k, len(plan.Combiners)); err != nil {
			return nil, nil, nil, fmt.Errorf("deal: %s: %w (the plan needs %d combiners: run \"tolerant keygen\" on each combiner host "+
				"and list it as \"combiner A age1...\")", cfg.recipientsPath, err, len(plan.Combiners))
		}
	}
	opts := &share.Options{KeyID: cfg.keyID, Epoch: uint32(cfg.epoch), Distributors: cfg.distributors, Redundancy: redundancy, Pairs: cfg.pairs}
	if cfg.half {
		opts.Length = share.HalfLength
	}
	progress("drawing %d×%d shares of the %d-bit key", cfg.k, cfg.l, key.N.BitLen())
	dl, err := share.NewDealer(rand.Reader, key, cfg.k, cfg.t, cfg.l, opts)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("deal: %w", err)
	}
	reps := 0
	for _, c := range plan.Combiners {
		reps += len(c)
	}
	progress("computing %d second sub-keys for %d combiners", reps, len(plan.Combiners))
	dealing, err := dl.Deal(plan)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("deal: %w", err)
	}
	return plan, dl, dealing, nil
}

// report tells the user on stdout what was dealt and written, and where
// each file goes.
func (cfg *dealConfig) report(stdout io.Writer, key *rsa.PrivateKey, plan *grouping.Plan, dl *share.Dealer, dealing *share.Dealing, rc *seal.Recipients) {
	fmt.Fprintf(stdout, "dealt key %s (%d bits, %d-bit shares) over k=%d calculators, t=%d, l=%d, %d combiners, %d distributors\n",
		dl.KeyID(), key.N.BitLen(), dl.ShareBits(), cfg.k, cfg.t, cfg.l, len(plan.Combiners), len(dealing.Distributors))
	fmt.Fprintf(stdout, "dealer key %s: every bundle and public file is signed by it; give it to each node as -dealer-key\n",
		seal.FormatDealerKey(dl.DealerKey()))
	if cfg.plaintext {
		fmt.Fprintf(stdout, "wrote %d calculator, %d combiner and %d distributor key files and %s (PLAINTEXT, mode 0600), "+
			"%s, %s, %s and %s to %s\n", len(dealing.Calculators), len(dealing.Combiners), len(dealing.Distributors),
			seal.DealerFile(seal.PlaintextExt), seal.InfoFile, publicFile, planFile, seal.RosterFile, cfg.out)
		return
	}
	fmt.Fprintf(stdout, "wrote to %s:\n", cfg.out)
	fmt.Fprintf(stdout, "  %s, %s, %s, %s: public, for every node\n", seal.InfoFile, publicFile, planFile, seal.RosterFile)
	for _, n := range nodesOf(dealing) {
		fmt.Fprintf(stdout, "  %-18s sealed to %v: copy it to that node only\n", seal.BundleFile(n, seal.SealedExt), rc.Recipient(n))
	}
	fmt.Fprintf(stdout, "  %-18s the dealer's state, sealed to the passphrase: keep it offline\n", seal.DealerFile(seal.SealedExt))
}

// readPlan reads the plan of deal -plan FILE. Flags -k, -t, -l given as
// well must agree with it.
func readPlan(path string, k, t, l int, set map[string]bool) (*grouping.Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("deal: %w", err)
	}
	p, err := grouping.ParsePlan(b)
	if err != nil {
		return nil, fmt.Errorf("deal: %s: %w", path, err)
	}
	if len(p.Retired) > 0 {
		return nil, fmt.Errorf("deal: %s retires calculators %v: deal a plan without retired calculators", path, p.Retired)
	}
	for name, v := range map[string][2]int{"k": {k, p.K}, "t": {t, p.T}, "l": {l, p.L}} {
		if set[name] && v[0] != v[1] {
			return nil, fmt.Errorf("deal: -%s %d, but %s has %s=%d", name, v[0], path, name, v[1])
		}
	}
	return p, nil
}

// dealPlan returns the plan to deal and the redundancy the dealer keeps:
// given (checked: secure, pair-secure with pairs, redundancy r when
// explicit, else the plan's own) or one searched with r and pairs.
func dealPlan(given *grouping.Plan, k, t, l, r int, explicitR, pairs bool, progress func(string, ...any)) (*grouping.Plan, int, error) {
	start := time.Now()
	plan := given
	if plan == nil {
		progress("searching a combiner plan for k=%d t=%d l=%d r=%d pairs=%v", k, t, l, r, pairs)
		var err error
		if plan, _, err = grouping.Search(k, t, l, &grouping.Options{Redundancy: r, Pairs: pairs}); err != nil {
			return nil, 0, fmt.Errorf("deal: plan: %w", err)
		}
	}
	progress("checking the plan (%d combiners) for combiner security", len(plan.Combiners))
	report, err := grouping.Check(plan)
	if err != nil {
		return nil, 0, fmt.Errorf("deal: checking the plan: %w", err)
	}
	if err := report.Verdict(); err != nil {
		return nil, 0, fmt.Errorf("deal: the plan is not usable: %w", err)
	}
	if pairs && !report.PairsSecure {
		pr := report.Pairs[0]
		return nil, 0, fmt.Errorf("deal: -pairs: %w: combiners %d and %d with calculators %v recover d", grouping.ErrInsecure, pr.A, pr.B, pr.Leaks[0])
	}
	if given != nil && !explicitR {
		r = report.MinRedundancy
	}
	if report.MinRedundancy < r {
		return nil, 0, fmt.Errorf("deal: -r %d: %w: some calculator set is served by only %d combiner(s)", r, grouping.ErrIncomplete, report.MinRedundancy)
	}
	progress("plan: %d combiners, redundancy %d, pairs safe: %v, checked in %v", len(plan.Combiners), report.MinRedundancy, report.PairsSecure, time.Since(start).Round(time.Millisecond))
	if report.PairsSecure && !pairs && len(plan.Combiners) > 1 {
		progress("note: the plan is pair-safe; pass -pairs to keep it so through extend and retire")
	}
	return plan, r, nil
}

// nodesOf lists the nodes of a dealing: distributors, calculators, combiners.
func nodesOf(d *share.Dealing) []share.Node {
	var out []share.Node
	for n := range d.Distributors {
		out = append(out, share.Node{Role: share.RoleDistributor, Number: n + 1})
	}
	for j := range d.Calculators {
		out = append(out, share.Node{Role: share.RoleCalculator, Number: j + 1})
	}
	for _, ck := range d.Combiners {
		out = append(out, share.Node{Role: share.RoleCombiner, Number: ck.Number})
	}
	return out
}

// readPassphrase reads the dealer's passphrase from path (its first line)
// or, when path is empty, from $TOLERANT_DEALER_PASSPHRASE, and checks it.
func readPassphrase(path string, stderr io.Writer) (string, error) {
	var pass string
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("deal: passphrase file: %w", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(stderr, "deal: warning: %s is readable by group or others (mode %v)\n", path, fi.Mode().Perm())
		}
		b, err := io.ReadAll(io.LimitReader(f, 4097))
		defer clear(b)
		if err != nil {
			return "", fmt.Errorf("deal: passphrase file: %w", err)
		}
		if len(b) > 4096 {
			return "", fmt.Errorf("deal: %s: longer than 4096 bytes", path)
		}
		pass, _, _ = strings.Cut(string(b), "\n")
		pass = strings.TrimSuffix(pass, "\r")
	} else {
		pass = os.Getenv(passphraseEnv)
		if pass == "" {
			return "", fmt.Errorf("deal: the dealer's passphrase seals dealer.age: pass -passphrase-file FILE or set %s", passphraseEnv)
		}
	}
	if err := seal.CheckPassphrase(pass); err != nil {
		return "", fmt.Errorf("deal: dealer passphrase: %w", err)
	}
	return pass, nil
}

// readPrivateKey reads an RSA private key from a PKCS#1 ("RSA PRIVATE KEY")
// or PKCS#8 ("PRIVATE KEY") PEM file.
func readPrivateKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := parsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

func parsePrivateKey(b []byte) (*rsa.PrivateKey, error) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, errors.New("no RSA PRIVATE KEY or PRIVATE KEY PEM block found")
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			if _, ok := block.Headers["DEK-Info"]; ok {
				return nil, errors.New("encrypted PEM keys are not supported: decrypt it first (openssl pkey)")
			}
			key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("PKCS#1 key: %w", err)
			}
			return key, nil
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("PKCS#8 key: %w", err)
			}
			key, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("PKCS#8 key is a %T, not RSA", k)
			}
			return key, nil
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("encrypted PKCS#8 keys are not supported: decrypt it first (openssl pkey)")
		}
	}
}
