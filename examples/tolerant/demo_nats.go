package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/natsbus"
	"github.com/tolerantca/tolerant/broadcast/transport"
	"github.com/tolerantca/tolerant/internal/faults"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// nodeExecutable is the program the demo starts its nodes with: this one.
var nodeExecutable = os.Executable

// runDemoNATS runs the demo with every calculator and combiner as its own
// process, talking over NATS: it deals, seals every node's bundle to a
// fresh age identity, starts "tolerant node" for each of them (and an
// embedded NATS server for -nats auto), issues the root and the leaves as a
// task distributor over NATS, and stops every node with SIGTERM.
// Calculators and combiners taken down by -down and -combiners-down are
// killed (SIGKILL) once the root is signed.
//
// The faults are the demo's own: the node command has no way to lie or to
// lose messages. Lying calculators (-liars) run in this process, each on
// its own NATS connection, with a transport that makes their partials wrong
// (internal/faults); -loss drops messages this process receives (the
// distributor's and the liars').
func runDemoNATS(ctx context.Context, cfg *demoConfig, log io.Writer) (*demoSummary, error) {
	total := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	exe, err := nodeExecutable()
	if err != nil {
		return nil, fmt.Errorf("demo: finding this program to start the nodes: %w", err)
	}
	fmt.Fprintf(log, "tolerant demo over NATS: k=%d calculators, threshold t=%d, l=%d shares each, every node its own process\n\n", cfg.k, cfg.t, cfg.l)
	dl, dealing, err := demoDeal(cfg, log)
	if err != nil {
		return nil, err
	}
	cfg.resolveCombiners(dealing.Plan)

	dir, bundles, err := sealDemoDir(dl, dealing, log)
	if dir != "" {
		defer os.RemoveAll(dir)
	}
	if err != nil {
		return nil, err
	}

	url, stopServer, err := demoNATSServer(cfg.nats, log)
	if err != nil {
		return nil, err
	}
	defer stopServer()
	cluster := demoClusterName()

	nodes := newDemoNodes(log)
	defer nodes.stopAll(10 * time.Second)
	liars, err := startDemoCluster(ctx, cfg, exe, nodes, bundles, dl, dealing, url, cluster, log)
	if liars != nil {
		defer liars.stop()
	}
	if err != nil {
		return nil, err
	}

	bus, dist, err := dialDemoDistributor(ctx, cfg, dealing.Distributors[0], url, cluster)
	if bus != nil {
		defer bus.Close()
	}
	if err != nil {
		return nil, err
	}
	defer dist.Close()

	killed := killAfterRoot(ctx, cfg, dist, nodes, log)
	rec := &recorder{dist: dist}
	sum, err := issueAll(ctx, cfg, dl.PublicKey(), dl.KeyID(), rec, log)
	cancel() // the killer, if the root failed
	<-killed
	if err != nil {
		return nil, err
	}
	sum.Transport, sum.ExpectFailures = "nats", cfg.expectFailures(dealing.Plan)
	addInconsistent(sum, dist.Inconsistent())
	dist.Close()
	bus.Close()
	return stopDemoNodes(sum, liars, nodes, total, log)
}

// sealDemoDir seals every node's bundle to its own fresh age identity, as
// keygen and deal would do on separate hosts, in a new temporary directory
// it returns (to be removed, also when it returns an error, unless "").
func sealDemoDir(dl *share.Dealer, dealing *share.Dealing, log io.Writer) (string, []demoBundle, error) {
	start := time.Now()
	dir, err := os.MkdirTemp("", "tolerant-demo-")
	if err != nil {
		return "", nil, fmt.Errorf("demo: %w", err)
	}
	bundles, err := sealDemoBundles(dir, dl, dealing)
	if err != nil {
		return dir, nil, err
	}
	fmt.Fprintf(log, "seal     %d bundles sealed to fresh age identities in %v (%s)\n", len(bundles), since(start), dir)
	return dir, bundles, nil
}

// demoNATSServer returns the URL of the demo's NATS server and a function
// that stops it: for "auto" an embedded server it starts, otherwise url
// itself and a function that does nothing.
func demoNATSServer(url string, log io.Writer) (string, func(), error) {
	if url != "auto" {
		return url, func() {}, nil
	}
	srv, err := natsbus.StartServer(natsbus.ServerOptions{Host: "127.0.0.1", Port: -1})
	if err != nil {
		return "", nil, fmt.Errorf("demo: %w", err)
	}
	url = srv.URL()
	fmt.Fprintf(log, "nats     embedded server on %s\n", url)
	return url, func() { srv.Close() }, nil
}

