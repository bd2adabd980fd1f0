package node

import (
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/natsbus"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
)

// sign signs msg through d and checks the signature.
func sign(ctx context.Context, d *broadcast.Distributor, msg string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req := testcluster.Request(msg)
	sig, err := d.Sign(ctx, req)
	if err != nil {
		return err
	}
	return rsa.VerifyPKCS1v15(d.PublicKey(), crypto.SHA256, req.Digest, sig)
}

// insecure lets a test node sign every request without an approval hook.
var insecure = &Options{InsecureApproveAll: true}

// cluster adds every calculator and combiner of dealing to h, each on its
// own endpoint of mem, and returns distributor 1 on another. The
// calculators run with calc (plus InsecureApproveAll), the combiners with
// insecure.
func cluster(t *testing.T, h *Host, mem *broadcast.Memory, dealing *share.Dealing, calc *Options) *Node {
	t.Helper()
	o := Options{}
	if calc != nil {
		o = *calc
	}
	o.InsecureApproveAll = true
	calc = &o
	tag := fmt.Sprintf("%s-%d-", dealing.Calculators[0].KeyID, dealing.Calculators[0].Epoch)
	for _, k := range dealing.Calculators {
		n, err := NewCalculator(mem.Endpoint(tag+broadcast.CalculatorEndpoint(k.Number)), k, calc)
		require.NoError(t, err)
		require.NoError(t, h.Add(n))
	}
	for _, k := range dealing.Combiners {
		n, err := NewCombiner(mem.Endpoint(tag+broadcast.CombinerEndpoint(k.Number)), k, insecure)
		require.NoError(t, err)
		require.NoError(t, h.Add(n))
	}
	d, err := NewDistributor(mem.Endpoint(tag+"distributor-1"), dealing.Distributors[0], nil)
	require.NoError(t, err)
	return d
}

// health asks h's handler for /healthz.
func health(t *testing.T, h *Host) (int, Status) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var s Status
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &s), rec.Body.String())
	return rec.Code, s
}

// TestRunDrains: health is 503 before Run, 200 while running with every
// node's stats as JSON, and Run returns nil soon after its context ends,
// with health 503 again.
func TestRunDrains(t *testing.T) {
	_, dealing := testcluster.Dealer(t, 5, 3, 2, &testcluster.Options{Key: testcluster.Key(testkeys.RSA2048), Seed: 1, Search: true})
	mem := broadcast.NewMemory(nil)
	defer mem.Close()
	var logs testcluster.Buffer
	h, err := NewHost(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)
	code, s := health(t, h)
	require.Equal(t, http.StatusServiceUnavailable, code, "no node yet")
	require.False(t, s.Running)

	dist := cluster(t, h, mem, dealing, &Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	code, _ = health(t, h)
	require.Equal(t, http.StatusServiceUnavailable, code, "not running yet")

	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- h.Run(ctx) }()
	dctx, dstop := context.WithCancel(context.Background())
	dran := make(chan error, 1)
	go func() { dran <- dist.Run(dctx) }()
	require.Eventually(t, func() bool { c, _ := health(t, h); return c == http.StatusOK }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, sign(context.Background(), dist.Distributor(), "drain"))

	code, s = health(t, h)
	require.Equal(t, http.StatusOK, code)
	require.True(t, s.Running && s.Connected)
	require.Len(t, s.Nodes, 7)
	require.Equal(t, "calculator-1", s.Nodes[0].Node)
	stats, ok := s.Nodes[0].Stats.(map[string]any)
	require.True(t, ok, "%T", s.Nodes[0].Stats)
	require.Contains(t, stats, "partials")
	require.Contains(t, stats, "other_key")

	cancel()
	select {
	case err := <-ran:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "Run did not return in 5 s after its context ended")
	}
	code, s = health(t, h)
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.False(t, s.Running)
	dstop()
	require.NoError(t, <-dran)
	require.Error(t, sign(context.Background(), dist.Distributor(), "after"), "the distributor is closed")
	require.Contains(t, logs.String(), `"msg":"node ready"`)
	require.Contains(t, logs.String(), `"msg":"node stopped"`)
}

// TestStoppedByItself: a node whose transport closes under it makes Run
// return ErrStopped at once; the host's other nodes keep running.
func TestStoppedByItself(t *testing.T) {
	_, dealing := testcluster.Dealer(t, 5, 3, 2, &testcluster.Options{Key: testcluster.Key(testkeys.RSA2048), Seed: 1, Search: true})
	mem := broadcast.NewMemory(nil)
	n, err := NewCalculator(mem.Endpoint("calculator-1"), dealing.Calculators[0], insecure)
	require.NoError(t, err)
	ran := make(chan error, 1)
	go func() { ran <- n.Run(context.Background()) }()
	require.Eventually(t, n.Running, 5*time.Second, time.Millisecond)
	require.NoError(t, n.Healthy())
	mem.Close()
	select {
	case err := <-ran:
		require.ErrorIs(t, err, ErrStopped)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "Run did not return in 5 s")
	}
	require.Error(t, n.Healthy())
	require.Error(t, n.Run(context.Background()), "Run twice")
}

