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

	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/mapkeys"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// CombinerOptions tune a [CombinerNode]. The zero value is usable.
type CombinerOptions struct {
	// Workers bounds the combinations computed at once; default runtime.NumCPU().
	Workers int
	// MaxTasks bounds the tasks held at once, complete or not; default 8192.
	// Beyond it new tasks are refused, never live ones evicted; tasks are
	// forgotten only after their TTL. Partials that arrive before their
	// task packet are held for at most MaxTasks/(4k) tasks per calculator,
	// the oldest forgotten first, so that one calculator cannot crowd out
	// the others.
	MaxTasks int
	// MaxBytes bounds the bytes a node holds for its tasks (contents
	// waiting for approval, partial values, results); default 256 MiB.
	// MaxBytesPerDistributor bounds them per distributor number; default
	// 64 MiB. A task over either bound is refused and counted (OverBound).
	// After its checks and approval only the digest and encoding of a
	// request are kept, never its content.
	MaxBytes, MaxBytesPerDistributor int64
	// ApproveTimeout is each task's deadline for the approval hook
	// (Combine.Approve), asked as soon as the task arrives and before a
	// worker is taken; past it the task is refused. Default 1 minute.
	ApproveTimeout time.Duration
	// TaskTTL is how long a task is held, waiting for partials or answering
	// retransmissions with its result; default 2 minutes.
	TaskTTL time.Duration
	// IllegalTTL is how long a refused task is kept as illegal ([0113]):
	// its partials are ignored and it is never combined; default 10 minutes.
	IllegalTTL time.Duration
	// ResultChannel is where signatures go: B3 to a separate output device
	// ([0095]), or B1 where the distributor is the output device ([0115]).
	// Default B3.
	ResultChannel Channel
	// Combine tunes the combination: auditing every partial
	// (combine.Options.Audit) and the operator's approval ([0093], [0113]).
	// nil: no audit, every request approved.
	Combine *combine.Options
	// AuditLate keeps auditing a signed task: partials that arrive after
	// the signature are checked (with the combiner's combine.Options.Audit,
	// which should then be set) and, when that names more inconsistent
	// calculators, an updated result with the same signature is sent.
	// It costs exponentiations, so it is off by default.
	AuditLate bool
	// Now is the clock for the TTLs; default time.Now.
	Now func() time.Time
	// Observer receives the node's per-task events (see [Observer]);
	// nil: none. It is called synchronously: a slow Observer slows the node.
	Observer Observer
	// Logger receives refusals and other events; default discards.
	Logger *slog.Logger
}

// CombinerStats counts what a [CombinerNode] did.
type CombinerStats struct {
	Tasks        uint64 `json:"tasks"`        // task packets received for this key (retransmissions included)
	Partials     uint64 `json:"partials"`     // partial results stored
	Ignored      uint64 `json:"ignored"`      // partials ignored: unknown share, wrong size, duplicate, late, illegal task
	Combines     uint64 `json:"combines"`     // calls to combine.Combiner.Combine
	Signed       uint64 `json:"signed"`       // tasks that produced a verified signature
	Illegal      uint64 `json:"illegal"`      // tasks refused and kept as illegal ([0113])
	Resent       uint64 `json:"resent"`       // results sent again for a retransmitted task
	Evicted      uint64 `json:"evicted"`      // incomplete tasks forgotten (TTL or MaxTasks)
	Inconsistent uint64 `json:"inconsistent"` // calculators named as inconsistent, summed over tasks
	Suspects     uint64 `json:"suspects"`     // calculators suspected but not proven wrong, summed over tasks
	OtherKey     uint64 `json:"other_key"`    // packets for another key id or epoch
	Malformed    uint64 `json:"malformed"`    // packets that did not decode
	Rejected     uint64 `json:"rejected"`     // packets that failed authentication
	OverBound    uint64 `json:"over_bound"`   // tasks refused because MaxTasks or a bound of bytes was reached
	Timeouts     uint64 `json:"timeouts"`     // tasks refused because the approval hook did not answer in time
	Announced    uint64 `json:"announced"`    // done announcements accepted from the task's distributor ([0115]-[0116])
	Skipped      uint64 `json:"skipped"`      // combinations not run because the task was already signed
	Bytes        int64  `json:"bytes"`        // bytes held now for tasks, against MaxBytes
	Held         int    `json:"held"`         // tasks held now
}