// demoClusterName returns a fresh NATS cluster name, not shared with
// another demo on the same server.
func demoClusterName() string {
	var rnd [4]byte
	rand.Read(rnd[:])
	return "demo-" + hex.EncodeToString(rnd[:])
}

// startDemoCluster starts a "tolerant node" process for every bundle
// except the lying calculators, which it starts in this process, waits
// until every node is ready and tells the story. The liars it returns, if
// not nil, must be stopped, also when it returns an error.
func startDemoCluster(ctx context.Context, cfg *demoConfig, exe string, nodes *demoNodes, bundles []demoBundle,
	dl *share.Dealer, dealing *share.Dealing, url, cluster string, log io.Writer) (*demoLiarNodes, error) {
	start := time.Now()
	procs, err := startDemoNodeProcs(cfg, exe, nodes, bundles, dl, url, cluster)
	if err != nil {
		return nil, err
	}
	liars, err := startDemoLiars(ctx, url, cluster, demoLiars(cfg, dealing), cfg.loss)
	if err != nil {
		return nil, err
	}
	rctx, rcancel := context.WithTimeout(ctx, 60*time.Second)
	err = nodes.waitReady(rctx)
	rcancel()
	if err != nil {
		return liars, fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(log, "cluster  %d node processes ready in %v on NATS cluster %q (to be killed after the root: calculators %v, combiners %v)\n",
		procs, since(start), cluster, cfg.down, cfg.combinersDown)
	if len(cfg.liars) > 0 {
		fmt.Fprintf(log, "         calculators %v run in this process and send wrong partials\n", cfg.liars)
	}
	if cfg.loss > 0 {
		fmt.Fprintf(log, "         this process loses %.0f%% of the messages it receives\n", 100*cfg.loss)
	}
	return liars, nil
}

// startDemoNodeProcs starts a "tolerant node" process for every bundle
// except the lying calculators' and returns how many it started.
func startDemoNodeProcs(cfg *demoConfig, exe string, nodes *demoNodes, bundles []demoBundle, dl *share.Dealer, url, cluster string) (int, error) {
	procs := 0
	for _, b := range bundles {
		if b.role == "calculator" && slices.Contains(cfg.liars, b.number) {
			continue // runs in this process
		}
		args := []string{"node", "-insecure-no-policy", "-role", b.role, "-bundle", b.bundle, "-identity", b.identity, "-dealer-key", seal.FormatDealerKey(dl.DealerKey()),
			"-nats", url, "-nats-cluster", cluster, "-log-level", "info", "-drain-timeout", "5s"}
		if b.role == "combiner" && len(cfg.liars) > 0 {
			args = append(args, "-audit")
		}
		if err := nodes.start(exe, b.name, args); err != nil {
			return procs, fmt.Errorf("demo: %w", err)
		}
		procs++
	}
	return procs, nil
}

// dialDemoDistributor connects the task distributor dk, in this process,
// to the NATS cluster, losing cfg.loss of what it receives. The bus it
// returns, if not nil, must be closed, also when it returns an error.
func dialDemoDistributor(ctx context.Context, cfg *demoConfig, dk *share.DistributorKey, url, cluster string) (*natsbus.Bus, *broadcast.Distributor, error) {
	bus, err := natsbus.Dial(ctx, natsbus.Options{URL: url, Cluster: cluster, Name: natsbus.NodeName(dk.NodeKey.Node)})
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	var b transport.Broadcaster = bus
	if cfg.loss > 0 {
		b = faults.Lossy(bus, cfg.loss)
	}
	do := &broadcast.DistributorOptions{}
	if len(cfg.liars) > 0 {
		// The demo's combiners are its own: one combiner's proof is enough.
		do.Linger, do.BlameQuorum = liarLinger, 1
	}
	dist, err := broadcast.NewDistributor(b, dk, do)
	if err != nil {
		return bus, nil, fmt.Errorf("demo: %w", err)
	}
	return bus, dist, nil
}

// killAfterRoot kills the processes of -down and -combiners-down (SIGKILL)
// once the root is signed, while the leaves are in flight. The channel it
// returns is closed when it is done or ctx is done.
func killAfterRoot(ctx context.Context, cfg *demoConfig, dist *broadcast.Distributor, nodes *demoNodes, log io.Writer) <-chan struct{} {
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		if len(cfg.down) == 0 && len(cfg.combinersDown) == 0 {
			return
		}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for dist.Stats().Signed+dist.Stats().Failed == 0 {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		for _, j := range cfg.down {
			nodes.kill(log, natsbus.NodeName(share.Node{Role: share.RoleCalculator, Number: j}))
		}
		for _, a := range cfg.combinersDown {
			nodes.kill(log, natsbus.NodeName(share.Node{Role: share.RoleCombiner, Number: a}))
		}
	}()
	return killed
}

// addInconsistent adds the calculators in inconsistent that sum does not
// list yet to sum.Inconsistent, and sorts it.
func addInconsistent(sum *demoSummary, inconsistent map[int]uint64) {
	for j := range inconsistent {
		if !slices.Contains(sum.Inconsistent, j) {
			sum.Inconsistent = append(sum.Inconsistent, j)
		}
	}
	slices.Sort(sum.Inconsistent)
}

// stopDemoNodes stops the lying calculators and every node process
// (SIGTERM), records the nodes that did not stop cleanly in sum and
// returns sum with an error naming them.
func stopDemoNodes(sum *demoSummary, liars *demoLiarNodes, nodes *demoNodes, total time.Time, log io.Writer) (*demoSummary, error) {
	start := time.Now()
	liars.stop()
	stopped, errs := nodes.stopAll(10 * time.Second)
	fmt.Fprintf(log, "stop     %d node processes stopped with SIGTERM and drained in %v\n", stopped, since(start))
	for _, e := range errs {
		sum.Errors = append(sum.Errors, e.Error())
		fmt.Fprintf(log, "         %v\n", e)
	}
	sum.ElapsedMs = ms(time.Since(total))
	fmt.Fprintf(log, "\ndone in %v\n", since(total))
	if len(errs) > 0 {
		return sum, fmt.Errorf("demo: %d node processes did not stop cleanly: %w", len(errs), errors.Join(errs...))
	}
	return sum, nil
}

// demoLiarNodes are the lying calculators of "demo -nats", in this process.
type demoLiarNodes struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	buses  []*natsbus.Bus
	once   sync.Once
}

