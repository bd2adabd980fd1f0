package broadcast

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/wire"
)

// ledger watches what the nodes of a cluster publish, to account for every
// exponentiation of a signature: which partials the first result used,
// which were computed after the distributor announced the task signed, and
// how many combiners answered each task.
type ledger struct {
	mu    sync.Mutex
	tasks map[taskKey]*ledgerTask
}

type ledgerTask struct {
	done    time.Time // when the distributor announced it; zero before
	result  time.Time // when the first result was published
	parts   []ledgerPart
	results []int // combiners, in the order their results were published
	rep     grouping.Rep
}

type ledgerPart struct {
	term      grouping.Term
	afterDone bool
	at        time.Time
}

func newLedger() *ledger { return &ledger{tasks: make(map[taskKey]*ledgerTask)} }

func (lg *ledger) task(h *wire.Header) *ledgerTask {
	k := keyOf(h)
	t := lg.tasks[k]
	if t == nil {
		t = &ledgerTask{}
		lg.tasks[k] = t
	}
	return t
}

// observe records one published packet.
func (lg *ledger) observe(msg []byte) {
	p, err := wire.Unmarshal(msg)
	if err != nil {
		return
	}
	s, ok := p.(*wire.Signed)
	if !ok {
		return
	}
	q, err := wire.Unmarshal(s.Body)
	if err != nil {
		return
	}
	lg.mu.Lock()
	defer lg.mu.Unlock()
	switch q := q.(type) {
	case *wire.Done:
		if t := lg.task(&q.Header); t.done.IsZero() {
			t.done = time.Now()
		}
	case *wire.Partials:
		t := lg.task(&q.Header)
		for _, sh := range q.Shares {
			if slices.ContainsFunc(t.parts, func(p ledgerPart) bool { return p.term == grouping.Term{J: q.Calculator, I: sh.Index} }) {
				continue // sent again on a retransmission, not computed again
			}
			t.parts = append(t.parts, ledgerPart{grouping.Term{J: q.Calculator, I: sh.Index}, !t.done.IsZero(), time.Now()})
		}
	case *wire.Result:
		t := lg.task(&q.Header)
		if len(t.results) == 0 {
			t.rep, t.result = q.Rep, time.Now()
		}
		if !slices.Contains(t.results, q.Combiner) { // not a result sent again
			t.results = append(t.results, q.Combiner)
		}
	}
}

// spy is a Broadcaster that shows every packet it publishes to a ledger.
type spy struct {
	Broadcaster
	lg *ledger
}

func (s spy) Publish(ctx context.Context, ch Channel, msg []byte) error {
	s.lg.observe(msg)
	return s.Broadcaster.Publish(ctx, ch, msg)
}

// accounting sums a ledger over its signed tasks.
type accounting struct {
	tasks                     int
	used, firstBefore, second int             // partials: in the first result's rep; other first shares before done; other second shares before done
	afterDone                 int             // partials (not in the rep) published after done
	results                   int             // results published
	combineLag, doneLag       time.Duration   // summed: last used partial to first result, first result to done
	waits                     []time.Duration // second shares published before done: time since the same calculator's first share
}

func (lg *ledger) sum() accounting {
	lg.mu.Lock()
	defer lg.mu.Unlock()
	var a accounting
	for _, t := range lg.tasks {
		if len(t.results) == 0 {
			continue
		}
		a.tasks++
		a.results += len(t.results)
		a.doneLag += t.done.Sub(t.result)
		var last time.Time
		for _, p := range t.parts {
			if slices.Contains(t.rep, p.term) && p.at.After(last) {
				last = p.at
			}
		}
		a.combineLag += t.result.Sub(last)
		for _, p := range t.parts {
			switch {
			case slices.Contains(t.rep, p.term):
				a.used++
			case p.afterDone:
				a.afterDone++
			case p.term.I == 1:
				a.firstBefore++
			default:
				a.second++
				for _, f := range t.parts {
					if f.term.J == p.term.J && f.term.I == 1 {
						a.waits = append(a.waits, p.at.Sub(f.at))
					}
				}
			}
		}
	}
	return a
}

