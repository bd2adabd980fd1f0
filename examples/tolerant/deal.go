package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
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

// File names inside a cluster directory written by deal and read by sign.
const (
	publicFile = "public.pem"
	planFile   = "plan.json"
)

func calculatorFile(j int) string { return fmt.Sprintf("calculator-%d.json", j) }
func combinerFile(a int) string   { return fmt.Sprintf("combiner-%d.json", a) }

// errPlaintext is returned by deal without -insecure-plaintext-keys.
var errPlaintext = errors.New("deal: refusing to write key shares in plaintext: sealing each node's bundle " +
	"(age) is not implemented yet; pass -insecure-plaintext-keys to write them unencrypted (tests and demos only)")

func runDeal(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("deal", flag.ContinueOnError)
	keyPath := fs.String("key", "", "the CA's RSA private key, PKCS#1 or PKCS#8 PEM (required)")
	k := fs.Int("k", 5, "number of calculators")
	t := fs.Int("t", 3, "threshold: calculators needed for a signature")
	l := fs.Int("l", 2, "shares per calculator")
	out := fs.String("out", "", "directory to write the key material to; must not hold key material already (required)")
	redundancy := fs.Int("redundancy", 1, "combiners that must serve every calculator set")
	keyID := fs.String("key-id", "", "key id written into every node's material (default: derived from the public key)")
	half := fs.Bool("half-length-shares", false, "use the patent's |N|/2-bit shares (each c_a then reveals the top half of d; refused for e > 2^32)")
	plaintext := fs.Bool("insecure-plaintext-keys", false, "write the key shares unencrypted (required until sealing exists)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tolerant deal -key KEY.pem -k K -t T -l L -out DIR -insecure-plaintext-keys")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	if *keyPath == "" || *out == "" {
		fmt.Fprintln(stderr, "deal: -key and -out are required")
		fs.Usage()
		return errUsage
	}
	if !*plaintext {
		return errPlaintext
	}
	key, err := readPrivateKey(*keyPath)
	if err != nil {
		return err
	}
	plan, _, err := grouping.Search(*k, *t, *l, &grouping.Options{Redundancy: *redundancy})
	if err != nil {
		return fmt.Errorf("deal: plan: %w", err)
	}
	report, err := grouping.Check(plan)
	if err != nil {
		return fmt.Errorf("deal: checking the plan: %w", err)
	}
	if err := report.Verdict(); err != nil {
		return fmt.Errorf("deal: the plan found is not usable: %w", err)
	}
	opts := &share.Options{KeyID: *keyID}
	if *half {
		opts.Length = share.HalfLength
	}
	dl, err := share.NewDealer(rand.Reader, key, *k, *t, *l, opts)
	if err != nil {
		return fmt.Errorf("deal: %w", err)
	}
	dealing, err := dl.Deal(plan)
	if err != nil {
		return fmt.Errorf("deal: %w", err)
	}

	files := map[string][]byte{}
	for _, ck := range dealing.Calculators {
		if files[calculatorFile(ck.J)], err = ck.Marshal(); err != nil {
			return fmt.Errorf("deal: %v: %w", ck, err)
		}
	}
	for _, ck := range dealing.Combiners {
		if files[combinerFile(ck.Number)], err = ck.Marshal(); err != nil {
			return fmt.Errorf("deal: %v: %w", ck, err)
		}
	}
	pubDER, err := x509.MarshalPKIXPublicKey(dl.PublicKey())
	if err != nil {
		return fmt.Errorf("deal: public key: %w", err)
	}
	planJSON, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return fmt.Errorf("deal: plan: %w", err)
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return fmt.Errorf("deal: %w", err)
	}
	// Never overwrite key material: check everything before writing anything.
	names := []string{publicFile, planFile}
	for name := range files {
		names = append(names, name)
	}
	for _, name := range names {
		if _, err := os.Lstat(filepath.Join(*out, name)); err == nil {
			return fmt.Errorf("deal: %s already exists; deal into an empty directory", filepath.Join(*out, name))
		}
	}
	for name, b := range files {
		if err := writeNew(filepath.Join(*out, name), b, 0o600); err != nil {
			return err
		}
	}
	if err := writeNew(filepath.Join(*out, publicFile), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return err
	}
	if err := writeNew(filepath.Join(*out, planFile), append(planJSON, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dealt key %s (%d bits, %d-bit shares) over k=%d calculators, t=%d, l=%d, %d combiners\n",
		dl.KeyID(), key.N.BitLen(), dl.ShareBits(), *k, *t, *l, len(plan.Combiners))
	fmt.Fprintf(stdout, "wrote %d calculator and %d combiner key files (PLAINTEXT, mode 0600), %s and %s to %s\n",
		len(dealing.Calculators), len(dealing.Combiners), publicFile, planFile, *out)
	return nil
}

// writeNew creates path with mode and writes b; it fails if path exists.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
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
