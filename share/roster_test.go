package share

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
)

func TestRoster(t *testing.T) {
	dl := newDealer(t, testkeys.RSA2048, 3, 2, 1, &Options{Distributors: 2})
	plan := &grouping.Plan{K: 3, T: 2, L: 1, Combiners: [][]grouping.Rep{{rep(11, 21)}, {rep(11, 31), rep(21, 31)}}}
	dealing, err := dl.Deal(plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(dealing.Distributors) != 2 || len(dl.Roster()) != 2+3+2 {
		t.Fatalf("%d distributors, roster of %d", len(dealing.Distributors), len(dl.Roster()))
	}
	msg := []byte("packet")
	c2 := dealing.Calculators[1]
	sig := c2.NodeKey.Sign(msg)
	for _, m := range []Meta{dealing.Distributors[0].Meta, dealing.Combiners[1].Meta, c2.Meta} {
		if err := m.Roster.Verify(Node{RoleCalculator, 2}, msg, sig); err != nil {
			t.Errorf("calculator 2's signature: %v", err)
		}
		if err := m.Roster.Verify(Node{RoleCalculator, 3}, msg, sig); err == nil {
			t.Error("calculator 2's signature accepted as calculator 3's")
		}
		if err := m.Roster.Verify(Node{RoleCalculator, 9}, msg, sig); !errors.Is(err, ErrNotInRoster) {
			t.Errorf("unknown node: %v", err)
		}
	}
	// Node keys survive a round trip and are checked against the roster.
	b, err := dealing.Distributors[1].Marshal()
	if err != nil {
		t.Fatal(err)
	}
	dk, err := ParseDistributorKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if !dk.NodeKey.Public().Equal(dealing.Distributors[1].NodeKey.Public()) || dk.NodeKey.Number != 2 {
		t.Error("distributor key changed in the round trip")
	}
	b, _ = c2.Marshal()
	back, err := ParseCalculatorKey(b)
	if err != nil || !back.NodeKey.Public().Equal(c2.NodeKey.Public()) {
		t.Fatalf("calculator node key round trip: %v", err)
	}
	// A calculator key whose node key is not in its roster is refused.
	other := *c2
	other.NodeKey = dealing.Calculators[0].NodeKey
	if err := other.Validate(); !errors.Is(err, ErrMalformed) {
		t.Errorf("foreign node key: %v", err)
	}
	// Node keys never print.
	seed := fmt.Sprintf("%x", c2.NodeKey.Private.Seed())
	if out := fmt.Sprintf("%v %+v %x %s", c2.NodeKey, c2, c2.NodeKey, dk); strings.Contains(out, seed[:16]) {
		t.Error("a node key printed its seed")
	}
	// The same dealer derives the same node keys again; adding a calculator keeps them.
	before := dl.Roster()
	if _, err := dl.AddCalculator(seeded(7)); err != nil {
		t.Fatal(err)
	}
	after := dl.Roster()
	for _, e := range before {
		k, err := after.Lookup(e.Node)
		if err != nil || !k.Equal(e.Key) {
			t.Errorf("%v changed key after adding a calculator", e.Node)
		}
	}
	if _, err := after.Lookup(Node{RoleCalculator, 4}); err != nil {
		t.Error("the new calculator is not in the roster")
	}
}
