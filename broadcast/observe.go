package broadcast

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
)

// Observer receives a node's per-task events, so that audit logs, metrics
// and logs need no wire decoding. A node calls Observe from its own
// goroutines, possibly from several at once, and waits for it: an Observer
// must be safe for concurrent use and should be quick (an audit log's
// fsync is about the slowest thing it should do). An Event and what it
// points to must not be modified or kept past the call, except by copying.
// A node never holds its own locks while it calls Observe, so an Observer
// may call the node (its Stats, say). A calculator and a distributor call
// it before they act on the event (a partial is observed before it is
// sent, a signature before it is returned); a combiner just after.
//
// No event holds a secret: requests are public (the content to be signed,
// its digest and encoding), as are partial results, representations and
// signatures, none of which an Event carries except the final signature.
type Observer interface {
	Observe(*Event)
}

// EventKind names what happened in an Event.
type EventKind uint8

// The events of a task, in the order a node sees them. Which node emits
// which is noted; every event has the task's KeyID, Epoch, Distributor
// and Task.
const (
	// EventTaskSeen: a calculator or combiner received a task for the
	// first time ([0108]); retransmissions are not events. Request is set.
	EventTaskSeen EventKind = iota + 1
	// EventAccepted: the node's checks and policy accepted the request
	// (Rule names the policy rule, when a policy is set).
	EventAccepted
	// EventRefused: the node refused the task; Err says why (ErrPolicy,
	// ErrBusy, share.ErrContentMismatch, ...) and Rule names the policy
	// rule for a policy refusal. A task refused before the node remembers
	// it (another epoch, outside the time window, busy, over a bound, a
	// task number reused) has no EventTaskSeen; Request is then set.
	EventRefused
	// EventApproved: the operator's approval hook approved the request
	// ([0092], [0110]); Approver names who, Wait is how long it took.
	EventApproved
	// EventDeclined: the approval hook declined, or did not answer in
	// time (Err is then ErrApprovalTimeout); Approver, Wait as above.
	EventDeclined
	// EventPartialSent: a calculator published its partial result for
	// share Share ([0109]); Duration is the exponentiation's time.
	EventPartialSent
	// EventDropped: a calculator did not compute share Share of a task
	// already signed (a done announcement, [0115]-[0116]).
	EventDropped
	// EventMatched: a combiner matched representation Rep with the
	// partials of Calculators ([0093]).
	EventMatched
	// EventInconsistent: a combiner proved the partials of Calculators
	// inconsistent with its representations.
	EventInconsistent
	// EventSigned: a combiner produced a signature that verifies under
	// the public key ([0111]); Signature and Rep are set, Duration is the
	// time of the combination (the second sub-key's exponentiation
	// included).
	EventSigned
	// EventSubmitted: a distributor broadcast a new task ([0107]);
	// Request is set.
	EventSubmitted
	// EventVerified: a distributor checked a combiner's result with the
	// public key ([0116]); Err is nil when it verifies, else
	// ErrBadSignature. Combiner and Signature are set.
	EventVerified
	// EventReleased: a distributor released a verified signature:
	// Signature, Combiner, Rep and Calculators are set.
	EventReleased
	// EventFailed: a distributor's task ended without a signature; Err
	// says why (a *SignError, a context error).
	EventFailed
)

var eventNames = [...]string{
	EventTaskSeen:     "task_seen",
	EventAccepted:     "accepted",
	EventRefused:      "refused",
	EventApproved:     "approved",
	EventDeclined:     "declined",
	EventPartialSent:  "partial_sent",
	EventDropped:      "dropped",
	EventMatched:      "matched",
	EventInconsistent: "inconsistent",
	EventSigned:       "signed",
	EventSubmitted:    "submitted",
	EventVerified:     "verified",
	EventReleased:     "released",
	EventFailed:       "failed",
}

// String returns the kind's snake_case name, e.g. "partial_sent".
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "unknown"
}

// Event is one step of one task at one node. Fields a kind does not use
// are zero.
type Event struct {
	Kind        EventKind
	Time        time.Time // when it happened, by the node's clock
	KeyID       string    // the key id ([0124])
	Epoch       uint32    // the epoch of the key material
	Distributor uint32    // the task distributor's number ([0099])
	Task        uint64    // the task number ([0107])

	// Request is the request to be signed (public: content, digest,
	// hash, encoding), when the event is about one.
	Request *share.Request
	// Rule is the policy rule that accepted or refused the request.
	Rule string
	// Approver names the operator or program that approved or declined.
	Approver string
	// Err says why a task was refused, declined or failed, or why a
	// result did not verify.
	Err error

	Share       int           // the share index i of a partial ([0043])
	Rep         grouping.Rep  // the representation matched or used
	Calculators []int         // calculators whose partials were used or are inconsistent, ascending
	Combiner    int           // the combiner that produced the signature
	Signature   []byte        // the signature produced or released
	Duration    time.Duration // of the exponentiation or combination
	Wait        time.Duration // of the approval
}

