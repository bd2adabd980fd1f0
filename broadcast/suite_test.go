package broadcast_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"math/big"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/faults"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// The hostile-node suite: with k=5, t=3, l=2 and its plan, one node at a
// time is an adversary holding that node's real key material, then two
// colluding calculators (t-1). For each: every request ends with a
// verified signature within its deadline, no honest calculator is named,
// memory stays under the bound, and the misbehaviour shows in a counter.

// wraps maps endpoints to the functions that make them adversaries.
type wraps = map[string]func(*share.Dealing, broadcast.Broadcaster) broadcast.Broadcaster

type adversary struct {
	name string
	wrap wraps
	// attack, when set, runs beside the cluster until ctx ends,
	// publishing on the transport directly.
	attack func(ctx context.Context, d *share.Dealing, mem *broadcast.Memory)
	bad    []int // calculators that misbehave: the only ones that may be named
	// combiner is the lying combiner, whose own claims may name anyone.
	combiner int
	// counter reads the counter that shows the misbehaviour.
	counter func(l *broadcast.Local) (string, uint64)
}

const (
	suiteTasks    = 4
	suiteDeadline = 15 * time.Second
)

// runHostile runs one adversary and returns its row of the table.
func runHostile(t *testing.T, a adversary) string {
	t.Helper()
	l, d, mem := hostileMem(t, &broadcast.LocalOptions{Audit: true, Distributor: &broadcast.DistributorOptions{Linger: 100 * time.Millisecond}}, a.wrap)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if a.attack != nil {
		wg.Go(func() { a.attack(ctx, d, mem) })
	}
	defer func() {
		cancel()
		wg.Wait()
	}()
	var slowest time.Duration
	for n := range suiteTasks {
		msg := fmt.Sprintf("%s %d", a.name, n)
		out, err := l.Distributor().SignDetailed(testcluster.Timeout(t, suiteDeadline), testcluster.Request(msg))
		require.NoError(t, err, "%s: signing %d", a.name, n)
		require.Equal(t, testcluster.Want(t, nil, msg), out.Signature)
		require.Subset(t, a.bad, out.Inconsistent, "%s: an honest calculator named", a.name)
		slowest = max(slowest, out.Elapsed)
	}
	require.Subset(t, a.bad, slices.Collect(maps.Keys(l.Distributor().Inconsistent())), "%s: an honest calculator named", a.name)
	claimed := map[int]bool{}
	for j, by := range l.Distributor().Claims() {
		for c := range by {
			if c != a.combiner {
				require.Contains(t, a.bad, j, "%s: honest combiner %d claims honest calculator %d", a.name, c, j)
				claimed[j] = true
			}
		}
	}
	const bound = 256 << 20
	for j := 1; j <= 5; j++ {
		if n := l.Calculator(j); n != nil {
			require.LessOrEqual(t, n.Stats().Bytes, int64(bound))
		}
	}
	for c := 1; c <= len(d.Combiners); c++ {
		st := l.Combiner(c).Stats()
		require.LessOrEqual(t, st.Bytes, int64(bound))
		require.LessOrEqual(t, st.Held, 8192)
	}
	name, v := a.counter(l)
	require.NotZero(t, v, "%s: the misbehaviour is not visible in %s", a.name, name)
	named := slices.Sorted(maps.Keys(l.Distributor().Inconsistent()))
	return fmt.Sprintf("| %s | %d/%d | %v | %v | %v | %s = %d |", a.name, suiteTasks, suiteTasks, slowest.Round(time.Millisecond),
		slices.Sorted(maps.Keys(claimed)), named, name, v)
}

func calcAdv(j int, f faults.RewriteFunc) wraps {
	return wraps{broadcast.CalculatorEndpoint(j): func(d *share.Dealing, b broadcast.Broadcaster) broadcast.Broadcaster {
		return faults.Rewrite(b, d.Calculators[j-1].NodeKey, f)
	}}
}

