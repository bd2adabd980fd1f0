package broadcast_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/faults"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/testcluster/memcluster"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// node names a node of a cluster for the recorders.
type node struct {
	role   share.Role
	number int
}

// recorders gives every node of a Local cluster its recorder.
type recorders struct {
	mu  sync.Mutex
	all map[node]*memcluster.Recorder
}

func newRecorders() *recorders { return &recorders{all: map[node]*memcluster.Recorder{}} }

func (rs *recorders) observer(role share.Role, number int) broadcast.Observer {
	return rs.get(role, number)
}

func (rs *recorders) get(role share.Role, number int) *memcluster.Recorder {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	n := node{role, number}
	if rs.all[n] == nil {
		rs.all[n] = &memcluster.Recorder{}
	}
	return rs.all[n]
}

// kinds adds the kinds every recorder saw to seen.
func (rs *recorders) kinds(seen map[broadcast.EventKind]bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, r := range rs.all {
		for _, e := range r.Events() {
			seen[e.Kind] = true
		}
	}
}

// ruleRefusal is a policy refusal naming its rule, as share/policy's.
type ruleRefusal string

func (r ruleRefusal) Error() string      { return "refused by rule " + string(r) }
func (r ruleRefusal) PolicyRule() string { return string(r) }

// testApprove refuses content "refuse" by rule "kind", declines "decline",
// and approves the rest by rule "test-rule" as "alice".
func testApprove(ctx context.Context, req *share.Request) error {
	switch string(req.Content) {
	case "refuse":
		return ruleRefusal("kind")
	case "decline":
		return errors.New("the operator said no")
	}
	broadcast.NoteApproval(ctx, "test-rule", "alice")
	return nil
}

// badFirst makes a combiner send every result twice: first with a wrong
// signature, then as it is, so that the distributor always sees a bad
// result before the good one.
func badFirst(_ broadcast.Channel, p wire.Packet) []wire.Packet {
	r, ok := p.(*wire.Result)
	if !ok {
		return []wire.Packet{p}
	}
	bad := *r
	bad.Signature = bytes.Clone(r.Signature)
	bad.Signature[0] ^= 1
	return []wire.Packet{&bad, r}
}

// observedCluster starts the (5,3,2) cluster with calculator 1 lying,
// every combiner sending a bad result before each good one, the test
// approval hook, and a recorder on every node.
func observedCluster(t *testing.T, rs *recorders) (*broadcast.Local, *share.Dealing) {
	t.Helper()
	d := testcluster.Deal(t, 5, 3, 2, nil)
	mem := broadcast.NewMemory(nil)
	wrap := map[string]func(broadcast.Broadcaster) broadcast.Broadcaster{
		broadcast.CalculatorEndpoint(1): func(b broadcast.Broadcaster) broadcast.Broadcaster {
			return faults.Liar(b, d.Calculators[0])
		},
	}
	for _, ck := range d.Combiners {
		wrap[broadcast.CombinerEndpoint(ck.Number)] = func(b broadcast.Broadcaster) broadcast.Broadcaster {
			return faults.Rewrite(b, ck.NodeKey, badFirst)
		}
	}
	l, err := broadcast.StartLocal(context.Background(), d, &broadcast.LocalOptions{
		Audit: true, Transport: faults.Transports(mem, wrap), Approve: testApprove,
		CombinerApprove: func(ctx context.Context, _ *share.Request) error {
			broadcast.NoteApproval(ctx, "", "bob")
			return nil
		},
		Distributor: &broadcast.DistributorOptions{Linger: 1500 * time.Millisecond},
		Observer:    rs.observer,
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		l.Close()
		mem.Close()
	})
	return l, d
}

