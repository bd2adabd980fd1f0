package faults

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/wire"
)

// TestRewrite: what the node publishes goes through the function, and
// every packet it returns is signed again with the node's key; dropped
// packets are not sent, and bytes that are no packet pass unchanged.
func TestRewrite(t *testing.T) {
	ck := calculatorKey(t)
	mem := broadcast.NewMemory(nil)
	defer mem.Close()
	sub, err := mem.Subscribe(broadcast.B1)
	require.NoError(t, err)
	defer sub.Close()
	adv := Rewrite(mem.Endpoint("adversary"), ck.NodeKey, func(ch broadcast.Channel, p wire.Packet) []wire.Packet {
		a, ok := p.(*wire.Ack)
		if !ok {
			return nil
		}
		a.K = 99
		return []wire.Packet{a, a}
	})
	msg, err := Seal(ck.NodeKey, &wire.Ack{Calculator: ck.Number, K: ck.K, T: ck.T, Status: wire.Accepted})
	require.NoError(t, err)
	require.NoError(t, adv.Publish(context.Background(), broadcast.B1, msg))
	for range 2 {
		b := recv(t, sub)
		p, err := wire.Unmarshal(b)
		require.NoError(t, err)
		s := p.(*wire.Signed)
		require.NoError(t, ck.Roster.Verify(ck.NodeKey.Node, wire.SignedMessage(s.Role, s.Number, s.Body), s.Sig))
		inner, err := Open(b)
		require.NoError(t, err)
		require.Equal(t, 99, inner.(*wire.Ack).K)
	}
	parts, err := Seal(ck.NodeKey, &wire.Partials{Calculator: ck.Number, Shares: []wire.Share{{Index: 1, Value: []byte{1}}}})
	require.NoError(t, err)
	require.NoError(t, adv.Publish(context.Background(), broadcast.B1, parts)) // dropped
	require.NoError(t, adv.Publish(context.Background(), broadcast.B1, []byte("junk")))
	require.Equal(t, []byte("junk"), recv(t, sub))
}