// CombinerNode is a secret share combiner on the bus ([0093], [0112]-[0115]).
//
// It takes each task's request from the task packet on B1 (the same bytes the
// calculators received) and the partial results from B2. Every partial names
// its task by distributor number, task number ([0112]) and the task packet's
// fingerprint, so partials are only ever combined for the exact request they
// were computed for. Combine re-checks the request itself and verifies the
// signature before it is sent ([0095]).
type CombinerNode struct {
	b     Broadcaster
	comb  *combine.Combiner
	auth  *auth
	meta  share.Meta
	size  int
	opts  CombinerOptions
	sub1  Subscription
	sub2  Subscription
	log   *slog.Logger
	now   func() time.Time
	sem   chan struct{}
	close sync.Once
	ran   atomic.Bool

	approve share.ApproveFunc // the operator's confirmation, asked before a worker is taken

	mu      sync.Mutex
	groups  map[groupKey]*group
	queues  [2]fifo[expiryEntry] // by TTL: TaskTTL, IllegalTTL; each in expiry order
	tasks   int                  // groups with their task packet
	early   map[int][]*group     // groups without a task packet, by the calculator that created them
	bytes   int64
	perDist map[uint32]int64
	events  []Event // waiting for the Observer until n.mu is released (unlock)
	passing bool    // a goroutine passes events on

	nTasks, nPartials, nIgnored, nCombines, nSigned, nIllegal, nResent, nEvicted, nInconsistent, nSuspects, nOtherKey, nMalformed, nRejected atomic.Uint64
	nOverBound, nTimeouts, nAnnounced, nSkipped                                                                                              atomic.Uint64
}

// groupKey names a task as the combiner groups it ([0112]).
type groupKey struct {
	taskKey
	fp [32]byte
}

type groupState uint8

const (
	waiting groupState = iota
	combining
	done
	illegal
)

type group struct {
	key      groupKey
	hdr      wire.Header
	req      *share.Request // nil until the task packet arrives
	expires  time.Time
	seq      uint64 // the latest expiry queue entry of the group
	state    groupState
	parts    []share.Partial
	have     map[grouping.Term]bool
	tried    int    // len(parts) at the last combination that failed
	result   []byte // the Result packet, once done
	size     int64  // bytes counted against the bounds
	creator  int    // the calculator whose partials created it, until the task arrives
	approved bool   // the approval hook said yes (or there is none)
	signed   bool   // its distributor announced the signature: nothing more to combine

	// Late auditing, once done (CombinerOptions.AuditLate).
	auditing     bool
	audited      int   // len(parts) at the last audit
	inconsistent []int // calculators named so far
	suspects     []int // calculators suspected at the last combination
}

