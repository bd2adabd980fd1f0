package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// ErrWrongEpoch: a calculator holds key material of another epoch than the task's.
var ErrWrongEpoch = errors.New("broadcast: key material of another epoch")

// ErrTaskConflict: the task number was already used by the same distributor
// for another request, or is older than the calculators' replay window
// ([0107], [0110]).
var ErrTaskConflict = errors.New("broadcast: task number reused")

// ErrBusy: a calculator had too many tasks in progress.
var ErrBusy = errors.New("broadcast: calculator busy")

// ErrApprovalTimeout: a node's approval hook did not answer within the
// task's approval deadline.
var ErrApprovalTimeout = errors.New("broadcast: no approval within the deadline")

// ErrOverBound: a node holds as many task bytes as its bound allows, in
// total or for this distributor, and refuses new tasks until some finish.
var ErrOverBound = errors.New("broadcast: node over its bound of task bytes")

// ErrTaskTime: the task's time is outside the calculators' acceptance
// window ([0107]): the distributor's clock is off, or the task is a replay.
var ErrTaskTime = errors.New("broadcast: task time outside the acceptance window")

// ErrPolicy: a node's policy refused the request. The error names the rule.
var ErrPolicy = errors.New("broadcast: refused by policy")

// policyRule is implemented by policy refusals: the name of the rule that
// refused, safe to send and to log.
type policyRule interface{ PolicyRule() string }

var reasonErrors = []struct {
	r   wire.Reason
	err error
}{
	{wire.ReasonWrongKey, share.ErrWrongKey},
	{wire.ReasonWrongEpoch, ErrWrongEpoch},
	{wire.ReasonUnsupportedHash, share.ErrUnsupportedHash},
	{wire.ReasonUnsupported, share.ErrUnsupported},
	{wire.ReasonDigestLength, share.ErrDigestLength},
	{wire.ReasonContentMismatch, share.ErrContentMismatch},
	{wire.ReasonPSSEncoding, share.ErrPSSEncoding},
	{wire.ReasonTooLarge, share.ErrTooLarge},
	{wire.ReasonDeclined, share.ErrDeclined},
	{wire.ReasonConflict, ErrTaskConflict},
	{wire.ReasonStale, ErrTaskConflict},
	{wire.ReasonBusy, ErrBusy},
	{wire.ReasonApprovalTimeout, ErrApprovalTimeout},
	{wire.ReasonOverBound, ErrOverBound},
	{wire.ReasonTaskTime, ErrTaskTime},
	{wire.ReasonPolicy, ErrPolicy},
}

// reasonOf maps a node's refusal to its wire code and detail: the policy
// rule's name for a policy refusal, else empty.
func reasonOf(err error) (wire.Reason, string) {
	var pr policyRule
	if errors.As(err, &pr) {
		return wire.ReasonPolicy, safeDetail(pr.PolicyRule())
	}
	return reasonCode(err), ""
}

// safeDetail keeps the printable ASCII of s, at most wire.MaxDetail bytes.
func safeDetail(s string) string {
	out := make([]byte, 0, min(len(s), wire.MaxDetail))
	for i := 0; i < len(s) && len(out) < wire.MaxDetail; i++ {
		if s[i] >= 0x20 && s[i] <= 0x7e {
			out = append(out, s[i])
		}
	}
	return string(out)
}

// reasonCode maps an error to its wire code.
func reasonCode(err error) wire.Reason {
	for _, re := range reasonErrors {
		if errors.Is(err, re.err) {
			return re.r
		}
	}
	return wire.ReasonOther
}

// refusalError maps a refusal and its detail back to an error.
func refusalError(r wire.Reason, detail string) error {
	if detail != "" {
		return fmt.Errorf("%w: %q", errorOf(r), detail)
	}
	return errorOf(r)
}

// errorOf maps a wire refusal code back to an error.
func errorOf(r wire.Reason) error {
	for _, re := range reasonErrors {
		if re.r == r {
			return re.err
		}
	}
	return errRefusedOther
}

var errRefusedOther = errors.New("broadcast: refused for another reason")

// taskKey names a task: distributor number, the distributor process's
// instance and task number ([0096], [0107]).
type taskKey struct {
	dist     uint32
	instance uint64
	task     uint64
}

// source names the tasks of one distributor process, for the floors.
type source struct {
	dist     uint32
	instance uint64
}

func keyOf(h *wire.Header) taskKey { return taskKey{h.Distributor, h.Instance, h.Task} }

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// valueOf returns *p, or the zero value for a nil p: the options of a
// nil *Options.
func valueOf[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// orDefault sets *v to def when it is zero or negative: the default of an
// option.
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

func orNow(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// TaskInfo is what a node's approval hook may learn about a task beyond
// its request ([0092], [0113]): which distributor sent it, and when.
type TaskInfo struct {
	Distributor uint32    // the distributor number ([0099])
	Task        uint64    // the task number ([0107])
	Time        time.Time // when the distributor created the task
}

type taskInfoKey struct{}

// TaskFrom returns the task an approval hook is asked about, when the hook
// runs in a node of this package.
func TaskFrom(ctx context.Context) (TaskInfo, bool) {
	ti, ok := ctx.Value(taskInfoKey{}).(TaskInfo)
	return ti, ok
}

// WithTask returns ctx carrying ti, as the nodes of this package give it
// to their approval hooks.
func WithTask(ctx context.Context, ti TaskInfo) context.Context {
	return context.WithValue(ctx, taskInfoKey{}, ti)
}

// withTask returns ctx carrying h's TaskInfo for the approval hook.
func withTask(ctx context.Context, h *wire.Header) context.Context {
	return WithTask(ctx, TaskInfo{Distributor: h.Distributor, Task: h.Task, Time: time.Unix(0, h.Time)})
}