// TestObserverEvents: the events of a signing, a policy refusal and a
// decline, at every node, with the fields each kind documents.
func TestObserverEvents(t *testing.T) {
	rs := newRecorders()
	l, d := observedCluster(t, rs)
	dist := rs.get(share.RoleDistributor, int(l.Distributor().Number()))

	out, err := l.Distributor().SignDetailed(testcluster.Timeout(t, 20*time.Second), testcluster.Request("ok"))
	require.NoError(t, err)
	require.Equal(t, testcluster.Want(t, nil, "ok"), out.Signature)
	l.Close() // every node's events are in

	task := out.Task
	sub := dist.Of(broadcast.EventSubmitted, task)
	require.Len(t, sub, 1, "one submission, however many transmissions")
	require.Equal(t, []byte("ok"), sub[0].Request.Content)
	require.Equal(t, d.Distributors[0].KeyID, sub[0].KeyID)
	require.Equal(t, d.Distributors[0].Epoch, sub[0].Epoch)
	require.Equal(t, l.Distributor().Number(), sub[0].Distributor)
	require.False(t, sub[0].Time.IsZero())

	ver := dist.Of(broadcast.EventVerified, task)
	require.NotEmpty(t, ver)
	require.ErrorIs(t, ver[0].Err, broadcast.ErrBadSignature, "a combiner's bad result comes first")
	require.NotZero(t, ver[0].Combiner)
	ok := slices.IndexFunc(ver, func(e broadcast.Event) bool { return e.Err == nil })
	require.GreaterOrEqual(t, ok, 0, "the good result verified")
	rel := dist.Of(broadcast.EventReleased, task)
	require.Len(t, rel, 1)
	require.Equal(t, out.Signature, rel[0].Signature)
	require.Equal(t, out.Combiner, rel[0].Combiner)
	require.Equal(t, out.Rep, rel[0].Rep)
	require.Equal(t, out.Calculators, rel[0].Calculators)
	require.Empty(t, dist.Of(broadcast.EventFailed, task))

	for _, ck := range d.Calculators {
		c := rs.get(share.RoleCalculator, ck.Number)
		require.Len(t, c.Of(broadcast.EventTaskSeen, task), 1, "calculator %d: seen once", ck.Number)
		acc := c.Of(broadcast.EventAccepted, task)
		require.Len(t, acc, 1, "calculator %d", ck.Number)
		require.Equal(t, "test-rule", acc[0].Rule)
		app := c.Of(broadcast.EventApproved, task)
		require.Len(t, app, 1, "calculator %d", ck.Number)
		require.Equal(t, "alice", app[0].Approver)
		require.Positive(t, app[0].Wait)
		for _, p := range c.Of(broadcast.EventPartialSent, task) {
			require.Positive(t, p.Duration, "the exponentiation's time")
			require.True(t, p.Share >= 1 && p.Share <= ck.L, "share %d", p.Share)
		}
		require.Equal(t, ck.L, len(c.Of(broadcast.EventPartialSent, task))+len(c.Of(broadcast.EventDropped, task)),
			"calculator %d: every share sent or dropped", ck.Number)
	}
	for _, j := range out.Calculators {
		require.NotEmpty(t, rs.get(share.RoleCalculator, j).Of(broadcast.EventPartialSent, task), "calculator %d", j)
	}

	comb := rs.get(share.RoleCombiner, out.Combiner)
	require.Len(t, comb.Of(broadcast.EventTaskSeen, task), 1)
	require.Len(t, comb.Of(broadcast.EventAccepted, task), 1)
	require.Equal(t, "bob", comb.Of(broadcast.EventApproved, task)[0].Approver)
	m := comb.Of(broadcast.EventMatched, task)
	require.NotEmpty(t, m)
	require.Equal(t, m[0].Rep.Calculators(), m[0].Calculators)
	signed := comb.Of(broadcast.EventSigned, task)
	require.Len(t, signed, 1)
	require.Equal(t, out.Signature, signed[0].Signature)
	require.Positive(t, signed[0].Duration)

	var blamed []int
	for _, ck := range d.Combiners {
		for _, e := range rs.get(share.RoleCombiner, ck.Number).Of(broadcast.EventInconsistent, task) {
			blamed = append(blamed, e.Calculators...)
		}
	}
	require.Contains(t, blamed, 1, "the liar is proven by a combiner")
	require.NotContains(t, blamed, 2)
}

// TestObserverRefusals: a policy refusal names its rule at every
// calculator and the distributor's task fails; a decline is a decline.
func TestObserverRefusals(t *testing.T) {
	rs := newRecorders()
	l, d := observedCluster(t, rs)
	_, err := l.Distributor().Sign(testcluster.Timeout(t, 10*time.Second), testcluster.Request("refuse"))
	require.ErrorIs(t, err, broadcast.ErrRefused)
	var se *broadcast.SignError
	require.ErrorAs(t, err, &se)
	_, err = l.Distributor().Sign(testcluster.Timeout(t, 10*time.Second), testcluster.Request("decline"))
	require.ErrorIs(t, err, broadcast.ErrRefused)
	l.Close()

	dist := rs.get(share.RoleDistributor, int(l.Distributor().Number()))
	failed := dist.Of(broadcast.EventFailed, se.Task)
	require.Len(t, failed, 1)
	require.ErrorIs(t, failed[0].Err, broadcast.ErrRefused)
	refused, declined := 0, 0
	for _, ck := range d.Calculators {
		c := rs.get(share.RoleCalculator, ck.Number)
		for _, e := range c.Of(broadcast.EventRefused, se.Task) {
			refused++
			require.Equal(t, "kind", e.Rule)
			require.ErrorIs(t, e.Err, broadcast.ErrPolicy)
		}
		require.Empty(t, c.Of(broadcast.EventApproved, se.Task))
		for _, e := range c.Of(broadcast.EventDeclined, 0) {
			declined++
			require.ErrorIs(t, e.Err, share.ErrDeclined)
			require.Empty(t, e.Rule)
			require.Equal(t, []byte("decline"), e.Request.Content)
		}
		require.Empty(t, c.Of(broadcast.EventPartialSent, 0), "nothing computed")
	}
	// The distributor gives up once k-t+1 refused; the others may not
	// have answered before the cluster closed.
	require.GreaterOrEqual(t, refused, 3)
	require.GreaterOrEqual(t, declined, 3)
}