// TestHostDuplicate: a host refuses a second node of the same role,
// number, key id and epoch, and a host without nodes does not run.
func TestHostDuplicate(t *testing.T) {
	_, dealing := testcluster.Dealer(t, 5, 3, 2, &testcluster.Options{Key: testcluster.Key(testkeys.RSA2048), Seed: 1, Search: true})
	mem := broadcast.NewMemory(nil)
	defer mem.Close()
	a, err := NewCalculator(mem.Endpoint("a"), dealing.Calculators[0], insecure)
	require.NoError(t, err)
	b, err := NewCalculator(mem.Endpoint("b"), dealing.Calculators[0], insecure)
	require.NoError(t, err)
	_, err = NewHost(nil, a, b)
	require.ErrorIs(t, err, ErrDuplicate)
	h, err := NewHost(nil)
	require.NoError(t, err)
	require.Error(t, h.Run(context.Background()))
}

// TestNATSHealth: over NATS, a node is unhealthy once its connection is
// lost, and Run drains the connection when its context ends.
func TestNATSHealth(t *testing.T) {
	_, dealing := testcluster.Dealer(t, 5, 3, 2, &testcluster.Options{Key: testcluster.Key(testkeys.RSA2048), Seed: 1, Search: true})
	srv, err := natsbus.StartServer(natsbus.ServerOptions{Port: -1})
	require.NoError(t, err)
	defer srv.Close()
	bus, err := natsbus.Dial(context.Background(), natsbus.Options{URL: srv.URL(), Cluster: natsbus.DefaultCluster(dealing.Calculators[0].KeyID),
		RetryDial: true, MaxReconnects: 1, ReconnectWait: 10 * time.Millisecond})
	require.NoError(t, err)
	n, err := NewCalculator(bus, dealing.Calculators[0], insecure)
	require.NoError(t, err)
	h, err := NewHost(nil, n)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- h.Run(ctx) }()
	require.Eventually(t, func() bool { c, _ := health(t, h); return c == http.StatusOK }, 5*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-ran)
	code, s := health(t, h)
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.False(t, s.Nodes[0].Connected, "drained and closed")
}

