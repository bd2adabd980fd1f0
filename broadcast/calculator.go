package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// CalculatorOptions tune a [CalculatorNode]. The zero value is usable.
type CalculatorOptions struct {
	// Workers bounds the exponentiations computed at once; default
	// runtime.NumCPU() ([0119]).
	Workers int
	// MaxTasks bounds the tasks remembered for the uniqueness check and
	// for answering retransmissions; default 8192. When it is exceeded the
	// oldest task is forgotten, and every task of its distributor numbered
	// at or below it is refused as stale from then on.
	MaxTasks int
	// MaxPending bounds the tasks accepted but not finished (waiting for
	// approval or exponentiation); default 4096. Tasks beyond it are
	// refused as busy and not remembered, so a retransmission may succeed.
	MaxPending int
	// Window is how long a task is remembered, and how old a task may be
	// to be accepted ([0107]: unique in a preset duration); default 10
	// minutes. A task is accepted only when its time is at most Window old
	// and at most MaxSkew in the future, and not earlier than MaxSkew
	// before the node started: after a restart, tasks recorded before it
	// are refused rather than computed again ([0110]).
	Window time.Duration
	// MaxSkew is the clock difference tolerated between a distributor and
	// the node; default 5 seconds.
	MaxSkew time.Duration
	// ApproveTimeout is each task's deadline for the approval hook; past
	// it the task is refused (ErrApprovalTimeout). Default 1 minute.
	ApproveTimeout time.Duration
	// MaxBytes bounds the bytes of task packets held while their requests
	// are checked and approved; default 256 MiB. MaxBytesPerDistributor
	// bounds them per distributor number; default 64 MiB. A task over
	// either bound is refused (ErrOverBound) and not remembered, so a
	// retransmission may succeed; live tasks are never evicted for it.
	MaxBytes, MaxBytesPerDistributor int64
	// Now is the clock for Window; default time.Now.
	Now func() time.Time
	// Logger receives refusals and other events; default discards. No
	// secret is ever logged.
	Logger *slog.Logger
	// Observer receives the node's per-task events (see [Observer]);
	// nil: none. It is called synchronously: a slow Observer slows the node.
	Observer Observer
	// Approve is the operator's confirmation ([0092], [0110]), asked for
	// every checked request before a share is used; nil approves.
	Approve share.ApproveFunc
}

// CalculatorStats counts what a [CalculatorNode] did.
type CalculatorStats struct {
	Tasks      uint64 `json:"tasks"`      // new tasks accepted for computation
	Duplicates uint64 `json:"duplicates"` // tasks seen again (retransmitted or replayed): answered from memory, never recomputed
	Conflicts  uint64 `json:"conflicts"`  // task numbers reused for another request, or older than the window
	OtherKey   uint64 `json:"other_key"`  // tasks for another key id, ignored ([0124])
	Refused    uint64 `json:"refused"`    // tasks refused: wrong epoch, failed checks, declined by the approval hook
	Busy       uint64 `json:"busy"`       // tasks refused because MaxPending was reached
	OverBound  uint64 `json:"over_bound"` // tasks refused because a bound of bytes was reached
	TaskTime   uint64 `json:"task_time"`  // tasks refused because their time is outside the window
	Timeouts   uint64 `json:"timeouts"`   // tasks refused because the approval hook did not answer in time
	Bytes      int64  `json:"bytes"`      // bytes of task packets held now, against MaxBytes
	Malformed  uint64 `json:"malformed"`  // packets that did not decode
	Rejected   uint64 `json:"rejected"`   // packets that failed authentication
	Partials   uint64 `json:"partials"`   // partial results published
	Announced  uint64 `json:"announced"`  // done announcements accepted from the task's distributor ([0115]-[0116])
	Dropped    uint64 `json:"dropped"`    // partials not computed because their task was already signed
}

