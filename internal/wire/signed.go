package wire

import (
	"crypto/ed25519"
	"encoding/binary"
)

// Signed is a packet signed by its sender (Ed25519, RFC 8032 section 5.1):
// the sender's role (share.Role) and number, the encoded packet (never
// itself Signed), and an Ed25519 signature over [SignedMessage](Role,
// Number, Body).
type Signed struct {
	Role   uint8
	Number int
	Body   []byte // an encoded Task, Ack, Partials or Result
	Sig    []byte // ed25519.SignatureSize bytes
}

// Type implements Packet.
func (*Signed) Type() Type { return TypeSigned }

// signedOverhead bounds what Signed adds to the packet it carries.
const signedOverhead = 2 + 1 + 2 + 4 + ed25519.SignatureSize

// signedContext separates packet signatures from any other use of the keys.
const signedContext = "tolerant wire v1 signed packet\x00"

// SignedMessage returns the bytes a sender signs: a context string, its
// role and number, and the packet. Binding the sender into the signature
// stops a packet signed by one node from being presented as another's.
func SignedMessage(role uint8, number int, body []byte) []byte {
	m := make([]byte, 0, len(signedContext)+3+len(body))
	m = append(m, signedContext...)
	m = append(m, role)
	m = binary.BigEndian.AppendUint16(m, uint16(number))
	return append(m, body...)
}

func (s *Signed) encode(e *encoder) {
	if len(s.Body) < 2 || s.Body[0] != Version || Type(s.Body[1]) == TypeSigned {
		e.fail(ErrMalformed, "signed body is not a packet")
		return
	}
	if len(s.Sig) != ed25519.SignatureSize {
		e.fail(ErrMalformed, "signature of %d bytes", len(s.Sig))
		return
	}
	e.u8(s.Role)
	e.small("sender number", s.Number)
	e.bytes("signed packet", s.Body, MaxPacketSize)
	e.buf = append(e.buf, s.Sig...)
}

func (s *Signed) decode(d *decoder) {
	s.Role = d.u8()
	s.Number = int(d.u16())
	s.Body = d.bytes("signed packet", MaxPacketSize, false)
	if d.err != nil {
		return
	}
	if len(s.Body) < 2 || s.Body[0] != Version || Type(s.Body[1]) == TypeSigned {
		d.fail("signed body is not a packet")
		return
	}
	s.Sig = append([]byte(nil), d.take(ed25519.SignatureSize)...)
}
