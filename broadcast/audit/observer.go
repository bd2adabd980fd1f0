package audit

import (
	"crypto"
	"encoding/hex"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/share"
)

// Observer writes one node's events to its audit log: it is the
// broadcast.Observer of a calculator, combiner or distributor
// (CalculatorOptions.Observer and the like), one per node and log.
//
// Observe appends each event and fsyncs it before it returns
// ([Writer.Append]); see broadcast.Observer for when each node calls it
// (a calculator before it sends the partial). A failed append never stops or slows the node, and is
// never silent: [Observer.Err] returns the first failure and
// [Observer.Failures] counts them, for the node's health endpoint. After a
// write failure every later append fails too (the chain's state is
// unknown): reopen the log, or start a new file, to go on.
//
// Events without an audit kind are not logged: broadcast.EventDropped (a
// share not computed, so no secret used). An entry's ContentSHA256 and
// Cert come from the event's request when it has one, else from an
// earlier event of the same task that had one (the latest [MaxTasks]
// tasks are remembered): the calculators' partials and the combiners' signatures
// are logged with the content they are for.
type Observer struct {
	w        *Writer
	failures atomic.Uint64

	mu    sync.Mutex
	err   error
	tasks map[taskKey]content
	order []taskKey // ring of the tasks in tasks, oldest at next
	next  int
}

// MaxTasks is how many tasks an [Observer] remembers the content of.
const MaxTasks = 1 << 14

// content is what an entry names of a task's request.
type content struct {
	sha  string
	cert *Cert
}

// NewObserver returns the Observer that appends every event of the node to
// w. w's header must name the node (role and number) that the Observer is
// given to: a calculator's partial_sent entries name the term (j, i) with
// j the header's number. With a nil w every append fails ([ErrClosed]).
func NewObserver(w *Writer) *Observer {
	return &Observer{w: w, tasks: make(map[taskKey]content)}
}

// An Observer is a broadcast.Recorder: a distributor whose log failed
// withholds its signatures (broadcast.ErrNotRecorded).
var _ broadcast.Recorder = (*Observer)(nil)

// Observe appends the entry of e to the log (see [EventOf]).
func (o *Observer) Observe(e *broadcast.Event) {
	ae, ok := entryOf(e)
	if !ok {
		return
	}
	if o.w == nil {
		o.fail(ErrClosed)
		return
	}
	if ae.Kind == KindPartialSent {
		ae.Rep = []Term{{J: o.w.hdr.Number, I: e.Share}}
	}
	c := o.content(keyOf(&ae), e.Request)
	ae.ContentSHA256, ae.Cert = c.sha, c.cert
	if err := o.w.Append(ae); err != nil {
		o.fail(err)
	}
}

func (o *Observer) fail(err error) {
	o.failures.Add(1)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil {
		o.err = err
	}
}

// Err returns the first append that failed, or nil.
func (o *Observer) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// Failures counts the events that could not be appended.
func (o *Observer) Failures() uint64 { return o.failures.Load() }

// content returns what to name of task k's request r (nil: the event has
// none): r's content, remembered for the task's later events, or what was
// remembered when r has no content and says no more, or nothing.
func (o *Observer) content(k taskKey, r *share.Request) content {
	var sha string
	if r != nil {
		sha, _ = requestSHA256(r)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	old, known := o.tasks[k]
	switch {
	case r == nil, known && old.sha == sha, known && sha == "":
		return old
	}
	c := content{sha: sha}
	if r.Content != nil {
		c.cert, _ = CertFields(r.Content)
	}
	if known && r.Content == nil {
		return c // a digest-only request for a task number seen with content
	}
	if !known {
		if len(o.order) < MaxTasks {
			o.order = append(o.order, k)
		} else {
			delete(o.tasks, o.order[o.next])
			o.order[o.next] = k
			o.next = (o.next + 1) % MaxTasks
		}
	}
	o.tasks[k] = c
	return c
}

var kindOf = map[broadcast.EventKind]Kind{
	broadcast.EventTaskSeen:     KindTaskSeen,
	broadcast.EventAccepted:     KindAccepted,
	broadcast.EventRefused:      KindRefused,
	broadcast.EventApproved:     KindApproved,
	broadcast.EventDeclined:     KindDeclined,
	broadcast.EventPartialSent:  KindPartialSent,
	broadcast.EventMatched:      KindMatched,
	broadcast.EventInconsistent: KindInconsistent,
	broadcast.EventSigned:       KindSigned,
	broadcast.EventSubmitted:    KindSubmitted,
	broadcast.EventVerified:     KindVerified,
	broadcast.EventReleased:     KindReleased,
	broadcast.EventFailed:       KindFailed,
}

// EventOf returns the audit entry of a node's event, and false for a kind
// that is not logged (broadcast.EventDropped). Text is cut to the bounds
// of an entry: Rule, Approver, and Reason, which is the message of e.Err
// (the nodes give errors that name the sentinel and at most a policy
// rule, never content). ContentSHA256 is the SHA-256 of the request's
// content or, for a digest-only request, its digest when that is a
// SHA-256; Cert is set when the content is a certificate or TBSCertificate
// ([CertFields]). A partial_sent entry's Rep is left to the caller (it
// needs the calculator's number).
func EventOf(e *broadcast.Event) (Event, bool) {
	ae, ok := entryOf(e)
	if ok && e.Request != nil {
		var content bool
		if ae.ContentSHA256, content = requestSHA256(e.Request); content {
			ae.Cert, _ = CertFields(e.Request.Content)
		}
	}
	return ae, ok
}

// entryOf is EventOf without the request's content.
func entryOf(e *broadcast.Event) (Event, bool) {
	kind, ok := kindOf[e.Kind]
	if !ok {
		return Event{}, false
	}
	ae := Event{
		Kind: kind, Time: e.Time, KeyID: clip(e.KeyID, MaxText), Epoch: e.Epoch,
		Distributor: e.Distributor, Task: e.Task,
		Rule: clip(e.Rule, MaxText), Approver: clip(e.Approver, MaxText),
		Rep: RepOf(e.Rep), Calculators: slices.Clone(e.Calculators), Combiner: e.Combiner,
	}
	if len(ae.Calculators) > MaxList {
		ae.Calculators = ae.Calculators[:MaxList]
	}
	if len(ae.Rep) > MaxList {
		ae.Rep = ae.Rep[:MaxList]
	}
	if e.Err != nil {
		ae.Reason = clip(e.Err.Error(), MaxText)
	}
	if len(e.Signature) > 0 {
		ae.SignatureSHA256 = ContentSHA256(e.Signature)
	}
	if kind == KindVerified {
		ae.Result = ResultOK
		if e.Err != nil {
			ae.Result = ResultInvalid
		}
	}
	return ae, true
}

// requestSHA256 returns the hex SHA-256 of r's content, and true, or of a
// digest-only request's digest when it is a SHA-256, or "".
func requestSHA256(r *share.Request) (string, bool) {
	if r.Content != nil {
		return ContentSHA256(r.Content), true
	}
	if r.Hash == crypto.SHA256 && len(r.Digest) == crypto.SHA256.Size() {
		return hex.EncodeToString(r.Digest), false
	}
	return "", false
}