// ErrBadSignature is the Err of an EventVerified whose signature does not
// verify with the public key ([0116]): the result was discarded.
var ErrBadSignature = errors.New("broadcast: signature does not verify")

// Observers returns an Observer that passes every event to each of obs in
// turn, skipping nil ones; nil when none is left.
func Observers(obs ...Observer) Observer {
	var list multiObserver
	for _, o := range obs {
		if o != nil {
			list = append(list, o)
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return list
}

type multiObserver []Observer

func (m multiObserver) Observe(e *Event) {
	for _, o := range m {
		o.Observe(e)
	}
}

// Err joins the failures of those of m that are Recorders.
func (m multiObserver) Err() error {
	var errs []error
	for _, o := range m {
		if r, ok := o.(Recorder); ok {
			errs = append(errs, r.Err())
		}
	}
	return errors.Join(errs...)
}

// A Recorder is an Observer that can fail to record an event, such as an
// audit log (package broadcast/audit). A [Distributor] whose Observer is a
// Recorder that has failed releases no signature: a CA's signature never
// leaves without its record ([ErrNotRecorded]). Observers of several
// Recorders is a Recorder of them all.
type Recorder interface {
	Observer
	// Err returns the first failure to record, nil while every event
	// was recorded.
	Err() error
}

// ErrNotRecorded is returned by a [Distributor] whose Recorder failed: the
// signature was made and verified but is withheld, because its release
// could not be recorded.
var ErrNotRecorded = errors.New("broadcast: the signature's release could not be recorded: withheld")

// NoteApproval lets an approval hook (share.ApproveFunc) running in a node
// of this package tell the node's [Observer] which policy rule accepted the
// request and who approved or declined it ([0092], [0113]); an empty
// argument leaves what was noted before. Both are public text, shown in
// events and audit logs: never pass a secret or the content. Outside a
// node's hook it does nothing.
//
// What the hook noted decides the events of its answer: a hook that named
// an approver, or noted nothing at all, is an operator's confirmation
// (EventApproved or EventDeclined follow EventAccepted or EventRefused);
// a hook that only named a rule is a policy (EventAccepted or
// EventRefused alone).
func NoteApproval(ctx context.Context, rule, approver string) {
	n, ok := ctx.Value(noteKey{}).(*approvalNote)
	if !ok {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if rule != "" {
		n.rule = safeDetail(rule)
	}
	if approver != "" {
		n.approver = safeDetail(approver)
	}
}

type noteKey struct{}

// approvalNote is what an approval hook noted with NoteApproval. The hook
// may still run after its deadline, hence the lock.
type approvalNote struct {
	mu             sync.Mutex
	rule, approver string
}

// withNote returns ctx carrying a new note for the approval hook.
func withNote(ctx context.Context) (context.Context, *approvalNote) {
	n := &approvalNote{}
	return context.WithValue(ctx, noteKey{}, n), n
}

// approvalEvents returns the events of an approval hook's answer err (nil:
// yes), given the note it left and whether it timed out, with their Rule,
// Approver and Err; refusal is the error to report for a no. A node with
// no hook reports EventAccepted alone.
func (n *approvalNote) events(err, refusal error, timedOut bool) []Event {
	n.mu.Lock()
	rule, approver := n.rule, n.approver
	n.mu.Unlock()
	var pr policyRule
	isPolicy := errors.As(err, &pr)
	if isPolicy {
		rule = safeDetail(pr.PolicyRule())
	}
	operator := approver != "" || rule == "" || timedOut
	switch {
	case err == nil && !operator:
		return []Event{{Kind: EventAccepted, Rule: rule}}
	case err == nil:
		return []Event{{Kind: EventAccepted, Rule: rule}, {Kind: EventApproved, Approver: approver}}
	case timedOut:
		return []Event{{Kind: EventDeclined, Approver: approver, Err: ErrApprovalTimeout}}
	case isPolicy && approver == "":
		return []Event{{Kind: EventRefused, Rule: rule, Err: refusal}}
	}
	return []Event{{Kind: EventDeclined, Rule: rule, Approver: approver, Err: refusal}}
}

// answerEvents returns the events of a node's answer to a request: err
// from its checks or, when asked, from its approval hook (whose note and
// Wait then count), refusal the error to report for a no.
func answerEvents(note *approvalNote, asked bool, err, refusal error, timedOut bool, wait time.Duration) []Event {
	if !asked {
		if err != nil {
			return []Event{{Kind: EventRefused, Err: refusal}}
		}
		return []Event{{Kind: EventAccepted}}
	}
	evs := note.events(err, refusal, timedOut)
	for i := range evs {
		if evs[i].Kind == EventApproved || evs[i].Kind == EventDeclined {
			evs[i].Wait = wait
		}
	}
	return evs
}
