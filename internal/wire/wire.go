// Package wire is the one binary encoding of the packets that travel on the
// broadcast channels B1, B2 and B3 ([0091]-[0116]).
//
// Every packet starts with a version byte ([Version]) and a type byte
// ([Type]), followed by the fields of that type in a fixed order:
// fixed-width big-endian integers, byte strings prefixed with their length
// (uint32), lists prefixed with their count (uint16). Every packet carries
// the task distributor number and the task number, so that nodes can tell
// tasks apart and run many at once ([0096]), the key id (the patent's
// enterprise code, [0124]) and the epoch of the key material.
//
// Decoding is strict and never panics: every length is bounded before
// anything is allocated (content at most [share.MaxContentSize], values at
// most [MaxValueSize], lists at most [MaxList] entries), unknown versions,
// types and flag values are refused, and trailing bytes are an error. As a
// consequence the encoding is canonical: for every b that [Unmarshal]
// accepts, [Marshal] of the result returns b again. Nodes rely on that to
// fingerprint a task by the SHA-256 of its bytes ([Fingerprint]).
//
// Authentication wraps these bytes in a [Signed] packet: the sender's role
// and number, the packet, and the sender's Ed25519 signature over
// [SignedMessage]. The packets themselves do not change for it.
package wire

import (
	"crypto"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
)

// Version is the encoding version written in the first byte of every packet.
const Version = 2

// Limits enforced by [Marshal] and [Unmarshal].
const (
	// MaxKeyID is the longest key id, in bytes.
	MaxKeyID = 64
	// MaxDigest is the longest digest, in bytes (SHA-512).
	MaxDigest = 64
	// MaxValueSize bounds a PSS encoding, a partial value and a signature:
	// the modulus size of the largest supported key.
	MaxValueSize = share.MaxKeyBits / 8
	// MaxList bounds every list: shares in a Partials packet, terms of a
	// representation, calculator numbers.
	MaxList = 256
	// MaxDetail is the longest refusal detail of an acknowledgement, in bytes.
	MaxDetail = 128
	// MaxPacketSize bounds a whole packet: content plus every other field.
	MaxPacketSize = share.MaxContentSize + 1<<16
)

// Type is the packet type, the second byte of every packet.
type Type uint8

// Packet types.
const (
	// TypeTask is a signing task, distributor → calculators on B1 ([0108]).
	TypeTask Type = 1
	// TypeAck is a calculator's acknowledgement of a task on B1 ([0109]).
	TypeAck Type = 2
	// TypePartials carries partial results, calculator → combiners on B2 ([0111]).
	TypePartials Type = 3
	// TypeResult carries a signature, combiner → output device on B3 ([0095], [0115]).
	TypeResult Type = 4
	// TypeSigned wraps one of the packets above with its sender's Ed25519
	// signature (RFC 8032 section 5.1; see [Signed]).
	TypeSigned Type = 5
	// TypeDone announces that a task's signature verified, output device
	// (distributor) → calculators and combiners on B1 ([0115]-[0116]).
	TypeDone Type = 6
)