// TestObserverDropped: calculator 5 approves a task only after its
// signature was announced: both its shares are dropped, each an event.
func TestObserverDropped(t *testing.T) {
	rs := newRecorders()
	task := signHeld(t, rs)
	dropped := rs.get(share.RoleCalculator, 5).Of(broadcast.EventDropped, task)
	require.Len(t, dropped, 2)
	require.ElementsMatch(t, []int{1, 2}, []int{dropped[0].Share, dropped[1].Share})
	require.Empty(t, rs.get(share.RoleCalculator, 5).Of(broadcast.EventPartialSent, task))
}

// signHeld signs a task while calculator 5's approval hook holds it, and
// releases the hook once the signature is announced; it returns the task.
func signHeld(t *testing.T, rs *recorders) uint64 {
	t.Helper()
	d := testcluster.Deal(t, 5, 3, 2, nil)
	mem := broadcast.NewMemory(nil)
	defer mem.Close()
	l, err := broadcast.StartLocal(context.Background(), d, &broadcast.LocalOptions{
		Down: []int{5}, Transport: faults.Transports(mem, nil), Observer: rs.observer,
	})
	require.NoError(t, err)
	defer l.Close()
	release := make(chan struct{})
	calc5 := rs.get(share.RoleCalculator, 5)
	n, err := broadcast.NewCalculatorNode(mem.Endpoint(broadcast.CalculatorEndpoint(5)), d.Calculators[4], &broadcast.CalculatorOptions{
		Observer: calc5, Approve: testcluster.Held(release),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { n.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	out, err := l.Distributor().SignDetailed(testcluster.Timeout(t, 20*time.Second), testcluster.Request("held"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return n.Stats().Announced == 1 }, 10*time.Second, 5*time.Millisecond)
	close(release)
	require.Eventually(t, func() bool { return n.Stats().Dropped == 2 }, 10*time.Second, 5*time.Millisecond)
	return out.Task
}

// TestObserverEveryKind: every kind of event is emitted by one of the
// scenarios above.
func TestObserverEveryKind(t *testing.T) {
	seen := map[broadcast.EventKind]bool{}
	for _, run := range []func(*testing.T, *recorders){
		func(t *testing.T, rs *recorders) { // signing, with a liar and bad results
			l, _ := observedCluster(t, rs)
			_, err := l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("ok"))
			require.NoError(t, err)
			for _, msg := range []string{"refuse", "decline"} {
				_, err = l.Distributor().Sign(testcluster.Timeout(t, 10*time.Second), testcluster.Request(msg))
				require.ErrorIs(t, err, broadcast.ErrRefused)
			}
			l.Close()
		},
		func(t *testing.T, rs *recorders) { signHeld(t, rs) }, // shares dropped
	} {
		rs := newRecorders()
		run(t, rs)
		rs.kinds(seen)
	}
	for k := broadcast.EventTaskSeen; k <= broadcast.EventFailed; k++ {
		require.True(t, seen[k], "no scenario emitted %v", k)
	}
	require.Equal(t, "unknown", (broadcast.EventFailed + 1).String(), "EventFailed is the last kind")
}

// TestObserverNil: nodes without an Observer sign as before.
func TestObserverNil(t *testing.T) {
	d := testcluster.Deal(t, 3, 2, 1, nil)
	l, err := broadcast.StartLocal(context.Background(), d, &broadcast.LocalOptions{
		Observer: func(share.Role, int) broadcast.Observer { return nil },
	})
	require.NoError(t, err)
	defer l.Close()
	_, err = l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("nil"))
	require.NoError(t, err)
}

// statsObserver calls its node's Stats on every event: a node never holds
// its lock while it calls the Observer.
type statsObserver struct {
	l      *atomic.Pointer[broadcast.Local]
	role   share.Role
	number int
	calls  atomic.Int64
}

func (o *statsObserver) Observe(*broadcast.Event) {
	l := o.l.Load()
	if l == nil {
		return
	}
	switch o.role {
	case share.RoleCalculator:
		l.Calculator(o.number).Stats()
	case share.RoleCombiner:
		l.Combiner(o.number).Stats()
	case share.RoleDistributor:
		l.Distributor().Stats()
	}
	o.calls.Add(1)
}

// TestObserverMayCallNode: an Observer that asks its node for its Stats
// does not deadlock it.
func TestObserverMayCallNode(t *testing.T) {
	var local atomic.Pointer[broadcast.Local]
	var mu sync.Mutex
	var all []*statsObserver
	d := testcluster.Deal(t, 3, 2, 2, nil)
	l, err := broadcast.StartLocal(context.Background(), d, &broadcast.LocalOptions{
		Audit: true,
		Observer: func(role share.Role, number int) broadcast.Observer {
			o := &statsObserver{l: &local, role: role, number: number}
			mu.Lock()
			all = append(all, o)
			mu.Unlock()
			return o
		},
	})
	require.NoError(t, err)
	defer l.Close()
	local.Store(l)
	var wg sync.WaitGroup
	for n := range 8 {
		wg.Go(func() {
			_, err := l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request(fmt.Sprint("stats ", n)))
			require.NoError(t, err)
		})
	}
	wg.Wait()
	l.Close()
	for _, o := range all {
		require.Positive(t, o.calls.Load(), "%v %d", o.role, o.number)
	}
}
