package broadcast

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/emsa"
	"github.com/tolerantca/tolerant/internal/mapkeys"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// Errors of [Distributor.Sign]. A failed signing returns a *[SignError]
// that wraps one or more of them (test with errors.Is).
var (
	// ErrDeadline: the context ended before a verified signature arrived.
	// The error also wraps the context's error and, when it can tell, one
	// of ErrNotEnoughCalculators or ErrNoCombiner.
	ErrDeadline = errors.New("broadcast: no verified signature before the deadline")
	// ErrNotEnoughCalculators: fewer than t calculators acknowledged the task ([0109]).
	ErrNotEnoughCalculators = errors.New("broadcast: fewer than t calculators acknowledged the task")
	// ErrNoCombiner: at least t calculators acknowledged the task, but no
	// combiner sent a signature that verifies.
	ErrNoCombiner = errors.New("broadcast: no combiner produced a valid signature")
	// ErrRefused: so many calculators refused the task that fewer than t
	// can still compute it. The error also wraps the calculators' most
	// common reason (share.ErrDeclined, share.ErrContentMismatch, ...).
	ErrRefused = errors.New("broadcast: task refused by the calculators")
)

// SignError describes a signing that did not produce a signature.
type SignError struct {
	Task     uint64        // the task number
	Acks     []int         // calculators that accepted the task
	Refusals map[int]error // calculators that refused it, and why
	// BadResults counts results that failed verification with the public
	// key and were discarded ([0116]).
	BadResults int
	Elapsed    time.Duration
	errs       []error
}

func (e *SignError) Error() string {
	var b strings.Builder
	msgs := make([]string, len(e.errs))
	for n, err := range e.errs {
		msgs[n] = err.Error()
	}
	fmt.Fprintf(&b, "task %d: %s (acknowledged by %v", e.Task, strings.Join(msgs, ": "), e.Acks)
	if len(e.Refusals) > 0 {
		js := make([]int, 0, len(e.Refusals))
		for j := range e.Refusals {
			js = append(js, j)
		}
		slices.Sort(js)
		fmt.Fprintf(&b, ", refused by %v", js)
	}
	if e.BadResults > 0 {
		fmt.Fprintf(&b, ", %d bad results", e.BadResults)
	}
	fmt.Fprintf(&b, ", after %v)", e.Elapsed.Round(time.Millisecond))
	return b.String()
}

// Unwrap returns the sentinel errors and the cause.
func (e *SignError) Unwrap() []error { return e.errs }

// Outcome is a verified signature and how the cluster made it.
type Outcome struct {
	Signature []byte       // the signature, verified with the public key
	Combiner  int          // the combiner that sent it
	Rep       grouping.Rep // the representation it matched ([0093]); Rep.Calculators() are the calculators used
	// Calculators lists the calculators whose partials the combiner had
	// received when it combined, ascending.
	Calculators []int
	// Claimed lists, ascending, the calculators the combiners that answered
	// claim to have proven wrong: the claim of a combiner, which the
	// distributor cannot check beyond its plausibility.
	Claimed []int
	// Inconsistent lists, ascending, the calculators of Claimed that at
	// least DistributorOptions.BlameQuorum distinct combiners have named
	// so far: one lying combiner cannot put an honest calculator here.
	Inconsistent []int
	// Suspects lists, ascending, calculators the combiners suspect but
	// could not prove wrong.
	Suspects []int
	Elapsed  time.Duration // from the call to the verified signature
	Task     uint64        // the task number
	Acks     []int         // calculators that acknowledged the task so far, ascending
	// Transmissions counts how often the task was broadcast (1 + retransmissions).
	Transmissions int
	// BadResults counts results that failed verification and were discarded ([0116]).
	BadResults int
}