// NewCombinerNode prepares combiner key for combining and subscribes it to
// B1 and B2 of b. Call Run to serve. opts may be nil.
//
// The node signs every result with key's node key and accepts only packets
// signed by a node of key's roster: key material without a node key listed
// in its roster is refused ([ErrNodeKey]).
func NewCombinerNode(b Broadcaster, key *share.CombinerKey, opts *CombinerOptions) (*CombinerNode, error) {
	if b == nil || key == nil {
		return nil, errors.New("broadcast: nil broadcaster or combiner key")
	}
	a, err := newAuth(key.NodeKey, key.Roster, share.RoleCombiner, key.Number)
	if err != nil {
		return nil, err
	}
	n := &CombinerNode{b: b, auth: a, meta: key.Meta, opts: valueOf(opts)}
	co := valueOf(n.opts.Combine)
	n.approve, co.Approve = co.Approve, nil // asked by the node, before a worker is taken
	if n.comb, err = combine.New(key, &co); err != nil {
		return nil, fmt.Errorf("broadcast: combiner %d: %w", key.Number, err)
	}
	n.size = (n.meta.PublicKey.N.BitLen() + 7) / 8
	orDefault(&n.opts.Workers, runtime.NumCPU())
	orDefault(&n.opts.MaxTasks, 8192)
	orDefault(&n.opts.TaskTTL, 2*time.Minute)
	orDefault(&n.opts.MaxBytes, 256<<20)
	orDefault(&n.opts.MaxBytesPerDistributor, 64<<20)
	orDefault(&n.opts.ApproveTimeout, time.Minute)
	orDefault(&n.opts.IllegalTTL, 10*time.Minute)
	if n.opts.ResultChannel == 0 {
		n.opts.ResultChannel = B3
	}
	if !n.opts.ResultChannel.Valid() {
		return nil, ErrChannel
	}
	n.now = orNow(n.opts.Now)
	n.log = orDiscard(n.opts.Logger).With("node", "combiner", "number", key.Number, "key", n.meta.KeyID)
	n.sem = make(chan struct{}, n.opts.Workers)
	n.groups = make(map[groupKey]*group)
	n.early = make(map[int][]*group)
	n.perDist = make(map[uint32]int64)
	if n.sub1, err = b.Subscribe(B1); err != nil {
		return nil, fmt.Errorf("broadcast: combiner %d: %w", key.Number, err)
	}
	if n.sub2, err = b.Subscribe(B2); err != nil {
		n.sub1.Close()
		return nil, fmt.Errorf("broadcast: combiner %d: %w", key.Number, err)
	}
	return n, nil
}

// Number returns the combiner number.
func (n *CombinerNode) Number() int { return n.comb.Number() }

// Stats returns the counters so far.
func (n *CombinerNode) Stats() CombinerStats {
	n.mu.Lock()
	bytes, held := n.bytes, len(n.groups)
	n.mu.Unlock()
	return CombinerStats{
		Tasks: n.nTasks.Load(), Partials: n.nPartials.Load(), Ignored: n.nIgnored.Load(),
		Combines: n.nCombines.Load(), Signed: n.nSigned.Load(), Illegal: n.nIllegal.Load(),
		Resent: n.nResent.Load(), Evicted: n.nEvicted.Load(), Inconsistent: n.nInconsistent.Load(), Suspects: n.nSuspects.Load(),
		OtherKey: n.nOtherKey.Load(), Malformed: n.nMalformed.Load(), Rejected: n.nRejected.Load(),
		OverBound: n.nOverBound.Load(), Timeouts: n.nTimeouts.Load(),
		Announced: n.nAnnounced.Load(), Skipped: n.nSkipped.Load(),
		Bytes: bytes, Held: held,
	}
}

// Close stops receiving; a running Run returns once its work has stopped.
func (n *CombinerNode) Close() error {
	n.close.Do(func() {
		n.sub1.Close()
		n.sub2.Close()
	})
	return nil
}

// Run serves until ctx ends or the node is closed, then waits for its
// goroutines and returns ctx's error (nil after Close). It may be called once.
func (n *CombinerNode) Run(ctx context.Context) error {
	return serve(ctx, &n.ran, "combiner", n.Close, nil, func(ctx context.Context, wg *sync.WaitGroup) error {
		c1, c2 := n.sub1.C(), n.sub2.C()
		for {
			var msg []byte
			ok, handle := false, n.handleTask
			select {
			case <-ctx.Done():
				return ctx.Err()
			case msg, ok = <-c1:
			case msg, ok = <-c2:
				handle = n.handlePartials
			}
			if !ok {
				return nil
			}
			handle(ctx, wg, msg)
		}
	})
}

// groupCost is what a group costs beyond its partials and content: the
// header, the stripped request, the bookkeeping.
const groupCost = 1024

