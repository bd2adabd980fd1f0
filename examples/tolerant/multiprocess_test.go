package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tolerantca/tolerant/broadcast/natsbus"
	rtnode "github.com/tolerantca/tolerant/broadcast/node"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// TestMultiProcess is the multi-process test: it builds the program,
// starts a broker, deals sealed bundles to 5 calculators and 2 combiners
// (each with its own keygen identity), runs every node as its own process,
// issues certificates through "issue" and checks them with openssl, kills
// 2 calculators and 1 combiner (SIGKILL) during a run of 50 signing
// requests without losing any, restarts a killed calculator and shows that
// it takes part again, and checks health answers and clean SIGTERM exits.
// It also runs "demo -nats auto" with faults.
func TestMultiProcess(t *testing.T) {
	start := time.Now()
	ctx, exe := mpSetup(t, 3*time.Minute)
	t.Logf("built the program (race detector: %v) in %v", raceBuild, time.Since(start).Round(time.Millisecond))

	t.Run("cluster", func(t *testing.T) { mpCluster(ctx, t, exe) })
	t.Run("demo", func(t *testing.T) { mpDemo(ctx, t, exe) })
}

// mpSetup skips t under -short; otherwise it builds the program (with
// the race detector when the test runs with it) and returns a context
// that ends after timeout or with t, and the executable.
func mpSetup(t *testing.T, timeout time.Duration) (context.Context, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the program and runs a cluster of processes")
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx, buildProgram(ctx, t, raceBuild)
}

// buildProgram builds this program into a temporary directory, with the
// race detector if race is set, and returns the executable; it skips tb
// when there is no go command.
func buildProgram(ctx context.Context, tb testing.TB, race bool) string {
	tb.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		tb.Skip("no go command to build the program with")
	}
	exe := filepath.Join(tb.TempDir(), "tolerant")
	args := []string{"build", "-o", exe}
	if race {
		// Children built with -race would sleep a second at exit by default.
		tb.Setenv("GORACE", "atexit_sleep_ms=0")
		args = append(args, "-race")
	}
	out, err := exec.CommandContext(ctx, goBin, append(args, ".")...).CombinedOutput()
	require.NoError(tb, err, "go build: %s", out)
	return exe
}

// mpIdentity is the path of node n's age identity in dir.
func mpIdentity(dir string, n share.Node) string {
	return filepath.Join(dir, natsbus.NodeName(n)+".key")
}

// dealInputs runs "keygen -out" with run for distributor 1, calculators
// 1 to 5 and combiners 1 and 2 (identities at mpIdentity in dir) and
// writes in dir what "deal -recipients" of a (5,3,2) cluster reads: the
// recipients file, the dealer's passphrase file and the CA key. It
// returns their paths.
func dealInputs(tb testing.TB, dir, passphrase string, run func(args ...string) string) (recipients, pass, key string) {
	tb.Helper()
	nodes := []share.Node{{Role: share.RoleDistributor, Number: 1}}
	for j := 1; j <= 5; j++ {
		nodes = append(nodes, share.Node{Role: share.RoleCalculator, Number: j})
	}
	nodes = append(nodes, share.Node{Role: share.RoleCombiner, Number: 1}, share.Node{Role: share.RoleCombiner, Number: 2})
	var rs strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&rs, "%s %d %s\n", n.Role, n.Number, strings.TrimSpace(run("keygen", "-out", mpIdentity(dir, n))))
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(tb, os.WriteFile(p, b, 0o600))
		return p
	}
	return write("recipients.txt", []byte(rs.String())), write("passphrase.txt", []byte(passphrase+"\n")),
		write("ca.pem", testkeys.PEM(testkeys.RSA2048b))
}

// mpProcs are the processes of a test; every one still running is killed
// when the test ends, and their output is logged if it failed.
type mpProcs struct {
	t   *testing.T
	exe string
	mu  sync.Mutex
	all []*proc
}

// newMPProcs returns the process set of test t, running exe.
func newMPProcs(t *testing.T, exe string) *mpProcs {
	ps := &mpProcs{t: t, exe: exe}
	t.Cleanup(func() {
		ps.mu.Lock()
		defer ps.mu.Unlock()
		for _, p := range ps.all {
			p.kill()
			if t.Failed() {
				t.Logf("--- %s (%v), last output:\n%s", p.name, p.err, p.tail(12))
			}
		}
	})
	return ps
}