// DistributorOptions tune a [Distributor]. The zero value is usable. The
// distributor's number ([0099]), the epoch, k and the threshold t come from
// its key material, never from the nodes.
type DistributorOptions struct {
	// Retransmit is the first retransmission interval while fewer than t
	// calculators acknowledged; it doubles up to MaxRetransmit. Default 200ms.
	Retransmit time.Duration
	// ResultTimeout is how long to wait for a result once t calculators
	// said they sent all their partials, before retransmitting so that lost
	// partials and results are sent again; it doubles up to MaxRetransmit.
	// Default 1s. Between t acknowledgements and t "computed" ones (the
	// calculators are busy), the task is retransmitted every MaxRetransmit.
	ResultTimeout time.Duration
	// MaxRetransmit caps the retransmission interval; default 5s.
	MaxRetransmit time.Duration
	// ResultChannel is where the combiners send signatures: B3 (default)
	// or B1 when the distributor is the output device ([0115]).
	ResultChannel Channel
	// Rand supplies PSS salts when a request has no encoding yet; default
	// crypto/rand.Reader.
	Rand io.Reader
	// Observer receives the node's per-task events (see [Observer]);
	// nil: none. It is called synchronously: a slow Observer slows the node.
	Observer Observer
	// Logger receives warnings, e.g. a signature that does not verify
	// ([0116]); default discards.
	Logger *slog.Logger
	// Linger, when positive, keeps a call open that long after the first
	// verified signature, to merge the inconsistent calculators that other
	// combiners name; the task is retransmitted meanwhile (from Retransmit,
	// doubling), so that a lost result is sent again. A combiner can only name a liar when it holds a
	// representation that isolates the liar's partial, so the first
	// combiner to answer may not know. Default 0: return at once.
	Linger time.Duration
	// BlameQuorum is how many distinct combiners must have named a
	// calculator before the distributor names it ([Distributor.Inconsistent],
	// Outcome.Inconsistent). Default 2, so that one lying combiner frames
	// nobody; 1 believes every single combiner.
	BlameQuorum int
}

// DistributorStats counts what a [Distributor] did.
type DistributorStats struct {
	Tasks         uint64 `json:"tasks"`         // signing calls that broadcast a task
	Signed        uint64 `json:"signed"`        // verified signatures returned
	Failed        uint64 `json:"failed"`        // signing calls that failed
	Transmissions uint64 `json:"transmissions"` // task broadcasts, retransmissions included
	BadResults    uint64 `json:"bad_results"`   // results that failed verification ([0116])
	LateResults   uint64 `json:"late_results"`  // results for a finished or unknown task, or a duplicate
	Acks          uint64 `json:"acks"`          // acknowledgements received that accept
	Refusals      uint64 `json:"refusals"`      // acknowledgements received that refuse
	Malformed     uint64 `json:"malformed"`     // packets that did not decode
	Rejected      uint64 `json:"rejected"`      // packets that failed authentication
	// FalseShape counts acknowledgements claiming another k or t than the
	// distributor's key material: they are counted, never believed.
	FalseShape uint64 `json:"false_shape"`
	// FalseBlame counts blame lists from verified results that were not
	// plausible (a calculator the combiner had no partial of, more than
	// t-1 names, a number outside 1..k): they are dropped.
	FalseBlame uint64 `json:"false_blame"`
}

// Distributor is the online task distributor and the output device
// ([0047], [0051], [0106]-[0116]). It knows only the public key: it
// broadcasts tasks without naming calculators or combiners ([0036] point 5,
// [0054] point 1), and accepts a signature only after verifying it.
// It is safe for concurrent use; many tasks may be in flight at once ([0096]).
type Distributor struct {
	b      Broadcaster
	pub    *rsa.PublicKey
	keyID  string
	number uint32 // [0099]
	// instance is drawn at random when the distributor starts: with the
	// task's time in every header, it keeps the tasks of two processes
	// with the same number, or of a restart, apart ([0107]).
	instance uint64
	epoch    uint32
	k, t     int // from the key material only, never from a node
	auth     *auth
	opts     DistributorOptions
	log      *slog.Logger
	next     atomic.Uint64
	sub1     Subscription
	sub3     Subscription // nil when ResultChannel is B1
	stop     chan struct{}
	wg       sync.WaitGroup
	close    sync.Once

	mu     sync.Mutex
	calls  map[uint64]*call
	claims map[int]map[int]uint64 // calculator → combiner → times it named the calculator

	nTasks, nSigned, nFailed, nTx, nBad, nLate, nAcks, nRefusals, nMalformed, nRejected, nFalseShape, nFalseBlame atomic.Uint64
}

