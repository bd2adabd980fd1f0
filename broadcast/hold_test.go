package broadcast

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/share"
)

// queuedCalculator runs calculator 1 of the (5,3,2) dealing d with one
// worker, with tasks 1..count of distributor 1 queued before the worker
// starts, so that the order of its exponentiations is known: every first
// share, oldest task first, then the further shares. sign delivers the
// distributor's done for the tasks numbered.
func queuedCalculator(t *testing.T, d *share.Dealing, count int) (n *CalculatorNode, sign func(tasks ...uint64)) {
	t.Helper()
	mem := NewMemory(nil)
	n, err := NewCalculatorNode(mem, d.Calculators[0], &CalculatorOptions{Workers: 1})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var prep, work sync.WaitGroup
	owner := d.Distributors[0]
	now := time.Now()
	tasks := make([][]byte, count+1)
	for num := 1; num <= count; num++ {
		tasks[num] = bigTask(t, owner, uint64(num), 10, now)
		n.handle(ctx, &prep, tasks[num])
	}
	prep.Wait()
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
	return n, sign
}

// TestRegressionFurtherSharesBeforeDone: a calculator computed a task's
// further shares as soon as no newer task's first share was left to serve,
// before the task's done could arrive, so that at the end of a burst every
// share of every task was computed. Under competition a further share now
// waits for the done, which drops it: four signed tasks cost exactly four
// exponentiations, one per task.
func TestRegressionFurtherSharesBeforeDone(t *testing.T) {
	n, sign := queuedCalculator(t, dealing(t, 5, 3, 2, 1), 4)
	waitFor(t, func() bool { return n.Stats().Partials == 4 })
	sign(1, 2, 3, 4)
	waitFor(t, func() bool { return n.Stats().Dropped == 4 })
	st := n.Stats()
	require.Equal(t, uint64(4), st.Partials, "exponentiations for four signed tasks")
	require.Equal(t, uint64(4), st.Announced)
}

// TestHeldShareOfStuckTask: a task still unsigned when stuckAfter later
// tasks were signed is stuck (a liar or a lost calculator among its first
// shares): its further share is computed at once, while the held share of
// a later task keeps waiting.
func TestHeldShareOfStuckTask(t *testing.T) {
	n, sign := queuedCalculator(t, dealing(t, 5, 3, 2, 1), 10)
	waitFor(t, func() bool { return n.Stats().Partials == 10 })
	sign(2, 3, 4, 5, 6, 7, 8, 9)
	waitFor(t, func() bool { st := n.Stats(); return st.Partials == 11 && st.Dropped == 8 })
	n.mu.Lock()
	require.Len(t, n.held, 1, "task 10 arrived after the signed ones: its share still waits")
	require.Equal(t, uint64(10), n.held[0].j.t.key.task)
	n.mu.Unlock()
	sign(1, 10)
	waitFor(t, func() bool { return n.Stats().Dropped == 9 })
	require.Equal(t, uint64(11), n.Stats().Partials)
}

// TestHeldShareTimesOut: when no task is signed at all (every task needs a
// further share), the held shares are computed after holdTime.
func TestHeldShareTimesOut(t *testing.T) {
	n, _ := queuedCalculator(t, dealing(t, 5, 3, 2, 1), 2)
	waitFor(t, func() bool { return n.Stats().Partials == 4 })
	require.Zero(t, n.Stats().Dropped)
}

// TestLoneTaskNotHeld: a task with no competition gets all of its shares
// at once, without waiting for a done, so that liars or lost calculators
// among its first shares cost it no time.
func TestLoneTaskNotHeld(t *testing.T) {
	begin := time.Now()
	n, _ := queuedCalculator(t, dealing(t, 5, 3, 2, 1), 1)
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
	l := start(t, dealing(t, 5, 3, 2, 1), &LocalOptions{Down: []int{3}})
	sig, err := l.Distributor().Sign(timeout(t, 20*time.Second), request("lone"))
	require.NoError(t, err)
	require.Equal(t, want(t, "lone"), sig)
	signMany(t, l, 16, 60*time.Second)
}
