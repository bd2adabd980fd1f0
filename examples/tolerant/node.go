package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/natsbus"
	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/share"
)

// nodeConfig is what the node command's flags ask for.
type nodeConfig struct {
	role     string
	bundle   bundleFlags
	nats     natsFlags
	health   string
	workers  int
	audit    bool
	logLevel string
	drain    time.Duration
	policy   policyFlags
	stdout   io.Writer // where -approve prompt shows requests
}

// runNode runs one calculator or combiner on NATS until SIGINT or SIGTERM,
// then drains and returns nil.
func runNode(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	var cfg nodeConfig
	fs.StringVar(&cfg.role, "role", "", "calculator or combiner (required)")
	fs.StringVar(&cfg.bundle.bundle, "bundle", "", "this node's bundle: calculator-J.age or combiner-A.age from deal (required)")
	fs.StringVar(&cfg.bundle.identity, "identity", "", "this node's age identity file, written by tolerant keygen on this host (required for a sealed bundle)")
	fs.BoolVar(&cfg.bundle.plaintext, "insecure-plaintext-keys", false, "accept a bundle in PLAINTEXT (.json, from deal -insecure-plaintext-keys; tests and demos only)")
	fs.StringVar(&cfg.bundle.dealerKey, "dealer-key", "", dealerKeyUsage)
	cfg.nats.register(fs)
	fs.StringVar(&cfg.health, "health", "", "serve GET /healthz on this address, e.g. 127.0.0.1:8080 (200 while connected and running, 503 otherwise)")
	fs.IntVar(&cfg.workers, "workers", 0, "exponentiations computed at once (default: the number of CPUs)")
	fs.BoolVar(&cfg.audit, "audit", false, "combiner: check every partial, to name lying calculators even when their partial was not needed")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "level of the JSON logs on stderr: debug, info, warn or error")
	fs.DurationVar(&cfg.drain, "drain-timeout", 10*time.Second, "on SIGINT/SIGTERM, how long to wait for the NATS connection to drain")
	cfg.policy.register(fs)
	cfg.stdout = stdout
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tolerant node -role calculator|combiner -bundle FILE -identity FILE -nats URL [-nats-cluster NAME] [-health ADDR] [-policy FILE [-approve prompt|exec:CMD] [-approve-timeout D]]\n"+
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
	if cfg.bundle.bundle == "" || cfg.nats.url == "" {
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

// nodeRunner is a calculator or combiner node.
type nodeRunner interface {
	Run(ctx context.Context) error
	Close() error
}

// serveNode runs the node until ctx ends; then it calls stop (so that a
// second signal kills the process), closes the node and drains the bus.
func serveNode(ctx context.Context, stop func(), cfg *nodeConfig, stderr io.Writer) error {
	log, err := newLogger(stderr, cfg.logLevel)
	if err != nil {
		return err
	}
	var (
		node  nodeRunner
		stats func() any
		meta  share.Meta
		nk    *share.NodeKey
		build func(broadcast.Broadcaster) (nodeRunner, func() any, error)
	)
	approve, err := cfg.policy.approver(os.Stdin, cfg.stdout, log)
	if err != nil {
		return err
	}
	switch cfg.role {
	case "calculator":
		key, err := loadCalculatorKey(cfg.bundle)
		if err != nil {
			return err
		}
		meta, nk = key.Meta, key.NodeKey
		opts := &broadcast.CalculatorOptions{Workers: cfg.workers, Approve: approve, ApproveTimeout: cfg.policy.timeout}
		build = func(b broadcast.Broadcaster) (nodeRunner, func() any, error) {
			opts.Logger = log
			n, err := broadcast.NewCalculatorNode(b, key, opts)
			if err != nil {
				return nil, nil, err
			}
			return n, func() any { return counters(n.Stats()) }, nil
		}
	case "combiner":
		key, err := loadCombinerKey(cfg.bundle)
		if err != nil {
			return err
		}
		meta, nk = key.Meta, key.NodeKey
		opts := &broadcast.CombinerOptions{Workers: cfg.workers, AuditLate: cfg.audit, Combine: &combine.Options{Audit: cfg.audit, Approve: approve}, ApproveTimeout: cfg.policy.timeout}
		build = func(b broadcast.Broadcaster) (nodeRunner, func() any, error) {
			opts.Logger = log
			n, err := broadcast.NewCombinerNode(b, key, opts)
			if err != nil {
				return nil, nil, err
			}
			return n, func() any { return counters(n.Stats()) }, nil
		}
	}
	if nk == nil {
		return errors.New("the bundle has no node key: deal it again with this version")
	}
	name := natsbus.NodeName(nk.Node)
	log = log.With("key", meta.KeyID, "epoch", meta.Epoch, "role", cfg.role, "node", nk.Number)
	log.Info("key material opened", "k", meta.K, "t", meta.T, "l", meta.L, "modulus_bits", meta.PublicKey.N.BitLen())

	// The health endpoint listens first, so that an orchestrator sees 503
	// while the node connects.
	h := &healthz{name: name, keyID: meta.KeyID}
	var srv *http.Server
	var srvDone chan struct{}
	if cfg.health != "" {
		ln, err := net.Listen("tcp", cfg.health)
		if err != nil {
			return fmt.Errorf("-health: %w", err)
		}
		srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		srvDone = make(chan struct{})
		go func() {
			defer close(srvDone)
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("health endpoint failed", "err", err)
			}
		}()
		log.Info("health endpoint", "addr", ln.Addr().String())
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
			<-srvDone
		}()
	}

	bus, err := cfg.nats.dial(ctx, name, meta.KeyID, true, log)
	if err != nil {
		if ctx.Err() != nil {
			log.Info("stopped before connecting")
			return nil
		}
		return fmt.Errorf("NATS: %w", err)
	}
	node, stats, err = build(&logBus{Broadcaster: bus, log: log})
	if err != nil {
		bus.Close()
		return err
	}
	h.set(bus, stats)

	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()
	ran := make(chan error, 1)
	go func() { ran <- node.Run(runCtx) }()
	h.running.Store(true)
	log.Info("node ready", "nats_cluster", bus.Cluster(), "nats", bus.Status().URL)

	var runErr error
	select {
	case <-ctx.Done():
		stop()
		log.Info("signal received: draining")
		h.running.Store(false)
		node.Close()
		select {
		case <-ran:
		case <-time.After(cfg.drain):
			cancelRun()
			<-ran
		}
	case err := <-ran: // the bus closed under the node
		h.running.Store(false)
		runErr = fmt.Errorf("the node stopped: %v (NATS: %v)", err, bus.Healthy())
		log.Error("node stopped", "err", runErr)
	}
	dctx, cancel := context.WithTimeout(context.Background(), cfg.drain)
	defer cancel()
	if err := bus.Shutdown(dctx); err != nil {
		log.Warn("NATS drain did not finish", "err", err)
	}
	log.Info("node stopped", "stats", stats())
	return runErr
}

