// Package audit writes and verifies the append-only audit log of a node of
// a signing cluster: one file of JSON lines per node (calculator, combiner
// or task distributor, the patent's [0041]-[0042] and [0099]), fsynced
// after every entry, each line holding the SHA-256 of the line before it.
//
// A node opens its log with [OpenWriter] and calls [Writer.Append] with an
// [Event] for every step of every task: seen, accepted or refused by the
// policy, approved or declined by an operator, partial sent ([0109]),
// representation matched ([0093]), signature produced ([0111]), signature
// verified and released ([0116]). [VerifyFiles] checks the chain of every
// file and cross-checks the logs of several nodes against each other: every
// signature a distributor released must show in the logs of t calculators
// and of the combiner that produced it.
//
// # What is detected
//
// An edited, inserted, deleted or reordered line breaks the chain at that
// line or the next: every line names the sequence number and the hash of its
// predecessor. A log whose last lines were cut off is still a valid, shorter
// chain; it is detected only against an anchor: a [Head] (sequence number and
// hash) the node reported earlier, e.g. on its health endpoint, checked with
// [VerifyFiles]'s heads, or by the cross-check, when another node's log names
// a task the truncated log must show (a release without t calculators'
// partials, a combiner's signature the distributor's log never submitted).
// The same holds for the last line edited, and for a log rewritten from an
// edited line on with every hash recomputed: the chain alone proves only
// that the file is one writer's consistent sequence; anchors (heads kept
// elsewhere) and the other nodes' logs prove it is the sequence written.
// Nothing detects a rewrite by someone who can also rewrite every anchor
// and every other node's log.
//
// # No secrets
//
// An [Event] has no field that can hold key material: no byte slices, no
// big integers, no maps or interfaces; hashes are checked to be 64 hex
// digits, free text (rule, reason, approver, certificate subject) is
// bounded and printable. Content and signatures are logged only as their
// SHA-256.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tolerantca/tolerant/grouping"
)

// Kind names what happened in an [Event].
type Kind string

// The kinds of events. A calculator logs task_seen, then accepted or
// refused, approved or declined (with operator approval), then
// partial_sent; a combiner logs task_seen, accepted or refused, approved
// or declined, matched, inconsistent (when it proved a calculator wrong)
// and signed; a distributor logs submitted, verified and released or
// failed.
const (
	KindTaskSeen     Kind = "task_seen"    // a task arrived ([0108])
	KindAccepted     Kind = "accepted"     // the policy accepted it (Rule)
	KindRefused      Kind = "refused"      // the policy refused it (Rule, Reason)
	KindApproved     Kind = "approved"     // an operator approved it (Approver)
	KindDeclined     Kind = "declined"     // an operator declined it (Approver, Reason)
	KindPartialSent  Kind = "partial_sent" // a calculator sent its partials ([0109])
	KindMatched      Kind = "matched"      // a combiner matched a representation ([0093]) (Rep)
	KindInconsistent Kind = "inconsistent" // a combiner proved the partials of Calculators wrong
	KindSigned       Kind = "signed"       // a combiner produced a signature ([0111]) (SignatureSHA256)
	KindSubmitted    Kind = "submitted"    // a distributor broadcast a task ([0107])
	KindVerified     Kind = "verified"     // a distributor verified a result ([0116]) (Result)
	KindReleased     Kind = "released"     // a distributor released a verified signature (SignatureSHA256)
	KindFailed       Kind = "failed"       // a task ended without a signature (Reason)
)

var kinds = map[Kind]bool{
	KindTaskSeen: true, KindAccepted: true, KindRefused: true, KindApproved: true,
	KindDeclined: true, KindPartialSent: true, KindMatched: true, KindInconsistent: true, KindSigned: true,
	KindSubmitted: true, KindVerified: true, KindReleased: true, KindFailed: true,
}

// Role is the role of the node that writes a log.
type Role string

// The roles of nodes.
const (
	RoleCalculator  Role = "calculator"
	RoleCombiner    Role = "combiner"
	RoleDistributor Role = "distributor"
)

// Result is the outcome of a signature verification.
type Result string

// The results of a verification.
const (
	ResultOK      Result = "ok"      // the signature verified with the public key
	ResultInvalid Result = "invalid" // it did not, and was discarded ([0116])
)

// Term is one term of a representation: share I of calculator J
// ([0043]).
type Term struct {
	J int `json:"j"`
	I int `json:"i"`
}

// Cert is what the log keeps of a certificate being signed, from
// [CertFields]: public data only.
type Cert struct {
	Subject   string    `json:"subject"`
	Serial    string    `json:"serial"` // hexadecimal, lower case
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
}

