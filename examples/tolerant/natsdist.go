package main

// Shared by the commands that talk to a cluster over NATS: node,
// sign -nats, issue and demo -nats. The connection flags, the loading of
// bundles (sealed or, behind a flag, plaintext), the structured logs, and
// the task distributor.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/natsbus"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
	"github.com/tolerantca/tolerant/x509sign"
)

// natsFlags are the flags of a NATS connection, common to node, sign -nats
// and issue.
type natsFlags struct {
	url          string
	cluster      string
	tlsCA        string
	tlsCert      string
	tlsKey       string
	creds        string
	user         string
	passwordFile string
}

// register adds the flags to fs.
func (f *natsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "nats", "", "URL of the NATS server, or a comma-separated list of a NATS cluster's servers (tls:// for TLS) (required)")
	fs.StringVar(&f.cluster, "nats-cluster", "", "name of the signing cluster on NATS: its subjects are tolerant.NAME.b1..b3 (default: the key id)")
	fs.StringVar(&f.tlsCA, "tls-ca", "", "PEM file of the CA that signs the NATS server's certificate (turns TLS on)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM file of this node's client certificate, for servers that verify clients")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM file of the client certificate's private key")
	fs.StringVar(&f.creds, "creds", "", "NATS credentials file (user JWT and nkey seed) of this node")
	fs.StringVar(&f.user, "user", "", "NATS user name of this node (with -password-file)")
	fs.StringVar(&f.passwordFile, "password-file", "", "file holding this node's NATS password (first line)")
}

// options returns the natsbus options of a connection called name, for the
// signing cluster keyID unless -nats-cluster names another; retry asks
// Dial to wait for a server that cannot be reached yet.
func (f *natsFlags) options(name, keyID string, retry bool, log *slog.Logger) (natsbus.Options, error) {
	o := natsbus.Options{URL: f.url, Cluster: f.cluster, Name: name, CredsFile: f.creds, User: f.user, Logger: log, RetryDial: retry}
	if o.Cluster == "" {
		o.Cluster = natsbus.DefaultCluster(keyID)
	}
	if err := natsbus.ValidateCluster(o.Cluster); err != nil {
		return o, err
	}
	if f.tlsCA != "" {
		o.RootCAs = []string{f.tlsCA}
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return o, errors.New("-tls-cert and -tls-key go together")
	}
	o.ClientCert, o.ClientKey = f.tlsCert, f.tlsKey
	if f.creds != "" && (f.user != "" || f.passwordFile != "") {
		return o, errors.New("-creds cannot be combined with -user and -password-file")
	}
	if (f.user == "") != (f.passwordFile == "") {
		return o, errors.New("-user and -password-file go together")
	}
	if f.passwordFile != "" {
		pw, err := readSecretLine(f.passwordFile)
		if err != nil {
			return o, fmt.Errorf("-password-file: %w", err)
		}
		o.Password = pw
	}
	return o, nil
}

// dial connects to NATS as name. With retry, it retries until ctx ends
// when the server cannot be reached yet (a node started before the
// broker), but not when the options or the credentials are wrong
// (natsbus.Options.RetryDial).
func (f *natsFlags) dial(ctx context.Context, name, keyID string, retry bool, log *slog.Logger) (*natsbus.Bus, error) {
	o, err := f.options(name, keyID, retry, log)
	if err != nil {
		return nil, err
	}
	return natsbus.Dial(ctx, o)
}

// readSecretLine reads the first line of a small file holding a secret
// (a password). The error never quotes the content.
func readSecretLine(path string) (string, error) {
	b, err := readLimited(path, 4096)
	if err != nil {
		return "", err
	}
	defer clear(b)
	line, _, _ := bytes.Cut(b, []byte("\n"))
	s := strings.TrimRight(string(line), "\r")
	if s == "" {
		return "", fmt.Errorf("%s: empty", path)
	}
	return s, nil
}

// newLogger returns the JSON logger of a command, on w, at level.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(dedupHandler{Handler: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})}), nil
}

// dedupHandler drops an attribute added with With when one of the same key
// is already there: the protocol nodes add their own "node" and "key" to
// the logger they are given, which already names them.
type dedupHandler struct {
	slog.Handler
	keys map[string]bool
}

