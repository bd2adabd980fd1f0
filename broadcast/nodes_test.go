package broadcast

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func runNode(t *testing.T, run func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// TestCombinerMemoryBounded: partials of tasks that never arrive are held
// for at most MaxTasks/(4k) tasks per calculator, and forgotten by age
// ([0113]).
func TestCombinerMemoryBounded(t *testing.T) {
	d := testcluster.Deal(t, 3, 2, 1, nil)
	mem := NewMemory(nil)
	defer mem.Close()
	clock := &fakeClock{}
	n, err := NewCombinerNode(mem, d.Combiners[0], &CombinerOptions{MaxTasks: 10, TaskTTL: time.Minute, Now: clock.Now})
	require.NoError(t, err)
	runNode(t, n.Run)
	meta := d.Combiners[0].Meta
	calc1, calc2 := d.Calculators[0].NodeKey, d.Calculators[1].NodeKey
	value := make([]byte, 256)
	value[255] = 2
	for i := range 100 {
		b := sealAs(t, calc1, &wire.Partials{
			Header:     wire.Header{Distributor: 1, Task: uint64(i), KeyID: meta.KeyID, Epoch: meta.Epoch},
			Calculator: 1, Shares: []wire.Share{{Index: 1, Value: value}},
		})
		mem.Publish(context.Background(), B2, b)
	}
	waitFor(t, func() bool { return n.Stats().Partials == 100 })
	n.mu.Lock()
	held := len(n.groups)
	n.mu.Unlock()
	assert.LessOrEqual(t, held, 1, "tasks held, max 1 for calculator 1")
	st := n.Stats()
	assert.Equal(t, uint64(99), st.Evicted, "evicted, stats %+v", st)
	clock.Advance(2 * time.Minute)
	b := sealAs(t, calc2, &wire.Partials{Header: wire.Header{Distributor: 2, KeyID: meta.KeyID, Epoch: meta.Epoch}, Calculator: 2, Shares: []wire.Share{{Index: 1, Value: value}}})
	mem.Publish(context.Background(), B2, b)
	waitFor(t, func() bool { return n.Stats().Partials == 101 })
	n.mu.Lock()
	held = len(n.groups)
	n.mu.Unlock()
	assert.Equal(t, 1, held, "tasks held after expiry")
}

// TestCalculatorReplayWindow: a task forgotten by the calculator is refused
// as stale, never recomputed ([0107], [0110]).
func TestCalculatorReplayWindow(t *testing.T) {
	d := testcluster.Deal(t, 3, 2, 1, nil)
	mem := NewMemory(nil)
	defer mem.Close()
	n, err := NewCalculatorNode(mem, d.Calculators[0], &CalculatorOptions{MaxTasks: 2})
	require.NoError(t, err)
	runNode(t, n.Run)
	acks, _ := mem.Subscribe(B1)
	defer acks.Close()
	meta := d.Calculators[0].Meta
	dist := d.Distributors[0].NodeKey
	now := time.Now().UnixNano()
	task := func(num uint64) []byte {
		req := testcluster.Request("window")
		req.KeyID = meta.KeyID
		return sealAs(t, dist, &wire.Task{Header: wire.Header{Distributor: 1, Task: num, KeyID: meta.KeyID, Epoch: meta.Epoch, Time: now}, Request: *req})
	}
	for num := range uint64(4) {
		mem.Publish(context.Background(), B1, task(num+1))
	}
	waitFor(t, func() bool { return n.Stats().Partials == 4 })
	mem.Publish(context.Background(), B1, task(1)) // forgotten: stale
	mem.Publish(context.Background(), B1, task(4)) // remembered: duplicate
	waitFor(t, func() bool { s := n.Stats(); return s.Conflicts == 1 && s.Duplicates == 1 })
	s := n.Stats()
	assert.Equal(t, uint64(4), s.Tasks, "tasks, stats %+v", s)
	assert.Equal(t, uint64(4), s.Partials, "partials, stats %+v", s)
	var stale bool
	for !stale {
		p, err := unwrap(recv(t, acks))
		if a, ok := p.(*wire.Ack); err == nil && ok && a.Task == 1 && a.Reason == wire.ReasonStale {
			stale = true
		}
	}
	// Another epoch is refused.
	b := sealAs(t, dist, &wire.Task{Header: wire.Header{Distributor: 1, Task: 99, KeyID: meta.KeyID, Epoch: meta.Epoch + 1, Time: now}, Request: share.Request{KeyID: meta.KeyID}})
	mem.Publish(context.Background(), B1, b)
	waitFor(t, func() bool { return n.Stats().Refused == 1 })
}

func TestNodeConstructors(t *testing.T) {
	d := testcluster.Deal(t, 3, 2, 1, nil)
	mem := NewMemory(nil)
	defer mem.Close()
	_, err := NewCalculatorNode(nil, nil, nil)
	assert.Error(t, err, "nil calculator accepted")
	_, err = NewCombinerNode(mem, nil, nil)
	assert.Error(t, err, "nil combiner accepted")
	_, err = NewCombinerNode(mem, d.Combiners[0], &CombinerOptions{ResultChannel: 7})
	assert.Error(t, err, "bad result channel accepted")
	_, err = NewDistributor(mem, nil, nil)
	assert.Error(t, err, "nil key accepted")
	noID := *d.Distributors[0]
	noID.KeyID = ""
	_, err = NewDistributor(mem, &noID, nil)
	assert.Error(t, err, "empty key id accepted")
	_, err = NewDistributor(mem, d.Distributors[0], &DistributorOptions{ResultChannel: B2})
	assert.Error(t, err, "results on B2 accepted")
	_, err = StartLocal(context.Background(), nil, nil)
	assert.Error(t, err, "nil dealing accepted")
	n, err := NewCalculatorNode(mem, d.Calculators[0], nil)
	require.NoError(t, err)
	n.Close()
	assert.NoError(t, n.Run(context.Background()), "Run after Close")
	assert.Error(t, n.Run(context.Background()), "second Run accepted")
}
