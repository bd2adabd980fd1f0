package broadcast

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// heldCalculator runs calculator 1 of d on mem with an approval hook that
// waits for release, so that a task stays before its exponentiations.
func heldCalculator(t *testing.T, d *share.Dealing, mem *Memory) (*CalculatorNode, chan struct{}) {
	t.Helper()
	release := make(chan struct{})
	n, err := NewCalculatorNode(mem, d.Calculators[0], &CalculatorOptions{Approve: testcluster.Held(release)})
	require.NoError(t, err)
	runNode(t, n.Run)
	return n, release
}

// doneFor returns the header and fingerprint of a task packet msg.
func doneFor(t *testing.T, msg []byte) wire.Done {
	t.Helper()
	p, err := wire.Unmarshal(msg)
	require.NoError(t, err)
	s := p.(*wire.Signed)
	q, err := wire.Unmarshal(s.Body)
	require.NoError(t, err)
	return wire.Done{Header: q.(*wire.Task).Header, TaskHash: wire.Fingerprint(s.Body)}
}

// publishTask publishes a task of owner on B1 and waits until tasks, a
// node's count of tasks taken, reports it.
func publishTask(t *testing.T, mem *Memory, owner *share.DistributorKey, tasks func() uint64) []byte {
	t.Helper()
	task := bigTask(t, owner, 1, 10, time.Now())
	require.NoError(t, mem.Publish(context.Background(), B1, task))
	waitFor(t, func() bool { return tasks() == 1 })
	return task
}

// TestDoneFromOtherNodeIgnored: only the distributor that owns a task can
// stop its signing ([0115]-[0116]). A done signed by another distributor,
// a calculator or a combiner is rejected; one signed by the owner but
// naming another process, task or request changes nothing; every partial
// is still computed.
func TestDoneFromOtherNodeIgnored(t *testing.T) {
	d := dealing2(t)
	mem := NewMemory(nil)
	defer mem.Close()
	n, release := heldCalculator(t, d, mem)
	ctx := context.Background()
	owner, other := d.Distributors[0], d.Distributors[1]
	task := publishTask(t, mem, owner, func() uint64 { return n.Stats().Tasks })

	done := doneFor(t, task)
	for _, nk := range []*share.NodeKey{other.NodeKey, d.Calculators[1].NodeKey, d.Combiners[0].NodeKey} {
		require.NoError(t, mem.Publish(ctx, B1, sealAs(t, nk, &done)))
	}
	otherInstance, otherTask, otherRequest := done, done, done
	otherInstance.Instance++
	otherTask.Task++
	otherRequest.TaskHash[0] ^= 1
	for _, p := range []*wire.Done{&otherInstance, &otherTask, &otherRequest} {
		require.NoError(t, mem.Publish(ctx, B1, sealAs(t, owner.NodeKey, p)))
	}
	waitFor(t, func() bool { return n.Stats().Rejected == 3 })
	close(release)
	waitFor(t, func() bool { return n.Stats().Partials == 1 })
	st := n.Stats()
	require.Zero(t, st.Announced, "a done not from the task's own distributor process is ignored")
	require.Zero(t, st.Dropped)
}

// TestDoneDropsPartials: once the task's own distributor announces its
// signature, the calculator drops the partials not yet computed, and a
// replay of the announcement changes nothing.
func TestDoneDropsPartials(t *testing.T) {
	d := dealing2(t)
	mem := NewMemory(nil)
	defer mem.Close()
	n, release := heldCalculator(t, d, mem)
	ctx := context.Background()
	owner := d.Distributors[0]
	task := publishTask(t, mem, owner, func() uint64 { return n.Stats().Tasks })
	done := doneFor(t, task)
	for range 2 {
		require.NoError(t, mem.Publish(ctx, B1, sealAs(t, owner.NodeKey, &done)))
	}
	waitFor(t, func() bool { return n.Stats().Announced == 1 })
	close(release)
	waitFor(t, func() bool { return n.Stats().Dropped == 1 })
	time.Sleep(50 * time.Millisecond)
	st := n.Stats()
	require.Zero(t, st.Partials, "no partial is computed for a signed task")
	require.Equal(t, uint64(1), st.Announced, "a replayed done counts once")
}

// TestDoneSkipsCombination: a combiner skips a task its distributor
// announced signed, even when it holds matching partials.
func TestDoneSkipsCombination(t *testing.T) {
	d := dealing2(t)
	mem := NewMemory(nil)
	defer mem.Close()
	n, err := NewCombinerNode(mem, d.Combiners[0], nil)
	require.NoError(t, err)
	runNode(t, n.Run)
	ctx := context.Background()
	owner := d.Distributors[0]
	task := publishTask(t, mem, owner, func() uint64 { return n.Stats().Tasks })
	done := doneFor(t, task)
	require.NoError(t, mem.Publish(ctx, B1, sealAs(t, owner.NodeKey, &done)))
	waitFor(t, func() bool { return n.Stats().Announced == 1 })
	value := make([]byte, 256)
	value[255] = 2
	for _, ck := range d.Calculators {
		require.NoError(t, mem.Publish(ctx, B2, sealAs(t, ck.NodeKey, &wire.Partials{
			Header: done.Header, TaskHash: done.TaskHash, Calculator: ck.Number, Shares: []wire.Share{{Index: 1, Value: value}},
		})))
	}
	waitFor(t, func() bool { return n.Stats().Partials == uint64(len(d.Calculators)) })
	time.Sleep(50 * time.Millisecond)
	require.Zero(t, n.Stats().Combines, "an announced task is not combined")
}