// WithAttrs adds the attributes whose keys are new.
func (h dedupHandler) WithAttrs(as []slog.Attr) slog.Handler {
	keys := maps.Clone(h.keys)
	if keys == nil {
		keys = make(map[string]bool)
	}
	var keep []slog.Attr
	for _, a := range as {
		if !keys[a.Key] {
			keys[a.Key] = true
			keep = append(keep, a)
		}
	}
	return dedupHandler{Handler: h.Handler.WithAttrs(keep), keys: keys}
}

// WithGroup starts a group, in which every key is new.
func (h dedupHandler) WithGroup(name string) slog.Handler {
	return dedupHandler{Handler: h.Handler.WithGroup(name)}
}

// bundleFlags are the flags that open a node's key material.
type bundleFlags struct {
	bundle, identity string
	plaintext        bool
	dealerKey        string // -dealer-key
}

// isPlaintext reports whether the bundle is in PLAINTEXT (.json), which
// is accepted only with -insecure-plaintext-keys and without -identity.
func (bf bundleFlags) isPlaintext() (bool, error) {
	if filepath.Ext(bf.bundle) != seal.PlaintextExt {
		return false, nil
	}
	if !bf.plaintext {
		return false, fmt.Errorf("%s holds key material in PLAINTEXT: pass -insecure-plaintext-keys to use it anyway (tests and demos only)", bf.bundle)
	}
	if bf.identity != "" {
		return false, fmt.Errorf("%s is a plaintext bundle: -identity is not used", bf.bundle)
	}
	return true, nil
}

// openIdentity returns the age identity that opens the sealed bundle.
func (bf bundleFlags) openIdentity() (age.Identity, error) {
	if bf.identity == "" {
		return nil, fmt.Errorf("%s is sealed: -identity FILE (written by tolerant keygen on this host) is required", bf.bundle)
	}
	return seal.ReadIdentityFile(bf.identity)
}

// loadBundle opens a node's bundle, sealed with its identity or, behind
// -insecure-plaintext-keys, in plaintext; checks the dealer's signature
// against -dealer-key or the pinned dealer, and pins a first dealer.
func loadBundle[K any](bf bundleFlags, sealed func(string, age.Identity, seal.Trust) (K, error),
	plaintext func(string, seal.Trust) (K, error), dealer func(K) ed25519.PublicKey) (K, error) {
	var zero K
	plain, err := bf.isPlaintext()
	if err != nil {
		return zero, err
	}
	trust, pin, err := bf.trust()
	if err != nil {
		return zero, err
	}
	var key K
	if plain {
		key, err = plaintext(bf.bundle, trust)
	} else {
		id, idErr := bf.openIdentity()
		if idErr != nil {
			return zero, idErr
		}
		key, err = sealed(bf.bundle, id, trust)
	}
	if err != nil {
		return zero, err
	}
	return key, pinDealer(pin, dealer(key))
}

// loadCalculatorKey opens a calculator's bundle.
func loadCalculatorKey(bf bundleFlags) (*share.CalculatorKey, error) {
	return loadBundle(bf, seal.LoadCalculator, seal.InsecureLoadPlaintextCalculator,
		func(k *share.CalculatorKey) ed25519.PublicKey { return k.DealerKey })
}

// loadCombinerKey opens a combiner's bundle.
func loadCombinerKey(bf bundleFlags) (*share.CombinerKey, error) {
	return loadBundle(bf, seal.LoadCombiner, seal.InsecureLoadPlaintextCombiner,
		func(k *share.CombinerKey) ed25519.PublicKey { return k.DealerKey })
}

// loadDistributorKey opens a distributor's bundle.
func loadDistributorKey(bf bundleFlags) (*share.DistributorKey, error) {
	return loadBundle(bf, seal.LoadDistributor, seal.InsecureLoadPlaintextDistributor,
		func(k *share.DistributorKey) ed25519.PublicKey { return k.DealerKey })
}

// remote is a task distributor on NATS: the distributor's bundle signs the
// tasks, its roster authenticates the answers.
type remote struct {
	bus  *natsbus.Bus
	dist *broadcast.Distributor
	key  *share.DistributorKey
	rec  *recorder
	log  *auditLog // nil without -audit-dir
}

// distributorFlags are the flags of the commands that act as a task
// distributor over NATS (sign -nats, issue).
type distributorFlags struct {
	nats     natsFlags
	dir      string
	bundle   bundleFlags
	logLevel string
	auditDir string
}

