package broadcast

import (
	"context"
	"crypto"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// smallTask returns distributor dk's task num of instance inst created at.
func smallTask(t *testing.T, dk *share.DistributorKey, num, inst uint64, at time.Time) []byte {
	t.Helper()
	content := []byte(fmt.Sprintf("small %d", num))
	sum := sha256.Sum256(content)
	req := share.Request{KeyID: dk.KeyID, Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: content}
	h := wire.Header{Distributor: uint32(dk.NodeKey.Number), Task: num, KeyID: dk.KeyID, Epoch: dk.Epoch, Time: at.UnixNano(), Instance: inst}
	return sealAs(t, dk.NodeKey, &wire.Task{Header: h, Request: req})
}

// TestRegressionRestartRecomputes: a calculator that restarted accepted
// and computed again the tasks recorded before its restart. A task from
// before the node started is refused as outside the window.
func TestRegressionRestartRecomputes(t *testing.T) {
	d := testcluster.Deal(t, 3, 2, 1, nil)
	mem := NewMemory(nil)
	defer mem.Close()
	clock := &fakeClock{}
	clock.ns.Store(time.Now().UnixNano())
	dk := d.Distributors[0]
	task := smallTask(t, dk, 1, 1, clock.Now())

	first, err := NewCalculatorNode(mem, d.Calculators[0], &CalculatorOptions{Now: clock.Now})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { first.Run(ctx); close(done) }()
	require.NoError(t, mem.Publish(context.Background(), B1, task))
	waitFor(t, func() bool { return first.Stats().Partials == 1 })
	cancel()
	<-done

	clock.Advance(time.Minute) // the restart
	second, err := NewCalculatorNode(mem, d.Calculators[0], &CalculatorOptions{Now: clock.Now})
	require.NoError(t, err)
	runNode(t, second.Run)
	acks, err := mem.Subscribe(B1)
	require.NoError(t, err)
	defer acks.Close()
	require.NoError(t, mem.Publish(context.Background(), B1, task)) // a replay
	require.Equal(t, wire.ReasonTaskTime, waitRefusal(t, acks, 1).Reason)
	require.Zero(t, second.Stats().Partials, "computed again after the restart")
	require.Equal(t, uint64(1), second.Stats().TaskTime)
}

// TestTaskTimeWindow: a task older than the window, or further in the
// future than MaxSkew, is refused; one inside is computed.
func TestTaskTimeWindow(t *testing.T) {
	d := testcluster.Deal(t, 3, 2, 1, nil)
	mem := NewMemory(nil)
	defer mem.Close()
	clock := &fakeClock{}
	clock.ns.Store(time.Now().UnixNano())
	n, err := NewCalculatorNode(mem, d.Calculators[0], &CalculatorOptions{Now: clock.Now, Window: time.Minute, MaxSkew: time.Second})
	require.NoError(t, err)
	runNode(t, n.Run)
	acks, err := mem.Subscribe(B1)
	require.NoError(t, err)
	defer acks.Close()
	clock.Advance(2 * time.Minute)
	dk := d.Distributors[0]
	require.NoError(t, mem.Publish(context.Background(), B1, smallTask(t, dk, 1, 1, clock.Now().Add(-61*time.Second))))
	require.Equal(t, wire.ReasonTaskTime, waitRefusal(t, acks, 1).Reason)
	require.NoError(t, mem.Publish(context.Background(), B1, smallTask(t, dk, 2, 1, clock.Now().Add(2*time.Second))))
	require.Equal(t, wire.ReasonTaskTime, waitRefusal(t, acks, 2).Reason)
	require.NoError(t, mem.Publish(context.Background(), B1, smallTask(t, dk, 3, 1, clock.Now().Add(-30*time.Second))))
	waitFor(t, func() bool { return n.Stats().Partials == 1 })
	require.Equal(t, uint64(2), n.Stats().TaskTime)
}

// TestRegressionTwoProcessesOneNumber: two processes sharing a distributor
// number each numbered tasks from their own start, and once calculators
// forgot tasks of the later one, every task of the earlier one was refused
// as stale. The instance id keeps their tasks apart.
func TestRegressionTwoProcessesOneNumber(t *testing.T) {
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), &LocalOptions{Calculator: &CalculatorOptions{MaxTasks: 2}})
	d := testcluster.Deal(t, 5, 3, 2, nil)
	first := l.Distributor()
	second, err := NewDistributor(l.Memory().Endpoint("distributor-2"), d.Distributors[0], nil)
	require.NoError(t, err)
	defer second.Close()
	for n := range 4 {
		msg := fmt.Sprintf("second %d", n)
		sig, err := second.Sign(testcluster.Timeout(t, 10*time.Second), testcluster.Request(msg))
		require.NoError(t, err)
		require.Equal(t, testcluster.Want(t, nil, msg), sig)
	}
	for n := range 2 {
		msg := fmt.Sprintf("first %d", n)
		sig, err := first.Sign(testcluster.Timeout(t, 10*time.Second), testcluster.Request(msg))
		require.NoError(t, err, "the earlier process is refused")
		require.Equal(t, testcluster.Want(t, nil, msg), sig)
	}
}
