package broadcast

import (
	"context"
	"crypto/ed25519"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// signAs wraps a packet in a Signed envelope made with priv, claiming node.
func signAs(t *testing.T, priv ed25519.PrivateKey, node share.Node, p wire.Packet) []byte {
	t.Helper()
	body, err := wire.Marshal(p)
	require.NoError(t, err)
	sig := ed25519.Sign(priv, wire.SignedMessage(uint8(node.Role), node.Number, body))
	b, err := wire.Marshal(&wire.Signed{Role: uint8(node.Role), Number: node.Number, Body: body, Sig: sig})
	require.NoError(t, err)
	return b
}

// TestForgedPacketsRejected: packets signed by a key outside the roster, or
// by a roster node that is not the packet's sender, are dropped and counted.
func TestForgedPacketsRejected(t *testing.T) {
	d := testcluster.Deal(t, 5, 3, 2, nil)
	l := start(t, d, nil)
	mem := l.Memory()
	meta := d.Calculators[0].Meta
	_, outsider, _ := ed25519.GenerateKey(nil)
	req := testcluster.Request("forged")
	req.KeyID = meta.KeyID
	hdr := wire.Header{Distributor: 1, Task: 1, KeyID: meta.KeyID, Epoch: meta.Epoch, Time: time.Now().UnixNano()}
	dist := share.Node{Role: share.RoleDistributor, Number: 1}

	// A task signed by an outsider claiming to be distributor 1.
	mem.Publish(context.Background(), B1, signAs(t, outsider, dist, &wire.Task{Header: hdr, Request: *req}))
	// A task signed by calculator 2's genuine key.
	calc2 := d.Calculators[1].NodeKey
	mem.Publish(context.Background(), B1, signAs(t, calc2.Private, calc2.Node, &wire.Task{Header: hdr, Request: *req}))
	// Partials claiming calculator 3, signed by calculator 2.
	mem.Publish(context.Background(), B2, signAs(t, calc2.Private, calc2.Node, &wire.Partials{Header: hdr, Calculator: 3, Shares: []wire.Share{{Index: 1, Value: make([]byte, 256)}}}))
	// An unsigned task.
	unsigned, _ := wire.Marshal(&wire.Task{Header: hdr, Request: *req})
	mem.Publish(context.Background(), B1, unsigned)

	waitFor(t, func() bool {
		for j := 1; j <= 5; j++ {
			if l.Calculator(j).Stats().Rejected < 3 {
				return false
			}
		}
		return l.Combiner(1).Stats().Rejected >= 4
	})
	for j := 1; j <= 5; j++ {
		s := l.Calculator(j).Stats()
		assert.Zero(t, s.Tasks, "calculator %d acted on a forged task: tasks, stats %+v", j, s)
		assert.Zero(t, s.Partials, "calculator %d acted on a forged task: partials, stats %+v", j, s)
	}
	// The genuine distributor still signs.
	sig, err := l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("genuine"))
	require.NoError(t, err)
	require.Equal(t, testcluster.Want(t, nil, "genuine"), sig, "signature differs from rsa.SignPKCS1v15")
}

// TestForgedResultRejected: a result from outside the roster never reaches
// the distributor's verification.
func TestForgedResultRejected(t *testing.T) {
	d := testcluster.Deal(t, 3, 2, 1, nil)
	l := start(t, d, &LocalOptions{Down: []int{1, 2, 3}})
	mem := l.Memory()
	sub, _ := mem.Subscribe(B1)
	defer sub.Close()
	_, outsider, _ := ed25519.GenerateKey(nil)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer sub.Close()
	wg.Go(func() {
		for msg := range sub.C() {
			p, err := wire.Unmarshal(msg)
			if err != nil {
				continue
			}
			if s, ok := p.(*wire.Signed); ok {
				if p, _ = wire.Unmarshal(s.Body); p == nil {
					continue
				}
				if task, ok := p.(*wire.Task); ok {
					r := &wire.Result{Header: task.Header, TaskHash: wire.Fingerprint(s.Body), Combiner: 1, Signature: make([]byte, 256)}
					body, _ := wire.Marshal(r)
					node := share.Node{Role: share.RoleCombiner, Number: 1}
					sig := ed25519.Sign(outsider, wire.SignedMessage(uint8(node.Role), node.Number, body))
					b, _ := wire.Marshal(&wire.Signed{Role: uint8(node.Role), Number: node.Number, Body: body, Sig: sig})
					mem.Publish(context.Background(), B3, b)
				}
			}
		}
	})
	_, err := l.Distributor().Sign(testcluster.Timeout(t, 400*time.Millisecond), testcluster.Request("x"))
	require.ErrorIs(t, err, ErrDeadline)
	s := l.Distributor().Stats()
	assert.NotZero(t, s.Rejected, "forged results not rejected, stats %+v", s)
	assert.Zero(t, s.BadResults, "forged results reached verification, stats %+v", s)
}

