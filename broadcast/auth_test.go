package broadcast

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// signAs wraps a packet in a Signed envelope made with priv, claiming node.
func signAs(t *testing.T, priv ed25519.PrivateKey, node share.Node, p wire.Packet) []byte {
	t.Helper()
	body, err := wire.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	sig := ed25519.Sign(priv, wire.SignedMessage(uint8(node.Role), node.Number, body))
	b, err := wire.Marshal(&wire.Signed{Role: uint8(node.Role), Number: node.Number, Body: body, Sig: sig})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestForgedPacketsRejected: packets signed by a key outside the roster, or
// by a roster node that is not the packet's sender, are dropped and counted.
func TestForgedPacketsRejected(t *testing.T) {
	d := dealing(t, 5, 3, 2, 1)
	l := start(t, d, nil)
	mem := l.Memory()
	meta := d.Calculators[0].Meta
	_, outsider, _ := ed25519.GenerateKey(nil)
	req := request("forged")
	req.KeyID = meta.KeyID
	hdr := wire.Header{Distributor: 1, Task: 1, KeyID: meta.KeyID, Epoch: meta.Epoch}
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
		if s := l.Calculator(j).Stats(); s.Tasks != 0 || s.Partials != 0 {
			t.Errorf("calculator %d acted on a forged task: %+v", j, s)
		}
	}
	// The genuine distributor still signs.
	sig, err := l.Distributor().Sign(timeout(t, 20*time.Second), request("genuine"))
	if err != nil || !bytes.Equal(sig, want(t, "genuine")) {
		t.Fatal(err)
	}
}

// TestForgedResultRejected: a result from outside the roster never reaches
// the distributor's verification.
func TestForgedResultRejected(t *testing.T) {
	d := dealing(t, 3, 2, 1, 1)
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
	_, err := l.Distributor().Sign(timeout(t, 400*time.Millisecond), request("x"))
	if !errors.Is(err, ErrDeadline) {
		t.Fatalf("err = %v", err)
	}
	if s := l.Distributor().Stats(); s.Rejected == 0 || s.BadResults != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestAuthConfiguration(t *testing.T) {
	d := dealing(t, 3, 2, 1, 1)
	mem := NewMemory(nil)
	defer mem.Close()
	calc, _ := share.NewCalculator(d.Calculators[0], nil)
	wrong := &Auth{Key: d.Calculators[1].NodeKey, Roster: d.Calculators[0].Roster}
	if _, err := NewCalculatorNode(mem, calc, &CalculatorOptions{Auth: wrong}); err == nil {
		t.Error("calculator 1 accepted calculator 2's node key")
	}
	if _, err := NewCalculatorNode(mem, calc, &CalculatorOptions{Auth: &Auth{Key: d.Calculators[0].NodeKey}}); err == nil {
		t.Error("empty roster accepted")
	}
	dk := d.Distributors[0]
	if _, err := NewDistributor(mem, dk.PublicKey, dk.KeyID, &DistributorOptions{Number: 5, Auth: &Auth{Key: dk.NodeKey, Roster: dk.Roster}}); err == nil {
		t.Error("distributor number differing from its node key accepted")
	}
	dist, err := NewDistributor(mem, dk.PublicKey, dk.KeyID, &DistributorOptions{Auth: &Auth{Key: dk.NodeKey, Roster: dk.Roster}})
	if err != nil {
		t.Fatal(err)
	}
	if dist.Number() != uint32(dk.NodeKey.Number) {
		t.Errorf("number %d", dist.Number())
	}
	dist.Close()
}