// start starts the program with args as a process called name.
func (ps *mpProcs) start(name string, args ...string) *proc {
	ps.t.Helper()
	p, err := startProc(ps.exe, name, args, nil)
	require.NoError(ps.t, err, "start %s", name)
	ps.mu.Lock()
	ps.all = append(ps.all, p)
	ps.mu.Unlock()
	return p
}

// run runs the program to completion and returns its stdout.
func (ps *mpProcs) run(ctx context.Context, args ...string) string {
	ps.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var o, e bytes.Buffer
	cmd := exec.CommandContext(ctx, ps.exe, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	require.NoError(ps.t, err, "tolerant %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), o.String(), e.String())
	return o.String()
}

// mpHealth is what a node's /healthz says about the process's first
// node (Nodes[0]), and all of them.
type mpHealth struct {
	Code      int
	Node      string
	Running   bool `json:"running"`
	Connected bool `json:"connected"`
	Stats     map[string]uint64
	Nodes     []struct {
		Node  string            `json:"node"`
		Key   string            `json:"key"`
		Epoch uint32            `json:"epoch"`
		Stats map[string]uint64 `json:"stats"`
	} `json:"nodes"`
}

// getHealth asks a node's health endpoint.
func getHealth(ctx context.Context, addr string) (mpHealth, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return mpHealth{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return mpHealth{}, err
	}
	defer resp.Body.Close()
	h := mpHealth{Code: resp.StatusCode}
	err = json.NewDecoder(resp.Body).Decode(&h)
	if len(h.Nodes) > 0 {
		h.Node, h.Stats = h.Nodes[0].Node, h.Nodes[0].Stats
	}
	return h, err
}

// mpNode is a calculator or combiner process and its health endpoint.
type mpNode struct {
	p      *proc
	health string
}

// mpCluster is the cluster part of TestMultiProcess.
func mpCluster(ctx context.Context, t *testing.T, exe string) {
	dir := t.TempDir()
	ps := newMPProcs(t, exe)
	begin := time.Now()
	step := func(what string, since time.Time) {
		t.Logf("%-55s %v", what, time.Since(since).Round(time.Millisecond))
	}

	// The broker.
	start := time.Now()
	broker := ps.start("broker", "broker", "-listen", "127.0.0.1:0")
	line, err := broker.waitFor(ctx, func(l string) bool { return strings.HasPrefix(l, "broker listening on ") })
	require.NoError(t, err)
	url := strings.TrimPrefix(line, "broker listening on ")

	// keygen on every node host; the recipients go to the dealer.
	rpath, pass, keyPath := dealInputs(t, dir, "a dealer passphrase for the multi-process test", func(args ...string) string { return ps.run(ctx, args...) })
	cdir := filepath.Join(dir, "cluster")
	// deal runs in this process with a low scrypt work factor for
	// dealer.age (age's default takes ~20 s in a -race binary); the rest
	// of it is the command as the operator runs it.
	testScryptWorkFactor = 10
	_, e, err := runCmd(t, "deal", "-key", keyPath, "-k", "5", "-t", "3", "-l", "2", "-recipients", rpath, "-passphrase-file", pass, "-out", cdir)
	testScryptWorkFactor = 0
	require.NoError(t, err, "deal\n%s", e)
	c, err := seal.LoadPublic(cdir, testTrust)
	require.NoError(t, err)
	step("broker, 8 keygen, deal (sealed)", start)

	// Every calculator and combiner as its own process.
	start = time.Now()
	identity := func(n share.Node) string { return mpIdentity(dir, n) }
	auditDir := filepath.Join(dir, "audit")
	startNode := func(n share.Node) *mpNode {
		t.Helper()
		p := ps.start(natsbus.NodeName(n), "node", "-insecure-no-policy", "-role", strings.ToLower(n.Role.String()), "-bundle", c.Path(n),
			"-identity", identity(n), "-nats", url, "-health", "127.0.0.1:0", "-drain-timeout", "5s", "-audit-dir", auditDir)
		require.NoError(t, p.waitReady(ctx))
		addr, err := p.healthAddr(ctx)
		require.NoError(t, err)
		return &mpNode{p: p, health: addr}
	}
	calc := func(j int) share.Node { return share.Node{Role: share.RoleCalculator, Number: j} }
	comb := func(a int) share.Node { return share.Node{Role: share.RoleCombiner, Number: a} }
	calcs := map[int]*mpNode{}
	combs := map[int]*mpNode{}
	for j := 1; j <= 5; j++ {
		calcs[j] = startNode(calc(j))
	}
	for a := 1; a <= len(c.Plan.Combiners); a++ {
		combs[a] = startNode(comb(a))
	}
	for _, n := range append(mapValues(calcs), mapValues(combs)...) {
		requireHealthy(ctx, t, n)
	}
	step(fmt.Sprintf("%d calculators and %d combiners ready and healthy", len(calcs), len(combs)), start)

	// A root and a leaf through "issue", checked by openssl.
	start = time.Now()
	// The distributor's host holds the public files and its own bundle only.
	distDir := filepath.Join(dir, "distributor-host")
	require.NoError(t, os.Mkdir(distDir, 0o700))
	for _, name := range []string{seal.InfoFile, seal.PublicFile, seal.PlanFile, seal.RosterFile, seal.SignatureFile, "distributor-1.age"} {
		b, err := os.ReadFile(filepath.Join(cdir, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(distDir, name), b, 0o600))
	}
	dist := []string{"-nats", url, "-cluster", distDir, "-identity", identity(share.Node{Role: share.RoleDistributor, Number: 1}), "-audit-dir", auditDir}
	root := filepath.Join(dir, "root.pem")
	leaf := filepath.Join(dir, "leaf.pem")
	ps.run(ctx, append([]string{"issue", "-cn", "tolerant multi-process root", "-self-signed", "-out", root}, dist...)...)
	ps.run(ctx, append([]string{"issue", "-cn", "www.example.com", "-ca", root, "-out", leaf}, dist...)...)
	mpVerify(t, root, root, 1)
	mpVerify(t, root, leaf, 1)
	if _, err := exec.LookPath("openssl"); err == nil {
		out, err := exec.CommandContext(ctx, "openssl", "verify", "-CAfile", root, leaf).CombinedOutput()
		require.NoError(t, err, "openssl verify\n%s", out)
		require.Contains(t, string(out), "OK", "openssl verify")
		t.Logf("openssl verify: %s", strings.TrimSpace(string(out)))
	} else {
		t.Log("openssl not installed: certificates checked with crypto/x509 only")
	}
	k, err := os.ReadFile(filepath.Join(dir, "leaf-key.pem"))
	require.NoError(t, err, "leaf key")
	require.Contains(t, string(k), "PRIVATE KEY", "leaf key")
	step("root and leaf issued, openssl verify OK", start)

	// Every node's /metrics, on its health address, passes promtool.
	start = time.Now()
	promtool := promtoolPath(t)
	for _, n := range mapValues(calcs) {
		checkNodeMetrics(ctx, t, promtool, n.p.name, n.health, "tolerant_partials_sent_total", "tolerant_nats_connected")
	}
	for _, n := range mapValues(combs) {
		checkNodeMetrics(ctx, t, promtool, n.p.name, n.health, "tolerant_nats_connected")
	}
	step("every node's /metrics checked", start)

	// 50 signing requests; 2 calculators and 1 combiner are killed while
	// they run. The survivors are chosen so that a representation of the
	// surviving combiner covers the surviving calculators.
	start = time.Now()
	keepComb, keepCalcs := mpSurvivors(t, c.Plan, 3)
	var deadCalcs []int
	for j := 1; j <= 5; j++ {
		if !slices.Contains(keepCalcs, j) {
			deadCalcs = append(deadCalcs, j)
		}
	}
	load := filepath.Join(dir, "load.pem")
	run := ps.start("issue-50", append([]string{"issue", "-cn", "load.example.com", "-ca", root, "-out", load, "-count", "50", "-concurrency", "4"}, dist...)...)
	_, err = run.waitFor(ctx, func(l string) bool { return strings.HasPrefix(l, "issued 10/50 ") })
	require.NoError(t, err, "waiting for 10 of 50")
	for _, j := range deadCalcs {
		calcs[j].p.kill()
	}
	for a := range combs {
		if a != keepComb {
			combs[a].p.kill()
		}
	}
	t.Logf("after 10 of 50: killed calculators %v and every combiner but %d (SIGKILL)", deadCalcs, keepComb)
	select {
	case <-run.done:
	case <-ctx.Done():
		require.FailNow(t, "the run of 50 did not finish")
	}
	require.NoError(t, run.err, "run of 50\n%s", run.tail(10))
	require.True(t, slices.ContainsFunc(run.Lines(), func(l string) bool { return strings.HasPrefix(l, "issued 50 of 50 leaves") }),
		"run of 50 does not say it issued 50 of 50 leaves:\n%s", run.tail(10))
	mpVerify(t, root, load, 50)
	step("50 leaves issued while 2 calculators and 1 combiner died", start)

	// A killed calculator restarts and takes part again: the calculators
	// still running are cut down so that the signature needs it.
	start = time.Now()
	back := deadCalcs[0]
	alive := map[int]bool{keepComb: true}
	need, a2, ok := mpRestartSet(c.Plan, alive, keepCalcs, back)
	if !ok { // no representation of the surviving combiner: restart the others too
		for a := range combs {
			if a != keepComb {
				combs[a] = startNode(comb(a))
				alive[a] = true
			}
		}
		need, a2, ok = mpRestartSet(c.Plan, alive, keepCalcs, back)
		require.True(t, ok, "no representation covers calculator %d with two of %v", back, keepCalcs)
	}
	calcs[back] = startNode(calc(back))
	for _, j := range keepCalcs {
		if !slices.Contains(need, j) {
			calcs[j].p.kill()
			t.Logf("killed calculator %d so that the restarted calculator %d is needed (combiner %d, calculators %v)", j, back, a2, need)
		}
	}
	again := filepath.Join(dir, "again.pem")
	ps.run(ctx, append([]string{"issue", "-cn", "again.example.com", "-ca", root, "-out", again}, dist...)...)
	mpVerify(t, root, again, 1)
	h, err := getHealth(ctx, calcs[back].health)
	require.NoError(t, err, "restarted calculator %d", back)
	require.Equal(t, http.StatusOK, h.Code, "restarted calculator %d: %+v", back, h)
	require.GreaterOrEqual(t, h.Stats["tasks"], uint64(1), "restarted calculator %d: tasks", back)
	require.GreaterOrEqual(t, h.Stats["partials"], uint64(2), "restarted calculator %d: partials", back)
	step(fmt.Sprintf("calculator %d restarted and needed: %d partials sent", back, h.Stats["partials"]), start)

	// Health: 503 once NATS is gone; every node then stops on SIGTERM and
	// exits 0.
	start = time.Now()
	require.NoError(t, broker.stop(10*time.Second), "broker")
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := getHealth(ctx, calcs[back].health)
		if err == nil && h.Code == http.StatusServiceUnavailable && !h.Connected {
			break
		}
		require.False(t, time.Now().After(deadline), "no 503 without NATS: %+v, %v", h, err)
		time.Sleep(50 * time.Millisecond)
	}
	var running []*proc
	for _, n := range append(mapValues(calcs), mapValues(combs)...) {
		if !n.p.exited() {
			running = append(running, n.p)
		}
	}
	var wg sync.WaitGroup
	for _, p := range running {
		wg.Go(func() {
			err := p.stop(10 * time.Second)
			assert.NoError(t, err, "%s on SIGTERM\n%s", p.name, p.tail(5))
		})
	}
	wg.Wait()
	step(fmt.Sprintf("503 without NATS; %d nodes exited 0 on SIGTERM", len(running)), start)

	// Every node's audit log, killed ones included, chains, and the logs
	// cross-check: each of the 53 signatures released shows in t
	// calculators' logs and one combiner's.
	start = time.Now()
	logs, err := filepath.Glob(filepath.Join(auditDir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, logs, 5+len(combs)+1, "audit logs: 5 calculators, the combiners and the distributor")
	report := ps.run(ctx, append([]string{"audit", "verify"}, logs...)...)
	require.Contains(t, report, "cross-check: 53 releases\n", "audit verify: want 53 releases cross-checked")
	require.Contains(t, report, "audit logs OK", "audit verify")
	step("audit verify: every node's log chains and cross-checks", start)

	// No secret in any log.
	for _, p := range ps.all {
		for _, l := range p.Lines() {
			require.NotContains(t, l, "AGE-SECRET-KEY", "%s logged a secret key", p.name)
			require.NotContains(t, l, "passphrase for the multi-process", "%s logged the passphrase", p.name)
			require.NotContains(t, l, "\"seed\"", "%s logged a seed", p.name)
		}
	}
	t.Logf("cluster test done in %v", time.Since(begin).Round(time.Millisecond))
}

// requireHealthy fails unless n's /healthz answers 200 for n, running
// and connected.
func requireHealthy(ctx context.Context, t *testing.T, n *mpNode) {
	t.Helper()
	h, err := getHealth(ctx, n.health)
	require.NoError(t, err, "%s /healthz", n.p.name)
	require.Equal(t, http.StatusOK, h.Code, "%s /healthz: %+v", n.p.name, h)
	require.True(t, h.Connected, "%s /healthz: not connected", n.p.name)
	require.True(t, h.Running, "%s /healthz: not running", n.p.name)
	require.Equal(t, n.p.name, h.Node, "%s /healthz: node", n.p.name)
}

// mapValues returns the values of m, in no order.
func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// mpSurvivors picks a combiner and t calculators one of its
// representations covers, preferring combiner 1.
func mpSurvivors(t *testing.T, plan *grouping.Plan, tt int) (int, []int) {
	t.Helper()
	for a, reps := range plan.Combiners {
		for _, r := range reps {
			if js := r.Calculators(); len(js) == tt {
				return a + 1, js
			}
		}
	}
	require.FailNow(t, "no combiner representation on t calculators")
	return 0, nil
}

// mpRestartSet finds t calculators made of back and t-1 of keep that a
// representation of an alive combiner covers.
func mpRestartSet(plan *grouping.Plan, alive map[int]bool, keep []int, back int) ([]int, int, bool) {
	for a, reps := range plan.Combiners {
		if !alive[a+1] {
			continue
		}
		for _, r := range reps {
			js := r.Calculators()
			if !slices.Contains(js, back) {
				continue
			}
			if !slices.ContainsFunc(js, func(j int) bool { return j != back && !slices.Contains(keep, j) }) {
				return js, a + 1, true
			}
		}
	}
	return nil, 0, false
}

// mpVerify checks that path holds want certificates that verify against
// the root in rootPath, and returns the first.
func mpVerify(t *testing.T, rootPath, path string, want int) *x509.Certificate {
	t.Helper()
	rb, err := os.ReadFile(rootPath)
	require.NoError(t, err)
	block, _ := pem.Decode(rb)
	require.NotNil(t, block, "%s: no PEM", rootPath)
	root, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(root)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var first *x509.Certificate
	n := 0
	for {
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
		opts := x509.VerifyOptions{Roots: pool}
		if !c.IsCA {
			opts.DNSName = c.DNSNames[0]
		}
		_, err = c.Verify(opts)
		require.NoError(t, err, "%s certificate %d (%s)", path, n+1, c.Subject.CommonName)
		if first == nil {
			first = c
		}
		n++
	}
	require.Equal(t, want, n, "%s: certificates", path)
	return first
}

// mpDemo runs "demo -nats auto" with a lying calculator (in the demo's
// process), one killed after the root and 5% loss, the other nodes as
// separate processes.
func mpDemo(ctx context.Context, t *testing.T, exe string) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	start := time.Now()
	var o, e bytes.Buffer
	cmd := exec.CommandContext(ctx, exe, "demo", "-nats", "auto", "-json", "-tasks", "8", "-down", "1", "-liars", "1", "-loss", "0.05")
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	require.NoError(t, err, "demo -nats auto\nstdout:\n%s\nstderr:\n%s", o.String(), e.String())
	var sum demoSummary
	require.NoError(t, json.Unmarshal(o.Bytes(), &sum), "demo -json\n%s", o.String())
	story := "demo summary, story:\n" + e.String()
	assert.Equal(t, "nats", sum.Transport, story)
	assert.Equal(t, 9, sum.Tasks, story)
	assert.Equal(t, 9, sum.Signed, story)
	assert.Zero(t, sum.Failed, story)
	assert.Equal(t, []int{5}, sum.Down, story)
	assert.Equal(t, []int{1}, sum.Liars, story)
	assert.Equal(t, []int{1}, sum.Inconsistent, story)
	for _, want := range []string{"6 node processes ready", "calculators [1] run in this process and send wrong partials",
		"loses 5% of the messages", "calculator-5 (pid", "killed with SIGKILL", "5 node processes stopped with SIGTERM"} {
		assert.Contains(t, e.String(), want, "demo story")
	}
	t.Logf("demo -nats auto (9 certificates, a liar, a calculator killed, loss) in %v", time.Since(start).Round(time.Millisecond))
}

// TestNATSCommandErrors checks the usage and the errors of node, issue,
// sign -nats and broker that come before any connection, and the health
// handler.
func TestNATSCommandErrors(t *testing.T) {
	for _, args := range [][]string{{"node"}, {"issue"}, {"broker"}, {"sign", "-nats", "nats://x"}} {
		cmd := args[0]
		e := requireHelp(t, args...)
		require.NotContains(t, e, "testing-", "%s -h shows a hidden flag", cmd)
		_, _, err := runCmd(t, append(args, "-no-such-flag")...)
		require.ErrorIs(t, err, errUsage, "%s with a bad flag", cmd)
	}
	_, _, err := runCmd(t, "node", "-role", "dealer", "-bundle", "x.age", "-nats", "nats://127.0.0.1:1")
	require.ErrorIs(t, err, errUsage, "node -role dealer")
	_, _, err = runCmd(t, "issue", "-nats", "nats://127.0.0.1:1", "-cluster", "d", "-cn", "x", "-out", "x.pem", "-self-signed", "-ca", "r.pem")
	require.ErrorIs(t, err, errUsage, "issue -self-signed -ca")

	// Bundles sealed to fresh identities, as the demo writes them.
	dir := t.TempDir()
	key := testkeys.Must(testkeys.RSA2048)
	plan, _, err := grouping.Search(5, 3, 2, nil)
	require.NoError(t, err)
	dl, err := share.NewDealer(rand.Reader, key, 5, 3, 2, nil)
	require.NoError(t, err)
	dealing, err := dl.Deal(plan)
	require.NoError(t, err)
	bundles, err := sealDemoBundles(dir, dl, dealing)
	require.NoError(t, err)
	c1, c2 := bundles[0], bundles[1]
	node := func(bundle, identity string, extra ...string) error {
		args := []string{"node", "-insecure-no-policy", "-role", "calculator", "-bundle", bundle, "-nats", "nats://127.0.0.1:1"}
		if identity != "" {
			args = append(args, "-identity", identity)
		}
		_, _, err := runCmd(t, append(args, extra...)...)
		return err
	}
	require.ErrorIs(t, node(c1.bundle, c2.identity), seal.ErrWrongIdentity, "another node's identity")
	require.ErrorContains(t, node(c1.bundle, ""), "-identity", "no identity")
	b, err := os.ReadFile(c1.bundle)
	require.NoError(t, err)
	tampered := filepath.Join(dir, "tampered", "calculator-1.age")
	os.MkdirAll(filepath.Dir(tampered), 0o700)
	i := bytes.LastIndex(b, []byte("\n-----END")) - 10
	b[i] ^= 'A' ^ 'B'
	if b[i] == '\n' || b[i] == '=' {
		b[i] = 'C'
	}
	require.NoError(t, os.WriteFile(tampered, b, 0o600))
	require.ErrorIs(t, node(tampered, c1.identity), seal.ErrTampered, "tampered bundle")
	plain := filepath.Join(dir, "calculator-1.json")
	material, err := dealing.Calculators[0].Marshal()
	require.NoError(t, err)
	pb, err := seal.SignedBundle(dl, share.Node{Role: share.RoleCalculator, Number: 1}, material)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(plain, pb, 0o600))
	require.ErrorContains(t, node(plain, ""), "-insecure-plaintext-keys", "plaintext bundle without the flag")
	// With the flag the bundle opens, and the node fails only to connect:
	// a TLS option without the files.
	require.ErrorContains(t, node(plain, "", "-insecure-plaintext-keys", "-tls-cert", "c.pem"), "-tls-cert and -tls-key", "plaintext bundle with the flag")

	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"-nats", "u"}, true}, {[]string{"--nats=u"}, true}, {[]string{"-cluster", "d", "-nats", "u"}, true},
		{[]string{"-cluster", "d"}, false}, {[]string{"--", "-nats"}, false}, {[]string{"-natsx"}, false},
	} {
		assert.Equal(t, c.want, hasFlag(c.args, "nats"), "hasFlag(%q)", c.args)
	}

	// The health handler: 503 before the node runs, 404 and 405 elsewhere.
	host, err := rtnode.NewHost(nil)
	require.NoError(t, err)
	h := host.Handler()
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/healthz", http.StatusServiceUnavailable},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		assert.Equal(t, c.code, rec.Code, "%s %s", c.method, c.path)
	}
}

// healthAddr returns the address of a node's health endpoint, from its log.
func (p *proc) healthAddr(ctx context.Context) (string, error) {
	line, err := p.waitFor(ctx, logMsg("health endpoint"))
	if err != nil {
		return "", err
	}
	rec, _ := logRecord(line)
	addr, _ := rec["addr"].(string)
	if addr == "" {
		return "", fmt.Errorf("%s: no address in %q", p.name, line)
	}
	return addr, nil
}
