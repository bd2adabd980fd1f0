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
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tolerantca/tolerant/internal/fileio"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// runSignDispatch runs "sign": against a cluster on NATS when -nats is
// given (runSignRemote), else with an in-process cluster (runSign).
func runSignDispatch(args []string, stdout, stderr io.Writer) error {
	if hasFlag(args, "nats") {
		return runSignRemote(args, stdout, stderr)
	}
	return runSign(args, stdout, stderr)
}

// hasFlag reports whether args set the flag name (-name, --name, -name=v)
// before any "--".
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// signalContext returns a context that ends on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// runSignRemote signs a file as a task distributor of a cluster on NATS.
func runSignRemote(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	var df distributorFlags
	df.register(fs)
	in := fs.String("in", "", "file to sign (required)")
	out := fs.String("out", "", "where to write the raw signature (required)")
	hashName := fs.String("hash", "sha256", "hash: sha256, sha384 or sha512")
	pss := fs.Bool("pss", false, "sign with RSASSA-PSS (salt length = hash length) instead of PKCS#1 v1.5")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tolerant sign -nats URL -cluster DIR [-distributor FILE] -identity FILE -in FILE [-hash sha256|sha384|sha512] [-pss] -out SIG")
		printFlags(fs, nil)
		fmt.Fprintln(fs.Output(), "\nVerify with: openssl dgst -sha256 -verify DIR/public.pem -signature SIG FILE\n(add -sigopt rsa_padding_mode:pss for -pss)")
	}
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	if df.nats.url == "" || df.dir == "" || *in == "" || *out == "" {
		fmt.Fprintln(stderr, "sign: -nats, -cluster, -in and -out are required")
		fs.Usage()
		return errUsage
	}
	h, ok := hashByName[strings.ToLower(*hashName)]
	if !ok {
		fmt.Fprintf(stderr, "sign: unknown hash %q (want sha256, sha384 or sha512)\n", *hashName)
		return errUsage
	}
	content, err := readLimited(*in, share.MaxContentSize)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	ctx, stop := signalContext()
	defer stop()
	r, signer, err := df.signer(ctx, stderr, &x509sign.Options{Timeout: *timeout})
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	defer r.Close()
	opts, scheme := signerOpts(h, *pss)
	// The calculators and combiners see the file itself, not only its
	// digest ([0092], [0110]); the signature is verified before it is
	// returned ([0116]).
	sig, err := signer.SignMessageContext(ctx, nil, content, opts)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if err := os.WriteFile(*out, sig, 0o644); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	fmt.Fprintf(stdout, "signed %s (%d bytes) with key %s over NATS, %v %s: %d-byte signature written to %s\n",
		*in, len(content), r.key.KeyID, h, scheme, len(sig), *out)
	if o := r.rec.last(); o != nil {
		fmt.Fprintf(stdout, "task %d: acknowledged by calculators %v; combiner %d matched %v in %v\n",
			o.Task, o.Acks, o.Combiner, o.Rep, o.Elapsed.Round(time.Millisecond))
		if len(o.Inconsistent) > 0 {
			fmt.Fprintf(stdout, "WARNING: calculators %v returned inconsistent partials\n", o.Inconsistent)
		} else if len(o.Claimed) > 0 {
			fmt.Fprintf(stdout, "WARNING: a combiner proved calculators %v returned inconsistent partials (one combiner's word: not named)\n", o.Claimed)
		}
	}
	return nil
}

// issueConfig is what the issue command's flags ask for.
type issueConfig struct {
	cn, ca, out, keyOut string
	dns                 []string
	selfSigned, pss     bool
	days                int
	count, concurrency  int
	timeout             time.Duration
}

// runIssue issues a self-signed root or leaf certificates as a task
// distributor of a cluster on NATS.
func runIssue(args []string, stdout, stderr io.Writer) error {
	cfg, df, err := parseIssueFlags(args, stderr)
	if cfg == nil || err != nil {
		return err
	}
	var ca *x509.Certificate
	if !cfg.selfSigned {
		if ca, err = readCertificate(cfg.ca); err != nil {
			return fmt.Errorf("issue: %w", err)
		}
		if _, err := os.Lstat(cfg.keyOut); err == nil { // checked again when written
			return fmt.Errorf("issue: %w: %s", errKeyFileExists, cfg.keyOut)
		}
	}

	ctx, stop := signalContext()
	defer stop()
	r, signer, err := df.signer(ctx, stderr, &x509sign.Options{
		Timeout: cfg.timeout, BaseContext: func() context.Context { return ctx },
	})
	if err != nil {
		return fmt.Errorf("issue: %w", err)
	}
	defer r.Close()
	if cfg.selfSigned {
		return issueRoot(cfg, signer, stdout)
	}
	if pk, ok := ca.PublicKey.(*rsa.PublicKey); !ok || !pk.Equal(r.key.PublicKey) {
		return fmt.Errorf("issue: %s is not a certificate of the cluster's key %s", cfg.ca, r.key.KeyID)
	}
	if !ca.IsCA {
		return fmt.Errorf("issue: %s is not a CA certificate", cfg.ca)
	}
	return issueLeaves(ctx, cfg, ca, signer, stdout)
}

