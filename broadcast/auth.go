package broadcast

import (
	"errors"
	"fmt"

	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// ErrUnauthenticated: a packet is unsigned, signed by a node outside the
// roster, badly signed, or signed by another node than the one it claims to
// come from. Such packets are dropped and counted.
var ErrUnauthenticated = errors.New("broadcast: packet not authenticated")

// ErrNodeKey: the key material has no node key, or its roster does not
// list the node key. A node cannot be built without both: every packet it
// sends is signed, and every packet it accepts is checked.
var ErrNodeKey = errors.New("broadcast: key material without a valid node key and roster")

// auth authenticates a node's packets: every packet it sends is signed with
// key, and it accepts only packets signed by a node of roster whose role
// and number match the packet (a task from distributor n must be signed by
// distributor n, partials of calculator j by calculator j, a result of
// combiner n by combiner n, a done of distributor n by distributor n).
//
// The transport is then not trusted for integrity: a forged task, partial
// or result is dropped. Replays of genuine packets are still possible and
// are handled by the protocol: a task is never computed twice ([0110]),
// duplicate partials are ignored, and a late result is only counted.
type auth struct {
	key    *share.NodeKey // this node's signing key; secret
	roster share.Roster   // the nodes whose packets are accepted
}

// newAuth checks that key is the node key of role and number and that
// roster lists it.
func newAuth(key *share.NodeKey, roster share.Roster, role share.Role, number int) (*auth, error) {
	if key == nil || key.Role != role || key.Number != number {
		return nil, fmt.Errorf("%w: the node key is not %v %d's", ErrNodeKey, role, number)
	}
	pub, err := roster.Lookup(key.Node)
	if err != nil || !pub.Equal(key.Public()) {
		return nil, fmt.Errorf("%w: the roster does not list %v %d's key", ErrNodeKey, role, number)
	}
	return &auth{key: key, roster: roster}, nil
}

// seal encodes and signs p. It returns the bytes to publish and the bytes
// of p itself.
func (a *auth) seal(p wire.Packet) (msg, body []byte, err error) {
	body, err = wire.Marshal(p)
	if err != nil {
		return nil, nil, err
	}
	role := uint8(a.key.Role)
	sig := a.key.Sign(wire.SignedMessage(role, a.key.Number, body))
	msg, err = wire.Marshal(&wire.Signed{Role: role, Number: a.key.Number, Body: body, Sig: sig})
	return msg, body, err
}

// open decodes msg and checks its signature and sender. It returns the
// packet and its bytes without the signature (what fingerprints are
// computed over). Errors wrap wire.ErrMalformed or ErrUnauthenticated.
func (a *auth) open(msg []byte) (wire.Packet, []byte, error) {
	p, err := wire.Unmarshal(msg)
	if err != nil {
		return nil, nil, err
	}
	s, signed := p.(*wire.Signed)
	if !signed {
		return nil, nil, fmt.Errorf("%w: unsigned %v packet", ErrUnauthenticated, p.Type())
	}
	if p, err = wire.Unmarshal(s.Body); err != nil {
		return nil, nil, err
	}
	node := share.Node{Role: share.Role(s.Role), Number: s.Number}
	if !sentBy(p, node) {
		return nil, nil, fmt.Errorf("%w: %v packet signed by %v", ErrUnauthenticated, p.Type(), node)
	}
	if err := a.roster.Verify(node, wire.SignedMessage(s.Role, s.Number, s.Body), s.Sig); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	return p, s.Body, nil
}

// openTask opens a message of B1 for a calculator or combiner: a done goes
// to onDone, a task is returned with its signed body. Other packets
// (acknowledgements, results when B1 is the result channel) and packets
// open refuses (counted in rejected or malformed) give a nil task.
func (a *auth) openTask(msg []byte, rejected, malformed interface{ Add(uint64) uint64 }, onDone func(*wire.Done)) (*wire.Task, []byte) {
	if typ, err := wire.PeekType(msg); err == nil && typ != wire.TypeTask && typ != wire.TypeDone {
		return nil, nil
	}
	p, body, err := a.open(msg)
	if err != nil {
		countRejected(err, rejected, malformed)
		return nil, nil
	}
	if d, ok := p.(*wire.Done); ok {
		onDone(d)
		return nil, nil
	}
	task, _ := p.(*wire.Task)
	return task, body
}

// countRejected counts a packet that open refused.
func countRejected(err error, rejected, malformed interface{ Add(uint64) uint64 }) {
	if errors.Is(err, ErrUnauthenticated) {
		rejected.Add(1)
	} else {
		malformed.Add(1)
	}
}

// sentBy reports whether node may have sent p.
func sentBy(p wire.Packet, n share.Node) bool {
	switch p := p.(type) {
	case *wire.Task:
		return n.Role == share.RoleDistributor && uint64(n.Number) == uint64(p.Distributor)
	case *wire.Ack:
		return n.Role == share.RoleCalculator && n.Number == p.Calculator
	case *wire.Partials:
		return n.Role == share.RoleCalculator && n.Number == p.Calculator
	case *wire.Result:
		return n.Role == share.RoleCombiner && n.Number == p.Combiner
	case *wire.Done:
		return n.Role == share.RoleDistributor && uint64(n.Number) == uint64(p.Distributor)
	}
	return false
}