// Event is one audit log entry. The node fills in what it knows; the
// [Writer] stamps Time when it is zero. No field can hold a secret (see the
// package documentation).
type Event struct {
	Kind        Kind      `json:"kind"`
	Time        time.Time `json:"time"`
	KeyID       string    `json:"key_id"`
	Epoch       uint32    `json:"epoch"`
	Distributor uint32    `json:"distributor"` // the task distributor's number ([0099])
	Task        uint64    `json:"task"`        // the task number ([0107])
	// ContentSHA256 is the hex SHA-256 of the content signed (the TBS
	// certificate, or the message), see [ContentSHA256].
	ContentSHA256 string `json:"content_sha256,omitempty"`
	Cert          *Cert  `json:"cert,omitempty"`     // when the content is a certificate
	Rule          string `json:"rule,omitempty"`     // the policy rule that accepted or refused the task
	Reason        string `json:"reason,omitempty"`   // why it was refused, declined or failed
	Approver      string `json:"approver,omitempty"` // the operator who approved or declined
	Rep           []Term `json:"rep,omitempty"`      // the representation matched or used
	// Calculators are the calculators whose partials were used, ascending.
	Calculators []int `json:"calculators,omitempty"`
	Combiner    int   `json:"combiner,omitempty"` // the combiner that produced the signature
	// SignatureSHA256 is the hex SHA-256 of the signature produced,
	// verified or released.
	SignatureSHA256 string `json:"signature_sha256,omitempty"`
	Result          Result `json:"result,omitempty"` // of a verification
}

// KeyInfo names a key a node serves and the threshold t of its cluster.
type KeyInfo struct {
	KeyID string `json:"key_id"`
	Epoch uint32 `json:"epoch"`
	T     int    `json:"t"`
}

// Header is the first line of a log, written again at every reopening: the
// node that writes it and the keys it serves.
type Header struct {
	Format int       `json:"format"` // [Format]; set by the Writer
	Role   Role      `json:"role"`
	Number int       `json:"number"` // calculator j, combiner a, or distributor number
	Keys   []KeyInfo `json:"keys"`
}

// Format is the version of the log format.
const Format = 1

// Genesis is the prev of a log's first line.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Limits on what an entry may hold.
const (
	MaxText = 256  // bytes of Rule, Reason, Approver and KeyID
	MaxName = 1024 // bytes of a certificate's Subject and Serial
	MaxList = 4096 // terms of Rep, numbers of Calculators, keys of a Header
	MaxLine = 1 << 20
)

// Errors of the package.
var (
	ErrInvalid   = errors.New("audit: invalid entry")
	ErrBroken    = errors.New("audit: broken log")
	ErrOtherNode = errors.New("audit: log of another node")
	ErrLocked    = errors.New("audit: log in use by another process")
	ErrClosed    = errors.New("audit: writer closed")
	ErrProblems  = errors.New("audit: the logs do not verify") // for callers turning a failed [Report] into an error
)

// ContentSHA256 returns the hex SHA-256 of b, for [Event.ContentSHA256]
// and [Event.SignatureSHA256].
func ContentSHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// validate checks an event's fields: a known kind, hashes of 64 hex digits,
// bounded printable text.
func (e *Event) validate() error {
	if !kinds[e.Kind] {
		return invalid("unknown kind %q", e.Kind)
	}
	if err := checkText("key_id", e.KeyID, MaxText); err != nil {
		return err
	}
	if err := checkHash("content_sha256", e.ContentSHA256); err != nil {
		return err
	}
	if err := checkHash("signature_sha256", e.SignatureSHA256); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"rule", e.Rule}, {"reason", e.Reason}, {"approver", e.Approver}} {
		if err := checkText(f.name, f.v, MaxText); err != nil {
			return err
		}
	}
	if e.Result != "" && e.Result != ResultOK && e.Result != ResultInvalid {
		return invalid("unknown result %q", e.Result)
	}
	if len(e.Rep) > MaxList || len(e.Calculators) > MaxList {
		return invalid("list too long")
	}
	if e.Cert != nil {
		if err := checkText("cert subject", e.Cert.Subject, MaxName); err != nil {
			return err
		}
		if err := checkText("cert serial", e.Cert.Serial, MaxName); err != nil {
			return err
		}
	}
	return nil
}

// validate checks a header.
func (h *Header) validate() error {
	switch {
	case h.Format != Format:
		return invalid("format %d", h.Format)
	case h.Role != RoleCalculator && h.Role != RoleCombiner && h.Role != RoleDistributor:
		return invalid("unknown role %q", h.Role)
	case h.Number < 1:
		return invalid("node number %d", h.Number)
	case len(h.Keys) > MaxList:
		return invalid("too many keys")
	}
	for _, k := range h.Keys {
		if err := checkText("key_id", k.KeyID, MaxText); err != nil {
			return err
		}
		if k.T < 1 {
			return invalid("key %q: threshold %d", k.KeyID, k.T)
		}
	}
	return nil
}

func checkHash(name, s string) error {
	if s == "" {
		return nil
	}
	if len(s) != 2*sha256.Size {
		return invalid("%s is not a SHA-256", name)
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return invalid("%s is not lower-case hex", name)
		}
	}
	return nil
}

func checkText(name, s string, limit int) error {
	if len(s) > limit {
		return invalid("%s longer than %d bytes", name, limit)
	}
	if !utf8.ValidString(s) {
		return invalid("%s is not UTF-8", name)
	}
	for _, r := range s {
		if !isPrint(r) {
			return invalid("%s holds a non-printable character", name)
		}
	}
	return nil
}

func isPrint(r rune) bool { return unicode.IsPrint(r) }

// RepOf returns the terms of representation r, for [Event.Rep].
func RepOf(r grouping.Rep) []Term {
	if len(r) == 0 {
		return nil
	}
	out := make([]Term, len(r))
	for i, x := range r {
		out[i] = Term{J: x.J, I: x.I}
	}
	return out
}