// String names the packet type.
func (t Type) String() string {
	switch t {
	case TypeTask:
		return "task"
	case TypeAck:
		return "ack"
	case TypePartials:
		return "partials"
	case TypeResult:
		return "result"
	case TypeSigned:
		return "signed"
	case TypeDone:
		return "done"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Errors. Decoding errors wrap ErrMalformed.
var (
	// ErrMalformed: the bytes are not a packet of this version.
	ErrMalformed = errors.New("wire: malformed packet")
	// ErrVersion: the packet has another version.
	ErrVersion = errors.New("wire: unsupported packet version")
	// ErrTooLarge: a field or the packet exceeds its limit.
	ErrTooLarge = errors.New("wire: field too large")
	// ErrRange: an integer field does not fit its wire width.
	ErrRange = errors.New("wire: integer out of range")
)

// Packet is one of *Task, *Ack, *Partials, *Result, *Done or *Signed.
type Packet interface {
	// Type returns the packet type.
	Type() Type
	encode(e *encoder)
	decode(d *decoder)
}

// Header is what every packet carries to name its task ([0096], [0124]).
type Header struct {
	Distributor uint32 // task distributor number ([0099])
	Task        uint64 // task number, unique per distributor ([0107])
	KeyID       string // key id, the patent's enterprise code ([0124])
	Epoch       uint32 // epoch of the key material
	// Time is when the distributor created the task, in Unix nanoseconds:
	// calculators accept a task only within a bounded window around
	// their clock, so that it is unique in a preset duration ([0107]).
	Time int64
	// Instance is a random number the distributor process drew at start:
	// two processes with the same distributor number, or one process and
	// its restart, number their tasks independently ([0107], [0110]).
	Instance uint64
}

// Task is a signing task ([0108]): the header and the request. Its
// fingerprint ([Fingerprint] of its bytes) binds every later packet of the
// task to exactly this request. Request.KeyID must equal Header.KeyID and is
// not encoded twice.
type Task struct {
	Header
	Request share.Request
}

// AckStatus says whether a calculator accepted a task.
type AckStatus uint8

// Acknowledgement statuses.
const (
	// Accepted: the task was received and will be (or was) computed ([0109]).
	Accepted AckStatus = 1
	// Refused: the calculator will not compute the task; Reason says why.
	Refused AckStatus = 2
	// Computed: the calculator has sent all of its partials for the task.
	// The distributor retransmits only to recover lost packets once t
	// calculators said so.
	Computed AckStatus = 3
)

// Reason is why a calculator refused a task.
type Reason uint8

// Refusal reasons. They map to the errors of package share.
const (
	ReasonNone            Reason = 0  // accepted
	ReasonOther           Reason = 1  // any other error
	ReasonWrongKey        Reason = 2  // share.ErrWrongKey
	ReasonWrongEpoch      Reason = 3  // key material of another epoch
	ReasonUnsupportedHash Reason = 4  // share.ErrUnsupportedHash
	ReasonUnsupported     Reason = 5  // share.ErrUnsupported
	ReasonDigestLength    Reason = 6  // share.ErrDigestLength
	ReasonContentMismatch Reason = 7  // share.ErrContentMismatch
	ReasonPSSEncoding     Reason = 8  // share.ErrPSSEncoding
	ReasonTooLarge        Reason = 9  // share.ErrTooLarge
	ReasonDeclined        Reason = 10 // share.ErrDeclined: the approval hook said no
	ReasonConflict        Reason = 11 // the task number was already used for another request
	ReasonBusy            Reason = 12 // too many tasks in progress: retransmit later
	ReasonStale           Reason = 13 // the task number is older than the calculator's replay window ([0107])
	ReasonApprovalTimeout Reason = 14 // the approval hook did not answer within the task's deadline
	ReasonOverBound       Reason = 15 // the node holds its bound of task bytes: retransmit later
	ReasonTaskTime        Reason = 16 // the task's time is outside the calculator's acceptance window ([0107])
	ReasonPolicy          Reason = 17 // the node's policy refused the request; Detail names the rule
	maxReason             Reason = 17
)

// Ack is a calculator's acknowledgement of a task ([0109]). K and T come from
// the calculator's key material; they are informational: a distributor
// takes k and t from its own key material and only counts a mismatch.
type Ack struct {
	Header
	TaskHash   [32]byte // fingerprint of the task acknowledged
	Calculator int      // calculator number j
	K, T       int
	Status     AckStatus
	Reason     Reason // ReasonNone when accepted
	// Detail says more about a refusal, e.g. the name of the policy rule
	// that refused: at most MaxDetail printable ASCII bytes, never a secret.
	Detail string
}

// Share is one partial result M^{d_ji} of a Partials packet.
type Share struct {
	Index int    // share number i inside the calculator
	Value []byte // M^{d_ji} mod N, the modulus size
}

// Partials carries one or more partial results of one calculator for one
// task ([0092], [0111]). A calculator sends each as soon as it is ready.
type Partials struct {
	Header
	TaskHash   [32]byte // fingerprint of the task computed
	Calculator int      // calculator number j
	Shares     []Share
}

// Result carries a combiner's signature ([0095], [0115]) and what it knows
// about how it was made.
type Result struct {
	Header
	TaskHash    [32]byte // fingerprint of the task signed
	Combiner    int      // combiner number
	Signature   []byte
	Rep         grouping.Rep // the representation that produced Signature
	Calculators []int        // calculators whose partials the combiner had, ascending
	// Inconsistent lists the calculators whose partials the combiner proved
	// wrong, ascending.
	Inconsistent []int
	// Suspects lists calculators the combiner suspects but cannot prove
	// wrong, ascending.
	Suspects []int
}

// Done is the output device's announcement that the signature of a task
// verified with the public key ([0115]-[0116]): calculators drop the
// partials of it not yet computed, combiners skip it.
type Done struct {
	Header
	TaskHash [32]byte // fingerprint of the task signed
}

// Type implements Packet.
func (*Task) Type() Type { return TypeTask }

// Type implements Packet.
func (*Done) Type() Type { return TypeDone }

// Type implements Packet.
func (*Ack) Type() Type { return TypeAck }

// Type implements Packet.
func (*Partials) Type() Type { return TypePartials }

// Type implements Packet.
func (*Result) Type() Type { return TypeResult }

// Fingerprint returns the SHA-256 of a packet's bytes. For a task it names
// exactly one request; encoding is canonical, so a retransmission has the
// same fingerprint.
func Fingerprint(b []byte) [32]byte { return sha256.Sum256(b) }

// Marshal encodes p. It fails when a field exceeds its limit or an integer
// does not fit its wire width.
func Marshal(p Packet) ([]byte, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: nil packet", ErrMalformed)
	}
	e := &encoder{buf: make([]byte, 0, 256)}
	e.u8(Version)
	e.u8(uint8(p.Type()))
	p.encode(e)
	if e.err != nil {
		return nil, e.err
	}
	limit := MaxPacketSize
	if p.Type() == TypeSigned {
		limit += signedOverhead
	}
	if len(e.buf) > limit {
		return nil, fmt.Errorf("%w: packet of %d bytes", ErrTooLarge, len(e.buf))
	}
	return e.buf, nil
}

// Unmarshal decodes one packet. It never panics, whatever b holds.
func Unmarshal(b []byte) (Packet, error) {
	if len(b) > MaxPacketSize+signedOverhead {
		return nil, fmt.Errorf("%w: %w: packet of %d bytes", ErrMalformed, ErrTooLarge, len(b))
	}
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	if b[0] != Version {
		return nil, fmt.Errorf("%w: %w %d", ErrMalformed, ErrVersion, b[0])
	}
	var p Packet
	switch Type(b[1]) {
	case TypeTask:
		p = new(Task)
	case TypeAck:
		p = new(Ack)
	case TypePartials:
		p = new(Partials)
	case TypeResult:
		p = new(Result)
	case TypeSigned:
		p = new(Signed)
	case TypeDone:
		p = new(Done)
	default:
		return nil, fmt.Errorf("%w: unknown type %d", ErrMalformed, b[1])
	}
	d := &decoder{buf: b[2:]}
	p.decode(d)
	if d.err == nil && len(d.buf) != 0 {
		d.fail("%d trailing bytes", len(d.buf))
	}
	if d.err != nil {
		return nil, d.err
	}
	return p, nil
}

// PeekType returns the type of a packet without decoding it; for a Signed
// packet, the type of the packet it carries. It is a hint for skipping
// packets cheaply, not a check.
func PeekType(b []byte) (Type, error) {
	if len(b) < 2 || b[0] != Version {
		return 0, ErrMalformed
	}
	if Type(b[1]) == TypeSigned {
		const inner = 2 + 1 + 2 + 4 // version, type, role, number, body length
		if len(b) < inner+2 || b[inner] != Version {
			return 0, ErrMalformed
		}
		return Type(b[inner+1]), nil
	}
	return Type(b[1]), nil
}

// ---- encoder ----

type encoder struct {
	buf []byte
	err error
}

func (e *encoder) fail(err error, format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("%w: "+format, append([]any{err}, args...)...)
	}
}