// register adds the flags to fs.
func (df *distributorFlags) register(fs *flag.FlagSet) {
	df.nats.register(fs)
	fs.StringVar(&df.dir, "cluster", "", "cluster directory written by deal: its public files (cluster.json, public.pem, plan.json, roster.json) (required)")
	fs.StringVar(&df.bundle.bundle, "distributor", "", "this distributor's bundle (default: DIR/distributor-1.age, or .json for a plaintext cluster)")
	fs.StringVar(&df.bundle.identity, "identity", "", "age identity file that opens the distributor's bundle")
	fs.BoolVar(&df.bundle.plaintext, "insecure-plaintext-keys", false, "accept a distributor bundle in PLAINTEXT (tests and demos only)")
	fs.StringVar(&df.bundle.dealerKey, "dealer-key", "", dealerKeyUsage)
	fs.StringVar(&df.logLevel, "log-level", "warn", "level of the JSON logs on stderr: debug, info, warn or error")
	fs.StringVar(&df.auditDir, "audit-dir", "", strings.Replace(auditDirUsage, "this node's", "the distributor's", 1))
}

// signer connects (connect) and returns an x509sign.Signer on the
// distributor with opts. The caller closes r.
func (df *distributorFlags) signer(ctx context.Context, stderr io.Writer, opts *x509sign.Options) (*remote, *x509sign.Signer, error) {
	r, err := df.connect(ctx, stderr)
	if err != nil {
		return nil, nil, err
	}
	signer, err := x509sign.New(r.key.PublicKey, r.key.KeyID, r.rec, opts)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return r, signer, nil
}

// connect loads the cluster's public files and the distributor's bundle,
// dials NATS and starts a distributor. The caller closes it.
func (df *distributorFlags) connect(ctx context.Context, stderr io.Writer) (*remote, error) {
	log, err := newLogger(stderr, df.logLevel)
	if err != nil {
		return nil, err
	}
	trust, pin, err := df.bundle.trust()
	c, err := loadPinned(df.dir, trust, pin, err)
	if err != nil {
		return nil, err
	}
	bf := df.bundle
	bf.dealerKey = seal.FormatDealerKey(c.DealerKey) // the bundle must be of the public files' dealer
	if bf.bundle == "" {
		bf.bundle = c.Path(share.Node{Role: share.RoleDistributor, Number: 1})
	}
	dk, err := loadDistributorKey(bf)
	if err != nil {
		return nil, err
	}
	switch {
	case !dk.PublicKey.Equal(c.PublicKey):
		return nil, fmt.Errorf("%s: a distributor of another public key than %s/%s", bf.bundle, df.dir, seal.PublicFile)
	case dk.KeyID != c.Info.KeyID || dk.Epoch != c.Info.Epoch:
		return nil, fmt.Errorf("%s: key %s epoch %d, but the cluster is key %s epoch %d", bf.bundle, dk.KeyID, dk.Epoch, c.Info.KeyID, c.Info.Epoch)
	}
	log = log.With("key", dk.KeyID, "role", "distributor", "number", dk.NodeKey.Number)
	name := natsbus.NodeName(dk.NodeKey.Node)
	bus, err := df.nats.dial(ctx, name, dk.KeyID, false, log)
	if err != nil {
		return nil, fmt.Errorf("NATS: %w", err)
	}
	alog, err := openAuditLog(df.auditDir, share.RoleDistributor, dk.NodeKey.Number, &dk.Meta)
	if err != nil {
		bus.Close()
		return nil, err
	}
	dist, err := broadcast.NewDistributor(bus, dk, &broadcast.DistributorOptions{
		Logger:   log, // log names the node already
		Observer: alog.observer(),
	})
	if err != nil {
		alog.Close()
		bus.Close()
		return nil, err
	}
	return &remote{bus: bus, dist: dist, key: dk, rec: &recorder{dist: dist}, log: alog}, nil
}

// Close stops the distributor and drains the NATS connection.
func (r *remote) Close() error {
	r.dist.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.bus.Shutdown(ctx)
	if lerr := r.log.health(); lerr != nil && err == nil {
		err = fmt.Errorf("audit log: %w", lerr)
	}
	return errors.Join(err, r.log.Close())
}