// healthz answers GET /healthz: 200 while the NATS connection is up and
// the node runs, 503 otherwise, with a small JSON body.
type healthz struct {
	name, keyID string
	running     atomic.Bool

	mu    sync.Mutex
	bus   *natsbus.Bus
	stats func() any
}

// set gives the handler the node's connection and counters once they exist.
func (h *healthz) set(bus *natsbus.Bus, stats func() any) {
	h.mu.Lock()
	h.bus, h.stats = bus, stats
	h.mu.Unlock()
}

// healthBody is the JSON body of /healthz.
type healthBody struct {
	Node      string `json:"node"`
	Key       string `json:"key"`
	Running   bool   `json:"running"`
	Connected bool   `json:"connected"`
	NATS      string `json:"nats"`
	Error     string `json:"error,omitempty"`
	Stats     any    `json:"stats,omitempty"`
}

// ServeHTTP implements http.Handler.
func (h *healthz) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/healthz" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.mu.Lock()
	bus, stats := h.bus, h.stats
	h.mu.Unlock()
	body := healthBody{Node: h.name, Key: h.keyID, Running: h.running.Load(), NATS: "NOT CONNECTED"}
	if bus != nil {
		err := bus.Healthy()
		body.Connected = err == nil
		body.NATS = bus.Status().State
		if err != nil {
			body.Error = err.Error()
		}
	}
	if stats != nil {
		body.Stats = stats()
	}
	code := http.StatusOK
	if !body.Running || !body.Connected {
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}

// counters returns the uint64 fields of a node's stats struct by their
// snake_case names, e.g. {"tasks": 3, "partials": 6}.
func counters(stats any) map[string]uint64 {
	out := make(map[string]uint64)
	v := reflect.ValueOf(stats)
	if v.Kind() != reflect.Struct {
		return out
	}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.IsExported() && f.Type.Kind() == reflect.Uint64 {
			out[snake(f.Name)] = v.Field(i).Uint()
		}
	}
	return out
}

// snake turns "OtherKey" into "other_key".
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
