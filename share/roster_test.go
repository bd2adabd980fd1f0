package share

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/internal/testplan"
)

func TestRoster(t *testing.T) {
	dl := newDealer(t, testkeys.RSA2048, 3, 2, 1, &Options{Distributors: 2})
	plan := &grouping.Plan{K: 3, T: 2, L: 1, Combiners: [][]grouping.Rep{{testplan.Rep(11, 21)}, {testplan.Rep(11, 31), testplan.Rep(21, 31)}}}
	dealing, err := dl.Deal(plan)
	require.NoError(t, err)
	require.Len(t, dealing.Distributors, 2, "distributors")
	require.Len(t, dl.Roster(), 2+3+2, "roster: 2 distributors, 3 calculators, 2 combiners")
	msg := []byte("packet")
	c2 := dealing.Calculators[1]
	sig := c2.NodeKey.Sign(msg)
	for _, m := range []Meta{dealing.Distributors[0].Meta, dealing.Combiners[1].Meta, c2.Meta} {
		assert.NoError(t, m.Roster.Verify(Node{RoleCalculator, 2}, msg, sig), "calculator 2's signature")
		assert.Error(t, m.Roster.Verify(Node{RoleCalculator, 3}, msg, sig), "calculator 2's signature accepted as calculator 3's")
		assert.ErrorIs(t, m.Roster.Verify(Node{RoleCalculator, 9}, msg, sig), ErrNotInRoster, "unknown node")
	}
	// Node keys survive a round trip and are checked against the roster.
	b, err := dealing.Distributors[1].Marshal()
	require.NoError(t, err)
	dk, err := ParseDistributorKey(b)
	require.NoError(t, err)
	assert.Equal(t, dealing.Distributors[1].NodeKey.Public(), dk.NodeKey.Public(), "distributor node key changed in the round trip")
	assert.Equal(t, 2, dk.NodeKey.Number, "distributor number changed in the round trip")
	b, err = c2.Marshal()
	require.NoError(t, err)
	back, err := ParseCalculatorKey(b)
	require.NoError(t, err, "calculator node key round trip")
	require.Equal(t, c2.NodeKey.Public(), back.NodeKey.Public(), "calculator node key changed in the round trip")
	// A calculator key whose node key is not in its roster is refused.
	other := *c2
	other.NodeKey = dealing.Calculators[0].NodeKey
	assert.ErrorIs(t, other.Validate(), ErrMalformed, "foreign node key accepted")
	// Node keys never print.
	seed := fmt.Sprintf("%x", c2.NodeKey.Private.Seed())
	out := fmt.Sprintf("%v %+v %x %s", c2.NodeKey, c2, c2.NodeKey, dk)
	assert.False(t, strings.Contains(out, seed[:16]), "a node key printed its seed")
	// The same dealer derives the same node keys again; adding a calculator keeps them.
	before := dl.Roster()
	_, err = dl.AddCalculator(testplan.Seeded(7))
	require.NoError(t, err)
	after := dl.Roster()
	for _, e := range before {
		k, err := after.Lookup(e.Node)
		if assert.NoError(t, err, "%v left the roster after adding a calculator", e.Node) {
			assert.Equal(t, e.Key, k, "%v changed key after adding a calculator", e.Node)
		}
	}
	_, err = after.Lookup(Node{RoleCalculator, 4})
	assert.NoError(t, err, "the new calculator is not in the roster")
}

// The dealer's signing key is derived from its state, independent of every
// node key, stable when the cluster grows, and carried by all key material.
func TestDealerKey(t *testing.T) {
	dl := newDealer(t, testkeys.RSA2048, 3, 2, 1, &Options{Distributors: 2})
	plan := &grouping.Plan{K: 3, T: 2, L: 1, Combiners: [][]grouping.Rep{{testplan.Rep(11, 21)}, {testplan.Rep(11, 31), testplan.Rep(21, 31)}}}
	dealing, err := dl.Deal(plan)
	require.NoError(t, err)
	pub := dl.DealerKey()
	require.Len(t, pub, ed25519.PublicKeySize)
	for _, e := range dl.Roster() {
		require.False(t, pub.Equal(e.Key), "the dealer key is %v's key", e.Node)
	}
	for _, m := range []Meta{dealing.Distributors[0].Meta, dealing.Calculators[2].Meta, dealing.Combiners[1].Meta} {
		require.Equal(t, pub, m.DealerKey)
	}
	// Through the key material's JSON and the dealer's state.
	b, err := dealing.Calculators[0].Marshal()
	require.NoError(t, err)
	ck, err := ParseCalculatorKey(b)
	require.NoError(t, err)
	require.Equal(t, pub, ck.DealerKey)
	state, err := dl.MarshalState()
	require.NoError(t, err)
	require.NotContains(t, string(state), "dealer_key", "the state format does not change")
	back, err := ParseDealerState(state)
	require.NoError(t, err)
	require.Equal(t, pub, back.DealerKey())
	_, err = back.AddCalculator(testplan.Seeded(3))
	require.NoError(t, err)
	require.Equal(t, pub, back.DealerKey(), "extending keeps the dealer key")

	// Signatures verify only as the dealer's, under the dealer's context.
	msg := []byte("tolerant bundle\x00...")
	sig := dl.SignAsDealer(msg)
	require.True(t, VerifyDealer(pub, msg, sig))
	require.False(t, VerifyDealer(pub, []byte("other"), sig))
	require.False(t, ed25519.Verify(pub, msg, sig), "a dealer signature is not a plain Ed25519 signature")
	require.False(t, VerifyDealer(pub, msg, sig[:10]))
	plain := ed25519.Sign(dl.dealerSigner(), msg)
	require.False(t, VerifyDealer(pub, msg, plain), "a plain signature is not a dealer signature")
	require.False(t, VerifyDealer(pub[:10], msg, sig))
	other, err := NewDealer(testplan.Seeded(2), testkeys.Must(testkeys.RSA2048), 3, 2, 1, nil)
	require.NoError(t, err)
	require.False(t, pub.Equal(other.DealerKey()), "two dealers of one key have two dealer keys")

	// A dealer key of the wrong length is malformed key material.
	bad := strings.Replace(string(b), `"dealer_key": "`, `"dealer_key": "AAAA`, 1)
	_, err = ParseCalculatorKey([]byte(bad))
	require.ErrorIs(t, err, ErrMalformed)
}
