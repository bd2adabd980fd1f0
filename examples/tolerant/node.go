package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/natsbus"
	"github.com/tolerantca/tolerant/broadcast/node"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// nodeConfig is what the node command's flags ask for.
type nodeConfig struct {
	role       string
	bundles    listFlag
	identity   string
	plaintext  bool
	dealerKeys listFlag
	nats       natsFlags
	health     string
	workers    int
	audit      bool
	logLevel   string
	drain      time.Duration
	cutover    string
	auditDir   string
	policy     policyFlags
	stdout     io.Writer // where -approve prompt shows requests
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	if v == "" {
		return errors.New("empty value")
	}
	*l = append(*l, v)
	return nil
}

// runNode runs calculators or combiners on NATS until SIGINT or SIGTERM,
// then drains and returns nil.
func runNode(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	var cfg nodeConfig
	fs.StringVar(&cfg.role, "role", "", "calculator or combiner (required)")
	fs.Var(&cfg.bundles, "bundle", "this node's bundle: calculator-J.age or combiner-A.age from deal (required); repeat it to serve several keys, or two epochs of one key, in one process")
	fs.StringVar(&cfg.identity, "identity", "", "this node's age identity file, written by tolerant keygen on this host (required for a sealed bundle)")
	fs.BoolVar(&cfg.plaintext, "insecure-plaintext-keys", false, "accept a bundle in PLAINTEXT (.json, from deal -insecure-plaintext-keys; tests and demos only)")
	fs.Var(&cfg.dealerKeys, "dealer-key", dealerKeyUsage+"; repeat it for bundles of several dealers")
	cfg.nats.register(fs)
	fs.StringVar(&cfg.health, "health", "", "serve GET /healthz (200 while connected and running, 503 otherwise) and the Prometheus /metrics on this address, e.g. 127.0.0.1:8080")
	fs.IntVar(&cfg.workers, "workers", 0, "exponentiations computed at once, per bundle (default: the number of CPUs)")
	fs.BoolVar(&cfg.audit, "audit", false, "combiner: check every partial, to name lying calculators even when their partial was not needed")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "level of the JSON logs on stderr: debug, info, warn or error")
	fs.DurationVar(&cfg.drain, "drain-timeout", 10*time.Second, "on SIGINT/SIGTERM, how long to wait for the work in progress and then the NATS connection to drain")
	fs.StringVar(&cfg.cutover, "cutover", "", "end of a rolling share refresh, as an RFC 3339 time: from then on the bundles of a key's older epochs refuse every task (key material of another epoch), those of its newest epoch keep signing")
	fs.StringVar(&cfg.auditDir, "audit-dir", "", auditDirUsage)
	cfg.policy.register(fs)
	cfg.stdout = stdout
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tolerant node -role calculator|combiner -bundle FILE [-bundle FILE ...] -identity FILE -nats URL [-nats-cluster NAME] [-health ADDR] [-audit-dir DIR] [-cutover TIME]\n"+
			"                     [-policy FILE [-approve prompt|exec:CMD] [-approve-timeout D]]\n"+
			"                     [-tls-ca FILE [-tls-cert FILE -tls-key FILE]] [-creds FILE | -user NAME -password-file FILE]")
		printFlags(fs, nil)
		fmt.Fprintln(fs.Output(), "\nRuns until SIGINT or SIGTERM, then drains and exits 0. Logs are JSON on stderr.")
	}
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	if cfg.role != "calculator" && cfg.role != "combiner" {
		fmt.Fprintln(stderr, "node: -role calculator or -role combiner is required")
		fs.Usage()
		return errUsage
	}
	if len(cfg.bundles) == 0 || cfg.nats.url == "" {
		fmt.Fprintln(stderr, "node: -bundle and -nats are required")
		fs.Usage()
		return errUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serveNode(ctx, stop, &cfg, stderr); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

// printFlags prints the flags of fs except those in hidden.
func printFlags(fs *flag.FlagSet, hidden map[string]bool) {
	fs.VisitAll(func(f *flag.Flag) {
		if hidden[f.Name] {
			return
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(fs.Output(), "  -%s\n    \t%s%s\n", f.Name, f.Usage, def)
	})
}

// opened is one bundle's key material, opened.
type opened struct {
	path string
	meta share.Meta
	nk   *share.NodeKey
	calc *share.CalculatorKey
	comb *share.CombinerKey
}

// serveNode runs the nodes of cfg's bundles until ctx ends; then it calls
// stop (so that a second signal kills the process) and drains them.
func serveNode(ctx context.Context, stop func(), cfg *nodeConfig, stderr io.Writer) error {
	log, err := newLogger(stderr, cfg.logLevel)
	if err != nil {
		return err
	}
	approve, err := cfg.policy.approver(os.Stdin, cfg.stdout, log)
	if err != nil {
		return err
	}
	keys, err := cfg.open(log)
	if err != nil {
		return err
	}
	retire, err := cfg.retireAt(keys, log)
	if err != nil {
		return err
	}
	host, err := node.NewHost(log)
	if err != nil {
		return err
	}
	role := share.RoleCalculator
	if cfg.role == "combiner" {
		role = share.RoleCombiner
	}
	met, metricsHandler, err := nodeMetrics(role, keyIDs(keys), host)
	if err != nil {
		return err
	}
	// The health endpoint listens first, so that an orchestrator sees 503
	// while the nodes connect.
	if cfg.health != "" {
		mux := host.Handler()
		mux.Handle("/metrics", metricsHandler)
		shutdown, err := serveHealth(cfg.health, mux, log)
		if err != nil {
			return err
		}
		defer shutdown()
	}
	var buses []*natsbus.Bus
	for _, k := range keys {
		alog, err := openAuditLog(cfg.auditDir, role, k.nk.Number, &k.meta)
		if err != nil {
			return err
		}
		defer alog.Close()
		opts := &node.Options{Workers: cfg.workers, Approve: approve, InsecureApproveAll: cfg.policy.noPolicy,
			ApproveTimeout: cfg.policy.timeout, AuditLate: cfg.audit, DrainTimeout: cfg.drain, RetireAt: retire[k.path], Logger: log,
			Observer: broadcast.Observers(met, alog.observer()), Health: alog.health}
		n, bus, err := cfg.start(ctx, k, opts, log)
		if err == nil {
			buses = append(buses, bus)
			err = host.Add(n)
		}
		if err != nil {
			for _, b := range buses {
				b.Close()
			}
			if ctx.Err() != nil {
				log.Info("stopped before connecting")
				return nil
			}
			return err
		}
	}
	go func() {
		<-ctx.Done()
		stop()
		log.Info("signal received: draining")
	}()
	return host.Run(ctx)
}

// open opens every bundle of cfg, for its role.
func (cfg *nodeConfig) open(log *slog.Logger) ([]opened, error) {
	var keys []opened
	clusters := map[string]bool{}
	for _, path := range cfg.bundles {
		k := opened{path: path}
		var err error
		if cfg.role == "calculator" {
			k.calc, err = loadWithDealers(cfg.bundleFlags(path), cfg.dealerKeys, loadCalculatorKey)
			if err == nil {
				k.meta, k.nk = k.calc.Meta, k.calc.NodeKey
			}
		} else {
			k.comb, err = loadWithDealers(cfg.bundleFlags(path), cfg.dealerKeys, loadCombinerKey)
			if err == nil {
				k.meta, k.nk = k.comb.Meta, k.comb.NodeKey
			}
		}
		if err != nil && len(cfg.bundles) > 1 && len(cfg.dealerKeys) == 0 && errors.Is(err, seal.ErrWrongDealer) {
			return nil, fmt.Errorf("%w (bundles of several dealers: pass -dealer-key once per dealer)", err)
		}
		if err != nil {
			return nil, err
		}
		if k.nk == nil {
			return nil, fmt.Errorf("%s has no node key: deal it again with this version", path)
		}
		clusters[k.meta.KeyID] = true
		log.Info("key material opened", "bundle", path, "key", k.meta.KeyID, "epoch", k.meta.Epoch, "role", cfg.role, "node", k.nk.Number,
			"k", k.meta.K, "t", k.meta.T, "l", k.meta.L, "modulus_bits", k.meta.PublicKey.N.BitLen())
		keys = append(keys, k)
	}
	if cfg.nats.cluster != "" && len(clusters) > 1 {
		return nil, errors.New("-nats-cluster names one signing cluster, but the bundles are of several keys: leave it out (each key's cluster is its key id)")
	}
	return keys, nil
}

// keyIDs returns the distinct key ids of keys, in order.
func keyIDs(keys []opened) []string {
	var ids []string
	for _, k := range keys {
		if !slices.Contains(ids, k.meta.KeyID) {
			ids = append(ids, k.meta.KeyID)
		}
	}
	return ids
}

// bundleFlags returns the flags that open the bundle at path.
func (cfg *nodeConfig) bundleFlags(path string) bundleFlags {
	return bundleFlags{bundle: path, identity: cfg.identity, plaintext: cfg.plaintext}
}

// loadWithDealers opens a bundle with load, trusting each -dealer-key in
// turn (a bundle of any of them is accepted), or the pinned dealer when
// none is given.
func loadWithDealers[K any](bf bundleFlags, dealers []string, load func(bundleFlags) (K, error)) (K, error) {
	if len(dealers) <= 1 {
		if len(dealers) == 1 {
			bf.dealerKey = dealers[0]
		}
		return load(bf)
	}
	var zero K
	var err error
	for _, d := range dealers {
		bf.dealerKey = d
		var k K
		if k, err = load(bf); err == nil || !errors.Is(err, seal.ErrWrongDealer) {
			return k, err
		}
	}
	return zero, err
}

// retireAt returns, per bundle path, the end of its epoch: -cutover for
// every bundle of a key whose newer epoch is also served, none otherwise.
func (cfg *nodeConfig) retireAt(keys []opened, log *slog.Logger) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if cfg.cutover == "" {
		return out, nil
	}
	at, err := time.Parse(time.RFC3339, cfg.cutover)
	if err != nil {
		return nil, fmt.Errorf("-cutover: %w", err)
	}
	newest := map[string]uint32{}
	for _, k := range keys {
		newest[k.meta.KeyID] = max(newest[k.meta.KeyID], k.meta.Epoch)
	}
	for _, k := range keys {
		if k.meta.Epoch < newest[k.meta.KeyID] {
			out[k.path] = at
			log.Info("epoch ends at the cutover", "key", k.meta.KeyID, "epoch", k.meta.Epoch, "cutover", at.Format(time.RFC3339))
		}
	}
	if len(out) == 0 {
		log.Warn("-cutover: no key is served in two epochs; nothing is retired")
	}
	return out, nil
}

// start dials NATS for bundle k (retrying until ctx ends while the
// server cannot be reached) and makes its node.
func (cfg *nodeConfig) start(ctx context.Context, k opened, opts *node.Options, log *slog.Logger) (*node.Node, *natsbus.Bus, error) {
	bus, err := cfg.nats.dial(ctx, natsbus.NodeName(k.nk.Node), k.meta.KeyID, true, log)
	if err != nil {
		return nil, nil, fmt.Errorf("NATS: %w", err)
	}
	var n *node.Node
	if k.calc != nil {
		n, err = node.NewCalculator(bus, k.calc, opts)
	} else {
		n, err = node.NewCombiner(bus, k.comb, opts)
	}
	if err != nil {
		bus.Close()
		return nil, nil, err
	}
	log.Info("connected", "key", k.meta.KeyID, "epoch", k.meta.Epoch, "nats_cluster", bus.Cluster(), "nats", bus.Status().URL)
	return n, bus, nil
}

// serveHealth serves h on addr until the returned function is called.
func serveHealth(addr string, h http.Handler, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-health: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("health endpoint failed", "err", err)
		}
	}()
	log.Info("health endpoint", "addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-done
	}, nil
}