func (e *encoder) u8(v uint8)   { e.buf = append(e.buf, v) }
func (e *encoder) u16(v uint16) { e.buf = binary.BigEndian.AppendUint16(e.buf, v) }
func (e *encoder) u32(v uint32) { e.buf = binary.BigEndian.AppendUint32(e.buf, v) }
func (e *encoder) u64(v uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }

// small writes a non-negative int that must fit in 16 bits.
func (e *encoder) small(what string, v int) {
	if v < 0 || v > math.MaxUint16 {
		e.fail(ErrRange, "%s %d", what, v)
		return
	}
	e.u16(uint16(v))
}

func (e *encoder) bytes(what string, b []byte, limit int) {
	if len(b) > limit {
		e.fail(ErrTooLarge, "%s of %d bytes (max %d)", what, len(b), limit)
		return
	}
	e.u32(uint32(len(b)))
	e.buf = append(e.buf, b...)
}

func (e *encoder) count(what string, n int) {
	if n > MaxList {
		e.fail(ErrTooLarge, "%d %s (max %d)", n, what, MaxList)
		return
	}
	e.u16(uint16(n))
}

func (e *encoder) ints(what string, v []int) {
	e.count(what, len(v))
	for _, x := range v {
		e.small(what, x)
	}
}

func (e *encoder) header(h *Header) {
	e.u32(h.Distributor)
	e.u64(h.Task)
	if len(h.KeyID) > MaxKeyID {
		e.fail(ErrTooLarge, "key id of %d bytes", len(h.KeyID))
		return
	}
	e.u8(uint8(len(h.KeyID)))
	e.buf = append(e.buf, h.KeyID...)
	e.u32(h.Epoch)
	e.u64(uint64(h.Time))
	e.u64(h.Instance)
}

