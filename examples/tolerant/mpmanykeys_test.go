package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// dealOther deals another CA's key (another key id), by another dealer,
// in plaintext, with args.
func dealOther(t *testing.T, args ...string) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(testkeys.Must(testkeys.RSA2048c))
	require.NoError(t, err)
	keyPath := filepath.Join(t.TempDir(), "ca2.pem")
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	dir := filepath.Join(t.TempDir(), "cluster2")
	_, e, err := runCmd(t, append([]string{"deal", "-key", keyPath, "-out", dir, "-insecure-plaintext-keys"}, args...)...)
	require.NoError(t, err, e)
	return dir
}

// mpSign runs "sign -nats" once against the cluster directory dir and
// checks the signature; it returns its stderr and the error.
func mpSign(ctx context.Context, exe, url, dir, msg string, pub *rsa.PublicKey) (stderr string, err error) {
	in := filepath.Join(os.TempDir(), fmt.Sprintf("tbs-%d-%d", os.Getpid(), time.Now().UnixNano()))
	defer os.Remove(in)
	defer os.Remove(in + ".sig")
	if err := os.WriteFile(in, []byte(msg), 0o600); err != nil {
		return "", err
	}
	var o, e bytes.Buffer
	cmd := exec.CommandContext(ctx, exe, "sign", "-nats", url, "-cluster", dir, "-insecure-plaintext-keys", "-in", in, "-out", in+".sig")
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		return e.String(), err
	}
	sig, err := os.ReadFile(in + ".sig")
	if err != nil {
		return e.String(), err
	}
	sum := sha256.Sum256([]byte(msg))
	return e.String(), rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
}

// mpNodes starts one process per calculator and per combiner of the
// first cluster, each serving that node's bundle of every cluster in
// dirs, with extra flags; it waits until all are ready.
func mpNodes(ctx context.Context, t *testing.T, ps *mpProcs, url string, dirs []string, extra ...string) []*mpNode {
	t.Helper()
	cs := make([]*seal.Cluster, len(dirs))
	for i, d := range dirs {
		cs[i] = mustLoad(t, d)
	}
	var nodes []share.Node
	for j := 1; j <= cs[0].Plan.K; j++ {
		nodes = append(nodes, share.Node{Role: share.RoleCalculator, Number: j})
	}
	for _, a := range seal.InService(cs[0].Plan) {
		nodes = append(nodes, share.Node{Role: share.RoleCombiner, Number: a})
	}
	var out []*mpNode
	for _, n := range nodes {
		args := []string{"node", "-insecure-no-policy", "-role", n.Role.String(), "-insecure-plaintext-keys",
			"-nats", url, "-drain-timeout", "2s", "-health", "127.0.0.1:0"}
		for _, c := range cs {
			args = append(args, "-bundle", c.Path(n))
		}
		p := ps.start(fmt.Sprintf("%v-%d", n.Role, n.Number), append(args, extra...)...)
		addr, err := p.healthAddr(ctx)
		require.NoError(t, err)
		require.NoError(t, p.waitReady(ctx))
		out = append(out, &mpNode{p: p, health: addr})
	}
	return out
}

// startBroker starts a broker process and returns its URL.
func startBroker(ctx context.Context, t *testing.T, ps *mpProcs) string {
	t.Helper()
	broker := ps.start("broker", "broker", "-listen", "127.0.0.1:0")
	line, err := broker.waitFor(ctx, func(l string) bool { return strings.HasPrefix(l, "broker listening on ") })
	require.NoError(t, err)
	return strings.TrimPrefix(line, "broker listening on ")
}

// TestMultiProcessManyKeys runs two CAs' keys (two dealings of two keys
// by two dealers) on the same five calculator processes and two combiner
// processes ([0124]-[0126]): "sign -nats" signs with either key, the
// tasks are routed by key id (each key its own NATS subjects), and every
// process's health lists both keys' nodes, both of which computed.
func TestMultiProcessManyKeys(t *testing.T) {
	ctx, exe := mpSetup(t, 4*time.Minute)
	dirA := dealPlaintext(t, "-k", "5", "-t", "3", "-l", "2")
	dirB := dealOther(t, "-k", "5", "-t", "3", "-l", "2")
	cA, cB := mustLoad(t, dirA), mustLoad(t, dirB)
	require.NotEqual(t, cA.Info.KeyID, cB.Info.KeyID)
	require.NotEqual(t, cA.DealerKey, cB.DealerKey, "two dealers")

	ps := newMPProcs(t, exe)
	url := startBroker(ctx, t, ps)
	nodes := mpNodes(ctx, t, ps, url, []string{dirA, dirB})
	for i := range 3 {
		for _, c := range []struct {
			dir string
			pub *rsa.PublicKey
		}{{dirA, cA.PublicKey}, {dirB, cB.PublicKey}} {
			stderr, err := mpSign(ctx, exe, url, c.dir, fmt.Sprintf("request %d", i), c.pub)
			require.NoError(t, err, stderr)
		}
	}
	for _, n := range nodes[:5] {
		h, err := getHealth(ctx, n.health)
		require.NoError(t, err)
		require.Equal(t, 200, h.Code, "%s: %+v", n.p.name, h)
		require.Len(t, h.Nodes, 2)
		keys := map[string]bool{}
		for _, s := range h.Nodes {
			keys[s.Key] = true
		}
		require.Equal(t, map[string]bool{cA.Info.KeyID: true, cB.Info.KeyID: true}, keys)
		require.Zero(t, h.Nodes[0].Stats["other_key"]+h.Nodes[1].Stats["other_key"], "each key's tasks reach only its nodes")
	}
	for _, n := range nodes {
		require.NoError(t, n.p.stop(10*time.Second))
	}
}

// TestMultiProcessCutover is a rolling share refresh with processes that
// serve both epochs side by side (-bundle E0 -bundle E1 -cutover TIME):
// before the cutover both epochs sign; from it on epoch 0's tasks are
// refused at once (key material of another epoch) while epoch 1 keeps
// signing without a failure.
func TestMultiProcessCutover(t *testing.T) {
	ctx, exe := mpSetup(t, 4*time.Minute)
	dir0 := dealPlaintext(t, "-k", "5", "-t", "3", "-l", "2")
	dir1, _ := change(t, dir0, "refresh")
	pub := mustLoad(t, dir0).PublicKey

	ps := newMPProcs(t, exe)
	url := startBroker(ctx, t, ps)
	cut := time.Now().Add(15 * time.Second).Truncate(time.Second)
	nodes := mpNodes(ctx, t, ps, url, []string{dir0, dir1}, "-cutover", cut.Format(time.RFC3339))
	require.True(t, time.Now().Before(cut), "the nodes took too long to start")
	for i := 0; time.Now().Before(cut.Add(-2 * time.Second)); i++ {
		for _, dir := range []string{dir0, dir1} {
			stderr, err := mpSign(ctx, exe, url, dir, fmt.Sprintf("before %d", i), pub)
			require.NoError(t, err, stderr)
		}
	}
	time.Sleep(time.Until(cut) + 100*time.Millisecond)
	stderr, err := mpSign(ctx, exe, url, dir0, "epoch 0 after the cutover", pub)
	require.Error(t, err)
	require.Contains(t, stderr, "another epoch")
	for i := range 3 {
		stderr, err := mpSign(ctx, exe, url, dir1, fmt.Sprintf("after %d", i), pub)
		require.NoError(t, err, stderr)
	}
	for _, n := range nodes {
		require.NoError(t, n.p.stop(10*time.Second))
	}
}