// parseIssueFlags parses and checks the flags of "tolerant issue" and
// fills in the defaults. It returns a nil config with a nil error when the
// user asked for help.
func parseIssueFlags(args []string, stderr io.Writer) (*issueConfig, *distributorFlags, error) {
	fs := flag.NewFlagSet("issue", flag.ContinueOnError)
	df := &distributorFlags{}
	cfg := &issueConfig{}
	df.register(fs)
	fs.StringVar(&cfg.cn, "cn", "", "subject common name (required); for a leaf also its DNS name unless -dns is given")
	fs.StringVar(&cfg.ca, "ca", "", "the cluster's CA certificate (PEM): issue a leaf signed by it")
	fs.BoolVar(&cfg.selfSigned, "self-signed", false, "issue the self-signed root CA certificate of the cluster's key")
	fs.StringVar(&cfg.out, "out", "", "where to write the certificate(s), PEM (required)")
	fs.StringVar(&cfg.keyOut, "key-out", "", "leaf: a new file (mode 0600, never overwritten) for the leaf's new ECDSA P-256 private key(s), PKCS#8 PEM (default: OUT with -key.pem)")
	dns := fs.String("dns", "", "leaf: comma-separated DNS names (default: the common name)")
	fs.IntVar(&cfg.days, "days", 0, "validity in days (default: 3650 for a root, 90 for a leaf)")
	fs.BoolVar(&cfg.pss, "pss", false, "sign with RSASSA-PSS (SHA-256) instead of PKCS#1 v1.5")
	fs.IntVar(&cfg.count, "count", 1, "leaf: issue this many leaves concurrently (common names N.CN), all written to OUT and KEY")
	fs.IntVar(&cfg.concurrency, "concurrency", 16, "leaf: at most this many signing requests in flight")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "deadline of each signing request")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tolerant issue -nats URL -cluster DIR [-distributor FILE] -identity FILE -cn NAME (-self-signed | -ca ROOT.pem) -out CERT.pem [-key-out KEY.pem] [-count N]")
		printFlags(fs, nil)
		fmt.Fprintln(fs.Output(), "\nVerify with: openssl verify -CAfile ROOT.pem CERT.pem")
	}
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return nil, nil, err
	}
	if df.nats.url == "" || df.dir == "" || cfg.cn == "" || cfg.out == "" {
		fmt.Fprintln(stderr, "issue: -nats, -cluster, -cn and -out are required")
		fs.Usage()
		return nil, nil, errUsage
	}
	if cfg.selfSigned == (cfg.ca != "") {
		fmt.Fprintln(stderr, "issue: exactly one of -self-signed and -ca ROOT.pem is required")
		fs.Usage()
		return nil, nil, errUsage
	}
	if cfg.count < 1 || cfg.count > 100000 || cfg.concurrency < 1 || (cfg.selfSigned && cfg.count != 1) {
		fmt.Fprintln(stderr, "issue: -count and -concurrency must be positive, and -count is for leaves only")
		return nil, nil, errUsage
	}
	cfg.setDefaults(*dns)
	return cfg, df, nil
}

// setDefaults splits the comma-separated DNS names dns and fills in the
// key file and the validity left unset.
func (cfg *issueConfig) setDefaults(dns string) {
	if dns != "" {
		for _, n := range strings.Split(dns, ",") {
			if n = strings.TrimSpace(n); n != "" {
				cfg.dns = append(cfg.dns, n)
			}
		}
	}
	if cfg.keyOut == "" {
		cfg.keyOut = strings.TrimSuffix(cfg.out, ".pem") + "-key.pem"
	}
	if cfg.days <= 0 {
		cfg.days = 90
		if cfg.selfSigned {
			cfg.days = 3650
		}
	}
}

// sigAlg is the certificate signature algorithm of -pss.
func sigAlg(pss bool) x509.SignatureAlgorithm {
	if pss {
		return x509.SHA256WithRSAPSS
	}
	return x509.SHA256WithRSA
}

// issueRoot issues the self-signed root certificate of the cluster's key.
func issueRoot(cfg *issueConfig, signer *x509sign.Signer, stdout io.Writer) error {
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cfg.cn},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Duration(cfg.days) * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SignatureAlgorithm:    sigAlg(cfg.pss),
	}
	start := time.Now()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return fmt.Errorf("issue: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err == nil {
		err = cert.CheckSignatureFrom(cert)
	}
	if err != nil {
		return fmt.Errorf("issue: the root does not verify: %w", err)
	}
	if err := os.WriteFile(cfg.out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("issue: %w", err)
	}
	fmt.Fprintf(stdout, "issued root %q in %v: written to %s (SHA-256 fingerprint %X)\n",
		cfg.cn, since(start), cfg.out, sha256.Sum256(der))
	return nil
}

