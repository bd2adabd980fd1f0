package main

import (
	"context"
	"crypto"
	"crypto/rsa"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/fileio"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// hashByName maps the -hash flag to a hash.
var hashByName = map[string]crypto.Hash{
	"sha256": crypto.SHA256,
	"sha384": crypto.SHA384,
	"sha512": crypto.SHA512,
}

func runSign(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseSignFlags(args, stderr)
	if cfg == nil || err != nil {
		return err
	}
	content, err := readLimited(cfg.in, share.MaxContentSize)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	cd, err := loadCluster(cfg.dir, cfg.idDir)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if cd.noDistributor {
		return fmt.Errorf("sign: no key material for distributor 1 in %s: the cluster signs its tasks with it", cfg.dir)
	}
	return cfg.signLocally(cd, content, stdout, stderr)
}

// signConfig is what the flags of "tolerant sign" ask for.
type signConfig struct {
	dir, idDir, in, out string
	hash                crypto.Hash
	pss                 bool
	timeout             time.Duration
}

// parseSignFlags parses and checks the flags of "tolerant sign". It returns
// a nil config with a nil error when the user asked for help.
func parseSignFlags(args []string, stderr io.Writer) (*signConfig, error) {
	cfg := &signConfig{}
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.StringVar(&cfg.dir, "cluster", "", "cluster directory written by deal (required)")
	fs.StringVar(&cfg.idDir, "identities", "", "for a sealed cluster: directory of the nodes' identity files, calculator-J.key, combiner-A.key, distributor-N.key (tolerant keygen)")
	fs.StringVar(&cfg.in, "in", "", "file to sign (required)")
	fs.StringVar(&cfg.out, "out", "", "where to write the raw signature (required)")
	hashName := fs.String("hash", "sha256", "hash: sha256, sha384 or sha512")
	fs.BoolVar(&cfg.pss, "pss", false, "sign with RSASSA-PSS (salt length = hash length) instead of PKCS#1 v1.5")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tolerant sign -cluster DIR [-identities DIR] -in FILE [-hash sha256|sha384|sha512] [-pss] -out SIG")
		fmt.Fprintln(fs.Output(), "\nRuns every node of the cluster directory in this process. A sealed directory needs -identities DIR\nholding calculator-J.key, combiner-A.key and distributor-N.key (made with tolerant keygen);\na node whose bundle or identity file is absent is left out.\n\nFlags:")
		fs.PrintDefaults()
		fmt.Fprintln(fs.Output(), "\nVerify with: openssl dgst -sha256 -verify DIR/public.pem -signature SIG FILE\n(add -sigopt rsa_padding_mode:pss for -pss)")
	}
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return nil, err
	}
	if cfg.dir == "" || cfg.in == "" || cfg.out == "" {
		fmt.Fprintln(stderr, "sign: -cluster, -in and -out are required")
		fs.Usage()
		return nil, errUsage
	}
	h, ok := hashByName[strings.ToLower(*hashName)]
	if !ok {
		fmt.Fprintf(stderr, "sign: unknown hash %q (want sha256, sha384 or sha512)\n", *hashName)
		return nil, errUsage
	}
	cfg.hash = h
	return cfg, nil
}

// signLocally runs the nodes of cd in this process, signs content through
// them, writes the signature to cfg.out and tells how it was made.
func (cfg *signConfig) signLocally(cd *clusterDir, content []byte, stdout, stderr io.Writer) (err error) {
	ctx := context.Background()
	local, err := broadcast.StartLocal(ctx, cd.dealing, nil)
	if err != nil {
		return fmt.Errorf("sign: starting the cluster: %w", err)
	}
	defer func() {
		if cerr := local.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("sign: stopping the cluster: %w", cerr)
		}
	}()
	if len(cd.missingCalcs) > 0 || len(cd.missingCombs) > 0 {
		fmt.Fprintf(stderr, "sign: no key files for calculators %v and combiners %v: running without them\n", cd.missingCalcs, cd.missingCombs)
	}
	rec := &recorder{dist: local.Distributor()}
	signer, err := x509sign.New(cd.pub, cd.keyID, rec, &x509sign.Options{Timeout: cfg.timeout})
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	opts, scheme := cfg.signerOpts()
	// SignMessage: the calculators and combiners see the file itself, not
	// only its digest ([0092], [0110]); the signature is verified with the
	// public key before it is returned ([0116]).
	sig, err := signer.SignMessage(nil, content, opts)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if err := os.WriteFile(cfg.out, sig, 0o644); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	fmt.Fprintf(stdout, "signed %s (%d bytes) with key %s, %v %s: %d-byte signature written to %s\n",
		cfg.in, len(content), cd.keyID, cfg.hash, scheme, len(sig), cfg.out)
	if o := rec.last(); o != nil {
		fmt.Fprintf(stdout, "partials from calculators %v; combiner %d matched %v in %v\n", o.Calculators, o.Combiner, o.Rep, o.Elapsed.Round(time.Millisecond))
		if len(o.Inconsistent) > 0 {
			fmt.Fprintf(stdout, "WARNING: calculators %v returned inconsistent partials\n", o.Inconsistent)
		} else if len(o.Claimed) > 0 {
			fmt.Fprintf(stdout, "WARNING: a combiner proved calculators %v returned inconsistent partials (one combiner's word: not named)\n", o.Claimed)
		}
	}
	return nil
}

// signerOpts returns the signer options of cfg's hash and padding, and
// the padding's name.
func (cfg *signConfig) signerOpts() (crypto.SignerOpts, string) { return signerOpts(cfg.hash, cfg.pss) }

// signerOpts returns the signer options of hash h, PSS (salt length = hash
// length) or PKCS#1 v1.5, and the scheme's name.
func signerOpts(h crypto.Hash, pss bool) (crypto.SignerOpts, string) {
	if pss {
		return &rsa.PSSOptions{Hash: h, SaltLength: rsa.PSSSaltLengthEqualsHash}, "PSS"
	}
	return h, "PKCS#1 v1.5"
}

// readLimited reads path, refusing files larger than limit.
func readLimited(path string, limit int64) ([]byte, error) { return fileio.ReadFile(path, limit) }
