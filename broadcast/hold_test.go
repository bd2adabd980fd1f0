package broadcast

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/share"
)

// queuedCalculator runs calculator 1 of the (5,3,2) dealing d with one
// worker, with tasks 1..count of distributor 1 queued before the worker
// starts, so that the order of its exponentiations is known: every first
// share, oldest task first, then the further shares. sign delivers the
// distributor's done for the tasks numbered; add delivers tasks from..to.
func queuedCalculator(t *testing.T, d *share.Dealing, count int) (n *CalculatorNode, sign func(tasks ...uint64), add func(from, to uint64)) {
	t.Helper()
	mem := NewMemory(nil)
	n, err := NewCalculatorNode(mem, d.Calculators[0], &CalculatorOptions{Workers: 1})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var prep, work sync.WaitGroup
	owner := d.Distributors[0]
	now := time.Now()
	tasks := make(map[uint64][]byte)
	add = func(from, to uint64) {
		for num := from; num <= to; num++ {
			tasks[num] = bigTask(t, owner, num, 10, now)
			n.handle(ctx, &prep, tasks[num])
		}
		prep.Wait()
	}
	add(1, uint64(count))
	work.Go(func() { n.work(ctx) })
	t.Cleanup(func() {
		cancel()
		work.Wait()
		n.Close()
		n.stopHeld()
		mem.Close()
	})
	sign = func(nums ...uint64) {
		for _, num := range nums {
			done := doneFor(t, tasks[num])
			n.handle(ctx, &prep, sealAs(t, owner.NodeKey, &done))
		}
	}
	return n, sign, add
}

// TestRegressionFurtherSharesBeforeDone: a calculator computed a task's
// further shares as soon as no newer task's first share was left to serve,
// before the task's done could arrive, so that at the end of a burst every
// share of every task was computed. Under competition a further share now
// waits for the done, which drops it: four signed tasks cost exactly four
// exponentiations, one per task.
func TestRegressionFurtherSharesBeforeDone(t *testing.T) {
	n, sign, _ := queuedCalculator(t, testcluster.Deal(t, 5, 3, 2, nil), 4)
	waitFor(t, func() bool { return n.Stats().Partials == 4 })
	sign(1, 2, 3, 4)
	waitFor(t, func() bool { return n.Stats().Dropped == 4 })
	st := n.Stats()
	require.Equal(t, uint64(4), st.Partials, "exponentiations for four signed tasks")
	require.Equal(t, uint64(4), st.Announced)
}

// TestHeldShareOfStuckTask: a task still unsigned when every task pending
// at its hold, and stuckAfter more, were signed is stuck (a liar or a lost
// calculator among its first shares): its further share is computed, while
// the held shares of the others are dropped by their dones.
func TestHeldShareOfStuckTask(t *testing.T) {
	n, sign, add := queuedCalculator(t, testcluster.Deal(t, 5, 3, 2, nil), 10)
	waitFor(t, func() bool { return n.Stats().Partials == 10 })
	sign(2, 3, 4, 5, 6, 7, 8, 9, 10)
	waitFor(t, func() bool { return n.Stats().Dropped == 9 })
	add(11, 19)
	waitFor(t, func() bool { return n.Stats().Partials == 19 })
	sign(11, 12, 13, 14, 15, 16, 17, 18)
	waitFor(t, func() bool { return n.Stats().Dropped == 17 })
	require.Equal(t, uint64(19), n.Stats().Partials, "task 1 passed by 17 dones: 9 pending at its hold and 8 more")
	sign(19)
	waitFor(t, func() bool { st := n.Stats(); return st.Partials == 20 && st.Dropped == 18 })
	n.mu.Lock()
	defer n.mu.Unlock()
	require.Empty(t, n.held)
}

// TestHeldShareTimesOut: when no task is signed at all (every task needs a
// further share), the held shares are computed after holdTime.
func TestHeldShareTimesOut(t *testing.T) {
	n, _, _ := queuedCalculator(t, testcluster.Deal(t, 5, 3, 2, nil), 2)
	waitFor(t, func() bool { return n.Stats().Partials == 4 })
	require.Zero(t, n.Stats().Dropped)
}

// TestLoneTaskNotHeld: a task with no competition gets all of its shares
// at once, without waiting for a done, so that liars or lost calculators
// among its first shares cost it no time.
func TestLoneTaskNotHeld(t *testing.T) {
	begin := time.Now()
	n, _, _ := queuedCalculator(t, testcluster.Deal(t, 5, 3, 2, nil), 1)
	waitFor(t, func() bool { return n.Stats().Partials == 2 })
	took := time.Since(begin)
	exp := time.Duration(n.expTime.Load())
	require.Less(t, took, deferShares*exp, "two exponentiations of %v took %v", exp, took)
	n.mu.Lock()
	defer n.mu.Unlock()
	require.Empty(t, n.held)
}

// TestStuckTasksFinish: with calculator 3 down no representation of first
// shares is complete (each uses 31), so that every task needs further
// shares: a lone task, and sixteen at once, all finish.
func TestStuckTasksFinish(t *testing.T) {
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), &LocalOptions{Down: []int{3}})
	sig, err := l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("lone"))
	require.NoError(t, err)
	require.Equal(t, testcluster.Want(t, nil, "lone"), sig)
	signMany(t, l, 16, 60*time.Second)
}