type call struct {
	fp        [32]byte
	em        []byte
	acks      map[int]bool // accepted or computed
	computed  map[int]bool
	refusals  map[int]wire.Reason
	details   map[int]string      // refusal details (policy rules)
	transient map[int]wire.Reason // busy or over bound: may accept a retransmission
	bad       int
	answers   map[string]bool // results taken: combiner and blame lists
	progress  chan struct{}   // signalled (non-blocking) on every acknowledgement
	result    chan *wire.Result
	refused   chan error
	finished  bool
}

// NewDistributor returns the distributor of key material key, and starts
// receiving on b. Close it when done. opts may be nil.
//
// It signs every task with key's node key and accepts only
// acknowledgements and results signed by nodes of key's roster: key
// material without a node key listed in its roster is refused
// ([ErrNodeKey]).
func NewDistributor(b Broadcaster, key *share.DistributorKey, opts *DistributorOptions) (*Distributor, error) {
	if b == nil || key == nil {
		return nil, errors.New("broadcast: nil broadcaster or distributor key")
	}
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("broadcast: distributor: %w", err)
	}
	if len(key.KeyID) > wire.MaxKeyID {
		return nil, fmt.Errorf("broadcast: key id of %d bytes", len(key.KeyID))
	}
	if key.NodeKey.Number < 1 || key.NodeKey.Number > share.MaxDistributors {
		return nil, fmt.Errorf("%w: distributor number %d", ErrNodeKey, key.NodeKey.Number)
	}
	a, err := newAuth(key.NodeKey, key.Roster, share.RoleDistributor, key.NodeKey.Number)
	if err != nil {
		return nil, err
	}
	d := &Distributor{
		b: b, pub: key.PublicKey, keyID: key.KeyID, number: uint32(key.NodeKey.Number), epoch: key.Epoch, k: key.K, t: key.T, auth: a,
		calls: make(map[uint64]*call), claims: make(map[int]map[int]uint64), stop: make(chan struct{}),
	}
	d.opts = valueOf(opts)
	o := &d.opts
	if o.Retransmit <= 0 {
		o.Retransmit = 200 * time.Millisecond
	}
	if o.ResultTimeout <= 0 {
		o.ResultTimeout = time.Second
	}
	if o.MaxRetransmit <= 0 {
		o.MaxRetransmit = 5 * time.Second
	}
	if o.ResultChannel == 0 {
		o.ResultChannel = B3
	}
	if o.ResultChannel != B1 && o.ResultChannel != B3 {
		return nil, fmt.Errorf("%w: results on %v", ErrChannel, o.ResultChannel)
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.BlameQuorum <= 0 {
		o.BlameQuorum = 2
	}
	var inst [8]byte
	if _, err := io.ReadFull(rand.Reader, inst[:]); err != nil {
		return nil, fmt.Errorf("broadcast: drawing the instance id: %w", err)
	}
	d.instance = binary.BigEndian.Uint64(inst[:])
	d.log = orDiscard(o.Logger).With("node", "distributor", "number", d.number, "key", d.keyID)
	// Task numbers count from the clock; with the instance id and the
	// task's time they stay unique across restarts and across processes
	// sharing a distributor number ([0107]).
	d.next.Store(uint64(time.Now().UnixNano()))
	if d.sub1, err = b.Subscribe(B1); err != nil {
		return nil, err
	}
	if o.ResultChannel == B3 {
		if d.sub3, err = b.Subscribe(B3); err != nil {
			d.sub1.Close()
			return nil, err
		}
	}
	d.wg.Go(d.receive)
	return d, nil
}

// Number returns the distributor number.
func (d *Distributor) Number() uint32 { return d.number }

// PublicKey returns the key signatures are verified with.
func (d *Distributor) PublicKey() *rsa.PublicKey { return d.pub }

// KeyID returns the key id written into every task.
func (d *Distributor) KeyID() string { return d.keyID }

