package broadcast

import (
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// dealing2 deals (3,2,1) with two distributors, over a searched plan and
// with the seed 3, 2, 1, 2.
func dealing2(t *testing.T) *share.Dealing {
	t.Helper()
	return testcluster.Deal(t, 3, 2, 1, &testcluster.Options{Seed: 0x02010203, Search: true, Share: &share.Options{Distributors: 2}})
}

// bigTask returns distributor dk's task number num with size bytes of content.
func bigTask(t *testing.T, dk *share.DistributorKey, num uint64, size int, at time.Time) []byte {
	t.Helper()
	content := make([]byte, size)
	copy(content, fmt.Sprintf("task %d", num))
	sum := sha256.Sum256(content)
	req := share.Request{KeyID: dk.KeyID, Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: content}
	h := wire.Header{Distributor: uint32(dk.NodeKey.Number), Task: num, KeyID: dk.KeyID, Epoch: dk.Epoch, Time: at.UnixNano(), Instance: 7}
	return sealAs(t, dk.NodeKey, &wire.Task{Header: h, Request: req})
}

func heapLive() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestRegressionCombinerKeepsContent: a combiner kept every task's full
// content until the task expired, even when it never completed: 32 tasks
// of 4 MiB left over 128 MiB live. After its checks only the digest and
// encoding are kept.
func TestRegressionCombinerKeepsContent(t *testing.T) {
	d := testcluster.Deal(t, 3, 2, 1, nil)
	mem := NewMemory(nil)
	defer mem.Close()
	n, err := NewCombinerNode(mem, d.Combiners[0], nil)
	require.NoError(t, err)
	runNode(t, n.Run)
	before := heapLive()
	for num := range uint64(32) {
		require.NoError(t, mem.Publish(context.Background(), B1, bigTask(t, d.Distributors[0], num+1, 4<<20, time.Now())))
		waitFor(t, func() bool { return n.Stats().Tasks == num+1 })
	}
	// A task is counted (Stats().Tasks) just before the node takes its
	// lock to hold it: wait until all 32 are held.
	held := func() int {
		n.mu.Lock()
		defer n.mu.Unlock()
		return len(n.groups)
	}
	waitFor(t, func() bool { return held() >= 32 })
	after := heapLive()
	require.Equal(t, 32, held(), "the tasks are held")
	grown := int64(after) - int64(before)
	t.Logf("heap grew by %d KiB for 32 tasks of 4 MiB", grown>>10)
	require.Less(t, grown, int64(16<<20), "task contents are still held")
}

// block is an approval hook that never answers before ctx ends.
func block(ctx context.Context, _ *share.Request) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestCombinerBytesBound: tasks waiting for approval hold their content;
// over the bound for one distributor new tasks of that distributor are
// refused, and another distributor's are not.
func TestCombinerBytesBound(t *testing.T) {
	d := dealing2(t)
	mem := NewMemory(nil)
	defer mem.Close()
	n, err := NewCombinerNode(mem, d.Combiners[0], &CombinerOptions{
		MaxBytesPerDistributor: 9 << 20, Combine: &combine.Options{Approve: block},
	})
	require.NoError(t, err)
	runNode(t, n.Run)
	for num := range uint64(3) {
		require.NoError(t, mem.Publish(context.Background(), B1, bigTask(t, d.Distributors[0], num+1, 4<<20, time.Now())))
	}
	waitFor(t, func() bool { return n.Stats().OverBound == 1 }) // the third task of distributor 1
	require.NoError(t, mem.Publish(context.Background(), B1, bigTask(t, d.Distributors[1], 1, 4<<20, time.Now())))
	waitFor(t, func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.perDist[2] > 0
	})
	require.Equal(t, uint64(1), n.Stats().OverBound, "distributor 2 is not refused")
	n.mu.Lock()
	defer n.mu.Unlock()
	require.LessOrEqual(t, n.perDist[1], int64(9<<20))
}

// refusals collects the refusal reasons acknowledged on sub by task number.
func waitRefusal(t *testing.T, sub Subscription, task uint64) *wire.Ack {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case msg := <-sub.C():
			p, err := unwrap(msg)
			if a, ok := p.(*wire.Ack); err == nil && ok && a.Task == task && a.Status == wire.Refused {
				return a
			}
		case <-deadline:
			require.FailNow(t, "no refusal", "task %d not refused in 10 s", task)
			return nil
		}
	}
}

// TestCalculatorBytesBound: the same for a calculator: over the bound the
// task is refused as over bound, with the reason acknowledged.
func TestCalculatorBytesBound(t *testing.T) {
	d := dealing2(t)
	mem := NewMemory(nil)
	defer mem.Close()
	n, err := NewCalculatorNode(mem, d.Calculators[0], &CalculatorOptions{MaxBytesPerDistributor: 9 << 20, Approve: block})
	require.NoError(t, err)
	runNode(t, n.Run)
	acks, err := mem.Subscribe(B1)
	require.NoError(t, err)
	defer acks.Close()
	for num := range uint64(3) {
		require.NoError(t, mem.Publish(context.Background(), B1, bigTask(t, d.Distributors[0], num+1, 4<<20, time.Now())))
	}
	require.Equal(t, wire.ReasonOverBound, waitRefusal(t, acks, 3).Reason)
	require.NoError(t, mem.Publish(context.Background(), B1, bigTask(t, d.Distributors[1], 1, 4<<20, time.Now())))
	waitFor(t, func() bool { return n.Stats().Tasks == 3 })
	time.Sleep(50 * time.Millisecond)
	require.Equal(t, uint64(1), n.Stats().OverBound, "distributor 2 is not refused")
}

// TestRegressionSlowApprovalStallsCombiner: the combiner's approval ran on
// a worker slot under the node's context: with Workers=1 a routine request
// timed out behind one unanswered approval.
func TestRegressionSlowApprovalStallsCombiner(t *testing.T) {
	slow := func(ctx context.Context, req *share.Request) error {
		if string(req.Content) == "slow" {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), &LocalOptions{Combiner: &CombinerOptions{Workers: 1}, CombinerApprove: slow})
	_, err := l.Distributor().Sign(testcluster.Timeout(t, 300*time.Millisecond), testcluster.Request("slow"))
	require.Error(t, err)
	sig, err := l.Distributor().Sign(testcluster.Timeout(t, 5*time.Second), testcluster.Request("routine"))
	require.NoError(t, err)
	require.Equal(t, testcluster.Want(t, nil, "routine"), sig)
}

// TestCalculatorApprovalDeadline: an approval that does not answer in time
// refuses the task with ErrApprovalTimeout, and frees its place.
func TestCalculatorApprovalDeadline(t *testing.T) {
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), &LocalOptions{Calculator: &CalculatorOptions{ApproveTimeout: 200 * time.Millisecond, MaxPending: 1}, Approve: func(ctx context.Context, req *share.Request) error {
		if string(req.Content) == "slow" {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}})
	_, err := l.Distributor().Sign(testcluster.Timeout(t, 5*time.Second), testcluster.Request("slow"))
	require.True(t, errors.Is(err, ErrRefused) && errors.Is(err, ErrApprovalTimeout), "got %v", err)
	sig, err := l.Distributor().Sign(testcluster.Timeout(t, 5*time.Second), testcluster.Request("after"))
	require.NoError(t, err)
	require.Equal(t, testcluster.Want(t, nil, "after"), sig)
	require.NotZero(t, l.Calculator(1).Stats().Timeouts)
}