// startDemoLiars starts the calculators of keys, each on its own NATS
// connection at url, lying (faults.Liar) and losing a fraction loss of what
// they receive.
func startDemoLiars(ctx context.Context, url, cluster string, keys []*share.CalculatorKey, loss float64) (*demoLiarNodes, error) {
	ctx, cancel := context.WithCancel(ctx)
	ls := &demoLiarNodes{cancel: cancel}
	for _, ck := range keys {
		bus, err := natsbus.Dial(ctx, natsbus.Options{URL: url, Cluster: cluster, Name: natsbus.NodeName(ck.NodeKey.Node)})
		if err != nil {
			ls.stop()
			return nil, fmt.Errorf("demo: lying calculator %d: %w", ck.Number, err)
		}
		ls.buses = append(ls.buses, bus)
		b := faults.Liar(bus, ck)
		if loss > 0 {
			b = faults.Lossy(b, loss)
		}
		n, err := broadcast.NewCalculatorNode(b, ck, nil)
		if err != nil {
			ls.stop()
			return nil, fmt.Errorf("demo: lying calculator %d: %w", ck.Number, err)
		}
		ls.wg.Go(func() { n.Run(ctx) })
	}
	return ls, nil
}

// stop stops the lying calculators and closes their connections. It is
// idempotent.
func (ls *demoLiarNodes) stop() {
	ls.once.Do(func() {
		ls.cancel()
		ls.wg.Wait()
		for _, b := range ls.buses {
			b.Close()
		}
	})
}

// demoBundle is one node's sealed bundle and identity in the demo's
// directory.
type demoBundle struct {
	name, role       string
	number           int
	bundle, identity string
}