// TestManyKeys: one host runs the calculators and combiners of two keys
// of two dealers; both sign, and one key's nodes stopping leaves the
// other's signing.
func TestManyKeys(t *testing.T) {
	_, d1 := testcluster.Dealer(t, 5, 3, 2, &testcluster.Options{Key: testcluster.Key(testkeys.RSA2048), Seed: 1, Search: true})
	_, d2 := testcluster.Dealer(t, 5, 3, 2, &testcluster.Options{Key: testcluster.Key(testkeys.RSA2048b), Seed: 2, Search: true})
	require.NotEqual(t, d1.Calculators[0].KeyID, d2.Calculators[0].KeyID)
	mem1, mem2 := broadcast.NewMemory(nil), broadcast.NewMemory(nil) // two transports, as two natsbus.Bus of two cluster names
	defer mem2.Close()
	h, err := NewHost(nil)
	require.NoError(t, err)
	dist1, dist2 := cluster(t, h, mem1, d1, nil), cluster(t, h, mem2, d2, nil)
	require.NoError(t, h.Add(dist1))
	require.NoError(t, h.Add(dist2))
	key1, key2 := d1.Calculators[0].KeyID, d2.Calculators[0].KeyID
	require.Same(t, dist1.Distributor(), h.Distributor(key1), "the distributor is picked by key id")
	require.Nil(t, h.Distributor("no-such-key"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- h.Run(ctx) }()
	require.NoError(t, sign(ctx, h.Distributor(key1), "key 1"))
	require.NoError(t, sign(ctx, h.Distributor(key2), "key 2"))
	mem1.Close() // key 1 removed
	require.NoError(t, sign(ctx, h.Distributor(key2), "key 2 again"))
	code, _ := health(t, h)
	require.Equal(t, http.StatusServiceUnavailable, code, "key 1's nodes stopped")
	cancel()
	require.ErrorIs(t, <-ran, ErrStopped)
}

// TestCutover is a rolling share refresh in one process: the nodes of
// epochs 0 and 1 of one key run side by side on the same transport while
// both epochs' distributors sign without a failure; at the operator's
// moment (RetireAt) epoch 0's calculators refuse every task with
// ErrWrongEpoch while epoch 1 keeps signing. Epoch 0's calculators never
// answer a task of epoch 1: its node keys differ, so the packets fail
// authentication and are only counted (Rejected).
func TestCutover(t *testing.T) {
	dl, d0 := testcluster.Dealer(t, 5, 3, 2, &testcluster.Options{Key: testcluster.Key(testkeys.RSA2048), Seed: 1, Search: true})
	d1, err := dl.Refresh(rand.NewChaCha8([32]byte{9}))
	require.NoError(t, err)
	require.Equal(t, d0.Calculators[0].KeyID, d1.Calculators[0].KeyID)
	require.Equal(t, uint32(1), d1.Calculators[0].Epoch)

	mem := broadcast.NewMemory(nil)
	defer mem.Close()
	h, err := NewHost(nil)
	require.NoError(t, err)
	var clock atomic.Int64 // 0: before the cutover
	cut := time.Now().Add(time.Hour)
	now := func() time.Time {
		if clock.Load() == 0 {
			return time.Now()
		}
		return cut
	}
	dist0 := cluster(t, h, mem, d0, &Options{RetireAt: cut, Now: now})
	dist1 := cluster(t, h, mem, d1, nil)
	require.NoError(t, h.Add(dist0))
	require.NoError(t, h.Add(dist1))
	require.Same(t, dist1.Distributor(), h.Distributor(d0.Calculators[0].KeyID), "the newest epoch's")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- h.Run(ctx) }()

	// Epoch 1 signs continuously through the whole test.
	loop := testcluster.StartLoop(ctx, func(i int) error {
		return sign(ctx, dist1.Distributor(), fmt.Sprintf("epoch 1 #%d", i))
	})
	for i := range 3 {
		require.NoError(t, sign(ctx, dist0.Distributor(), fmt.Sprintf("epoch 0 #%d", i)))
	}
	clock.Store(1) // the operator's moment
	err = sign(ctx, dist0.Distributor(), "epoch 0 after the cutover")
	require.ErrorIs(t, err, broadcast.ErrRefused)
	require.ErrorIs(t, err, broadcast.ErrWrongEpoch)
	require.Eventually(t, func() bool { return loop.Signed() >= 5 }, 30*time.Second, 10*time.Millisecond)
	loop.Stop()
	require.Zero(t, loop.Failed(), "%v", loop.Errors())

	for _, n := range h.Nodes() {
		if n.Role() != share.RoleCalculator || n.Epoch() != 0 {
			continue
		}
		s := n.Stats().(broadcast.CalculatorStats)
		require.Equal(t, uint64(4), s.Tasks, "calculator %d of epoch 0 took only epoch 0's tasks", n.Number())
		require.Positive(t, s.Rejected, "epoch 1's tasks fail authentication at epoch 0's nodes")
	}
	cancel()
	require.NoError(t, <-ran)
}

// TestRegressionNilApproveRefused: a calculator or combiner built without
// an approval hook is refused with ErrNoApproval, so that the zero Options
// never sign every request of a roster distributor; InsecureApproveAll
// alone allows it.
func TestRegressionNilApproveRefused(t *testing.T) {
	_, dealing := testcluster.Dealer(t, 5, 3, 2, &testcluster.Options{Key: testcluster.Key(testkeys.RSA2048), Seed: 1, Search: true})
	mem := broadcast.NewMemory(nil)
	defer mem.Close()
	for _, opts := range []*Options{nil, {}, {RetireAt: time.Now().Add(time.Hour)}} {
		_, err := NewCalculator(mem.Endpoint("calculator-1"), dealing.Calculators[0], opts)
		require.ErrorIs(t, err, ErrNoApproval, "calculator with options %+v", opts)
		_, err = NewCombiner(mem.Endpoint("combiner-1"), dealing.Combiners[0], opts)
		require.ErrorIs(t, err, ErrNoApproval, "combiner with options %+v", opts)
	}
	approve := func(context.Context, *share.Request) error { return nil }
	for _, opts := range []*Options{insecure, {Approve: approve}} {
		c, err := NewCalculator(mem.Endpoint("calculator-1"), dealing.Calculators[0], opts)
		require.NoError(t, err)
		require.NoError(t, c.run.Close())
		b, err := NewCombiner(mem.Endpoint("combiner-1"), dealing.Combiners[0], opts)
		require.NoError(t, err)
		require.NoError(t, b.run.Close())
	}
	_, err := NewDistributor(mem.Endpoint("distributor-1"), dealing.Distributors[0], nil)
	require.NoError(t, err, "a distributor needs no approval hook")
}
