package broadcast

import (
	"errors"
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
}

// reasonOf maps a calculator's refusal to its wire code.
func reasonOf(err error) wire.Reason {
	for _, re := range reasonErrors {
		if errors.Is(err, re.err) {
			return re.r
		}
	}
	return wire.ReasonOther
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

// taskKey names a task: distributor number and task number ([0096]).
type taskKey struct {
	dist uint32
	task uint64
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func orNow(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}