// sealDemoBundles writes, for every calculator and combiner of d, a fresh
// age identity and the node's bundle sealed to it, named as deal and
// keygen name them, signed by dl.
func sealDemoBundles(dir string, dl *share.Dealer, d *share.Dealing) ([]demoBundle, error) {
	var out []demoBundle
	add := func(n share.Node, marshal func() ([]byte, error)) error {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return err
		}
		b := demoBundle{name: natsbus.NodeName(n), role: strings.ToLower(n.Role.String()), number: n.Number,
			bundle: filepath.Join(dir, seal.BundleFile(n, seal.SealedExt)), identity: filepath.Join(dir, seal.IdentityFile(n))}
		if err := seal.WriteIdentityFile(b.identity, id); err != nil {
			return err
		}
		material, err := marshal()
		if err != nil {
			return err
		}
		pt, err := seal.SignedBundle(dl, n, material)
		clear(material)
		if err != nil {
			return err
		}
		sealed, err := seal.Seal(pt, id.Recipient())
		clear(pt)
		if err != nil {
			return err
		}
		if err := os.WriteFile(b.bundle, sealed, 0o600); err != nil {
			return err
		}
		out = append(out, b)
		return nil
	}
	for _, ck := range d.Calculators {
		if err := add(share.Node{Role: share.RoleCalculator, Number: ck.Number}, ck.Marshal); err != nil {
			return nil, fmt.Errorf("demo: sealing calculator %d: %w", ck.Number, err)
		}
	}
	for _, ck := range d.Combiners {
		if err := add(share.Node{Role: share.RoleCombiner, Number: ck.Number}, ck.Marshal); err != nil {
			return nil, fmt.Errorf("demo: sealing combiner %d: %w", ck.Number, err)
		}
	}
	return out, nil
}

// demoNodes are the node processes of a demo.
type demoNodes struct {
	log      io.Writer
	logMu    sync.Mutex
	warnings int // node warnings shown so far
	mu       sync.Mutex
	procs    []*proc
}

// maxDemoWarnings bounds the node warnings the demo's story shows.
const maxDemoWarnings = 10

// newDemoNodes returns an empty set of nodes that report to log.
func newDemoNodes(log io.Writer) *demoNodes { return &demoNodes{log: log} }

// start starts one node process. Its warnings and errors are shown in the
// demo's story.
func (ns *demoNodes) start(exe, name string, args []string) error {
	p, err := startProc(exe, name, args, func(name, line string) {
		rec, ok := logRecord(line)
		if !ok {
			return
		}
		if lvl, _ := rec["level"].(string); lvl == "WARN" || lvl == "ERROR" {
			ns.logMu.Lock()
			defer ns.logMu.Unlock()
			ns.warnings++
			switch {
			case ns.warnings <= maxDemoWarnings:
				fmt.Fprintf(ns.log, "         %s: %s %v\n", name, strings.ToLower(lvl), describeRecord(rec))
			case ns.warnings == maxDemoWarnings+1:
				fmt.Fprintf(ns.log, "         (further node warnings not shown)\n")
			}
		}
	})
	if err != nil {
		return err
	}
	ns.mu.Lock()
	ns.procs = append(ns.procs, p)
	ns.mu.Unlock()
	return nil
}

// describeRecord prints a log record's message and attributes, without
// time, level and the node's fixed attributes.
func describeRecord(rec map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v", rec["msg"])
	keys := make([]string, 0, len(rec))
	for k := range rec {
		switch k {
		case "time", "level", "msg", "key", "epoch", "role", "node", "number", "j", "nats", "cluster":
		default:
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, rec[k])
	}
	return b.String()
}

// waitReady waits until every node said "node ready".
func (ns *demoNodes) waitReady(ctx context.Context) error {
	ns.mu.Lock()
	procs := slices.Clone(ns.procs)
	ns.mu.Unlock()
	for _, p := range procs {
		if err := p.waitReady(ctx); err != nil {
			return err
		}
	}
	return nil
}

// kill kills the node called name with SIGKILL.
func (ns *demoNodes) kill(log io.Writer, name string) {
	ns.mu.Lock()
	var p *proc
	for _, q := range ns.procs {
		if q.name == name {
			p = q
		}
	}
	ns.mu.Unlock()
	if p == nil {
		return
	}
	pid := p.cmd.Process.Pid
	p.kill()
	ns.logMu.Lock()
	fmt.Fprintf(log, "kill     %s (pid %d) killed with SIGKILL\n", name, pid)
	ns.logMu.Unlock()
}

// stopAll stops every running node with SIGTERM, in parallel, and returns
// how many it stopped and the errors of those that did not exit 0. Killed
// nodes are not counted. It is idempotent.
func (ns *demoNodes) stopAll(timeout time.Duration) (int, []error) {
	ns.mu.Lock()
	procs := ns.procs
	ns.procs = nil
	ns.mu.Unlock()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		errs    []error
		stopped int
	)
	for _, p := range procs {
		if p.exited() {
			continue
		}
		wg.Go(func() {
			err := p.stop(timeout)
			mu.Lock()
			defer mu.Unlock()
			stopped++
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %v; its last output:\n%s", p.name, err, p.tail(5)))
			}
		})
	}
	wg.Wait()
	return stopped, errs
}