// lookup returns the group of key, creating it for a task packet (creator
// 0) or for the partials of calculator creator. It returns nil when the
// group would exceed a bound. n.mu is held.
func (n *CombinerNode) lookup(key groupKey, hdr *wire.Header, creator int) *group {
	n.expire()
	if g, ok := n.groups[key]; ok {
		return g
	}
	if creator == 0 && n.tasks >= n.opts.MaxTasks {
		return nil
	}
	if creator > 0 {
		quota := max(1, n.opts.MaxTasks/(4*n.meta.K))
		if q := n.early[creator]; len(q) >= quota { // forget this calculator's oldest
			n.forget(q[0])
		}
	}
	if !n.fits(key.dist, groupCost) {
		return nil
	}
	g := &group{key: key, hdr: *hdr, expires: n.now().Add(n.opts.TaskTTL), have: make(map[grouping.Term]bool), creator: creator}
	n.groups[key] = g
	n.schedule(g, n.opts.TaskTTL, 0)
	if creator > 0 {
		n.early[creator] = append(n.early[creator], g)
	} else {
		n.tasks++
	}
	n.resize(g, groupCost)
	return g
}

// fits reports whether size more bytes for distributor dist stay within
// the bounds. n.mu is held.
func (n *CombinerNode) fits(dist uint32, size int64) bool {
	return n.bytes+size <= n.opts.MaxBytes && n.perDist[dist]+size <= n.opts.MaxBytesPerDistributor
}

// resize sets the bytes g counts against the bounds. n.mu is held.
func (n *CombinerNode) resize(g *group, size int64) {
	d := size - g.size
	g.size = size
	n.bytes += d
	if n.perDist[g.key.dist] += d; n.perDist[g.key.dist] <= 0 {
		delete(n.perDist, g.key.dist)
	}
}

// forget drops g and gives back what it held. n.mu is held.
func (n *CombinerNode) forget(g *group) {
	if n.groups[g.key] != g {
		return
	}
	if g.state == waiting || g.state == combining {
		n.nEvicted.Add(1)
	}
	delete(n.groups, g.key)
	n.resize(g, 0)
	n.dropEarly(g)
	if g.creator == 0 {
		n.tasks--
	}
}

// dropEarly removes g from its creator's queue of groups without a task
// packet. n.mu is held.
func (n *CombinerNode) dropEarly(g *group) {
	if g.creator == 0 {
		return
	}
	q := n.early[g.creator]
	if i := slices.Index(q, g); i >= 0 {
		q = slices.Delete(q, i, i+1)
	}
	if len(q) == 0 {
		delete(n.early, g.creator)
	} else {
		n.early[g.creator] = q
	}
}

// expiryEntry is a group in the order it expires: every entry of one
// queue has the same TTL. seq tells whether the group was scheduled again
// since.
type expiryEntry struct {
	g   *group
	seq uint64
}

// schedule sets g to expire after ttl, in queue q. n.mu is held.
func (n *CombinerNode) schedule(g *group, ttl time.Duration, q int) {
	g.seq++
	g.expires = n.now().Add(ttl)
	n.queues[q].push(expiryEntry{g, g.seq})
}

// expire forgets groups past their TTL. n.mu is held.
func (n *CombinerNode) expire() {
	now := n.now()
	for q := range n.queues {
		eq := &n.queues[q]
		for {
			e, ok := eq.front()
			if !ok {
				break
			}
			live := n.groups[e.g.key] == e.g && e.seq == e.g.seq
			if live && now.Before(e.g.expires) {
				break
			}
			if live {
				n.forget(e.g)
			}
			eq.pop()
		}
		eq.compact()
	}
}