// Stats returns the counters so far.
func (d *Distributor) Stats() DistributorStats {
	return DistributorStats{
		Tasks: d.nTasks.Load(), Signed: d.nSigned.Load(), Failed: d.nFailed.Load(),
		Transmissions: d.nTx.Load(), BadResults: d.nBad.Load(), LateResults: d.nLate.Load(),
		Acks: d.nAcks.Load(), Refusals: d.nRefusals.Load(), Malformed: d.nMalformed.Load(), Rejected: d.nRejected.Load(),
		FalseShape: d.nFalseShape.Load(), FalseBlame: d.nFalseBlame.Load(),
	}
}

// Inconsistent returns, for every calculator that at least
// DistributorOptions.BlameQuorum distinct combiners named inconsistent in
// verified results so far, how many times it was named.
func (d *Distributor) Inconsistent() map[int]uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[int]uint64)
	for j, by := range d.claims {
		if len(by) < d.opts.BlameQuorum {
			continue
		}
		for _, n := range by {
			out[j] += n
		}
	}
	return out
}

// Claims returns, for every calculator a combiner named inconsistent in a
// verified result so far, how many times each combiner named it. A claim
// is a combiner's word: see [Distributor.Inconsistent] for the names
// several combiners agree on.
func (d *Distributor) Claims() map[int]map[int]uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[int]map[int]uint64, len(d.claims))
	for j, by := range d.claims {
		out[j] = make(map[int]uint64, len(by))
		for c, n := range by {
			out[j][c] = n
		}
	}
	return out
}

// corroborated returns the calculators of claimed that enough combiners
// named. d.mu is held.
func (d *Distributor) corroborated(claimed []int) []int {
	var out []int
	for _, j := range claimed {
		if len(d.claims[j]) >= d.opts.BlameQuorum {
			out = append(out, j)
		}
	}
	return out
}

// Close stops receiving and waits for the receiver. Signing calls in flight
// end with ErrClosed.
func (d *Distributor) Close() error {
	d.close.Do(func() {
		close(d.stop)
		d.sub1.Close()
		if d.sub3 != nil {
			d.sub3.Close()
		}
	})
	d.wg.Wait()
	return nil
}

// Sign returns a verified signature for req. See [Distributor.SignDetailed].
func (d *Distributor) Sign(ctx context.Context, req *share.Request) ([]byte, error) {
	out, err := d.SignDetailed(ctx, req)
	if err != nil {
		return nil, err
	}
	return out.Signature, nil
}

// SignDetailed broadcasts req as a new task on B1 ([0106]-[0108]) and
// retransmits it until a combiner's signature verifies with the public key
// ([0116]) or ctx ends. A signature that does not verify takes the warning
// path: it is logged, counted, and never returned.
//
// req.KeyID may be empty (the distributor's key id is used). A PSS request
// without an encoding is encoded here with a fresh salt. The request is
// checked as the calculators will check it, and refused with the share
// errors before anything is sent. Failures after that are a *[SignError]
// wrapping ErrDeadline, ErrRefused or ErrClosed.
func (d *Distributor) SignDetailed(ctx context.Context, req *share.Request) (*Outcome, error) {
	start := time.Now()
	r, em, err := d.prepare(req)
	if err != nil {
		return nil, err
	}
	s, err := d.begin(ctx, start, r, em)
	if err != nil {
		return nil, err
	}
	defer s.end()
	return s.run()
}

// prepare checks req as the calculators will, fills in the distributor's
// key id, PSS-encodes a request without an encoding with a fresh salt, and
// returns the request with the value its signature must open to.
func (d *Distributor) prepare(req *share.Request) (share.Request, []byte, error) {
	if req == nil {
		return share.Request{}, nil, share.ErrUnsupported
	}
	r := *req
	if r.KeyID == "" {
		r.KeyID = d.keyID
	}
	if r.KeyID != d.keyID {
		return share.Request{}, nil, share.ErrWrongKey
	}
	if r.Scheme == share.PSS && len(r.Encoded) == 0 {
		if !emsa.SupportedHash(r.Hash) {
			return share.Request{}, nil, share.ErrUnsupportedHash
		}
		em, err := emsa.PSSEncode(d.opts.Rand, r.Hash, r.Digest, r.SaltLength, d.pub.N.BitLen())
		if err != nil {
			return share.Request{}, nil, fmt.Errorf("%w: %v", share.ErrPSSEncoding, err)
		}
		r.Encoded = em
	}
	em, err := r.Encode(d.pub) // the value the signature must open to
	if err != nil {
		return share.Request{}, nil, err
	}
	return r, em, nil
}

