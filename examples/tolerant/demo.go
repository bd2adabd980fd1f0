package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// intList is a flag holding a comma-separated list of numbers.
type intList []int

func (l *intList) String() string {
	parts := make([]string, len(*l))
	for n, v := range *l {
		parts[n] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

func (l *intList) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("%q is not a number", f)
		}
		*l = append(*l, v)
	}
	return nil
}

// hiddenFlags are for tests only and are left out of the usage.
var hiddenFlags = map[string]bool{"test-key": true}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	k := fs.Int("k", 5, "number of calculators")
	t := fs.Int("t", 3, "threshold: calculators needed for a signature")
	l := fs.Int("l", 2, "shares per calculator")
	bits := fs.Int("bits", 2048, "RSA key size: 2048, 3072 or 4096 (4096 takes seconds to generate)")
	var down, liars intList
	fs.Var(&down, "down", "calculators that do not answer, e.g. 2,5")
	fs.Var(&liars, "liar", "calculators that return wrong partials, e.g. 4")
	out := fs.String("out", "", "also write root.pem and leaf.pem to this directory (check with openssl verify -CAfile root.pem leaf.pem)")
	testKey := fs.Bool("test-key", false, "use a fixed 2048-bit test key instead of generating one")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tolerant demo [-k 5 -t 3 -l 2] [-bits 2048] [-down J,...] [-liar J,...] [-out DIR]")
		fs.VisitAll(func(f *flag.Flag) {
			if !hiddenFlags[f.Name] {
				fmt.Fprintf(fs.Output(), "  -%s\n    \t%s (default %q)\n", f.Name, f.Usage, f.DefValue)
			}
		})
	}
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	for _, j := range append(slices.Clone(down), liars...) {
		if j < 1 || j > *k {
			return fmt.Errorf("demo: no calculator %d (k=%d)", j, *k)
		}
	}
	if *bits != 2048 && *bits != 3072 && *bits != 4096 {
		return fmt.Errorf("demo: -bits %d: want 2048, 3072 or 4096", *bits)
	}
	total := time.Now()
	fmt.Fprintf(stdout, "tolerant demo: k=%d calculators, threshold t=%d, l=%d shares each\n\n", *k, *t, *l)

	// 1. The CA key. In production it exists already and lives offline.
	start := time.Now()
	var key *rsa.PrivateKey
	var err error
	if *testKey {
		key, err = testkeys.Key(testkeys.RSA2048)
	} else {
		key, err = rsa.GenerateKey(rand.Reader, *bits)
	}
	if err != nil {
		return fmt.Errorf("demo: key: %w", err)
	}
	how := "generated"
	if *testKey {
		how = "loaded fixed test"
	}
	fmt.Fprintf(stdout, "key      %s %d-bit RSA key in %v (key id %s)\n", how, key.N.BitLen(), since(start), share.KeyIDFor(&key.PublicKey))

	// 2. The combiner plan ([0076]-[0089]): which representations each
	// combiner stores, checked for coverage and combiner security.
	start = time.Now()
	plan, _, err := grouping.Search(*k, *t, *l, nil)
	if err != nil {
		return fmt.Errorf("demo: plan: %w", err)
	}
	report, err := grouping.Check(plan)
	if err != nil {
		return fmt.Errorf("demo: checking the plan: %w", err)
	}
	if err := report.Verdict(); err != nil {
		return fmt.Errorf("demo: plan: %w", err)
	}
	fmt.Fprintf(stdout, "plan     %d combiners serve all %d calculator sets (found and checked in %v);\n"+
		"         no combiner together with %d calculators can recover the key\n",
		len(plan.Combiners), report.Sets, since(start), *t-1)
	for a, reps := range plan.Combiners {
		fmt.Fprintf(stdout, "         combiner %d: %s\n", a+1, joinReps(reps))
	}

	// 3. Deal ([0041] steps C-E): k·l first sub-secret-keys, one second
	// sub-secret-key per stored representation.
	start = time.Now()
	dl, err := share.NewDealer(rand.Reader, key, *k, *t, *l, nil)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	dealing, err := dl.Deal(plan)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	reps := 0
	for _, c := range dealing.Combiners {
		reps += len(c.Entries)
	}
	fmt.Fprintf(stdout, "deal     %d calculators × %d shares of %d bits, %d second sub-keys over %d combiners, in %v\n",
		*k, *l, dl.ShareBits(), reps, len(dealing.Combiners), since(start))

	// 4. The cluster, in-process: distributor, calculators and combiners
	// talking over in-memory broadcast channels.
	start = time.Now()
	ctx := context.Background()
	local, err := broadcast.StartLocal(ctx, dealing, &broadcast.LocalOptions{Down: down, Liars: liars})
	if err != nil {
		return fmt.Errorf("demo: starting the cluster: %w", err)
	}
	defer local.Close()
	status := "all calculators up"
	if len(down) > 0 || len(liars) > 0 {
		status = fmt.Sprintf("calculators down: %v, lying: %v", []int(down), []int(liars))
	}
	fmt.Fprintf(stdout, "cluster  started in %v (%s)\n", since(start), status)

	rec := &recorder{dist: local.Distributor()}
	signer, err := x509sign.New(dl.PublicKey(), dl.KeyID(), rec, nil)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	// 5. Issue a self-signed root and a leaf through the cluster. x509 hands
	// the TBS bytes to SignMessage, so every node sees the certificate.
	now := time.Now()
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
	start = time.Now()
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, signer.Public(), signer)
	if err != nil {
		return fmt.Errorf("demo: issuing the root: %w", err)
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	describe(stdout, "root", root.Subject.CommonName, rec.last(), since(start))

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber:       serial(),
		Subject:            pkix.Name{CommonName: "www.example.com"},
		DNSNames:           []string{"www.example.com"},
		NotBefore:          now.Add(-time.Minute),
		NotAfter:           now.Add(90 * 24 * time.Hour),
		KeyUsage:           x509.KeyUsageDigitalSignature,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SignatureAlgorithm: x509.SHA256WithRSA,
	}
	start = time.Now()
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, signer)
	if err != nil {
		return fmt.Errorf("demo: issuing the leaf: %w", err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	describe(stdout, "leaf", leaf.Subject.CommonName, rec.last(), since(start))

	// 6. Verify, as a relying party would.
	pool := x509.NewCertPool()
	pool.AddCert(root)
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "www.example.com"})
	if err != nil {
		return fmt.Errorf("demo: the leaf does not verify: %w", err)
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		return fmt.Errorf("demo: the root's self-signature does not verify: %w", err)
	}
	fmt.Fprintf(stdout, "verify   x509.Verify: www.example.com → %q (%d certificates); root self-signature OK\n",
		root.Subject.CommonName, len(chains[0]))
	fmt.Fprintf(stdout, "         root SHA-256 fingerprint %X\n", sha256.Sum256(root.Raw))

	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		for name, der := range map[string][]byte{"root.pem": rootDER, "leaf.pem": leafDER} {
			b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
			if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
		}
		fmt.Fprintf(stdout, "wrote    %s and %s\n", filepath.Join(*out, "root.pem"), filepath.Join(*out, "leaf.pem"))
	}
	if err := local.Close(); err != nil {
		return fmt.Errorf("demo: stopping the cluster: %w", err)
	}
	fmt.Fprintf(stdout, "\ndone in %v\n", since(total))
	return nil
}

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