// CalculatorNode is a secret share calculator on the bus ([0092], [0109]-[0111]).
// It receives tasks on B1, acknowledges them on B1, and publishes each
// partial result on B2 as soon as it is computed.
type CalculatorNode struct {
	b      Broadcaster
	calc   *share.Calculator
	auth   *auth
	meta   share.Meta
	opts   CalculatorOptions
	sub    Subscription
	log    *slog.Logger
	now    func() time.Time
	ready  chan struct{} // one token per job in queue
	closed sync.Once
	ran    atomic.Bool

	mu      sync.Mutex
	tasks   map[taskKey]*calcTask
	order   fifo[*calcTask]   // by arrival, for expiry
	floor   map[source]uint64 // per distributor process: tasks at or below are stale
	pending int
	bytes   int64            // bytes of pending task packets
	perDist map[uint32]int64 // the same, per distributor number
	started time.Time
	queue   jobHeap // jobs waiting for a worker, oldest task first
	seq     uint64  // arrival number of the latest task

	held     []*heldJob    // further shares held back (hold)
	quiet    *time.Timer   // puts every held share back when no task is signed for quietTime
	since    time.Time     // when the latest done arrived, or the first share was held since
	prevDone time.Time     // when the latest done arrived while shares were held
	doneGap  time.Duration // moving average of the time between dones while shares are held
	expTime  atomic.Int64  // moving average of an exponentiation's wall time, in ns

	nTasks, nDup, nConflict, nOtherKey, nRefused, nBusy, nMalformed, nRejected, nPartials atomic.Uint64
	nOverBound, nTaskTime, nTimeouts, nAnnounced, nDropped                                atomic.Uint64
}

type calcTask struct {
	key     taskKey
	fp      [32]byte
	hdr     wire.Header
	seen    time.Time
	seq     uint64      // arrival order, for the queue's ranks
	refused wire.Reason // non-zero once refused
	detail  string      // the refusal's detail (a policy rule)
	size    int64       // bytes counted against the bounds while pending
	left    int         // shares not yet published
	done    bool        // every share published
	sent    [][]byte    // Partials packets published, re-sent on retransmission
	signed  bool        // its distributor announced the signature: partials left are dropped
}

type calcJob struct {
	t    *calcTask
	p    *share.Prepared
	i    int
	rank uint64 // the queue serves the lowest rank first
	held bool   // held back once already (hold)
}

// deferShares is how many later tasks' first shares are served before a
// task's next share. A representation takes one share of each of t
// calculators ([0100]), so under load the first share of every calculator
// usually signs the task, and the rest are dropped once its distributor
// announces the signature; on an idle node every share is computed at once.
const deferShares = 64

// rankOf orders the jobs of a calculator: oldest task first, a task's
// further shares deferShares arrivals later.
func rankOf(t *calcTask, i int) uint64 { return t.seq + uint64(i-1)*deferShares }

// jobHeap is a min-heap of jobs by rank, then share number, so that under
// load the oldest tasks finish first.
type jobHeap []calcJob

func (h jobHeap) less(a, b int) bool {
	if h[a].rank != h[b].rank {
		return h[a].rank < h[b].rank
	}
	return h[a].i < h[b].i
}

func (h *jobHeap) push(j calcJob) {
	*h = append(*h, j)
	for c := len(*h) - 1; c > 0; {
		p := (c - 1) / 2
		if !h.less(c, p) {
			break
		}
		(*h)[c], (*h)[p] = (*h)[p], (*h)[c]
		c = p
	}
}

func (h *jobHeap) pop() calcJob {
	old := *h
	top := old[0]
	last := len(old) - 1
	old[0] = old[last]
	old[last] = calcJob{}
	*h = old[:last]
	for p := 0; ; {
		c := 2*p + 1
		if c >= last {
			break
		}
		if c+1 < last && h.less(c+1, c) {
			c++
		}
		if !h.less(c, p) {
			break
		}
		(*h)[c], (*h)[p] = (*h)[p], (*h)[c]
		p = c
	}
	return top
}

