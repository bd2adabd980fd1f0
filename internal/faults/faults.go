// Package faults injects faults into a cluster of package broadcast, for
// tests and demonstrations: a calculator that sends wrong partials and a
// transport that loses messages. It works on the transport only, so that
// package broadcast carries no test hook: a lying calculator is an honest
// CalculatorNode whose Broadcaster rewrites, and re-signs with the node's
// own key, the partials it publishes. Being internal, it cannot be reached
// from outside this module.
package faults

import (
	"context"
	"io"
	"math/big"
	"math/rand/v2"
	"sync"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/memory"
	"github.com/tolerantca/tolerant/broadcast/transport"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// Liar returns b as seen by calculator key: every partial it publishes on
// B2 is doubled mod N, a value of the right form that is wrong, and signed
// again with key's node key, so that only the combiners' checks ([0093],
// [0116]) can tell. Everything else passes unchanged.
func Liar(b transport.Broadcaster, key *share.CalculatorKey) transport.Broadcaster {
	return &liar{Broadcaster: b, key: key.NodeKey, n: key.PublicKey.N}
}

type liar struct {
	transport.Broadcaster
	key *share.NodeKey
	n   *big.Int
}

// Publish publishes msg, with its partials made wrong.
func (l *liar) Publish(ctx context.Context, ch transport.Channel, msg []byte) error {
	if ch == transport.B2 {
		if lie, ok := l.lie(msg); ok {
			msg = lie
		}
	}
	return l.Broadcaster.Publish(ctx, ch, msg)
}

// lie returns the signed Partials packet msg with every value doubled mod N.
func (l *liar) lie(msg []byte) ([]byte, bool) {
	p, signed, err := unwrap(msg)
	if err != nil || !signed {
		return nil, false
	}
	parts, ok := p.(*wire.Partials)
	if !ok {
		return nil, false
	}
	for i, sh := range parts.Shares {
		v := new(big.Int).SetBytes(sh.Value)
		v.Lsh(v, 1).Mod(v, l.n)
		if v.Sign() == 0 {
			v.SetInt64(1)
		}
		parts.Shares[i].Value = v.FillBytes(make([]byte, len(sh.Value)))
	}
	body, err := wire.Marshal(parts)
	if err != nil {
		return nil, false
	}
	role := uint8(l.key.Role)
	sig := l.key.Sign(wire.SignedMessage(role, l.key.Number, body))
	out, err := wire.Marshal(&wire.Signed{Role: role, Number: l.key.Number, Body: body, Sig: sig})
	return out, err == nil
}

// Close closes the underlying broadcaster when it is an io.Closer (as
// broadcast.Local expects of a transport).
func (l *liar) Close() error { return closeInner(l.Broadcaster) }

// closeInner closes b when it is an io.Closer.
func closeInner(b transport.Broadcaster) error {
	if c, ok := b.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Lossy returns b losing each message it receives with probability p.
func Lossy(b transport.Broadcaster, p float64) transport.Broadcaster {
	return &lossy{Broadcaster: b, p: p}
}

type lossy struct {
	transport.Broadcaster
	p float64
}

// Close closes the underlying broadcaster when it is an io.Closer.
func (b *lossy) Close() error { return closeInner(b.Broadcaster) }

// Subscribe subscribes to ch and drops a fraction p of what arrives.
func (b *lossy) Subscribe(ch transport.Channel) (transport.Subscription, error) {
	s, err := b.Broadcaster.Subscribe(ch)
	if err != nil {
		return nil, err
	}
	ls := &lossySub{inner: s, c: make(chan []byte, 256), done: make(chan struct{})}
	go func() {
		defer close(ls.c)
		for m := range s.C() {
			if rand.Float64() < b.p {
				continue
			}
			select {
			case ls.c <- m:
			case <-ls.done:
				return
			}
		}
	}()
	return ls, nil
}

// lossySub is a subscription of a lossy broadcaster.
type lossySub struct {
	inner transport.Subscription
	c     chan []byte
	done  chan struct{}
	once  sync.Once
}

// C delivers the messages that were not dropped.
func (s *lossySub) C() <-chan []byte { return s.c }

// Close closes the underlying subscription.
func (s *lossySub) Close() error {
	s.once.Do(func() { close(s.done) })
	return s.inner.Close()
}

// Transport returns a transport for broadcast.LocalOptions.Transport: the
// endpoints of mem, where the calculators of liars lie (see [Liar]). mem
// stays the caller's to close, after the cluster.
func Transport(mem *memory.Bus, liars []*share.CalculatorKey) func(string) (transport.Broadcaster, error) {
	return func(endpoint string) (transport.Broadcaster, error) {
		b := mem.Endpoint(endpoint)
		for _, key := range liars {
			if endpoint == broadcast.CalculatorEndpoint(key.Number) {
				return Liar(b, key), nil
			}
		}
		return b, nil
	}
}
