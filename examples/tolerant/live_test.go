package main

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// live runs the nodes of plaintext cluster directories on one in-memory
// transport, each node started and stopped on its own as an operator
// restarts hosts, while signers sign in a loop through the current
// distributor. Every signature is verified; every failed request counts.
type live struct {
	t     *testing.T
	mem   *broadcast.Memory
	trust seal.Trust
	pub   *rsa.PublicKey

	nodesMu sync.Mutex
	nodes   map[string]func() // stop and wait, by name

	distMu sync.RWMutex
	dist   *liveDist

	stopSigners context.CancelFunc
	signers     []*testcluster.Loop
}

// liveDist is a distributor and its calls in flight.
type liveDist struct {
	d     *broadcast.Distributor
	calls sync.WaitGroup
}

func newLive(t *testing.T) *live {
	lv := &live{t: t, mem: broadcast.NewMemory(nil), nodes: map[string]func(){}}
	t.Cleanup(func() {
		lv.stopSigning()
		lv.nodesMu.Lock()
		for _, stop := range lv.nodes {
			stop()
		}
		lv.nodesMu.Unlock()
		if d := lv.dist; d != nil {
			d.d.Close()
		}
		lv.mem.Close()
	})
	return lv
}

// load reads a cluster directory, trusting the dealer of the first one.
func (lv *live) load(dir string) *seal.Cluster {
	lv.t.Helper()
	trust := lv.trust
	if len(trust.DealerKey) == 0 {
		trust = seal.Trust{InsecureTrustOnFirstUse: true}
	}
	c, err := seal.LoadPublic(dir, trust)
	require.NoError(lv.t, err)
	if len(lv.trust.DealerKey) == 0 {
		lv.trust = seal.Trust{DealerKey: c.DealerKey}
		lv.pub = c.PublicKey
	}
	require.True(lv.t, lv.pub.Equal(c.PublicKey), "the public key changed")
	return c
}

// start runs node n of cluster c under name (which must not be running).
func (lv *live) start(name string, c *seal.Cluster, n share.Node) {
	lv.t.Helper()
	b := lv.mem.Endpoint(name)
	var run func(context.Context) error
	switch n.Role {
	case share.RoleCalculator:
		ck, err := c.Calculator(n.Number, nil)
		require.NoError(lv.t, err)
		node, err := broadcast.NewCalculatorNode(b, ck, nil)
		require.NoError(lv.t, err)
		run = node.Run
	case share.RoleCombiner:
		ck, err := c.Combiner(n.Number, nil)
		require.NoError(lv.t, err)
		node, err := broadcast.NewCombinerNode(b, ck, nil)
		require.NoError(lv.t, err)
		run = node.Run
	default:
		require.FailNow(lv.t, "not a calculator or combiner", "%v", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx)
	}()
	lv.nodesMu.Lock()
	defer lv.nodesMu.Unlock()
	require.NotContains(lv.t, lv.nodes, name)
	lv.nodes[name] = func() { cancel(); <-done }
}

// stop stops the node running under name.
func (lv *live) stop(name string) {
	lv.t.Helper()
	lv.nodesMu.Lock()
	stop, ok := lv.nodes[name]
	delete(lv.nodes, name)
	lv.nodesMu.Unlock()
	require.True(lv.t, ok, "%s is not running", name)
	stop()
}

// startAll starts every calculator and combiner of c, named prefix/node.
func (lv *live) startAll(prefix string, c *seal.Cluster) {
	for j := 1; j <= c.Plan.K; j++ {
		lv.start(nodeName(prefix, share.RoleCalculator, j), c, share.Node{Role: share.RoleCalculator, Number: j})
	}
	for _, a := range seal.InService(c.Plan) {
		lv.start(nodeName(prefix, share.RoleCombiner, a), c, share.Node{Role: share.RoleCombiner, Number: a})
	}
}

func nodeName(prefix string, r share.Role, n int) string {
	return fmt.Sprintf("%s/%v-%d", prefix, r, n)
}

// restart replaces node n, running under name, by its bundle of c,
// then waits for signatures to go on.
func (lv *live) restart(name string, c *seal.Cluster, n share.Node) {
	lv.t.Helper()
	lv.stop(name)
	lv.start(name, c, n)
	lv.waitSigned(2)
}

// useDistributor makes distributor 1 of c the one every new request goes
// through; the previous one is closed once its calls are done.
func (lv *live) useDistributor(c *seal.Cluster) {
	lv.t.Helper()
	dk, err := c.Distributor(1, nil)
	require.NoError(lv.t, err)
	d, err := broadcast.NewDistributor(lv.mem.Endpoint(broadcast.DistributorEndpoint), dk, &broadcast.DistributorOptions{ResultTimeout: 300 * time.Millisecond})
	require.NoError(lv.t, err)
	lv.distMu.Lock()
	old := lv.dist
	lv.dist = &liveDist{d: d}
	lv.distMu.Unlock()
	if old != nil {
		old.calls.Wait()
		old.d.Close()
	}
}

// current returns the distributor to use, with a call registered on it.
func (lv *live) current() *liveDist {
	lv.distMu.RLock()
	defer lv.distMu.RUnlock()
	lv.dist.calls.Add(1)
	return lv.dist
}

// startSigning starts n signers that sign distinct contents in a loop.
func (lv *live) startSigning(n int) {
	ctx, cancel := context.WithCancel(context.Background())
	lv.stopSigners = cancel
	for s := range n {
		lv.signers = append(lv.signers, testcluster.StartLoop(ctx, func(i int) error {
			return lv.signOnce(ctx, fmt.Sprintf("signer %d request %d", s, i))
		}))
	}
}

// signOnce signs content and verifies the signature; a request that fails
// for any reason but the end of the test counts as failed.
func (lv *live) signOnce(ctx context.Context, content string) error {
	sum := sha256.Sum256([]byte(content))
	req := &share.Request{KeyID: "", Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: []byte(content)}
	ld := lv.current()
	defer ld.calls.Done()
	req.KeyID = ld.d.KeyID()
	cctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sig, err := ld.d.Sign(cctx, req)
	if err == nil {
		err = rsa.VerifyPKCS1v15(lv.pub, crypto.SHA256, sum[:], sig)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// signedCount returns how many requests the signers signed so far.
func (lv *live) signedCount() (n int64) {
	for _, l := range lv.signers {
		n += l.Signed()
	}
	return n
}

// failedCount returns how many requests of the signers failed so far.
func (lv *live) failedCount() (n int64) {
	for _, l := range lv.signers {
		n += l.Failed()
	}
	return n
}

// waitSigned waits until n more signatures are verified.
func (lv *live) waitSigned(n int64) {
	lv.t.Helper()
	target := lv.signedCount() + n
	require.Eventually(lv.t, func() bool { return lv.signedCount() >= target }, 60*time.Second, 5*time.Millisecond,
		"signing stopped: %d signed, %d failed", lv.signedCount(), lv.failedCount())
}

// stopSigning stops the signers and waits for them.
func (lv *live) stopSigning() {
	if lv.stopSigners != nil {
		lv.stopSigners()
		for _, l := range lv.signers {
			l.Stop()
		}
		lv.stopSigners = nil
	}
}

// requireNoFailure fails the test if any request failed.
func (lv *live) requireNoFailure() {
	lv.t.Helper()
	var errs []error
	for _, l := range lv.signers {
		errs = append(errs, l.Errors()...)
	}
	require.Empty(lv.t, errs, "%d requests failed", lv.failedCount())
}
