package main

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// TestMultiProcessRefresh is the refresh cutover over NATS: every node of
// epoch 0 and then of epoch 1 runs as its own process on one broker (the
// same subjects), "sign -nats" runs in a loop as a distributor process,
// first of epoch 0, then, at the operator's moment, of epoch 1, and the
// epoch 0 nodes are stopped; every signature verifies, none fails.
func TestMultiProcessRefresh(t *testing.T) {
	ctx, exe := mpSetup(t, 4*time.Minute)

	dir0 := dealPlaintext(t, "-k", "5", "-t", "3", "-l", "2")
	dir1, _ := change(t, dir0, "refresh")
	c0, c1 := mustLoad(t, dir0), mustLoad(t, dir1)

	ps := newMPProcs(t, exe)
	broker := ps.start("broker", "broker", "-listen", "127.0.0.1:0")
	line, err := broker.waitFor(ctx, func(l string) bool { return strings.HasPrefix(l, "broker listening on ") })
	require.NoError(t, err)
	url := strings.TrimPrefix(line, "broker listening on ")

	startAll := func(c *seal.Cluster) []*proc {
		var procs []*proc
		nodes := []share.Node{}
		for j := 1; j <= c.Plan.K; j++ {
			nodes = append(nodes, share.Node{Role: share.RoleCalculator, Number: j})
		}
		for _, a := range seal.InService(c.Plan) {
			nodes = append(nodes, share.Node{Role: share.RoleCombiner, Number: a})
		}
		for _, n := range nodes {
			p := ps.start(fmt.Sprintf("epoch-%d-%v-%d", c.Info.Epoch, n.Role, n.Number), "node", "-insecure-no-policy", "-role", n.Role.String(),
				"-bundle", c.Path(n), "-insecure-plaintext-keys", "-nats", url, "-drain-timeout", "2s")
			require.NoError(t, p.waitReady(ctx))
			procs = append(procs, p)
		}
		return procs
	}

	// The signing loop: one "sign -nats" process after the other, with
	// the cluster directory of the current epoch.
	var current atomic.Pointer[string]
	current.Store(&dir0)
	in := filepath.Join(t.TempDir(), "tbs")
	loop := testcluster.StartLoop(ctx, func(i int) error {
		dir := *current.Load()
		content := []byte(fmt.Sprintf("request %d to %s", i, dir))
		var o, e bytes.Buffer
		err := os.WriteFile(in, content, 0o600)
		if err == nil {
			cmd := exec.CommandContext(ctx, exe, "sign", "-nats", url, "-cluster", dir, "-insecure-plaintext-keys", "-in", in, "-out", in+".sig")
			cmd.Stdout, cmd.Stderr = &o, &e
			err = cmd.Run()
		}
		if err == nil {
			sig, rerr := os.ReadFile(in + ".sig")
			sum := sha256.Sum256(content)
			err = rerr
			if err == nil {
				err = rsa.VerifyPKCS1v15(c0.PublicKey, crypto.SHA256, sum[:], sig)
			}
		}
		os.Remove(in + ".sig")
		if err != nil {
			return fmt.Errorf("%w: %s", err, e.String())
		}
		return nil
	})
	waitSigned := func(n int64) {
		t.Helper()
		target := loop.Signed() + n
		require.Eventually(t, func() bool { return loop.Signed() >= target || loop.Failed() > 0 }, 90*time.Second, 20*time.Millisecond)
		require.Zero(t, loop.Failed(), "%v", loop.Errors())
	}

	old := startAll(c0)
	waitSigned(2)
	startAll(c1) // side by side
	waitSigned(2)
	current.Store(&dir1) // the operator's moment
	waitSigned(2)        // one may still have been of epoch 0
	waitSigned(1)
	for _, p := range old {
		require.NoError(t, p.stop(10*time.Second))
	}
	waitSigned(2)
	loop.Stop()
	require.Empty(t, loop.Errors())
	t.Logf("%d signatures over NATS through the cutover from epoch 0 to 1, none failed", loop.Signed())
}
