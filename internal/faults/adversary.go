package faults

import (
	"context"

	"github.com/tolerantca/tolerant/broadcast/memory"
	"github.com/tolerantca/tolerant/broadcast/transport"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// RewriteFunc decides what an adversary publishes instead of packet p on
// channel ch: nil drops it, several packets are all sent. Every packet
// returned is signed with the adversary's node key.
type RewriteFunc func(ch transport.Channel, p wire.Packet) []wire.Packet

// Rewrite returns b as seen by the node holding node key key: every packet
// the node publishes passes through f and is signed again with key, so that
// it still authenticates. It is how the hostile-node tests turn an honest
// node, holding real key material, into an adversary.
func Rewrite(b transport.Broadcaster, key *share.NodeKey, f RewriteFunc) transport.Broadcaster {
	return &rewriter{Broadcaster: b, key: key, f: f}
}

type rewriter struct {
	transport.Broadcaster
	key *share.NodeKey
	f   RewriteFunc
}

// Publish rewrites msg and publishes what f returns.
func (r *rewriter) Publish(ctx context.Context, ch transport.Channel, msg []byte) error {
	p, err := Open(msg)
	if err != nil {
		return r.Broadcaster.Publish(ctx, ch, msg)
	}
	for _, q := range r.f(ch, p) {
		b, err := Seal(r.key, q)
		if err != nil {
			continue
		}
		if err := r.Broadcaster.Publish(ctx, ch, b); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the underlying broadcaster when it is an io.Closer.
func (r *rewriter) Close() error { return closeInner(r.Broadcaster) }

// Open returns the packet inside a signed packet, without checking the
// signature.
func Open(msg []byte) (wire.Packet, error) {
	p, _, err := unwrap(msg)
	return p, err
}

// unwrap returns the packet inside the signed packet msg (signed true),
// or msg's own packet when it is not signed.
func unwrap(msg []byte) (p wire.Packet, signed bool, err error) {
	if p, err = wire.Unmarshal(msg); err != nil {
		return nil, false, err
	}
	s, ok := p.(*wire.Signed)
	if !ok {
		return p, false, nil
	}
	p, err = wire.Unmarshal(s.Body)
	return p, true, err
}

// Seal encodes p and signs it with key, as the node of key would.
func Seal(key *share.NodeKey, p wire.Packet) ([]byte, error) {
	body, err := wire.Marshal(p)
	if err != nil {
		return nil, err
	}
	role := uint8(key.Role)
	sig := key.Sign(wire.SignedMessage(role, key.Number, body))
	return wire.Marshal(&wire.Signed{Role: role, Number: key.Number, Body: body, Sig: sig})
}

// Transports returns a transport for broadcast.LocalOptions.Transport: the
// endpoints of mem, with the broadcaster of every endpoint named in wrap
// passed through its function. mem stays the caller's to close.
func Transports(mem *memory.Bus, wrap map[string]func(transport.Broadcaster) transport.Broadcaster) func(string) (transport.Broadcaster, error) {
	return func(endpoint string) (transport.Broadcaster, error) {
		b := transport.Broadcaster(mem.Endpoint(endpoint))
		if w := wrap[endpoint]; w != nil {
			b = w(b)
		}
		return b, nil
	}
}