func (n *CombinerNode) handleTask(ctx context.Context, wg *sync.WaitGroup, msg []byte) {
	task, body := n.auth.openTask(msg, &n.nRejected, &n.nMalformed, n.onDone)
	if task == nil {
		return // acknowledgements, results when B1 is the result channel, dones, refused packets
	}
	if task.KeyID != n.meta.KeyID || task.Epoch != n.meta.Epoch {
		n.nOtherKey.Add(1)
		return
	}
	n.nTasks.Add(1)
	key := groupKey{keyOf(&task.Header), wire.Fingerprint(body)}
	n.mu.Lock()
	defer n.unlock()
	g := n.lookup(key, &task.Header, 0)
	if g == nil || (g.req == nil && !n.adopt(g, len(task.Request.Content))) {
		n.nOverBound.Add(1)
		n.log.Warn("task refused: over the bound of tasks or bytes", "distributor", key.dist, "task", key.task)
		n.observe(&task.Header, Event{Kind: EventRefused, Request: &task.Request, Err: ErrOverBound})
		return
	}
	if g.req == nil {
		g.hdr = task.Header // the distributor's, not the one of the partials that came first
		n.accept(ctx, wg, g, &task.Request)
		return
	}
	if g.state == done { // a retransmission: the result may have been lost
		n.nResent.Add(1)
		n.publish(ctx, g.result)
	}
}

// onDone marks a task signed when its own distributor says so ([0115]-[0116]):
// the done is signed by the distributor of the task's number (auth.open) and
// names the same process (instance), task and request fingerprint. Another
// combiner answered it: a combination not yet started is skipped.
func (n *CombinerNode) onDone(d *wire.Done) {
	n.mu.Lock()
	defer n.mu.Unlock()
	g := n.groups[groupKey{keyOf(&d.Header), d.TaskHash}]
	if g == nil || g.signed {
		return
	}
	g.signed = true
	n.nAnnounced.Add(1)
}

// adopt turns a group created by partials into a task's group, when the
// task's content fits the bounds while it is checked. n.mu is held.
func (n *CombinerNode) adopt(g *group, content int) bool {
	if g.creator > 0 && n.tasks >= n.opts.MaxTasks {
		return false
	}
	if !n.fits(g.key.dist, int64(content)) {
		return false
	}
	if g.creator > 0 {
		n.dropEarly(g)
		g.creator = 0
		n.tasks++
	}
	n.resize(g, g.size+int64(content))
	return true
}

// accept checks a task's request, then asks for approval before any
// worker is taken, under the task's approval deadline ([0093], [0113]).
// Once checked and approved only the digest and encoding are kept. n.mu
// is held.
func (n *CombinerNode) accept(ctx context.Context, wg *sync.WaitGroup, g *group, req *share.Request) {
	full := *req
	stripped := full
	stripped.Content = nil
	g.req = &stripped
	n.observe(&g.hdr, Event{Kind: EventTaskSeen, Request: &full})
	if _, err := full.Encode(n.meta.PublicKey); err != nil {
		n.nIllegal.Add(1)
		n.log.Warn("task refused", "distributor", g.key.dist, "task", g.key.task, "reason", err)
		n.observe(&g.hdr, Event{Kind: EventRefused, Request: &full, Err: errorOf(reasonCode(err))})
		n.refuse(g)
		return
	}
	if n.approve == nil {
		n.observe(&g.hdr, Event{Kind: EventAccepted, Request: &full})
		n.approved(ctx, wg, g)
		return
	}
	wg.Go(func() {
		actx, cancel := context.WithTimeout(withTask(ctx, &g.hdr), n.opts.ApproveTimeout)
		actx, note := withNote(actx)
		start := time.Now()
		err := n.approve(actx, &full)
		wait := time.Since(start)
		timedOut := actx.Err() != nil
		cancel()
		if ctx.Err() != nil {
			return
		}
		n.mu.Lock()
		defer n.unlock()
		refusal := ErrApprovalTimeout
		if err != nil && !timedOut {
			r, detail := reasonOf(fmt.Errorf("%w: %w", share.ErrDeclined, err))
			refusal = refusalError(r, detail)
		}
		for _, e := range answerEvents(note, true, err, refusal, timedOut, wait) {
			e.Request = &full
			n.observe(&g.hdr, e)
		}
		if n.groups[g.key] != g || g.state != waiting {
			return
		}
		if err != nil {
			if timedOut {
				n.nTimeouts.Add(1)
			}
			n.nIllegal.Add(1)
			n.log.Warn("task declined", "distributor", g.key.dist, "task", g.key.task, "timeout", timedOut, "reason", err)
			n.refuse(g)
			return
		}
		n.approved(ctx, wg, g)
	})
}