// Retransmission phases of a signing: quick until t calculators
// acknowledged ([0109]); slow while they compute; after t said they are
// done, ResultTimeout doubling, to recover lost partials and results.
const (
	phaseAcks = iota
	phaseComputing
	phaseResult
)

// signing is one call of [Distributor.SignDetailed]: its task, the call
// registered for the task's acknowledgements and results, and the
// retransmission state.
type signing struct {
	d      *Distributor
	ctx    context.Context
	start  time.Time
	number uint64 // the task number ([0107])
	hdr    wire.Header
	req    share.Request
	pkt    []byte // the sealed task
	c      *call

	transmissions int
	out           *Outcome         // the first verified signature; nil before
	linger        <-chan time.Time // nil until lingering
	phase         int
	interval      time.Duration
	timer         *time.Timer
}

// begin numbers and seals the task of r ([0107]) and registers its call so
// that acknowledgements and results reach it. The caller must call end.
func (d *Distributor) begin(ctx context.Context, start time.Time, r share.Request, em []byte) (*signing, error) {
	number := d.next.Add(1) // [0107]
	s := &signing{d: d, ctx: ctx, start: start, number: number, req: r}
	s.hdr = wire.Header{
		Distributor: d.number, Task: number, KeyID: d.keyID, Epoch: d.epoch,
		Time: time.Now().UnixNano(), Instance: d.instance,
	}
	pkt, body, err := d.auth.seal(&wire.Task{Header: s.hdr, Request: r})
	if err != nil {
		return nil, fmt.Errorf("broadcast: encoding the task: %w", err)
	}
	s.pkt = pkt
	s.c = &call{
		fp: wire.Fingerprint(body), em: em,
		acks: make(map[int]bool), computed: make(map[int]bool), refusals: make(map[int]wire.Reason),
		details: make(map[int]string), transient: make(map[int]wire.Reason), answers: make(map[string]bool),
		progress: make(chan struct{}, 1), result: make(chan *wire.Result, 8), refused: make(chan error, 1),
	}
	d.mu.Lock()
	d.calls[number] = s.c
	d.mu.Unlock()
	d.nTasks.Add(1)
	return s, nil
}

// end unregisters the call: later packets of the task count as late.
func (s *signing) end() {
	s.d.mu.Lock()
	delete(s.d.calls, s.number)
	s.c.finished = true
	s.d.mu.Unlock()
}

// run broadcasts the task ([0108]) and waits for a verified signature,
// retransmitting by phase, until the call succeeds or fails.
func (s *signing) run() (*Outcome, error) {
	d, c := s.d, s.c
	d.observe(&s.hdr, Event{Kind: EventSubmitted, Request: &s.req})
	s.send() // [0108]
	s.phase = phaseAcks
	s.interval = d.opts.Retransmit
	s.timer = time.NewTimer(s.interval)
	defer s.timer.Stop()
	for {
		select {
		case res := <-c.result:
			if s.onVerified(res) {
				return s.finish()
			}
		case <-s.linger:
			return s.finish()
		case err := <-c.refused:
			return s.fail(ErrRefused, err)
		case <-s.ctx.Done():
			return s.deadline()
		case <-d.stop:
			if s.out != nil {
				return s.finish()
			}
			return s.fail(ErrClosed)
		case <-c.progress:
			s.advance()
		case <-s.timer.C:
			// Also while lingering: a combiner answers a retransmission
			// by sending its result again ([0110]), so a lost result that
			// names a liar still arrives.
			s.send()
			s.interval = min(2*s.interval, d.opts.MaxRetransmit)
			s.timer.Reset(s.interval)
		}
	}
}