func merge(ws ...wraps) wraps {
	out := wraps{}
	for _, w := range ws {
		maps.Copy(out, w)
	}
	return out
}

func distStat(name string, f func(broadcast.DistributorStats) uint64) func(*broadcast.Local) (string, uint64) {
	return func(l *broadcast.Local) (string, uint64) { return "distributor " + name, f(l.Distributor().Stats()) }
}

func combStat(name string, f func(broadcast.CombinerStats) uint64) func(*broadcast.Local) (string, uint64) {
	return func(l *broadcast.Local) (string, uint64) {
		var sum uint64
		for c := 1; l.Combiner(c) != nil; c++ {
			sum += f(l.Combiner(c).Stats())
		}
		return "combiners " + name, sum
	}
}

func calcStat(name string, f func(broadcast.CalculatorStats) uint64) func(*broadcast.Local) (string, uint64) {
	return func(l *broadcast.Local) (string, uint64) {
		var sum uint64
		for j := 1; j <= 5; j++ {
			if n := l.Calculator(j); n != nil {
				sum += f(n.Stats())
			}
		}
		return "calculators " + name, sum
	}
}

// refuseAll refuses every task and sends no partial.
func refuseAll(ch broadcast.Channel, p wire.Packet) []wire.Packet {
	switch p := p.(type) {
	case *wire.Ack:
		p.Status, p.Reason = wire.Refused, wire.ReasonDeclined
	case *wire.Partials:
		return nil
	}
	return []wire.Packet{p}
}

// falseShape accepts and computes honestly, claiming k=2 and t=1.
func falseShape(ch broadcast.Channel, p wire.Packet) []wire.Packet {
	if a, ok := p.(*wire.Ack); ok {
		a.K, a.T = 2, 1
	}
	return []wire.Packet{p}
}

// lie multiplies every partial by 2 mod n.
func lie(n *big.Int, factor *big.Int) faults.RewriteFunc {
	return func(ch broadcast.Channel, p wire.Packet) []wire.Packet {
		if ps, ok := p.(*wire.Partials); ok {
			for i, s := range ps.Shares {
				v := new(big.Int).SetBytes(s.Value)
				v.Mul(v, factor).Mod(v, n)
				ps.Shares[i].Value = v.FillBytes(make([]byte, len(s.Value)))
			}
		}
		return []wire.Packet{p}
	}
}

// otherTask sends, for every task, the valid partials it computed for
// the previous one.
func otherTask() faults.RewriteFunc {
	var mu sync.Mutex
	prev := map[int][]byte{}
	return func(ch broadcast.Channel, p wire.Packet) []wire.Packet {
		ps, ok := p.(*wire.Partials)
		if !ok {
			return []wire.Packet{p}
		}
		mu.Lock()
		defer mu.Unlock()
		for i, s := range ps.Shares {
			old, had := prev[s.Index]
			prev[s.Index] = s.Value
			if had {
				ps.Shares[i].Value = old
			}
		}
		return []wire.Packet{p}
	}
}

// replay records the first 200 packets on the bus and publishes them all
// again every 250ms: its own and the others' (each replayed task makes
// every node check a signature and answer again, so full speed is the
// flood's business; faster replays overload 2 cores under -race).
func replay(ctx context.Context, _ *share.Dealing, mem *broadcast.Memory) {
	b := mem.Endpoint("replayer")
	var mu sync.Mutex
	var seen []struct {
		ch  broadcast.Channel
		msg []byte
	}
	for _, ch := range []broadcast.Channel{broadcast.B1, broadcast.B2, broadcast.B3} {
		sub, err := b.Subscribe(ch)
		if err != nil {
			return
		}
		defer sub.Close()
		go func() {
			for msg := range sub.C() {
				mu.Lock()
				if len(seen) < 200 {
					seen = append(seen, struct {
						ch  broadcast.Channel
						msg []byte
					}{ch, msg})
				}
				mu.Unlock()
			}
		}()
	}
	for ctx.Err() == nil {
		time.Sleep(250 * time.Millisecond)
		mu.Lock()
		old := slices.Clone(seen)
		mu.Unlock()
		for _, m := range old {
			b.Publish(ctx, m.ch, m.msg)
		}
	}
}

