package metrics

import (
	"context"
	"crypto/rsa"
	"errors"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/share"
)

// policyRule is implemented by policy refusals (share/policy.Refusal).
type policyRule interface{ PolicyRule() string }

type reason struct {
	err    error
	reason string
}

// signReasons are the errors of a failed signing ([broadcast.SignError]),
// most specific first: they wrap the calculators' reason (ErrRefused) or
// the context's error (ErrDeadline), which come second.
var signReasons = []reason{
	{broadcast.ErrNotEnoughCalculators, "not_enough_calculators"},
	{broadcast.ErrNoCombiner, "no_combiner"},
	{broadcast.ErrRefused, "refused"},
	{broadcast.ErrDeadline, "deadline"},
}

// reasons are the refusals of a node and the other errors of events; a
// policy refusal wraps share.ErrDeclined, so policy comes first.
var reasons = []reason{
	{broadcast.ErrPolicy, "policy"},
	{broadcast.ErrBusy, "busy"},
	{broadcast.ErrOverBound, "over_bound"},
	{broadcast.ErrTaskTime, "task_time"},
	{broadcast.ErrApprovalTimeout, "approval_timeout"},
	{broadcast.ErrWrongEpoch, "wrong_epoch"},
	{broadcast.ErrTaskConflict, "conflict"},
	{broadcast.ErrUnauthenticated, "unauthenticated"},
	{broadcast.ErrClosed, "closed"},
	{share.ErrWrongKey, "wrong_key"},
	{share.ErrUnsupportedHash, "unsupported_hash"},
	{share.ErrUnsupported, "unsupported"},
	{share.ErrDigestLength, "digest_length"},
	{share.ErrContentMismatch, "content_mismatch"},
	{share.ErrPSSEncoding, "pss_encoding"},
	{share.ErrTooLarge, "too_large"},
	{share.ErrDeclined, "declined"},
	{rsa.ErrVerification, "verification"},
	{context.DeadlineExceeded, "deadline"},
	{context.Canceled, "canceled"},
}

// Reason returns the reason label of err: "none" for nil, one of the
// fixed names listed in the package documentation, or "other". It never
// returns text taken from err, so that a label's values stay few and
// never carry what a peer chose.
func Reason(err error) string {
	if err == nil {
		return "none"
	}
	for _, r := range signReasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	var pr policyRule
	if errors.As(err, &pr) {
		return "policy"
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "other"
}