// NewCalculatorNode prepares calculator key for signing and subscribes it
// to B1 of b. Call Run to serve. opts may be nil.
//
// The node signs every packet it sends with key's node key and accepts only
// tasks signed by a distributor of key's roster: key material without a
// node key listed in its roster is refused ([ErrNodeKey]).
func NewCalculatorNode(b Broadcaster, key *share.CalculatorKey, opts *CalculatorOptions) (*CalculatorNode, error) {
	if b == nil || key == nil {
		return nil, errors.New("broadcast: nil broadcaster or calculator key")
	}
	a, err := newAuth(key.NodeKey, key.Roster, share.RoleCalculator, key.Number)
	if err != nil {
		return nil, err
	}
	n := &CalculatorNode{b: b, auth: a, meta: key.Meta, opts: valueOf(opts)}
	// The node asks the approval hook itself, after the checks of Prepare
	// and before any exponentiation, so that it keeps the hook's reason.
	if n.calc, err = share.NewCalculator(key, nil); err != nil {
		return nil, fmt.Errorf("broadcast: calculator %d: %w", key.Number, err)
	}
	orDefault(&n.opts.Workers, runtime.NumCPU())
	orDefault(&n.opts.MaxTasks, 8192)
	orDefault(&n.opts.MaxPending, 4096)
	orDefault(&n.opts.Window, 10*time.Minute)
	orDefault(&n.opts.MaxSkew, 5*time.Second)
	orDefault(&n.opts.ApproveTimeout, time.Minute)
	orDefault(&n.opts.MaxBytes, 256<<20)
	orDefault(&n.opts.MaxBytesPerDistributor, 64<<20)
	n.now = orNow(n.opts.Now)
	n.started = n.now()
	n.perDist = make(map[uint32]int64)
	n.log = orDiscard(n.opts.Logger).With("node", "calculator", "j", key.Number, "key", n.meta.KeyID)
	n.tasks = make(map[taskKey]*calcTask)
	n.floor = make(map[source]uint64)
	// At most MaxPending tasks of at most wire.MaxList shares each wait.
	n.ready = make(chan struct{}, n.opts.MaxPending*wire.MaxList)
	sub, err := b.Subscribe(B1)
	if err != nil {
		return nil, fmt.Errorf("broadcast: calculator %d: %w", key.Number, err)
	}
	n.sub = sub
	return n, nil
}

// Number returns the calculator number j.
func (n *CalculatorNode) Number() int { return n.calc.Number() }

// Stats returns the counters so far.
func (n *CalculatorNode) Stats() CalculatorStats {
	return CalculatorStats{
		Tasks: n.nTasks.Load(), Duplicates: n.nDup.Load(), Conflicts: n.nConflict.Load(),
		OtherKey: n.nOtherKey.Load(), Refused: n.nRefused.Load(), Busy: n.nBusy.Load(),
		Malformed: n.nMalformed.Load(), Rejected: n.nRejected.Load(), Partials: n.nPartials.Load(),
		OverBound: n.nOverBound.Load(), TaskTime: n.nTaskTime.Load(), Timeouts: n.nTimeouts.Load(),
		Announced: n.nAnnounced.Load(), Dropped: n.nDropped.Load(),
		Bytes: n.heldBytes(),
	}
}

func (n *CalculatorNode) heldBytes() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.bytes
}

// Close stops receiving; a running Run returns once its work has stopped.
func (n *CalculatorNode) Close() error {
	n.closed.Do(func() { n.sub.Close() })
	return nil
}

// Run serves tasks until ctx ends or the node is closed, then waits for its
// goroutines and returns ctx's error (nil after Close). It may be called once.
func (n *CalculatorNode) Run(ctx context.Context) error {
	return serve(ctx, &n.ran, "calculator", n.Close, n.stopHeld, func(ctx context.Context, wg *sync.WaitGroup) error {
		for range n.opts.Workers {
			wg.Go(func() { n.work(ctx) })
		}
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case msg, ok := <-n.sub.C():
				if !ok {
					return nil
				}
				n.handle(ctx, wg, msg)
			}
		}
	})
}