// approved drops the content's bytes and combines when it can. n.mu is held.
func (n *CombinerNode) approved(ctx context.Context, wg *sync.WaitGroup, g *group) {
	g.approved = true
	n.resize(g, groupCost+int64(len(g.parts))*int64(n.size))
	n.maybeCombine(ctx, wg, g)
}

func (n *CombinerNode) handlePartials(ctx context.Context, wg *sync.WaitGroup, msg []byte) {
	p, _, err := n.auth.open(msg)
	if err != nil {
		countRejected(err, &n.nRejected, &n.nMalformed)
		return
	}
	ps, ok := p.(*wire.Partials)
	if !ok {
		n.nMalformed.Add(1)
		return
	}
	if ps.KeyID != n.meta.KeyID || ps.Epoch != n.meta.Epoch {
		n.nOtherKey.Add(1)
		return
	}
	j := ps.Calculator
	if j < 1 || j > n.meta.K || len(ps.Shares) == 0 {
		n.nIgnored.Add(uint64(max(1, len(ps.Shares))))
		return
	}
	key := groupKey{keyOf(&ps.Header), ps.TaskHash}
	n.mu.Lock()
	defer n.mu.Unlock()
	g := n.lookup(key, &ps.Header, j) // [0112]: same distributor, same task, same group
	if g == nil || g.state == illegal || (g.state == done && !n.opts.AuditLate) {
		n.nIgnored.Add(uint64(len(ps.Shares)))
		return
	}
	for _, s := range ps.Shares {
		x := grouping.Term{J: j, I: s.Index}
		// Unknown shares, wrong sizes and duplicates are not kept, so a
		// group never holds more than k·l values.
		if s.Index < 1 || s.Index > n.meta.L || len(s.Value) != n.size || g.have[x] || !n.fits(key.dist, int64(n.size)) {
			n.nIgnored.Add(1)
			continue
		}
		g.have[x] = true
		g.parts = append(g.parts, share.Partial{J: j, I: s.Index, Value: s.Value})
		n.resize(g, g.size+int64(n.size))
		n.nPartials.Add(1)
	}
	n.maybeCombine(ctx, wg, g)
	n.maybeAudit(ctx, wg, g)
}

// maybeCombine starts a combination when the group has its request, new
// partials since the last failure, and a stored representation they match
// ([0093], [0113]). n.mu is held.
func (n *CombinerNode) maybeCombine(ctx context.Context, wg *sync.WaitGroup, g *group) {
	if g.state != waiting || g.signed || g.req == nil || !g.approved || len(g.parts) <= g.tried {
		return
	}
	if _, ok := n.comb.Match(g.parts); !ok {
		return
	}
	g.state = combining
	parts := slices.Clone(g.parts)
	req := g.req
	wg.Go(func() { n.combine(ctx, wg, g, req, parts) })
}

// limitedCombine runs Combine on one of the Workers slots. ok is false when
// ctx ended first, or when g (nil for an audit) was signed while it waited
// for the slot.
func (n *CombinerNode) limitedCombine(ctx context.Context, g *group, req *share.Request, parts []share.Partial) (res *combine.Result, took time.Duration, ok bool, err error) {
	select {
	case n.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, false, nil
	}
	if g != nil && n.announced(g) {
		<-n.sem
		return nil, 0, false, nil
	}
	n.nCombines.Add(1)
	start := time.Now()
	res, err = n.comb.Combine(ctx, req, parts)
	took = time.Since(start)
	<-n.sem
	return res, took, ctx.Err() == nil, err
}

// announced reports whether g was signed: its combination is skipped, and
// the group waits until it expires.
func (n *CombinerNode) announced(g *group) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !g.signed {
		return false
	}
	n.nSkipped.Add(1)
	g.state = waiting
	return true
}

