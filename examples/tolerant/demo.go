package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/memory"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/faults"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// demoKey makes the demo's CA key: a fresh one from crypto/rand. Tests
// replace it to save the seconds of key generation under the race detector.
var demoKey = func(bits int) (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, bits) }

// demoConfig is what the demo's flags ask for. The in-process demo and the
// multi-process one (-nats) share it.
type demoConfig struct {
	k, t, l, bits int
	tasks         int           // leaf certificates issued concurrently
	loss          float64       // probability that a delivery is lost
	down          []int         // calculators crashed
	combinersDown []int         // combiners crashed
	liars         []int         // calculators sending wrong partials
	timeout       time.Duration // per signing request
	out           string
	nats          string
	json          bool
}

// demoSummary is the demo's last word; with -json it is the only thing on
// stdout.
type demoSummary struct {
	Transport     string  `json:"transport"`
	K             int     `json:"k"`
	T             int     `json:"t"`
	L             int     `json:"l"`
	Tasks         int     `json:"tasks"`
	Signed        int     `json:"signed"`
	Failed        int     `json:"failed"`
	Inconsistent  []int   `json:"inconsistent"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	Down          []int   `json:"down"`
	CombinersDown []int   `json:"combiners_down"`
	Liars         []int   `json:"liars"`
	Loss          float64 `json:"loss"`
	// ExpectFailures is true when the faults chosen leave no combiner with
	// a representation on t honest running calculators: then, and only
	// then, failed tasks are not an error.
	ExpectFailures bool     `json:"expect_failures"`
	Errors         []string `json:"errors,omitempty"`
	ElapsedMs      float64  `json:"elapsed_ms"`
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var cfg demoConfig
	fs.IntVar(&cfg.k, "k", 5, "number of calculators")
	fs.IntVar(&cfg.t, "t", 3, "threshold: calculators needed for a signature")
	fs.IntVar(&cfg.l, "l", 2, "shares per calculator")
	fs.IntVar(&cfg.bits, "bits", 2048, "RSA key size: 2048, 3072 or 4096 (4096 takes seconds to generate)")
	fs.IntVar(&cfg.tasks, "tasks", 1, "leaf certificates to issue concurrently after the root")
	fs.Float64Var(&cfg.loss, "loss", 0, "probability that the transport loses a delivery (0 to 0.9)")
	ndown := fs.Int("down", 0, "number of calculators crashed (the highest numbers)")
	ncomb := fs.Int("combiners-down", 0, "number of combiners crashed (the highest numbers)")
	nliars := fs.Int("liars", 0, "number of calculators that send wrong partials (the lowest numbers)")
	fs.DurationVar(&cfg.timeout, "timeout", 20*time.Second, "deadline of each signing request")
	fs.StringVar(&cfg.out, "out", "", "also write root.pem and leaf.pem to this directory (check with openssl verify -CAfile root.pem leaf.pem)")
	fs.StringVar(&cfg.nats, "nats", "", "run every node as its own process against the NATS server at this URL (auto: start an embedded one)")
	fs.BoolVar(&cfg.json, "json", false, "print only a JSON summary on stdout (the story goes to stderr)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tolerant demo [-k 5 -t 3 -l 2] [-bits 2048] [-tasks N] [-loss P] [-down N] [-combiners-down N] [-liars N] [-json] [-nats URL|auto] [-out DIR]")
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(fs.Output(), "  -%s\n    \t%s (default %q)\n", f.Name, f.Usage, f.DefValue)
		})
	}
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	if err := cfg.pick(*ndown, *ncomb, *nliars); err != nil {
		return err
	}
	log := stdout
	if cfg.json {
		log = stderr
	}
	var sum *demoSummary
	var err error
	if cfg.nats != "" {
		sum, err = runDemoNATS(context.Background(), &cfg, log)
	} else {
		sum, err = runDemoLocal(context.Background(), &cfg, log)
	}
	if err != nil {
		return err
	}
	return cfg.finish(sum, stdout, log)
}

// pick checks the flags and chooses which nodes are crashed or lie.
func (cfg *demoConfig) pick(down, combDown, liars int) error {
	if cfg.bits != 2048 && cfg.bits != 3072 && cfg.bits != 4096 {
		return fmt.Errorf("demo: -bits %d: want 2048, 3072 or 4096", cfg.bits)
	}
	if cfg.k < 2 || cfg.k > 16 || cfg.t < 1 || cfg.t >= cfg.k || cfg.l < 1 || cfg.l > 4 {
		return fmt.Errorf("demo: want 1 <= t < k <= 16 and 1 <= l <= 4")
	}
	if cfg.tasks < 1 || cfg.tasks > 10000 {
		return fmt.Errorf("demo: -tasks %d: want 1 to 10000", cfg.tasks)
	}
	if cfg.loss < 0 || cfg.loss > 0.9 {
		return fmt.Errorf("demo: -loss %v: want 0 to 0.9", cfg.loss)
	}
	if down < 0 || liars < 0 || combDown < 0 || down+liars > cfg.k {
		return fmt.Errorf("demo: -down %d and -liars %d: at most k=%d calculators together", down, liars, cfg.k)
	}
	cfg.down, cfg.liars = []int{}, []int{}
	for j := cfg.k - down + 1; j <= cfg.k; j++ {
		cfg.down = append(cfg.down, j)
	}
	for j := 1; j <= liars; j++ {
		cfg.liars = append(cfg.liars, j)
	}
	cfg.combinersDown = make([]int, 0, combDown)
	for n := 0; n < combDown; n++ {
		cfg.combinersDown = append(cfg.combinersDown, -n) // resolved against the plan in expectFailures
	}
	return nil
}

// resolveCombiners turns the count of crashed combiners into the highest
// combiner numbers of plan.
func (cfg *demoConfig) resolveCombiners(plan *grouping.Plan) {
	n := len(cfg.combinersDown)
	cfg.combinersDown = cfg.combinersDown[:0]
	for a := len(plan.Combiners) - n + 1; a <= len(plan.Combiners); a++ {
		if a >= 1 {
			cfg.combinersDown = append(cfg.combinersDown, a)
		}
	}
}

// expectFailures reports whether no running combiner stores a
// representation on t honest running calculators.
func (cfg *demoConfig) expectFailures(plan *grouping.Plan) bool {
	bad := make(map[int]bool)
	for _, j := range append(slices.Clone(cfg.down), cfg.liars...) {
		bad[j] = true
	}
	for a, reps := range plan.Combiners {
		if slices.Contains(cfg.combinersDown, a+1) {
			continue
		}
		for _, r := range reps {
			if !slices.ContainsFunc(r.Calculators(), func(j int) bool { return bad[j] }) {
				return false
			}
		}
	}
	return true
}

// finish prints the summary and decides the exit status.
func (cfg *demoConfig) finish(sum *demoSummary, stdout, log io.Writer) error {
	if cfg.json {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(log, "summary  %d tasks: %d signed, %d failed; latency p50 %.1f ms, p99 %.1f ms; inconsistent calculators: %v\n",
			sum.Tasks, sum.Signed, sum.Failed, sum.P50ms, sum.P99ms, sum.Inconsistent)
		for _, e := range sum.Errors {
			fmt.Fprintf(log, "         error: %s\n", e)
		}
	}
	if sum.Failed > 0 && !sum.ExpectFailures {
		return fmt.Errorf("demo: %d of %d tasks failed although the faults chosen should not fail any", sum.Failed, sum.Tasks)
	}
	if sum.Failed == 0 && sum.ExpectFailures {
		fmt.Fprintf(log, "note     every task signed although the faults chosen could have failed them\n")
	}
	return nil
}

// runDemoLocal runs the whole demo in this process, over the in-memory transport.
func runDemoLocal(ctx context.Context, cfg *demoConfig, log io.Writer) (*demoSummary, error) {
	total := time.Now()
	fmt.Fprintf(log, "tolerant demo: k=%d calculators, threshold t=%d, l=%d shares each\n\n", cfg.k, cfg.t, cfg.l)
	dl, dealing, err := demoDeal(cfg, log)
	if err != nil {
		return nil, err
	}
	cfg.resolveCombiners(dealing.Plan)

	// The cluster, in-process: distributor, calculators and combiners
	// talking over in-memory broadcast channels.
	// The liars are honest nodes whose transport makes their partials
	// wrong (internal/faults); the combiners audit every partial and the
	// distributor lingers, so that every combiner can name them.
	start := time.Now()
	mem := memory.New(&memory.Options{Faults: memory.Faults{Loss: cfg.loss}})
	defer mem.Close()
	lo := &broadcast.LocalOptions{
		Down: cfg.down, CombinersDown: cfg.combinersDown,
		Transport: faults.Transport(mem, demoLiars(cfg, dealing)),
	}
	if len(cfg.liars) > 0 {
		lo.Audit = true
		// The demo's combiners are its own: one combiner's proof is enough.
		lo.Distributor = &broadcast.DistributorOptions{Linger: liarLinger, BlameQuorum: 1}
	}
	local, err := broadcast.StartLocal(ctx, dealing, lo)
	if err != nil {
		return nil, fmt.Errorf("demo: starting the cluster: %w", err)
	}
	defer local.Close()
	fmt.Fprintf(log, "cluster  started in %v (calculators down: %v, lying: %v; combiners down: %v; loss %.0f%%)\n",
		since(start), cfg.down, cfg.liars, cfg.combinersDown, 100*cfg.loss)
	rec := &recorder{dist: local.Distributor()}
	sum, err := issueAll(ctx, cfg, dl.PublicKey(), dl.KeyID(), rec, log)
	if err != nil {
		return nil, err
	}
	sum.Transport = "memory"
	sum.ExpectFailures = cfg.expectFailures(dealing.Plan)
	for j := range local.Distributor().Inconsistent() {
		if !slices.Contains(sum.Inconsistent, j) {
			sum.Inconsistent = append(sum.Inconsistent, j)
		}
	}
	slices.Sort(sum.Inconsistent)
	if err := local.Close(); err != nil {
		return nil, fmt.Errorf("demo: stopping the cluster: %w", err)
	}
	sum.ElapsedMs = ms(time.Since(total))
	fmt.Fprintf(log, "\ndone in %v\n", since(total))
	return sum, nil
}

// liarLinger is how long the demo's distributor waits after a signature
// when calculators lie, so that every combiner can name them: 1.5 s, so
// that a combiner slowed by a loaded machine still does ([0113]).
const liarLinger = 1500 * time.Millisecond

// demoLiars returns the key material of the calculators that lie.
func demoLiars(cfg *demoConfig, d *share.Dealing) []*share.CalculatorKey {
	var out []*share.CalculatorKey
	for _, ck := range d.Calculators {
		if slices.Contains(cfg.liars, ck.Number) {
			out = append(out, ck)
		}
	}
	return out
}

// demoDeal makes the key, plans the combiners and deals.
// demoPlan is the plan of grouping.Search: the fewest combiners, evenly
// loaded. With -liars it is the patent's first-fit greedy instead
// ([0076]-[0083]): a combiner holding many representations can prove which
// calculator lied (package combine names one only on evidence that holds
// against t-1 colluders), where the evenly loaded combiners of Search
// hold too few to tell a lone liar from a colluding pair.
func demoPlan(cfg *demoConfig) (*grouping.Plan, error) {
	if len(cfg.liars) > 0 {
		return grouping.FirstFit(cfg.k, cfg.t, cfg.l, nil)
	}
	plan, _, err := grouping.Search(cfg.k, cfg.t, cfg.l, nil)
	return plan, err
}

func demoDeal(cfg *demoConfig, log io.Writer) (*share.Dealer, *share.Dealing, error) {
	// 1. The CA key. In production it exists already and lives offline.
	start := time.Now()
	key, err := demoKey(cfg.bits)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: key: %w", err)
	}
	fmt.Fprintf(log, "key      generated %d-bit RSA key in %v (key id %s)\n", key.N.BitLen(), since(start), share.KeyIDFor(&key.PublicKey))

	// 2. The combiner plan ([0076]-[0089]): which representations each
	// combiner stores, checked for coverage and combiner security.
	start = time.Now()
	plan, err := demoPlan(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: plan: %w", err)
	}
	report, err := grouping.Check(plan)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: checking the plan: %w", err)
	}
	if err := report.Verdict(); err != nil {
		return nil, nil, fmt.Errorf("demo: plan: %w", err)
	}
	fmt.Fprintf(log, "plan     %d combiners serve all %d calculator sets (found and checked in %v);\n"+
		"         no combiner together with %d calculators can recover the key\n",
		len(plan.Combiners), report.Sets, since(start), cfg.t-1)
	for a, reps := range plan.Combiners {
		fmt.Fprintf(log, "         combiner %d: %s\n", a+1, joinReps(reps))
	}

	// 3. Deal ([0041] steps C-E): k·l first sub-secret-keys, one second
	// sub-secret-key per stored representation.
	start = time.Now()
	dl, err := share.NewDealer(rand.Reader, key, cfg.k, cfg.t, cfg.l, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	dealing, err := dl.Deal(plan)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	reps := 0
	for _, c := range dealing.Combiners {
		reps += len(c.Entries)
	}
	fmt.Fprintf(log, "deal     %d calculators × %d shares of %d bits, %d second sub-keys over %d combiners, in %v\n",
		cfg.k, cfg.l, dl.ShareBits(), reps, len(dealing.Combiners), since(start))
	return dl, dealing, nil
}

// issueAll issues a self-signed root, then cfg.tasks leaves concurrently,
// through cluster, and verifies what was issued. x509 hands the TBS bytes to
// SignMessage, so every node sees the certificate ([0092], [0110]).
func issueAll(ctx context.Context, cfg *demoConfig, pub *rsa.PublicKey, keyID string, rec *recorder, log io.Writer) (*demoSummary, error) {
	signer, err := x509sign.New(pub, keyID, rec, &x509sign.Options{Timeout: cfg.timeout})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	tally := &demoTally{sum: &demoSummary{K: cfg.k, T: cfg.t, L: cfg.l, Tasks: 1 + cfg.tasks, Down: cfg.down,
		CombinersDown: cfg.combinersDown, Liars: cfg.liars, Loss: cfg.loss, Inconsistent: []int{}}}
	now := time.Now()
	root, rootDER := issueDemoRoot(signer, rec, now, tally, log)
	leaves, err := issueDemoLeaves(cfg, signer, rec, root, now, tally, log)
	if err != nil {
		return nil, err
	}
	sum := tally.sum
	sum.P50ms, sum.P99ms = percentile(tally.latencies, 0.50), percentile(tally.latencies, 0.99)
	slices.Sort(sum.Inconsistent)

	if rootDER == nil {
		return sum, nil
	}
	if err := verifyDemo(root, leaves, log); err != nil {
		return nil, err
	}
	if cfg.out != "" && leaves[0] != nil {
		if err := writeDemoPEM(cfg.out, rootDER, leaves[0], log); err != nil {
			return nil, err
		}
	}
	return sum, nil
}

// demoTally counts the signatures of a demo as they complete, from many
// goroutines.
type demoTally struct {
	mu        sync.Mutex
	sum       *demoSummary
	latencies []time.Duration
}

// note records one signature that took took: a failure with its error (the
// first five kept), or a success with its latency and the calculators its
// outcome o found inconsistent.
func (t *demoTally) note(took time.Duration, o *broadcast.Outcome, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sum := t.sum
	if err != nil {
		sum.Failed++
		if len(sum.Errors) < 5 {
			sum.Errors = append(sum.Errors, err.Error())
		}
		return
	}
	sum.Signed++
	t.latencies = append(t.latencies, took)
	if o != nil {
		for _, j := range o.Inconsistent {
			if !slices.Contains(sum.Inconsistent, j) {
				sum.Inconsistent = append(sum.Inconsistent, j)
			}
		}
	}
}

// issueDemoRoot issues the demo's self-signed root CA certificate through
// signer and returns it with its DER; if that fails, it returns the
// template (the issuer of the leaves all the same) and nil DER.
func issueDemoRoot(signer crypto.Signer, rec *recorder, now time.Time, tally *demoTally, log io.Writer) (*x509.Certificate, []byte) {
	rootTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "tolerant demo root CA", Organization: []string{"tolerant demo"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	start := time.Now()
	root := rootTmpl // the issuer of the leaves, even if the root fails
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, signer.Public(), signer)
	if err == nil {
		root, err = x509.ParseCertificate(rootDER)
	}
	took := time.Since(start)
	o := rec.last()
	tally.note(took, o, err)
	if err != nil {
		fmt.Fprintf(log, "root     FAILED after %v: %v\n", since(start), err)
	} else {
		describe(log, "root", root.Subject.CommonName, o, took)
	}
	return root, rootDER
}

// issueDemoLeaves issues cfg.tasks TLS server certificates under root
// concurrently, through signer, and returns their DER (nil where one
// failed).
func issueDemoLeaves(cfg *demoConfig, signer crypto.Signer, rec *recorder, root *x509.Certificate, now time.Time, tally *demoTally, log io.Writer) ([][]byte, error) {
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	leaves := make([][]byte, cfg.tasks)
	var wg sync.WaitGroup
	start := time.Now()
	for n := range cfg.tasks {
		wg.Go(func() {
			name := fmt.Sprintf("www%d.example.com", n+1)
			if n == 0 {
				name = "www.example.com"
			}
			tmpl := demoLeafTemplate(name, now)
			t0 := time.Now()
			der, err := x509.CreateCertificate(rand.Reader, tmpl, root, &leafKey.PublicKey, signer)
			took := time.Since(t0)
			var o *broadcast.Outcome
			if err == nil {
				o = rec.find(der)
				leaves[n] = der
			}
			tally.note(took, o, err)
			if n == 0 && err == nil && cfg.tasks == 1 {
				describe(log, "leaf", name, o, took)
			}
		})
	}
	wg.Wait()
	if cfg.tasks > 1 {
		fmt.Fprintf(log, "leaves   %d issued concurrently in %v\n", cfg.tasks, since(start))
	}
	return leaves, nil
}

// demoLeafTemplate returns the template of the demo's TLS server
// certificate for name, valid for 90 days from now.
func demoLeafTemplate(name string, now time.Time) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber:       serial(),
		Subject:            pkix.Name{CommonName: name},
		DNSNames:           []string{name},
		NotBefore:          now.Add(-time.Minute),
		NotAfter:           now.Add(90 * 24 * time.Hour),
		KeyUsage:           x509.KeyUsageDigitalSignature,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SignatureAlgorithm: x509.SHA256WithRSA,
	}
}

// verifyDemo verifies root's self-signature and every issued leaf (nil
// entries skipped) as a relying party would.
func verifyDemo(root *x509.Certificate, leaves [][]byte, log io.Writer) error {
	if err := root.CheckSignatureFrom(root); err != nil {
		return fmt.Errorf("demo: the root's self-signature does not verify: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root)
	verified := 0
	for _, der := range leaves {
		if der == nil {
			continue
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: leaf.DNSNames[0]}); err != nil {
			return fmt.Errorf("demo: leaf %s does not verify: %w", leaf.Subject.CommonName, err)
		}
		verified++
	}
	noun := "leaves"
	if verified == 1 {
		noun = "leaf"
	}
	fmt.Fprintf(log, "verify   x509.Verify: %d %s → %q; root self-signature OK\n", verified, noun, root.Subject.CommonName)
	fmt.Fprintf(log, "         root SHA-256 fingerprint %X\n", sha256.Sum256(root.Raw))
	return nil
}

// writeDemoPEM writes the root and the first leaf as root.pem and
// leaf.pem in dir.
func writeDemoPEM(dir string, rootDER, leafDER []byte, log io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for name, der := range map[string][]byte{"root.pem": rootDER, "leaf.pem": leafDER} {
		b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	fmt.Fprintf(log, "wrote    %s and %s\n", filepath.Join(dir, "root.pem"), filepath.Join(dir, "leaf.pem"))
	return nil
}

// percentile returns the q-quantile of ds in milliseconds (nearest rank).
func percentile(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return ms(s[max(i, 0)])
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }

// describe prints what the cluster did for one signature.
func describe(w io.Writer, what, subject string, o *broadcast.Outcome, took time.Duration) {
	fmt.Fprintf(w, "%-8s %q signed in %v\n", what, subject, took)
	if o == nil {
		return
	}
	fmt.Fprintf(w, "         calculators that acknowledged the task: %v; partials at the combiner from: %v\n", o.Acks, o.Calculators)
	fmt.Fprintf(w, "         combiner %d matched representation %v ([0093]); signature checked with the public key ([0116])\n", o.Combiner, o.Rep)
	if len(o.Inconsistent) > 0 {
		fmt.Fprintf(w, "         INCONSISTENT partials from calculators %v: set aside\n", o.Inconsistent)
	} else {
		fmt.Fprintf(w, "         no inconsistent partial\n")
	}
}

func joinReps(reps []grouping.Rep) string {
	parts := make([]string, len(reps))
	for n, r := range reps {
		parts[n] = r.String()
	}
	return strings.Join(parts, " ")
}

// serial returns a random positive 128-bit serial number.
func serial() *big.Int {
	b := make([]byte, 16)
	rand.Read(b)
	b[0] &= 0x7f
	b[0] |= 0x40
	return new(big.Int).SetBytes(b)
}

func since(t time.Time) time.Duration {
	d := time.Since(t)
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}

// find returns the outcome whose signature is the one in certificate der.
func (r *recorder) find(der []byte) *broadcast.Outcome {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.outcomes {
		if bytes.Equal(o.Signature, c.Signature) {
			return o
		}
	}
	return nil
}