// handle processes one B1 message. It never blocks on computation.
func (n *CalculatorNode) handle(ctx context.Context, wg *sync.WaitGroup, msg []byte) {
	task, body := n.auth.openTask(msg, &n.nRejected, &n.nMalformed, n.onDone)
	if task == nil {
		return // acknowledgements of other calculators, dones, refused packets
	}
	if task.KeyID != n.meta.KeyID {
		n.nOtherKey.Add(1) // another enterprise's task ([0124]): not ours to answer
		return
	}
	fp := wire.Fingerprint(body)
	key := keyOf(&task.Header)
	if task.Epoch != n.meta.Epoch {
		n.nRefused.Add(1)
		n.ack(ctx, &task.Header, fp, wire.ReasonWrongEpoch, "")
		n.observe(&task.Header, Event{Kind: EventRefused, Request: &task.Request, Err: ErrWrongEpoch})
		return
	}

	n.mu.Lock()
	n.expire()
	// Uniqueness check ([0110]): the same task is never computed twice.
	if t, ok := n.tasks[key]; ok {
		n.mu.Unlock()
		n.answerKnown(ctx, t, &task.Header, fp, &task.Request)
		return
	}
	if reason := n.admit(&task.Header, len(msg)); reason != wire.ReasonNone {
		n.mu.Unlock()
		n.ack(ctx, &task.Header, fp, reason, "")
		n.observe(&task.Header, Event{Kind: EventRefused, Request: &task.Request, Err: errorOf(reason)})
		return
	}
	n.seq++
	t := &calcTask{key: key, fp: fp, hdr: task.Header, seen: n.now(), seq: n.seq, size: int64(len(msg))}
	n.tasks[key] = t
	n.order.push(t)
	n.pending++
	n.bytes += t.size
	n.perDist[key.dist] += t.size
	n.mu.Unlock()

	n.nTasks.Add(1)
	n.ack(ctx, &task.Header, fp, wire.ReasonNone, "") // [0109]
	req := task.Request
	n.observe(&t.hdr, Event{Kind: EventTaskSeen, Request: &req})
	wg.Go(func() { n.prepare(ctx, t, &req) })
}

// onDone marks a task signed when its own distributor says so ([0115]-[0116]):
// the done is signed by the distributor of the task's number (auth.open),
// and must name the same process (instance), task and request fingerprint.
// A done for any other task, or replayed, changes nothing else.
func (n *CalculatorNode) onDone(d *wire.Done) {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, ok := n.tasks[keyOf(&d.Header)]
	if !ok || t.fp != d.TaskHash || t.signed {
		return
	}
	t.signed = true
	n.nAnnounced.Add(1)
	n.progress(t)
}

// answerKnown answers a task seen before from memory: it is never
// computed twice ([0110]), and lost partials are sent again.
func (n *CalculatorNode) answerKnown(ctx context.Context, t *calcTask, h *wire.Header, fp [32]byte, req *share.Request) {
	n.mu.Lock()
	if t.fp != fp {
		n.mu.Unlock()
		n.nConflict.Add(1)
		n.log.Warn("task number reused for another request", "distributor", h.Distributor, "task", h.Task)
		n.ack(ctx, h, fp, wire.ReasonConflict, "")
		n.observe(h, Event{Kind: EventRefused, Request: req, Err: ErrTaskConflict})
		return
	}
	refused, detail, done, sent := t.refused, t.detail, t.done, append([][]byte(nil), t.sent...)
	n.mu.Unlock()
	n.nDup.Add(1)
	if done {
		n.ackStatus(ctx, h, fp, wire.Computed)
	} else {
		n.ack(ctx, h, fp, refused, detail)
	}
	for _, b := range sent {
		n.publish(ctx, B2, b)
	}
}

// admit decides whether a task never seen may be taken: its time within
// the window ([0107]), its number above the floor, and room in the bounds.
// n.mu is held.
func (n *CalculatorNode) admit(h *wire.Header, size int) wire.Reason {
	now := n.now()
	at := time.Unix(0, h.Time)
	if at.Before(now.Add(-n.opts.Window)) || at.After(now.Add(n.opts.MaxSkew)) || at.Before(n.started.Add(-n.opts.MaxSkew)) {
		n.nTaskTime.Add(1)
		return wire.ReasonTaskTime
	}
	if f, ok := n.floor[source{h.Distributor, h.Instance}]; ok && h.Task <= f {
		n.nConflict.Add(1)
		return wire.ReasonStale
	}
	if n.pending >= n.opts.MaxPending {
		n.nBusy.Add(1)
		return wire.ReasonBusy
	}
	if n.bytes+int64(size) > n.opts.MaxBytes || n.perDist[h.Distributor]+int64(size) > n.opts.MaxBytesPerDistributor {
		n.nOverBound.Add(1)
		return wire.ReasonOverBound
	}
	return wire.ReasonNone
}