// send broadcasts the task on B1 once more.
func (s *signing) send() {
	s.transmissions++
	s.d.nTx.Add(1)
	if err := s.d.b.Publish(s.ctx, B1, s.pkt); err != nil && s.ctx.Err() == nil {
		s.d.log.Debug("publish failed", "task", s.number, "err", err)
	}
}

// onVerified takes a verified signature ([0116]): the first becomes the
// outcome, a later one (while lingering) adds what its combiner knows.
// It reports whether the call should finish now.
func (s *signing) onVerified(res *wire.Result) bool {
	s.d.observe(&s.hdr, Event{Kind: EventVerified, Request: &s.req, Combiner: res.Combiner, Signature: res.Signature})
	if s.out != nil { // lingering: merge what another combiner knows
		s.out.Claimed = mergeSorted(s.out.Claimed, res.Inconsistent)
		s.out.Suspects = mergeSorted(s.out.Suspects, res.Suspects)
		return false
	}
	s.out = &Outcome{
		Signature: res.Signature, Combiner: res.Combiner, Rep: res.Rep,
		Calculators: res.Calculators, Claimed: res.Inconsistent, Suspects: res.Suspects, Task: s.number,
	}
	if s.d.opts.Linger <= 0 {
		return true
	}
	s.interval = s.d.opts.Retransmit
	s.timer.Reset(s.interval)
	s.linger = time.After(s.d.opts.Linger)
	return false
}

// advance moves to a later retransmission phase when the acknowledgements
// allow it ([0109]), and restarts the timer with that phase's interval.
func (s *signing) advance() {
	d, c := s.d, s.c
	d.mu.Lock()
	next := phaseAcks
	switch {
	case len(c.computed) >= d.t:
		next = phaseResult
	case len(c.acks) >= d.t:
		next = phaseComputing
	}
	d.mu.Unlock()
	if next > s.phase && s.out == nil {
		s.phase = next
		s.interval = d.opts.ResultTimeout
		if s.phase == phaseComputing {
			s.interval = d.opts.MaxRetransmit
		}
		s.timer.Reset(s.interval)
	}
}

// deadline ends the call when ctx ended: with the signature if one
// verified, otherwise failing with why none came.
func (s *signing) deadline() (*Outcome, error) {
	if s.out != nil {
		return s.finish()
	}
	s.d.mu.Lock()
	n := len(s.c.acks)
	s.d.mu.Unlock()
	if n < s.d.t {
		return s.fail(ErrDeadline, ErrNotEnoughCalculators, s.ctx.Err())
	}
	return s.fail(ErrDeadline, ErrNoCombiner, s.ctx.Err())
}

// finish announces the verified signature ([0115]-[0116]), completes the
// outcome with the blame the combiners' claims corroborate, and releases it.
func (s *signing) finish() (*Outcome, error) {
	d, c, out := s.d, s.c, s.out
	d.nSigned.Add(1)
	d.announce(s.ctx, &s.hdr, c.fp)
	d.mu.Lock()
	out.Elapsed, out.Acks, out.Transmissions, out.BadResults = time.Since(s.start), mapkeys.Sorted(c.acks), s.transmissions, c.bad
	out.Inconsistent = d.corroborated(out.Claimed)
	var suspects []int
	for _, j := range mergeSorted(out.Suspects, out.Claimed) {
		if !slices.Contains(out.Inconsistent, j) {
			suspects = append(suspects, j)
		}
	}
	out.Suspects = suspects
	d.mu.Unlock()
	d.observe(&s.hdr, Event{
		Kind: EventReleased, Request: &s.req, Signature: out.Signature,
		Combiner: out.Combiner, Rep: out.Rep, Calculators: out.Calculators,
	})
	if r, ok := d.opts.Observer.(Recorder); ok {
		if err := r.Err(); err != nil {
			d.log.Error("signature withheld: its release could not be recorded", "task", s.number, "err", err)
			return nil, fmt.Errorf("%w: %w", ErrNotRecorded, err)
		}
	}
	return out, nil
}