// flood publishes, signed with calculator j's key, partials for random
// tasks and forged tasks, as fast as it can.
func flood(j int) func(ctx context.Context, d *share.Dealing, mem *broadcast.Memory) {
	return func(ctx context.Context, d *share.Dealing, mem *broadcast.Memory) {
		b := mem.Endpoint("flood")
		key := d.Calculators[j-1]
		value := make([]byte, 256)
		value[255] = 3
		for n := uint64(0); ctx.Err() == nil; n++ {
			var fp [32]byte
			rand.Read(fp[:])
			h := wire.Header{Distributor: 1, Task: mrand.Uint64(), KeyID: key.KeyID, Epoch: key.Epoch, Time: time.Now().UnixNano()}
			if msg, err := faults.Seal(key.NodeKey, &wire.Partials{Header: h, TaskHash: fp, Calculator: j, Shares: []wire.Share{{Index: 1, Value: value}}}); err == nil {
				b.Publish(ctx, broadcast.B2, msg)
			}
			if n%4 == 0 { // a task signed by a calculator: never accepted
				req := testcluster.Request("forged")
				req.KeyID = key.KeyID
				if msg, err := faults.Seal(key.NodeKey, &wire.Task{Header: h, Request: *req}); err == nil {
					b.Publish(ctx, broadcast.B1, msg)
				}
			}
			if n%256 == 0 {
				time.Sleep(time.Millisecond) // the machine is shared
			}
		}
	}
}