// release gives back a pending task's bytes. n.mu is held.
func (n *CalculatorNode) release(t *calcTask) {
	n.bytes -= t.size
	if n.perDist[t.key.dist] -= t.size; n.perDist[t.key.dist] <= 0 {
		delete(n.perDist, t.key.dist)
	}
	t.size = 0
}

// expire forgets tasks older than the window, and the oldest ones so that
// one more fits within MaxTasks, raising their distributor's floor. n.mu is held.
func (n *CalculatorNode) expire() {
	now := n.now()
	for {
		t, ok := n.order.front()
		// A task is remembered as long as it could be accepted again.
		if !ok || len(n.tasks) < n.opts.MaxTasks && now.Sub(t.seen) < n.opts.Window+n.opts.MaxSkew {
			break
		}
		n.order.pop()
		delete(n.tasks, t.key)
		src := source{t.key.dist, t.key.instance}
		if t.key.task > n.floor[src] {
			if len(n.floor) >= maxFloors {
				for d := range n.floor { // forget one distributor process
					delete(n.floor, d)
					break
				}
			}
			n.floor[src] = t.key.task
		}
	}
	n.order.compact()
}

const maxFloors = 1024

// prepare checks the request and asks for approval ([0110]) under the
// task's approval deadline, then hands the shares to the workers. It holds
// no worker: a slow approval delays only its own task.
func (n *CalculatorNode) prepare(ctx context.Context, t *calcTask, req *share.Request) {
	actx, cancel := context.WithTimeout(withTask(ctx, &t.hdr), n.opts.ApproveTimeout)
	actx, note := withNote(actx)
	p, err := n.calc.Prepare(actx, req)
	asked, start := err == nil && n.opts.Approve != nil, time.Now()
	if asked {
		if aerr := n.opts.Approve(actx, req); aerr != nil {
			err = fmt.Errorf("%w: %w", share.ErrDeclined, aerr)
		}
	}
	wait := time.Since(start)
	timedOut := actx.Err() != nil
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		r, detail := reasonOf(err)
		if timedOut {
			r, detail = wire.ReasonApprovalTimeout, ""
			n.nTimeouts.Add(1)
		}
		n.observeAll(&t.hdr, req, answerEvents(note, asked, err, refusalError(r, detail), timedOut, wait))
		n.nRefused.Add(1)
		n.log.Info("task refused", "distributor", t.key.dist, "task", t.key.task, "reason", errorOf(r), "detail", detail)
		n.mu.Lock()
		t.refused, t.detail = r, detail
		n.pending--
		n.release(t)
		n.mu.Unlock()
		n.ack(ctx, &t.hdr, t.fp, r, detail)
		return
	}
	n.observeAll(&t.hdr, req, answerEvents(note, asked, nil, nil, false, wait))
	n.mu.Lock()
	t.left = p.Shares()
	n.release(t) // the request's content is no longer held
	for i := 1; i <= p.Shares(); i++ {
		n.queue.push(calcJob{t: t, p: p, i: i, rank: rankOf(t, i)})
	}
	n.mu.Unlock()
	for range p.Shares() {
		n.ready <- struct{}{} // never blocks: see NewCalculatorNode
	}
}