// fail ends the call with a *[SignError] wrapping errs, with the
// calculators' refusals and why.
func (s *signing) fail(errs ...error) (*Outcome, error) {
	d, c := s.d, s.c
	d.nFailed.Add(1)
	d.mu.Lock()
	e := &SignError{Task: s.number, Acks: mapkeys.Sorted(c.acks), BadResults: c.bad, Elapsed: time.Since(s.start), errs: errs}
	if len(c.refusals)+len(c.transient) > 0 {
		e.Refusals = make(map[int]error, len(c.refusals)+len(c.transient))
		for j, r := range c.transient {
			e.Refusals[j] = errorOf(r)
		}
		for j, r := range c.refusals {
			e.Refusals[j] = refusalError(r, c.details[j])
		}
	}
	d.mu.Unlock()
	d.observe(&s.hdr, Event{Kind: EventFailed, Request: &s.req, Err: e})
	return nil, e
}

// announce tells the calculators and combiners on B1 that the task's
// signature verified ([0115]-[0116]), so that they stop working on it.
func (d *Distributor) announce(ctx context.Context, h *wire.Header, fp [32]byte) {
	b, _, err := d.auth.seal(&wire.Done{Header: *h, TaskHash: fp})
	if err != nil {
		d.log.Error("encoding a done announcement", "task", h.Task, "err", err)
		return
	}
	// The caller's ctx may have ended (a signature found at the deadline):
	// the announcement still goes out.
	if err := d.b.Publish(context.WithoutCancel(ctx), B1, b); err != nil {
		d.log.Debug("publish failed", "task", h.Task, "err", err)
	}
}

// receive dispatches acknowledgements and results to the signing calls.
func (d *Distributor) receive() {
	c1 := d.sub1.C()
	var c3 <-chan []byte
	if d.sub3 != nil {
		c3 = d.sub3.C()
	}
	for c1 != nil || c3 != nil {
		var msg []byte
		var ok bool
		select {
		case msg, ok = <-c1:
			if !ok {
				c1 = nil
				continue
			}
		case msg, ok = <-c3:
			if !ok {
				c3 = nil
				continue
			}
		}
		if typ, err := wire.PeekType(msg); err == nil && (typ == wire.TypeTask || typ == wire.TypeDone) {
			continue // our own tasks and announcements, or another distributor's
		}
		p, _, err := d.auth.open(msg)
		if err != nil {
			countRejected(err, &d.nRejected, &d.nMalformed)
			continue
		}
		switch p := p.(type) {
		case *wire.Ack:
			d.onAck(p)
		case *wire.Result:
			d.onResult(p)
		}
	}
}

// mine returns the call a packet belongs to, or nil. d.mu is held.
func (d *Distributor) mine(h *wire.Header, fp [32]byte) *call {
	if h.Distributor != d.number || h.Instance != d.instance || h.KeyID != d.keyID || h.Epoch != d.epoch {
		return nil
	}
	c := d.calls[h.Task]
	if c == nil || c.fp != fp || c.finished {
		return nil
	}
	return c
}

func (d *Distributor) onAck(a *wire.Ack) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.mine(&a.Header, a.TaskHash)
	if c == nil || a.Calculator < 1 || a.Calculator > d.k {
		return
	}
	// k and t come from the distributor's own key material: what a node
	// says about the cluster's shape is counted, never believed.
	if a.K != d.k || a.T != d.t {
		d.nFalseShape.Add(1)
	}
	if a.Status == wire.Accepted || a.Status == wire.Computed {
		d.nAcks.Add(1)
		delete(c.transient, a.Calculator)
		if _, refused := c.refusals[a.Calculator]; !refused {
			c.acks[a.Calculator] = true
			if a.Status == wire.Computed {
				c.computed[a.Calculator] = true
			}
		}
	} else {
		d.nRefusals.Add(1)
		if a.Reason == wire.ReasonBusy || a.Reason == wire.ReasonOverBound {
			if !c.acks[a.Calculator] {
				c.transient[a.Calculator] = a.Reason // it may accept a retransmission
			}
			return
		}
		delete(c.acks, a.Calculator)
		delete(c.computed, a.Calculator)
		c.refusals[a.Calculator] = a.Reason
		c.details[a.Calculator] = a.Detail
	}
	select {
	case c.progress <- struct{}{}:
	default:
	}
	if len(c.refusals) > d.k-d.t {
		select {
		case c.refused <- d.refusal(c):
		default:
		}
	}
}