// combine runs on at most Workers goroutines at once.
func (n *CombinerNode) combine(ctx context.Context, wg *sync.WaitGroup, g *group, req *share.Request, parts []share.Partial) {
	res, took, ok, err := n.limitedCombine(ctx, g, req, parts)
	if !ok {
		return
	}
	if err == nil {
		// Observed before the result is published, as a calculator does
		// its partials, so that an audit log holds every signature that
		// left the node even when the node dies right after.
		n.observeSigned(&g.hdr, req, res, took)
	}
	n.mu.Lock()
	defer n.unlock()
	switch {
	case err == nil:
		b, merr := n.resultPacket(g, res.Signature, res.Rep, parts, res.Inconsistent, res.Suspects)
		if merr != nil {
			n.log.Error("encoding a result", "err", merr)
			g.state = illegal
			return
		}
		g.state, g.result = done, b
		g.audited, g.inconsistent, g.suspects = len(parts), res.Inconsistent, res.Suspects
		if !n.opts.AuditLate {
			g.parts, g.have = nil, nil
			n.resize(g, groupCost+int64(len(b)))
		}
		n.schedule(g, n.opts.TaskTTL, 0)
		n.nSigned.Add(1)
		n.nInconsistent.Add(uint64(len(res.Inconsistent)))
		n.nSuspects.Add(uint64(len(res.Suspects)))
		if len(res.Inconsistent) > 0 {
			n.log.Warn("inconsistent partials", "distributor", g.key.dist, "task", g.key.task, "calculators", res.Inconsistent)
		}
		// Publishing never blocks for long ([Broadcaster]), so it is done
		// under the lock, which orders it before any resend.
		n.publish(ctx, b) // [0095], [0115]
		n.maybeAudit(ctx, wg, g)
	case errors.Is(err, combine.ErrNoValidSignature), errors.Is(err, combine.ErrNoMatch), errors.Is(err, combine.ErrNotEnough):
		// Some partials are wrong, or not enough: wait for more ([0113]).
		g.state, g.tried = waiting, len(parts)
		n.maybeCombine(ctx, wg, g)
	default:
		// The request fails the combiner's own checks or its operator
		// declined: the task is kept as illegal for a while ([0113]).
		n.nIllegal.Add(1)
		n.log.Warn("task refused", "distributor", g.key.dist, "task", g.key.task, "reason", err)
		r, detail := reasonOf(err)
		n.observe(&g.hdr, Event{Kind: EventRefused, Request: req, Rule: detail, Err: refusalError(r, detail)})
		n.refuse(g)
	}
}

// refuse keeps g as illegal for IllegalTTL ([0113]). n.mu is held.
func (n *CombinerNode) refuse(g *group) {
	g.state, g.parts, g.have = illegal, nil, nil
	n.schedule(g, n.opts.IllegalTTL, 1)
	n.resize(g, groupCost)
}

// resultPacket encodes the result of g. n.mu is held.
func (n *CombinerNode) resultPacket(g *group, sig []byte, rep grouping.Rep, parts []share.Partial, inconsistent, suspects []int) ([]byte, error) {
	calcs := make(map[int]bool)
	for _, p := range parts {
		calcs[p.J] = true
	}
	b, _, err := n.auth.seal(&wire.Result{
		Header:       g.hdr,
		TaskHash:     g.key.fp,
		Combiner:     n.comb.Number(),
		Signature:    sig,
		Rep:          rep,
		Calculators:  mapkeys.Sorted(calcs),
		Inconsistent: inconsistent,
		Suspects:     suspects,
	})
	return b, err
}

// maybeAudit re-examines a signed task when partials arrived after its
// signature (CombinerOptions.AuditLate). n.mu is held.
func (n *CombinerNode) maybeAudit(ctx context.Context, wg *sync.WaitGroup, g *group) {
	if !n.opts.AuditLate || g.state != done || g.auditing || len(g.parts) <= g.audited {
		return
	}
	g.auditing = true
	parts := slices.Clone(g.parts)
	req := g.req
	wg.Go(func() { n.audit(ctx, wg, g, req, parts) })
}