// next waits for a job and takes the oldest task's. ok is false when ctx
// ended first.
func (n *CalculatorNode) next(ctx context.Context) (j calcJob, ok bool) {
	select {
	case <-ctx.Done():
		return j, false
	case <-n.ready:
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.queue.pop(), true
}

// work computes partials, each published as soon as it is ready ([0092]).
func (n *CalculatorNode) work(ctx context.Context) {
	for {
		j, ok := n.next(ctx)
		if !ok {
			return
		}
		if n.skip(j.t) {
			n.observe(&j.t.hdr, Event{Kind: EventDropped, Share: j.i})
			if n.finishJob(j.t, nil) {
				n.ackStatus(ctx, &j.t.hdr, j.t.fp, wire.Computed)
			}
			continue
		}
		if n.hold(j) {
			continue
		}
		start := time.Now()
		part, err := j.p.Partial(j.i)
		took := time.Since(start)
		n.pace(took)
		if err != nil {
			n.log.Error("partial failed", "distributor", j.t.key.dist, "task", j.t.key.task, "share", j.i, "err", err)
		}
		var b []byte
		if err == nil {
			b, _, err = n.auth.seal(&wire.Partials{
				Header:     j.t.hdr,
				TaskHash:   j.t.fp,
				Calculator: part.J,
				Shares:     []wire.Share{{Index: part.I, Value: part.Value}},
			})
			if err != nil {
				n.log.Error("encoding a partial", "distributor", j.t.key.dist, "task", j.t.key.task, "share", j.i, "err", err)
			}
		}
		last := n.finishJob(j.t, b)
		if b != nil {
			n.nPartials.Add(1)
			// Logged before it leaves: no partial is sent unrecorded.
			n.observe(&j.t.hdr, Event{Kind: EventPartialSent, Share: j.i, Duration: took})
			n.publish(ctx, B2, b) // [0111]
		}
		if last {
			n.ackStatus(ctx, &j.t.hdr, j.t.fp, wire.Computed)
		}
		runtime.Gosched() // let the nodes' receivers woken by the partial run before the next exponentiation
	}
}

// heldJob is a further share held back by hold.
type heldJob struct {
	j      calcJob
	ahead  int // other tasks pending when it was held
	passed int // dones of other tasks since
}

// stuckAfter is how many dones beyond the tasks that were pending when a
// share was held put it back: its own task was overtaken by all of them,
// and is likely stuck (a liar, a lost or a slow calculator among its first
// shares).
const stuckAfter = 8

// hold holds back a task's further share, once, when other jobs wait:
// under load the first shares of t calculators usually sign the task
// ([0100]), and its distributor's done drops the rest before they are
// computed. The share is put back in the queue when its task is signed,
// when the task was overtaken (stuckAfter), or when no task at all was
// signed for quietTime. A task alone is not held: all of its shares are
// computed at once. hold reports whether j was held.
func (n *CalculatorNode) hold(j calcJob) bool {
	if j.i == 1 || j.held {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.queue)+len(n.held) == 0 {
		return false
	}
	j.held = true
	if len(n.held) == 0 {
		n.since, n.prevDone = time.Now(), time.Time{}
	}
	n.held = append(n.held, &heldJob{j: j, ahead: n.pending - 1})
	if n.quiet == nil {
		n.quiet = time.AfterFunc(n.quietTime(), n.onQuiet)
	}
	return true
}

// quietTime is how long no task may be signed before every held share is
// put back: eight times the usual time between dones, at least as long as
// serving 2·deferShares first shares takes the node, at most eight times
// that. n.mu is held.
func (n *CalculatorNode) quietTime() time.Duration {
	unit := time.Duration(n.expTime.Load()) * deferShares / time.Duration(n.opts.Workers)
	return min(max(8*n.doneGap, 2*unit), 16*unit)
}

// onQuiet puts every held share back when no task was signed for
// quietTime: the cluster needs the further shares (a calculator down or
// lying for every task). Otherwise it waits again.
func (n *CalculatorNode) onQuiet() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.quiet = nil
	if len(n.held) == 0 {
		return
	}
	if wait := n.quietTime() - time.Since(n.since); wait > 0 {
		n.quiet = time.AfterFunc(wait, n.onQuiet)
		return
	}
	for _, h := range n.held {
		n.putBack(h)
	}
	n.held = nil
}

