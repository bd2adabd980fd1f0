package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/tolerantca/tolerant/examples/tolerant-pkcs11/p11conf"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// runPKCS11Config writes the configuration of the PKCS #11 module
// (examples/tolerant-pkcs11): paths to the cluster's public files, the
// distributor's bundle and identity, the NATS settings, the labels, and
// the user PIN as an scrypt hash. It opens the bundle once, so that a
// wrong identity or a bundle of another cluster is found now, not when a
// CA first signs.
func runPKCS11Config(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pkcs11-config", flag.ContinueOnError)
	var nf natsFlags
	nf.register(fs)
	var bf bundleFlags
	dir := fs.String("cluster", "", "cluster directory written by deal: its public files (required)")
	fs.StringVar(&bf.bundle, "distributor", "", "the distributor's bundle (default: DIR/distributor-1.age, or .json for a plaintext cluster)")
	fs.StringVar(&bf.identity, "identity", "", "age identity file that opens the distributor's bundle (required for a sealed bundle)")
	fs.BoolVar(&bf.plaintext, "insecure-plaintext-keys", false, "accept a distributor bundle in PLAINTEXT (tests and demos only)")
	fs.StringVar(&bf.dealerKey, "dealer-key", "", dealerKeyUsage)
	pinFile := fs.String("pin-file", "", "file holding the token's user PIN (first line; 4 to 256 bytes); only its scrypt hash is stored (required)")
	out := fs.String("out", "", "configuration file to write, mode 0600; it must not exist (required)")
	tokenLabel := fs.String("token-label", "", "token label (default: the key id)")
	keyLabel := fs.String("key-label", "", "label of the key objects (default: the key id)")
	cert := fs.String("cert", "", "PEM certificate of the key, shown as a certificate object with the key's CKA_ID (NSS's certutil needs one)")
	maxFail := fs.Int("max-pin-failures", p11conf.DefaultMaxPINFailures, "wrong PINs in a row that lock the token (unlock: remove CONF.failures)")
	timeout := fs.Duration("timeout", p11conf.DefaultTimeout, "bound on one signature")
	auditLog := fs.String("audit-log", "", "the distributor's append-only audit log file (locked by the one process that loads the module: use it behind p11-kit server)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tolerant pkcs11-config -cluster DIR -identity FILE -nats URL [NATS flags] -pin-file FILE -out CONF")
		fmt.Fprintln(fs.Output(), "\nWrites the configuration of libtolerant-pkcs11.so; point TOLERANT_PKCS11_CONFIG at CONF.\n\nFlags:")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	if *dir == "" || nf.url == "" || *pinFile == "" || *out == "" || *maxFail < 1 || *timeout <= 0 {
		fmt.Fprintln(stderr, "pkcs11-config: -cluster, -nats, -pin-file and -out are required; -max-pin-failures and -timeout must be positive")
		fs.Usage()
		return errUsage
	}
	c, err := pkcs11Cluster(*dir, bf)
	if err != nil {
		return fmt.Errorf("pkcs11-config: %w", err)
	}
	pin, err := readSecretLine(*pinFile)
	if err != nil {
		return fmt.Errorf("pkcs11-config: -pin-file: %w", err)
	}
	h, err := p11conf.HashPIN([]byte(pin))
	if err != nil {
		return fmt.Errorf("pkcs11-config: -pin-file: %w", err)
	}
	conf := &p11conf.Config{
		Cluster: abs(*dir), Distributor: abs(c.bundle), Identity: abs(bf.identity), InsecurePlaintextKeys: bf.plaintext,
		DealerKey: seal.FormatDealerKey(c.cluster.DealerKey), KeyID: c.cluster.Info.KeyID,
		NATS: p11conf.NATS{URL: nf.url, Cluster: nf.cluster, TLSCA: abs(nf.tlsCA), TLSCert: abs(nf.tlsCert),
			TLSKey: abs(nf.tlsKey), Creds: abs(nf.creds), User: nf.user, PasswordFile: abs(nf.passwordFile)},
		TokenLabel: *tokenLabel, KeyLabel: *keyLabel, Certificate: abs(*cert), PIN: h,
		MaxPINFailures: *maxFail, Timeout: timeout.String(), AuditLog: abs(*auditLog),
	}
	if err := p11conf.Write(*out, conf); err != nil {
		return fmt.Errorf("pkcs11-config: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s for key %s (distributor %d); use it with:\n  TOLERANT_PKCS11_CONFIG=%s pkcs11-tool --module libtolerant-pkcs11.so -L\n",
		*out, c.cluster.Info.KeyID, c.number, abs(*out))
	return nil
}

// pkcs11Opened is what pkcs11-config learned by opening the bundle.
type pkcs11Opened struct {
	cluster *seal.Cluster
	bundle  string
	number  int
}

// pkcs11Cluster loads the public files of dir and opens the distributor's
// bundle with the same checks as a distributor that connects.
func pkcs11Cluster(dir string, bf bundleFlags) (*pkcs11Opened, error) {
	trust, pin, err := bf.trust()
	c, err := loadPinned(dir, trust, pin, err)
	if err != nil {
		return nil, err
	}
	bf.dealerKey = seal.FormatDealerKey(c.DealerKey)
	if bf.bundle == "" {
		bf.bundle = c.Path(share.Node{Role: share.RoleDistributor, Number: 1})
	}
	dk, err := loadDistributorKey(bf)
	if err != nil {
		return nil, err
	}
	if !dk.PublicKey.Equal(c.PublicKey) || dk.KeyID != c.Info.KeyID || dk.Epoch != c.Info.Epoch {
		return nil, fmt.Errorf("%s: not a distributor of the cluster in %s", bf.bundle, dir)
	}
	return &pkcs11Opened{cluster: c, bundle: bf.bundle, number: dk.NodeKey.Number}, nil
}

// abs makes a path absolute, so that the configuration works from any
// directory; an empty path stays empty.
func abs(p string) string {
	if p == "" {
		return ""
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