func (a accounting) String() string {
	per := func(n int) string { return fmt.Sprintf("%.2f", float64(n)/float64(max(1, a.tasks))) }
	var b strings.Builder
	fmt.Fprintf(&b, "tasks %d, per signature: used partials %s, other first shares %s, other second shares %s, after done %s, results %s; mean lag rep to result %v, result to done %v",
		a.tasks, per(a.used), per(a.firstBefore), per(a.second), per(a.afterDone), per(a.results),
		a.combineLag/time.Duration(max(1, a.tasks)), a.doneLag/time.Duration(max(1, a.tasks)))
	if len(a.waits) > 0 {
		slices.Sort(a.waits)
		fmt.Fprintf(&b, "; second shares' wait after the first: min %v median %v", a.waits[0], a.waits[len(a.waits)/2])
	}
	return b.String()
}

// BenchmarkThroughputAccounting is BenchmarkThroughput's cluster, watched by
// a ledger that accounts for every exponentiation: partials the first
// result used, other first and second shares published before the done
// announcement, partials published after it, and results (one combination
// each; combinations that failed or were skipped are in the combiners'
// stats), next to the CPU the process used (cores, cpu-ratio). With -v it
// logs every task's timeline.
func BenchmarkThroughputAccounting(b *testing.B) {
	lg := newLedger()
	mem := NewMemory(nil)
	b.Cleanup(func() { mem.Close() })
	l := start(b, testcluster.Deal(b, 5, 3, 2, nil), &LocalOptions{
		Transport: func(name string) (Broadcaster, error) { return spy{mem.Endpoint(name), lg}, nil },
	})
	rsaCPU, rsaWall := cpuTime(), time.Now()
	rsaRate(b, 500)
	rsaCPU, rsaWall2 := cpuTime()-rsaCPU, time.Now()
	cpu0 := cpuTime()
	b.ResetTimer()
	signInFlight(b, l, 64)
	b.StopTimer()
	cpu := cpuTime() - cpu0
	b.ReportMetric(cpu.Seconds()/b.Elapsed().Seconds(), "cores")
	b.ReportMetric(rsaCPU.Seconds()/rsaWall2.Sub(rsaWall).Seconds(), "rsa-cores")
	b.ReportMetric((float64(b.N)/cpu.Seconds())/(500/rsaCPU.Seconds()), "cpu-ratio")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sig/s")
	b.ReportMetric(float64(exponentiations(l))/float64(b.N), "exps/sig")
	var combines, signed, skipped, dropped uint64
	for _, c := range l.combs {
		st := c.Stats()
		combines, signed, skipped = combines+st.Combines, signed+st.Signed, skipped+st.Skipped
	}
	for _, c := range l.calcs {
		dropped += c.Stats().Dropped
	}
	if testing.Verbose() {
		lg.timeline(b)
	}
	b.Logf("N=%d %s; combines %d (signed %d, skipped %d), partials dropped %d; transport %+v; distributor %+v", b.N, lg.sum(), combines, signed, skipped, dropped, mem.Stats(), l.Distributor().Stats())
}

// timeline prints, per task in task order, the times (ms from the first
// packet) of its first shares, second shares, first result and done.
func (lg *ledger) timeline(tb testing.TB) {
	lg.mu.Lock()
	defer lg.mu.Unlock()
	var t0 time.Time
	keys := make([]taskKey, 0, len(lg.tasks))
	for k, t := range lg.tasks {
		keys = append(keys, k)
		for _, p := range t.parts {
			if t0.IsZero() || p.at.Before(t0) {
				t0 = p.at
			}
		}
	}
	slices.SortFunc(keys, func(a, b taskKey) int { return int(a.task) - int(b.task) })
	ms := func(x time.Time) string { return fmt.Sprintf("%.0f", float64(x.Sub(t0).Microseconds())/1000) }
	for _, k := range keys {
		t := lg.tasks[k]
		var b strings.Builder
		fmt.Fprintf(&b, "task %d rep %v: ", k.task, t.rep)
		for _, p := range t.parts {
			mark := ""
			if slices.Contains(t.rep, p.term) {
				mark = "*"
			}
			fmt.Fprintf(&b, "%s%v@%s ", mark, p.term, ms(p.at))
		}
		fmt.Fprintf(&b, "| result@%s done@%s results %v", ms(t.result), ms(t.done), t.results)
		tb.Log(b.String())
	}
}