func (n *CombinerNode) audit(ctx context.Context, wg *sync.WaitGroup, g *group, req *share.Request, parts []share.Partial) {
	res, _, ok, err := n.limitedCombine(ctx, nil, req, parts)
	if !ok {
		return
	}
	n.mu.Lock()
	defer n.unlock()
	g.auditing, g.audited = false, len(parts)
	if err == nil && g.state == done {
		merged := mergeSorted(g.inconsistent, res.Inconsistent)
		if len(merged) > len(g.inconsistent) || !slices.Equal(res.Suspects, g.suspects) {
			var suspects []int
			for _, j := range res.Suspects {
				if !slices.Contains(merged, j) {
					suspects = append(suspects, j)
				}
			}
			b, merr := n.resultPacket(g, res.Signature, res.Rep, parts, merged, suspects)
			if merr == nil {
				n.nInconsistent.Add(uint64(len(merged) - len(g.inconsistent)))
				n.nSuspects.Add(uint64(len(suspects)))
				n.log.Warn("inconsistent partials", "distributor", g.key.dist, "task", g.key.task, "calculators", merged)
				var found []int
				for _, j := range merged {
					if !slices.Contains(g.inconsistent, j) {
						found = append(found, j)
					}
				}
				n.observe(&g.hdr, Event{Kind: EventInconsistent, Request: req, Calculators: found})
				g.inconsistent, g.suspects, g.result = merged, res.Suspects, b
				n.publish(ctx, b)
			}
		}
	}
	n.maybeAudit(ctx, wg, g)
}

func (n *CombinerNode) publish(ctx context.Context, b []byte) {
	if err := n.b.Publish(ctx, n.opts.ResultChannel, b); err != nil && ctx.Err() == nil {
		n.log.Debug("publish failed", "err", err)
	}
}

// observe queues an event of task h for the Observer, if any, filling in
// the task's names and the time; unlock passes it on. n.mu is held.
func (n *CombinerNode) observe(h *wire.Header, e Event) {
	if n.opts.Observer == nil {
		return
	}
	e.Time, e.KeyID, e.Epoch, e.Distributor, e.Task = n.now(), h.KeyID, h.Epoch, h.Distributor, h.Task
	n.events = append(n.events, e)
}

// observeSigned passes a combination's events (inconsistent, matched,
// signed) to the Observer at once. n.mu is not held.
func (n *CombinerNode) observeSigned(h *wire.Header, req *share.Request, res *combine.Result, took time.Duration) {
	if n.opts.Observer == nil {
		return
	}
	fill := func(e Event) *Event {
		e.Time, e.KeyID, e.Epoch, e.Distributor, e.Task = n.now(), h.KeyID, h.Epoch, h.Distributor, h.Task
		return &e
	}
	if len(res.Inconsistent) > 0 {
		n.opts.Observer.Observe(fill(Event{Kind: EventInconsistent, Request: req, Calculators: slices.Clone(res.Inconsistent)}))
	}
	n.opts.Observer.Observe(fill(Event{Kind: EventMatched, Request: req, Rep: res.Rep, Calculators: res.Rep.Calculators()}))
	n.opts.Observer.Observe(fill(Event{Kind: EventSigned, Request: req, Rep: res.Rep, Signature: res.Signature, Duration: took}))
}

// unlock releases n.mu and passes the queued events to the Observer, never
// under the lock (an Observer may call the node, e.g. Stats). One
// goroutine at a time passes them, in the order they were queued.
func (n *CombinerNode) unlock() {
	if n.passing || len(n.events) == 0 {
		n.mu.Unlock()
		return
	}
	n.passing = true
	for len(n.events) > 0 {
		evs := n.events
		n.events = nil
		n.mu.Unlock()
		for i := range evs {
			n.opts.Observer.Observe(&evs[i])
		}
		n.mu.Lock()
	}
	n.passing = false
	n.mu.Unlock()
}