// ---- decoder ----

type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	d.buf = nil
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf) {
		d.fail("truncated")
		return nil
	}
	out := d.buf[:n:n]
	d.buf = d.buf[n:]
	return out
}

func (d *decoder) u8() uint8 {
	b := d.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *decoder) u16() uint16 {
	b := d.take(2)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint16(b)
}

func (d *decoder) u32() uint32 {
	b := d.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (d *decoder) u64() uint64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// bytes reads a length-prefixed byte string of at most limit bytes. An empty
// string decodes as nil unless keepEmpty. The result is a fresh copy.
func (d *decoder) bytes(what string, limit int, keepEmpty bool) []byte {
	n := d.u32()
	if d.err != nil {
		return nil
	}
	if uint64(n) > uint64(limit) {
		d.fail("%s of %d bytes (max %d)", what, n, limit)
		return nil
	}
	b := d.take(int(n))
	if d.err != nil {
		return nil
	}
	if len(b) == 0 && !keepEmpty {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

func (d *decoder) count(what string) int {
	n := int(d.u16())
	if n > MaxList {
		d.fail("%d %s (max %d)", n, what, MaxList)
		return 0
	}
	return n
}

func (d *decoder) ints(what string) []int {
	n := d.count(what)
	if d.err != nil || n == 0 {
		return nil
	}
	// Each entry takes 2 bytes: refuse a count the buffer cannot hold
	// before allocating.
	if 2*n > len(d.buf) {
		d.fail("truncated %s", what)
		return nil
	}
	out := make([]int, n)
	for k := range out {
		out[k] = int(d.u16())
	}
	return out
}

func (d *decoder) hash32() (h [32]byte) {
	copy(h[:], d.take(32))
	return h
}

func (d *decoder) header(h *Header) {
	h.Distributor = d.u32()
	h.Task = d.u64()
	n := int(d.u8())
	if n > MaxKeyID {
		d.fail("key id of %d bytes", n)
		return
	}
	h.KeyID = string(d.take(n))
	h.Epoch = d.u32()
	h.Time = int64(d.u64())
	h.Instance = d.u64()
}

// ---- packets ----

const (
	flagContent = 1 << 0 // Task: the request carries content (possibly empty)
	taskFlags   = flagContent
)

func (t *Task) encode(e *encoder) {
	r := &t.Request
	if r.KeyID != t.KeyID {
		e.fail(ErrMalformed, "request key id %q differs from header key id %q", r.KeyID, t.KeyID)
		return
	}
	e.header(&t.Header)
	if r.Hash > math.MaxUint8 {
		e.fail(ErrRange, "hash %d", uint(r.Hash))
		return
	}
	e.u8(uint8(r.Hash))
	e.u8(uint8(r.Scheme))
	if r.SaltLength < math.MinInt32 || r.SaltLength > math.MaxInt32 {
		e.fail(ErrRange, "salt length %d", r.SaltLength)
		return
	}
	e.u32(uint32(int32(r.SaltLength)))
	e.bytes("digest", r.Digest, MaxDigest)
	e.bytes("encoded message", r.Encoded, MaxValueSize)
	var flags uint8
	if r.Content != nil {
		flags |= flagContent
	}
	e.u8(flags)
	if r.Content != nil {
		e.bytes("content", r.Content, share.MaxContentSize)
	}
}

func (t *Task) decode(d *decoder) {
	d.header(&t.Header)
	r := &t.Request
	r.KeyID = t.KeyID
	r.Hash = crypto.Hash(d.u8())
	r.Scheme = share.Scheme(d.u8())
	r.SaltLength = int(int32(d.u32()))
	r.Digest = d.bytes("digest", MaxDigest, false)
	r.Encoded = d.bytes("encoded message", MaxValueSize, false)
	flags := d.u8()
	if flags&^taskFlags != 0 {
		d.fail("unknown task flags %#x", flags)
		return
	}
	if flags&flagContent != 0 {
		r.Content = d.bytes("content", share.MaxContentSize, true)
	}
}

func (a *Ack) encode(e *encoder) {
	e.header(&a.Header)
	e.buf = append(e.buf, a.TaskHash[:]...)
	e.small("calculator", a.Calculator)
	e.small("k", a.K)
	e.small("t", a.T)
	if a.Status < Accepted || a.Status > Computed {
		e.fail(ErrRange, "ack status %d", a.Status)
		return
	}
	e.u8(uint8(a.Status))
	if a.Reason > maxReason || (a.Status == Refused) == (a.Reason == ReasonNone) {
		e.fail(ErrRange, "ack status %d with reason %d", a.Status, a.Reason)
		return
	}
	e.u8(uint8(a.Reason))
	if !printable(a.Detail) || (a.Detail != "" && a.Status != Refused) {
		e.fail(ErrRange, "ack detail of %d bytes", len(a.Detail))
		return
	}
	e.u8(uint8(len(a.Detail)))
	e.buf = append(e.buf, a.Detail...)
}

// printable reports whether s is at most MaxDetail printable ASCII bytes.
func printable(s string) bool {
	if len(s) > MaxDetail {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func (a *Ack) decode(d *decoder) {
	d.header(&a.Header)
	a.TaskHash = d.hash32()
	a.Calculator = int(d.u16())
	a.K = int(d.u16())
	a.T = int(d.u16())
	a.Status = AckStatus(d.u8())
	a.Reason = Reason(d.u8())
	if d.err != nil {
		return
	}
	if a.Status < Accepted || a.Status > Computed {
		d.fail("ack status %d", a.Status)
	} else if a.Reason > maxReason || (a.Status == Refused) == (a.Reason == ReasonNone) {
		d.fail("ack status %d with reason %d", a.Status, a.Reason)
		return
	}
	n := int(d.u8())
	if n > MaxDetail {
		d.fail("ack detail of %d bytes", n)
		return
	}
	a.Detail = string(d.take(n))
	if d.err == nil && (!printable(a.Detail) || (a.Detail != "" && a.Status != Refused)) {
		d.fail("ack detail not printable or not a refusal's")
	}
}

func (p *Partials) encode(e *encoder) {
	e.header(&p.Header)
	e.buf = append(e.buf, p.TaskHash[:]...)
	e.small("calculator", p.Calculator)
	e.count("shares", len(p.Shares))
	for _, s := range p.Shares {
		e.small("share number", s.Index)
		e.bytes("partial value", s.Value, MaxValueSize)
	}
}

func (p *Partials) decode(d *decoder) {
	d.header(&p.Header)
	p.TaskHash = d.hash32()
	p.Calculator = int(d.u16())
	n := d.count("shares")
	if d.err != nil || n == 0 {
		return
	}
	if 6*n > len(d.buf) { // each share takes at least 6 bytes
		d.fail("truncated shares")
		return
	}
	p.Shares = make([]Share, n)
	for k := range p.Shares {
		p.Shares[k].Index = int(d.u16())
		p.Shares[k].Value = d.bytes("partial value", MaxValueSize, false)
	}
}

func (r *Result) encode(e *encoder) {
	e.header(&r.Header)
	e.buf = append(e.buf, r.TaskHash[:]...)
	e.small("combiner", r.Combiner)
	e.bytes("signature", r.Signature, MaxValueSize)
	e.count("terms", len(r.Rep))
	for _, x := range r.Rep {
		e.small("calculator", x.J)
		e.small("share number", x.I)
	}
	e.ints("calculators", r.Calculators)
	e.ints("inconsistent calculators", r.Inconsistent)
	e.ints("suspects", r.Suspects)
}

func (r *Result) decode(d *decoder) {
	d.header(&r.Header)
	r.TaskHash = d.hash32()
	r.Combiner = int(d.u16())
	r.Signature = d.bytes("signature", MaxValueSize, false)
	n := d.count("terms")
	if d.err != nil {
		return
	}
	if n > 0 {
		if 4*n > len(d.buf) {
			d.fail("truncated terms")
			return
		}
		r.Rep = make(grouping.Rep, n)
		for k := range r.Rep {
			r.Rep[k] = grouping.Term{J: int(d.u16()), I: int(d.u16())}
		}
	}
	r.Calculators = d.ints("calculators")
	r.Inconsistent = d.ints("inconsistent calculators")
	r.Suspects = d.ints("suspects")
}

func (p *Done) encode(e *encoder) {
	e.header(&p.Header)
	e.buf = append(e.buf, p.TaskHash[:]...)
}

func (p *Done) decode(d *decoder) {
	d.header(&p.Header)
	p.TaskHash = d.hash32()
}
