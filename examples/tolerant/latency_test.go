package main

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tolerantca/tolerant/broadcast/natsbus"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// BenchmarkNATSLatency is the latency of one signature on an idle
// multi-process (5,3,2) cluster over NATS: every calculator and combiner
// its own process, one leaf at a time through "issue -count 50
// -concurrency 1", p50 in ms (p50-ms) next to crypto/rsa's
// SignPKCS1v15 with the same 2048-bit key (rsa-p50-ms). Run it with
// -benchtime 1x; skipped with -short.
func BenchmarkNATSLatency(b *testing.B) {
	if testing.Short() {
		b.Skip("builds the program and runs a cluster of processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	exe := buildProgram(ctx, b, false)
	dir := b.TempDir()
	dist, root := latencyCluster(ctx, b, exe, dir)
	var p50 float64
	for b.Loop() {
		out := runProgram(ctx, b, exe, append([]string{"issue", "-cn", "latency.example.com", "-ca", root,
			"-out", filepath.Join(dir, "leaves.pem"), "-count", "50", "-concurrency", "1"}, dist...)...)
		i := strings.Index(out, "latency p50 ")
		if i < 0 || func() error { _, err := fmt.Sscanf(out[i:], "latency p50 %f ms", &p50); return err }() != nil {
			b.Fatalf("no p50 in the output of issue:\n%s", out)
		}
	}
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(rsaP50(b, 50), "rsa-p50-ms")
}

// rsaP50 returns the median of n sequential crypto/rsa signatures, in ms.
func rsaP50(b *testing.B, n int) float64 {
	key := testkeys.Must(testkeys.RSA2048b)
	sum := sha256.Sum256([]byte("latency"))
	lat := make([]float64, n)
	for i := range lat {
		start := time.Now()
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:]); err != nil {
			b.Fatal(err)
		}
		lat[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	slices.Sort(lat)
	return lat[n/2]
}

// runProgram runs exe to completion and returns its stdout.
func runProgram(ctx context.Context, b *testing.B, exe string, args ...string) string {
	b.Helper()
	out, err := exec.CommandContext(ctx, exe, args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		require.NoError(b, err, "tolerant %s\n%s\n%s", args[0], out, msg)
	}
	return string(out)
}

// latencyCluster starts a broker and a (5,3,2) cluster of node processes
// dealt in dir, issues a root through it, and returns the distributor's
// flags and the root's path. The processes are killed when b ends.
func latencyCluster(ctx context.Context, b *testing.B, exe, dir string) (dist []string, root string) {
	var procs []*proc
	b.Cleanup(func() {
		for _, p := range procs {
			p.kill()
		}
	})
	start := func(name string, args ...string) *proc {
		p, err := startProc(exe, name, args, nil)
		require.NoError(b, err)
		procs = append(procs, p)
		return p
	}
	broker := start("broker", "broker", "-listen", "127.0.0.1:0")
	line, err := broker.waitFor(ctx, func(l string) bool { return strings.HasPrefix(l, "broker listening on ") })
	require.NoError(b, err)
	url := strings.TrimPrefix(line, "broker listening on ")
	rpath, pass, keyPath := dealInputs(b, dir, "a dealer passphrase for the latency benchmark", func(args ...string) string {
		return runProgram(ctx, b, exe, args...)
	})
	identity := func(n share.Node) string { return mpIdentity(dir, n) }
	dist1 := share.Node{Role: share.RoleDistributor, Number: 1}
	cdir := filepath.Join(dir, "cluster")
	runProgram(ctx, b, exe, "deal", "-key", keyPath, "-k", "5", "-t", "3", "-l", "2", "-recipients", rpath, "-passphrase-file", pass, "-out", cdir)
	c, err := seal.LoadPublic(cdir, testTrust)
	require.NoError(b, err)
	var nodes []share.Node
	for j := 1; j <= 5; j++ {
		nodes = append(nodes, share.Node{Role: share.RoleCalculator, Number: j})
	}
	for a := 1; a <= min(2, len(c.Plan.Combiners)); a++ { // dealInputs made identities for combiners 1 and 2
		nodes = append(nodes, share.Node{Role: share.RoleCombiner, Number: a})
	}
	for _, n := range nodes {
		p := start(natsbus.NodeName(n), "node", "-insecure-no-policy", "-role", strings.ToLower(n.Role.String()), "-bundle", c.Path(n),
			"-identity", identity(n), "-nats", url)
		err := p.waitReady(ctx)
		require.NoError(b, err, "%s\n%s", p.name, p.tail(10))
	}
	dist = []string{"-nats", url, "-cluster", cdir, "-distributor", c.Path(dist1), "-identity", identity(dist1)}
	root = filepath.Join(dir, "root.pem")
	runProgram(ctx, b, exe, append([]string{"issue", "-cn", "latency root", "-self-signed", "-out", root}, dist...)...)
	return dist, root
}