// progress records t's done and puts back the held shares it releases.
// n.mu is held.
func (n *CalculatorNode) progress(t *calcTask) {
	if len(n.held) == 0 {
		return
	}
	now := time.Now()
	if !n.prevDone.IsZero() {
		gap := now.Sub(n.prevDone)
		if n.doneGap == 0 {
			n.doneGap = gap
		}
		n.doneGap += (gap - n.doneGap) / 8
	}
	n.since, n.prevDone = now, now
	n.held = slices.DeleteFunc(n.held, func(h *heldJob) bool {
		if h.j.t != t {
			if h.passed++; h.passed <= h.ahead+stuckAfter {
				return false
			}
		}
		n.putBack(h)
		return true
	})
}

// stopHeld stops the timer of the held shares, once the workers stopped.
func (n *CalculatorNode) stopHeld() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.quiet != nil {
		n.quiet.Stop()
	}
}

// putBack returns a held share to the queue. n.mu is held.
func (n *CalculatorNode) putBack(h *heldJob) {
	n.queue.push(h.j)
	n.ready <- struct{}{} // never blocks: the job's token was taken
}

// pace adds an exponentiation's wall time to the moving average that
// quietTime scales with.
func (n *CalculatorNode) pace(d time.Duration) {
	avg := n.expTime.Load()
	if avg == 0 {
		avg = int64(d)
	}
	n.expTime.Store(avg + (int64(d)-avg)/8)
}

// skip reports whether a job's task was signed already: its partial is
// dropped, never computed.
func (n *CalculatorNode) skip(t *calcTask) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if t.signed {
		n.nDropped.Add(1)
	}
	return t.signed
}

// finishJob records one share of t handled, with its Partials packet b
// (nil when dropped or failed), and reports whether it was the last.
func (n *CalculatorNode) finishJob(t *calcTask, b []byte) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if b != nil {
		t.sent = append(t.sent, b)
	}
	t.left--
	if t.left != 0 {
		return false
	}
	n.pending--
	t.done = true
	return true
}

// ack publishes an acknowledgement on B1 ([0109]); reason None accepts.
func (n *CalculatorNode) ack(ctx context.Context, h *wire.Header, fp [32]byte, reason wire.Reason, detail string) {
	if reason != wire.ReasonNone {
		n.send(ctx, &wire.Ack{Header: *h, TaskHash: fp, Status: wire.Refused, Reason: reason, Detail: detail})
		return
	}
	n.ackStatus(ctx, h, fp, wire.Accepted)
}

// ackStatus publishes an Accepted or Computed acknowledgement on B1.
func (n *CalculatorNode) ackStatus(ctx context.Context, h *wire.Header, fp [32]byte, status wire.AckStatus) {
	n.send(ctx, &wire.Ack{Header: *h, TaskHash: fp, Status: status})
}

func (n *CalculatorNode) send(ctx context.Context, a *wire.Ack) {
	a.Calculator, a.K, a.T = n.calc.Number(), n.meta.K, n.meta.T
	b, _, err := n.auth.seal(a)
	if err != nil {
		n.log.Error("encoding an acknowledgement", "err", err)
		return
	}
	n.publish(ctx, B1, b)
}

func (n *CalculatorNode) publish(ctx context.Context, ch Channel, b []byte) {
	if err := n.b.Publish(ctx, ch, b); err != nil && ctx.Err() == nil {
		n.log.Debug("publish failed", "channel", ch, "err", err)
	}
}

// observe passes an event of task h to the Observer, if any, filling in
// the task's names and the time. The node holds no lock when it calls it.
func (n *CalculatorNode) observe(h *wire.Header, e Event) {
	if n.opts.Observer == nil {
		return
	}
	e.Time, e.KeyID, e.Epoch, e.Distributor, e.Task = n.now(), h.KeyID, h.Epoch, h.Distributor, h.Task
	n.opts.Observer.Observe(&e)
}

// observeAll passes evs, each about req, to the Observer.
func (n *CalculatorNode) observeAll(h *wire.Header, req *share.Request, evs []Event) {
	for _, e := range evs {
		e.Request = req
		n.observe(h, e)
	}
}