// TestRegressionNodeWithoutAuthCannotBeBuilt: a node is built from its key
// material, which carries its node key and roster, so that packet
// authentication cannot be left out; key material without a node key, or
// whose roster does not list it, is refused. A node so built drops
// unsigned packets.
func TestRegressionNodeWithoutAuthCannotBeBuilt(t *testing.T) {
	d := testcluster.Deal(t, 3, 2, 1, nil)
	mem := NewMemory(nil)
	defer mem.Close()
	without := func(r share.Roster, n share.Node) share.Roster {
		return slices.DeleteFunc(slices.Clone(r), func(e share.RosterEntry) bool { return e.Node == n })
	}

	ck := *d.Calculators[0]
	ck.NodeKey = nil
	_, err := NewCalculatorNode(mem, &ck, nil)
	require.ErrorIs(t, err, ErrNodeKey, "calculator without a node key")
	ck = *d.Calculators[0]
	ck.Roster = without(ck.Roster, ck.NodeKey.Node)
	_, err = NewCalculatorNode(mem, &ck, nil)
	require.ErrorIs(t, err, ErrNodeKey, "calculator whose roster does not list it")
	ck = *d.Calculators[0]
	ck.NodeKey = d.Calculators[1].NodeKey
	_, err = NewCalculatorNode(mem, &ck, nil)
	require.ErrorIs(t, err, ErrNodeKey, "calculator 1 with calculator 2's node key")

	cb := *d.Combiners[0]
	cb.NodeKey = nil
	_, err = NewCombinerNode(mem, &cb, nil)
	require.ErrorIs(t, err, ErrNodeKey, "combiner without a node key")
	cb = *d.Combiners[0]
	cb.Roster = without(cb.Roster, cb.NodeKey.Node)
	_, err = NewCombinerNode(mem, &cb, nil)
	require.ErrorIs(t, err, ErrNodeKey, "combiner whose roster does not list it")

	dk := *d.Distributors[0]
	dk.NodeKey = nil
	_, err = NewDistributor(mem, &dk, nil)
	require.Error(t, err, "distributor without a node key")
	dk = *d.Distributors[0]
	dk.Roster = without(dk.Roster, dk.NodeKey.Node)
	_, err = NewDistributor(mem, &dk, nil)
	require.ErrorIs(t, err, ErrNodeKey, "distributor whose roster does not list it")

	// Nodes built from genuine key material drop unsigned packets.
	calc, err := NewCalculatorNode(mem, d.Calculators[0], nil)
	require.NoError(t, err)
	runNode(t, calc.Run)
	comb, err := NewCombinerNode(mem, d.Combiners[0], nil)
	require.NoError(t, err)
	runNode(t, comb.Run)
	dist, err := NewDistributor(mem, d.Distributors[0], nil)
	require.NoError(t, err)
	defer dist.Close()
	require.Equal(t, uint32(d.Distributors[0].NodeKey.Number), dist.Number())

	meta := d.Calculators[0].Meta
	hdr := wire.Header{Distributor: dist.Number(), Task: 1, KeyID: meta.KeyID, Epoch: meta.Epoch}
	req := testcluster.Request("unsigned")
	req.KeyID = meta.KeyID
	for _, p := range []struct {
		ch Channel
		p  wire.Packet
	}{
		{B1, &wire.Task{Header: hdr, Request: *req}},
		{B1, &wire.Ack{Header: hdr, Calculator: 2, Status: wire.Accepted, K: meta.K, T: meta.T}},
		{B2, &wire.Partials{Header: hdr, Calculator: 2, Shares: []wire.Share{{Index: 1, Value: make([]byte, 256)}}}},
	} {
		b, err := wire.Marshal(p.p)
		require.NoError(t, err)
		require.NoError(t, mem.Publish(context.Background(), p.ch, b))
	}
	waitFor(t, func() bool {
		return calc.Stats().Rejected >= 1 && comb.Stats().Rejected >= 2 && dist.Stats().Rejected >= 1
	})
	require.Zero(t, calc.Stats().Tasks, "the calculator accepted an unsigned task")
	require.Zero(t, comb.Stats().Tasks+comb.Stats().Partials, "the combiner accepted unsigned packets")
	require.Zero(t, dist.Stats().Acks, "the distributor accepted an unsigned acknowledgement")
}

// sealAs signs p as node key nk, as the node itself would.
func sealAs(t testing.TB, nk *share.NodeKey, p wire.Packet) []byte {
	t.Helper()
	a := &auth{key: nk}
	b, _, err := a.seal(p)
	require.NoError(t, err)
	return b
}

// unwrap decodes a signed packet without checking its signature.
func unwrap(msg []byte) (wire.Packet, error) {
	p, _, err := unwrapBody(msg)
	return p, err
}

// unwrapBody decodes a signed packet without checking its signature, and
// returns the bytes the fingerprint is computed over.
func unwrapBody(msg []byte) (wire.Packet, []byte, error) {
	p, err := wire.Unmarshal(msg)
	if err != nil {
		return nil, nil, err
	}
	s, ok := p.(*wire.Signed)
	if !ok {
		return p, msg, nil
	}
	p, err = wire.Unmarshal(s.Body)
	return p, s.Body, err
}
