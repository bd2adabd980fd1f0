package faults

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

func calculatorKey(t *testing.T) *share.CalculatorKey {
	t.Helper()
	return testcluster.Deal(t, 3, 2, 1, &testcluster.Options{Search: true}).Calculators[0]
}

func recv(t *testing.T, s broadcast.Subscription) []byte {
	t.Helper()
	select {
	case m := <-s.C():
		return m
	case <-time.After(5 * time.Second):
		require.FailNow(t, "nothing received within 5s")
		return nil
	}
}

// TestLiar: partials are changed and signed again with the node's key, so
// that they still authenticate; other packets pass unchanged.
func TestLiar(t *testing.T) {
	ck := calculatorKey(t)
	mem := broadcast.NewMemory(nil)
	defer mem.Close()
	sub, err := mem.Subscribe(broadcast.B2)
	require.NoError(t, err)
	defer sub.Close()
	liar := Liar(mem.Endpoint("liar"), ck)

	value := make([]byte, 256)
	value[255] = 3
	body, err := wire.Marshal(&wire.Partials{Calculator: ck.Number, Shares: []wire.Share{{Index: 1, Value: value}}})
	require.NoError(t, err)
	role := uint8(ck.NodeKey.Role)
	msg, err := wire.Marshal(&wire.Signed{Role: role, Number: ck.Number, Body: body, Sig: ck.NodeKey.Sign(wire.SignedMessage(role, ck.Number, body))})
	require.NoError(t, err)
	require.NoError(t, liar.Publish(context.Background(), broadcast.B2, msg))

	p, err := wire.Unmarshal(recv(t, sub))
	require.NoError(t, err)
	s := p.(*wire.Signed)
	require.NoError(t, ck.Roster.Verify(ck.NodeKey.Node, wire.SignedMessage(s.Role, s.Number, s.Body), s.Sig))
	inner, err := wire.Unmarshal(s.Body)
	require.NoError(t, err)
	got := inner.(*wire.Partials).Shares[0].Value
	require.Len(t, got, 256)
	require.Equal(t, byte(6), got[255], "the partial is doubled")

	require.NoError(t, liar.Publish(context.Background(), broadcast.B2, []byte("not a packet")))
	require.Equal(t, []byte("not a packet"), recv(t, sub))
}

// TestLossy: about a fraction p of what arrives is dropped.
func TestLossy(t *testing.T) {
	mem := broadcast.NewMemory(nil)
	defer mem.Close()
	sub, err := Lossy(mem.Endpoint("lossy"), 0.5).Subscribe(broadcast.B1)
	require.NoError(t, err)
	const n = 400
	for range n {
		require.NoError(t, mem.Publish(context.Background(), broadcast.B1, []byte{1}))
	}
	got := 0
	for done := false; !done; {
		select {
		case <-sub.C():
			got++
		case <-time.After(200 * time.Millisecond):
			done = true
		}
	}
	require.NoError(t, sub.Close())
	require.Greater(t, got, n/4)
	require.Less(t, got, 3*n/4)
}