// malformed publishes garbage, truncated and oversized packets on every
// channel.
func malformed(ctx context.Context, d *share.Dealing, mem *broadcast.Memory) {
	b := mem.Endpoint("malformed")
	key := d.Calculators[0]
	h := wire.Header{Distributor: 1, Task: 1, KeyID: key.KeyID, Epoch: key.Epoch, Time: time.Now().UnixNano()}
	good, _ := faults.Seal(key.NodeKey, &wire.Partials{Header: h, Calculator: 1, Shares: []wire.Share{{Index: 1, Value: make([]byte, 256)}}})
	huge := make([]byte, wire.MaxPacketSize+1024)
	huge[0], huge[1] = wire.Version, byte(wire.TypeSigned)
	for ctx.Err() == nil {
		junk := make([]byte, mrand.IntN(300))
		rand.Read(junk)
		for _, ch := range []broadcast.Channel{broadcast.B1, broadcast.B2, broadcast.B3} {
			b.Publish(ctx, ch, junk)
			b.Publish(ctx, ch, good[:mrand.IntN(len(good))])
			b.Publish(ctx, ch, huge)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func combAdv(n int, f faults.RewriteFunc) wraps {
	return wraps{broadcast.CombinerEndpoint(n): func(d *share.Dealing, b broadcast.Broadcaster) broadcast.Broadcaster {
		return faults.Rewrite(b, d.Combiners[n-1].NodeKey, f)
	}}
}

// wrongSignature corrupts every signature the combiner sends.
func wrongSignature(ch broadcast.Channel, p wire.Packet) []wire.Packet {
	if r, ok := p.(*wire.Result); ok && len(r.Signature) > 0 {
		r.Signature[len(r.Signature)/2] ^= 1
	}
	return []wire.Packet{p}
}

func suiteAdversaries(t *testing.T) []adversary {
	n := testcluster.Deal(t, 5, 3, 2, nil).Calculators[0].PublicKey.N
	r := big.NewInt(3)
	rInv := new(big.Int).ModInverse(r, n)
	return []adversary{
		{name: "calculator 1 refuses everything", wrap: calcAdv(1, refuseAll), bad: []int{1},
			counter: distStat("Refusals", func(s broadcast.DistributorStats) uint64 { return s.Refusals })},
		{name: "calculator 1 refuses, claiming k=3", wrap: calcAdv(1, refuseClaimingK(3, 3)), bad: []int{1},
			counter: distStat("FalseShape", func(s broadcast.DistributorStats) uint64 { return s.FalseShape })},
		{name: "calculator 1 claims k=2, t=1", wrap: calcAdv(1, falseShape), bad: []int{1},
			counter: distStat("FalseShape", func(s broadcast.DistributorStats) uint64 { return s.FalseShape })},
		{name: "calculator 3 lies in its partials", wrap: calcAdv(3, lie(n, big.NewInt(2))), bad: []int{3},
			counter: combStat("Inconsistent", func(s broadcast.CombinerStats) uint64 { return s.Inconsistent })},
		{name: "calculator 3 sends valid partials of another task", wrap: calcAdv(3, otherTask()), bad: []int{3},
			counter: combStat("Inconsistent", func(s broadcast.CombinerStats) uint64 { return s.Inconsistent })},
		{name: "replays of every packet (own and others')", attack: replay,
			counter: calcStat("Duplicates", func(s broadcast.CalculatorStats) uint64 { return s.Duplicates })},
		{name: "calculator 2 floods partials and forged tasks", attack: flood(2), bad: []int{2},
			counter: calcStat("Rejected", func(s broadcast.CalculatorStats) uint64 { return s.Rejected })},
		{name: "oversized and malformed packets", attack: malformed,
			counter: calcStat("Malformed", func(s broadcast.CalculatorStats) uint64 { return s.Malformed })},
		{name: "combiner 1 returns wrong signatures", wrap: combAdv(1, wrongSignature), combiner: 1,
			counter: distStat("BadResults", func(s broadcast.DistributorStats) uint64 { return s.BadResults })},
		{name: "combiner 2 returns wrong signatures", wrap: combAdv(2, wrongSignature), combiner: 2,
			counter: distStat("BadResults", func(s broadcast.DistributorStats) uint64 { return s.BadResults })},
		{name: "combiner 1 blames honest calculator 3", wrap: combAdv(1, blameHonest(3)), combiner: 1,
			counter: func(l *broadcast.Local) (string, uint64) {
				return "distributor Claims[3][1]", l.Distributor().Claims()[3][1]
			}},
		{name: "combiner 2 blames honest calculators 1, 2, 3", wrap: combAdv(2, blameHonest(1, 2, 3)), combiner: 2,
			counter: distStat("FalseBlame", func(s broadcast.DistributorStats) uint64 { return s.FalseBlame })},
		{name: "calculators 1, 2 refuse everything (t-1 colluding)", wrap: merge(calcAdv(1, refuseAll), calcAdv(2, refuseAll)), bad: []int{1, 2},
			counter: distStat("Refusals", func(s broadcast.DistributorStats) uint64 { return s.Refusals })},
		{name: "calculators 1, 2 both lie", wrap: merge(calcAdv(1, lie(n, big.NewInt(2))), calcAdv(2, lie(n, big.NewInt(5)))), bad: []int{1, 2},
			counter: combStat("Inconsistent+Suspects", func(s broadcast.CombinerStats) uint64 { return s.Inconsistent + s.Suspects })},
		{name: "calculators 1, 2 frame: X1 = P1*r, X2 = P2/r", wrap: merge(calcAdv(1, lie(n, r)), calcAdv(2, lie(n, rInv))), bad: []int{1, 2},
			counter: combStat("Combines", func(s broadcast.CombinerStats) uint64 { return s.Combines })},
	}
}

// TestHostileNodes runs the suite and logs the table of the README.
func TestHostileNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("the hostile-node suite takes a while")
	}
	rows := []string{"| adversary | signed | slowest | claimed by honest combiners | named by the distributor | misbehaviour seen |", "|---|---|---|---|---|---|"}
	for _, a := range suiteAdversaries(t) {
		t.Run(a.name, func(t *testing.T) { rows = append(rows, runHostile(t, a)) })
	}
	for _, r := range rows {
		t.Log(r)
	}
}