// refusal returns the calculators' most common reason, with its detail
// when one calculator said which policy rule refused. d.mu is held.
func (d *Distributor) refusal(c *call) error {
	r := commonReason(c.refusals)
	for j, got := range c.refusals {
		if got == r && c.details[j] != "" {
			return refusalError(r, c.details[j])
		}
	}
	return errorOf(r)
}

// commonReason returns the most frequent refusal reason, the lowest on ties.
func commonReason(m map[int]wire.Reason) wire.Reason {
	count := make(map[wire.Reason]int)
	for _, r := range m {
		count[r]++
	}
	rs := make([]wire.Reason, 0, len(count))
	for r := range count {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(a, b int) bool {
		if count[rs[a]] != count[rs[b]] {
			return count[rs[a]] > count[rs[b]]
		}
		return rs[a] < rs[b]
	})
	return rs[0]
}

func (d *Distributor) onResult(r *wire.Result) {
	bad := false
	defer func() { // after the unlock below: the Observer is never called under d.mu
		if bad {
			d.observe(&r.Header, Event{Kind: EventVerified, Combiner: r.Combiner, Signature: r.Signature, Err: ErrBadSignature})
		}
	}()
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.mine(&r.Header, r.TaskHash)
	if c == nil {
		d.nLate.Add(1)
		return
	}
	// [0116]: the output device checks the signature with the public key.
	if bad = !d.verify(r.Signature, c.em); bad {
		c.bad++
		d.nBad.Add(1)
		d.log.Warn("signature does not verify: discarded", "task", r.Task, "combiner", r.Combiner)
		return
	}
	if !d.plausible(r) {
		d.nFalseBlame.Add(1)
		d.log.Warn("implausible blame list: dropped", "task", r.Task, "combiner", r.Combiner)
		r.Inconsistent, r.Suspects = nil, nil
	}
	// A combiner answers every retransmission with its result again, and
	// the transport may duplicate it: one answer counts once.
	answer := fmt.Sprint(r.Combiner, r.Inconsistent, r.Suspects)
	if c.answers[answer] {
		return
	}
	c.answers[answer] = true
	for _, j := range r.Inconsistent {
		if d.claims[j] == nil {
			d.claims[j] = make(map[int]uint64)
		}
		d.claims[j][r.Combiner]++
	}
	select {
	case c.result <- r:
	default:
		d.nLate.Add(1)
	}
}

// plausible reports whether a verified result's blame lists can be true:
// every name a calculator of 1..k whose partials the combiner had, at most
// t-1 proven wrong (more could have stopped signing), suspects apart.
func (d *Distributor) plausible(r *wire.Result) bool {
	if len(r.Inconsistent) > d.t-1 {
		return false
	}
	for _, j := range append(slices.Clone(r.Inconsistent), r.Suspects...) {
		if j < 1 || j > d.k || !slices.Contains(r.Calculators, j) {
			return false
		}
	}
	for _, j := range r.Inconsistent {
		if slices.Contains(r.Suspects, j) {
			return false
		}
	}
	return true
}

// mergeSorted returns the union of two ascending lists, ascending.
func mergeSorted(a, b []int) []int {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// verify checks S^e = M mod N, with M the encoding the distributor built.
func (d *Distributor) verify(sig, em []byte) bool { return emsa.Verify(d.pub, sig, em) }

// observe passes an event of task h to the Observer, if any, filling in
// the task's names and the time. The distributor holds no lock when it
// calls it.
func (d *Distributor) observe(h *wire.Header, e Event) {
	if d.opts.Observer == nil {
		return
	}
	e.Time, e.KeyID, e.Epoch, e.Distributor, e.Task = time.Now(), h.KeyID, h.Epoch, h.Distributor, h.Task
	d.opts.Observer.Observe(&e)
}