// issueLeaves issues cfg.count leaves signed by ca, at most
// cfg.concurrency at once, each for a fresh ECDSA P-256 key.
func issueLeaves(ctx context.Context, cfg *issueConfig, ca *x509.Certificate, signer *x509sign.Signer, stdout io.Writer) error {
	start := time.Now()
	leaves := signLeaves(ctx, cfg, ca, signer, stdout)
	var certs, keys []byte
	var lat []time.Duration
	var errs []error
	for _, l := range leaves {
		if l.err != nil {
			errs = append(errs, l.err)
			continue
		}
		certs = append(certs, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.der})...)
		keys = append(keys, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: l.key})...)
		clear(l.key)
		lat = append(lat, l.ms)
	}
	if len(certs) > 0 {
		err := writePrivateKeys(cfg.keyOut, keys)
		clear(keys)
		if err != nil {
			return fmt.Errorf("issue: %w", err)
		}
		if err := os.WriteFile(cfg.out, certs, 0o644); err != nil {
			return fmt.Errorf("issue: %w", err)
		}
	}
	signed := len(lat)
	if cfg.count == 1 && signed == 1 {
		fmt.Fprintf(stdout, "issued leaf %q signed by %q in %v: certificate written to %s, its private key to %s\n",
			cfg.cn, ca.Subject.CommonName, lat[0].Round(time.Millisecond), cfg.out, cfg.keyOut)
	} else {
		fmt.Fprintf(stdout, "issued %d of %d leaves in %v (latency p50 %.1f ms, p99 %.1f ms): certificates in %s, keys in %s\n",
			signed, cfg.count, since(start), percentile(lat, 0.5), percentile(lat, 0.99), cfg.out, cfg.keyOut)
	}
	if len(errs) > 0 {
		return fmt.Errorf("issue: %d of %d certificates failed; first: %w", len(errs), cfg.count, errs[0])
	}
	return nil
}

// issuedLeaf is one leaf of "tolerant issue": its certificate and private
// key (DER), or the error that stopped it, and how long it took.
type issuedLeaf struct {
	der []byte
	key []byte
	err error
	ms  time.Duration
}

// signLeaves issues cfg.count leaves, at most cfg.concurrency at once,
// telling each on stdout as it completes; the leaves not started when ctx
// is done carry its error.
func signLeaves(ctx context.Context, cfg *issueConfig, ca *x509.Certificate, signer *x509sign.Signer, stdout io.Writer) []issuedLeaf {
	leaves := make([]issuedLeaf, cfg.count)
	sem := make(chan struct{}, cfg.concurrency)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for n := range cfg.count {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			leaves[n].err = ctx.Err()
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			name := cfg.cn
			if cfg.count > 1 {
				name = fmt.Sprintf("%d.%s", n+1, cfg.cn)
			}
			t0 := time.Now()
			der, key, err := issueLeaf(cfg, name, ca, signer)
			took := time.Since(t0)
			leaves[n] = issuedLeaf{der: der, key: key, err: err, ms: took}
			mu.Lock()
			defer mu.Unlock()
			done++
			if err != nil {
				fmt.Fprintf(stdout, "FAILED %d/%d %q after %v: %v\n", done, cfg.count, name, took.Round(time.Millisecond), err)
			} else if cfg.count > 1 {
				fmt.Fprintf(stdout, "issued %d/%d %q in %v\n", done, cfg.count, name, took.Round(time.Millisecond))
			}
		})
	}
	wg.Wait()
	return leaves
}

// errKeyFileExists: -key-out names a file that exists already. It is never
// overwritten: it may hold the private key of a certificate in use.
var errKeyFileExists = errors.New("refusing to overwrite an existing private key file (remove it or choose another -key-out)")

// writePrivateKeys writes b, PEM private keys, to a new file at path that
// only its owner may read (O_EXCL, mode 0600). It never overwrites a file
// or follows a symbolic link there, and removes what it created on failure.
func writePrivateKeys(path string, b []byte) error {
	err := fileio.WriteNew(path, b, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", errKeyFileExists, path)
	}
	return err
}

// issueLeaf issues one leaf for a new ECDSA key and checks it against ca.
// It returns the certificate and the key (PKCS#8 DER).
func issueLeaf(cfg *issueConfig, name string, ca *x509.Certificate, signer *x509sign.Signer) (der, key []byte, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	dns := cfg.dns
	if len(dns) == 0 {
		dns = []string{name}
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:       serial(),
		Subject:            pkix.Name{CommonName: name},
		DNSNames:           slices.Clone(dns),
		NotBefore:          now.Add(-time.Minute),
		NotAfter:           now.Add(time.Duration(cfg.days) * 24 * time.Hour),
		KeyUsage:           x509.KeyUsageDigitalSignature,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SignatureAlgorithm: sigAlg(cfg.pss),
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, signer)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err == nil {
		err = cert.CheckSignatureFrom(ca)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("the leaf does not verify: %w", err)
	}
	key, err = x509.MarshalPKCS8PrivateKey(k)
	return der, key, err
}

// readCertificate reads the first certificate of a PEM file.
func readCertificate(path string) (*x509.Certificate, error) {
	b, err := readLimited(path, 1<<20)
	if err != nil {
		return nil, err
	}
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, fmt.Errorf("%s: no CERTIFICATE PEM block", path)
		}
		if block.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return c, nil
		}
	}
}
