package seal

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/share"
)

// put replaces the file at path with b.
func put(t *testing.T, path string, b []byte) {
	t.Helper()
	os.Remove(path)
	require.NoError(t, os.WriteFile(path, b, 0o600))
}

// forgedCalculator is what anyone can build from the public files alone:
// calculator j of tc's key, with shares and a node key of the forger's.
func forgedCalculator(t *testing.T, tc *testCluster, j int) *share.CalculatorKey {
	t.Helper()
	real := tc.d.Calculators[j-1]
	_, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	forged := &share.CalculatorKey{Meta: real.Meta, Number: j,
		NodeKey: &share.NodeKey{Node: share.Node{Role: share.RoleCalculator, Number: j}, Private: priv}}
	forged.Roster = append(share.Roster(nil), real.Roster...)
	for i := range forged.Roster {
		if forged.Roster[i].Node == forged.NodeKey.Node {
			forged.Roster[i].Key = forged.NodeKey.Public()
		}
	}
	for range real.Shares {
		forged.Shares = append(forged.Shares, big.NewInt(42))
	}
	return forged
}

// A bundle sealed to a node's public recipient by someone without the
// dealer's key used to load: its origin was never checked.
func TestRegressionForgedBundleToRecipient(t *testing.T) {
	tc := newTestCluster(t)
	dir := t.TempDir()
	tc.write(t, dir)
	n := share.Node{Role: share.RoleCalculator, Number: 1}
	path := filepath.Join(dir, BundleFile(n, SealedExt))
	forged := forgedCalculator(t, tc, 1)
	material, err := forged.Marshal()
	require.NoError(t, err)

	// The forger seals the bare key material, as bundles were before.
	sealed, err := Seal(material, tc.ids[n].Recipient())
	require.NoError(t, err)
	put(t, path, sealed)
	_, err = LoadCalculator(path, tc.ids[n], tc.trust())
	require.ErrorIs(t, err, ErrUnsigned)

	// The forger signs it with a dealer key of its own.
	other := newTestClusterSeed(t, 9)
	forged.DealerKey = other.dl.DealerKey()
	material, err = forged.Marshal()
	require.NoError(t, err)
	signed, err := signBundle(other.dl, n, forged.KeyID, forged.Epoch, material)
	require.NoError(t, err)
	sealed, err = Seal(signed, tc.ids[n].Recipient())
	require.NoError(t, err)
	put(t, path, sealed)
	_, err = LoadCalculator(path, tc.ids[n], tc.trust())
	require.ErrorIs(t, err, ErrWrongDealer)

	// The forger names the trusted dealer key, but cannot sign with it.
	var sb signedBundle
	require.NoError(t, json.Unmarshal(signed, &sb))
	sb.DealerKey = tc.dl.DealerKey()
	signed, err = json.Marshal(sb)
	require.NoError(t, err)
	sealed, err = Seal(signed, tc.ids[n].Recipient())
	require.NoError(t, err)
	put(t, path, sealed)
	_, err = LoadCalculator(path, tc.ids[n], tc.trust())
	require.ErrorIs(t, err, ErrBadSignature)

	// Trust on first use accepts only a signature that verifies.
	_, err = LoadCalculator(path, tc.ids[n], Trust{InsecureTrustOnFirstUse: true})
	require.ErrorIs(t, err, ErrBadSignature)
}

// A bundle of epoch E+1 of the same dealer, in a cluster of epoch E.
func TestRegressionMixedEpochBundle(t *testing.T) {
	tc := newTestCluster(t) // epoch 7
	dir := t.TempDir()
	tc.write(t, dir)
	c, err := LoadPublic(dir, tc.trust())
	require.NoError(t, err)

	// The same dealer's state, dealt again at epoch 8.
	state, err := tc.dl.MarshalState()
	require.NoError(t, err)
	state = bytes.Replace(state, []byte(`"epoch": 7`), []byte(`"epoch": 8`), 1)
	next, err := share.ParseDealerState(state)
	require.NoError(t, err)
	require.Equal(t, tc.dl.DealerKey(), next.DealerKey(), "the dealer key does not depend on the epoch")
	d8, err := next.Deal(tc.d.Plan)
	require.NoError(t, err)
	tc8 := &testCluster{dl: next, d: d8, ids: tc.ids, rc: tc.rc}
	dir8 := t.TempDir()
	tc8.write(t, dir8)

	n := share.Node{Role: share.RoleCalculator, Number: 2}
	b, err := os.ReadFile(filepath.Join(dir8, BundleFile(n, SealedExt)))
	require.NoError(t, err)
	path := c.Path(n)
	put(t, path, b)
	_, err = c.Calculator(2, tc.ids[n])
	require.ErrorIs(t, err, ErrWrongEpoch)
	// A node that expects epoch 7 refuses it on its own.
	seven := uint32(7)
	_, err = LoadCalculator(path, tc.ids[n], Trust{DealerKey: tc.dl.DealerKey(), Epoch: &seven})
	require.ErrorIs(t, err, ErrWrongEpoch)
	// The public files of epoch 8 are refused as epoch 7's.
	_, err = LoadPublic(dir8, Trust{DealerKey: tc.dl.DealerKey(), Epoch: &seven})
	require.ErrorIs(t, err, ErrWrongEpoch)
	// Mixing the public files of both epochs is refused.
	rosterB, err := os.ReadFile(filepath.Join(dir8, RosterFile))
	require.NoError(t, err)
	put(t, filepath.Join(dir, RosterFile), rosterB)
	_, err = LoadPublic(dir, tc.trust())
	require.ErrorIs(t, err, ErrBadSignature)
}

// A public file edited after dealing, consistently with the others, used
// to load: here a calculator's roster key replaced by the forger's.
func TestRegressionPublicFileEditedAfterDealing(t *testing.T) {
	tc := newTestCluster(t)
	dir := t.TempDir()
	tc.write(t, dir)
	forged := forgedCalculator(t, tc, 1)
	roster, err := json.MarshalIndent(forged.Roster, "", "  ")
	require.NoError(t, err)
	put(t, filepath.Join(dir, RosterFile), append(roster, '\n'))
	_, err = LoadPublic(dir, tc.trust())
	require.ErrorIs(t, err, ErrBadSignature)
	require.Contains(t, err.Error(), RosterFile)

	// Removing the signature does not help.
	require.NoError(t, os.Remove(filepath.Join(dir, SignatureFile)))
	_, err = LoadPublic(dir, tc.trust())
	require.ErrorIs(t, err, ErrUnsigned)
}

// A cluster re-signed by another dealer (public files and bundles) is
// refused by a node that pinned the first dealer.
func TestRegressionBundleResignedByAnotherDealer(t *testing.T) {
	tc := newTestCluster(t)
	other := newTestClusterSeed(t, 2) // another dealing of the same CA key
	other.ids, other.rc = tc.ids, tc.rc
	dir := t.TempDir()
	other.write(t, dir)
	n := share.Node{Role: share.RoleCalculator, Number: 1}
	path := filepath.Join(dir, BundleFile(n, SealedExt))

	_, err := LoadPublic(dir, tc.trust())
	require.ErrorIs(t, err, ErrWrongDealer)
	_, err = LoadCalculator(path, tc.ids[n], tc.trust())
	require.ErrorIs(t, err, ErrWrongDealer)
	// Its own dealer's material, re-signed by the other dealer.
	material, err := tc.d.Calculators[0].Marshal()
	require.NoError(t, err)
	signed, err := signBundle(other.dl, n, tc.dl.KeyID(), 7, material)
	require.NoError(t, err)
	sealed, err := Seal(signed, tc.ids[n].Recipient())
	require.NoError(t, err)
	put(t, path, sealed)
	_, err = LoadCalculator(path, tc.ids[n], tc.trust())
	require.ErrorIs(t, err, ErrWrongDealer)
	_, err = LoadCalculator(path, tc.ids[n], Trust{InsecureTrustOnFirstUse: true})
	require.ErrorIs(t, err, ErrBadSignature, "the material names another dealer than its signer")
	// The other dealer's state is not this cluster's dealer.
	good := t.TempDir()
	tc.write(t, good)
	c, err := LoadPublic(good, tc.trust())
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, DealerFile(SealedExt)))
	require.NoError(t, err)
	put(t, filepath.Join(good, DealerFile(SealedExt)), b)
	_, err = c.Dealer(testPassphrase)
	require.ErrorIs(t, err, ErrWrongDealer)
}

// A signed bundle whose header is changed no longer verifies.
func TestSignedBundleHeader(t *testing.T) {
	tc := newTestCluster(t)
	dir := tc.writePlaintext(t)
	path := filepath.Join(dir, BundleFile(share.Node{Role: share.RoleCalculator, Number: 1}, PlaintextExt))
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	ck, err := InsecureLoadPlaintextCalculator(path, tc.trust())
	require.NoError(t, err)
	require.Equal(t, tc.dl.DealerKey(), ck.DealerKey)

	for name, edit := range map[string]func(*signedBundle){
		"number": func(sb *signedBundle) { sb.Number = 2 },
		"epoch":  func(sb *signedBundle) { sb.Epoch = 8 },
		"key id": func(sb *signedBundle) { sb.KeyID = "other" },
		"signature": func(sb *signedBundle) {
			sb.Signature = bytes.Clone(sb.Signature)
			sb.Signature[0] ^= 1
		},
		"material": func(sb *signedBundle) {
			sb.Material = bytes.Replace(sb.Material, []byte(`"j": 1`), []byte(`"j": 2`), 1)
		},
	} {
		var sb signedBundle
		require.NoError(t, json.Unmarshal(orig, &sb))
		edit(&sb)
		b, err := json.Marshal(sb)
		require.NoError(t, err)
		put(t, path, b)
		_, err = InsecureLoadPlaintextCalculator(path, tc.trust())
		require.ErrorIs(t, err, ErrBadSignature, name)
	}
	// A combiner's signed bundle is not a calculator's.
	b, err := os.ReadFile(filepath.Join(dir, BundleFile(share.Node{Role: share.RoleCombiner, Number: 1}, PlaintextExt)))
	require.NoError(t, err)
	put(t, path, b)
	_, err = InsecureLoadPlaintextCalculator(path, tc.trust())
	require.ErrorIs(t, err, ErrWrongNode)
}

// Without a dealer key, nothing loads unless trust on first use is asked
// for by name.
func TestZeroTrustRefuses(t *testing.T) {
	tc := newTestCluster(t)
	dir := tc.writePlaintext(t)
	_, err := LoadPublic(dir, Trust{})
	require.ErrorIs(t, err, ErrNoTrust)
	path := filepath.Join(dir, BundleFile(share.Node{Role: share.RoleCalculator, Number: 1}, PlaintextExt))
	_, err = InsecureLoadPlaintextCalculator(path, Trust{})
	require.ErrorIs(t, err, ErrNoTrust)
	_, err = InsecureLoadPlaintextCalculator(path, Trust{DealerKey: []byte("short")})
	require.ErrorIs(t, err, ErrNoTrust)

	c, err := LoadPublic(dir, Trust{InsecureTrustOnFirstUse: true})
	require.NoError(t, err)
	require.Equal(t, tc.dl.DealerKey(), c.DealerKey)
}

// Pin records the first dealer and refuses any other afterwards.
func TestPin(t *testing.T) {
	tc := newTestCluster(t)
	pin := filepath.Join(t.TempDir(), "node.key.dealer")
	tr, err := TrustOnFirstUse(pin)
	require.NoError(t, err)
	require.Equal(t, Trust{InsecureTrustOnFirstUse: true}, tr)
	require.NoError(t, Pin(pin, tc.dl.DealerKey()))
	require.NoError(t, Pin(pin, tc.dl.DealerKey()), "pinning the same key again")
	tr, err = TrustOnFirstUse(pin)
	require.NoError(t, err)
	require.Equal(t, Trust{DealerKey: tc.dl.DealerKey()}, tr)
	other := newTestClusterSeed(t, 2)
	require.ErrorIs(t, Pin(pin, other.dl.DealerKey()), ErrWrongDealer)
	fi, err := os.Stat(pin)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	put(t, pin, []byte("not a key\n"))
	_, err = TrustOnFirstUse(pin)
	require.Error(t, err)
	k, err := ParseDealerKey(FormatDealerKey(tc.dl.DealerKey()))
	require.NoError(t, err)
	require.Equal(t, tc.dl.DealerKey(), k)
}

// Bundles written before dealers signed are refused with a clear error,
// sealed or plaintext, and so is a cluster directory without cluster.sig.
func TestUnsignedRefused(t *testing.T) {
	tc := newTestCluster(t)
	dir := tc.writePlaintext(t)
	path := filepath.Join(dir, BundleFile(share.Node{Role: share.RoleCombiner, Number: 1}, PlaintextExt))
	old, err := tc.d.Combiners[0].Marshal()
	require.NoError(t, err)
	put(t, path, old)
	_, err = InsecureLoadPlaintextCombiner(path, tc.trust())
	require.ErrorIs(t, err, ErrUnsigned)
	require.Contains(t, err.Error(), "deal the cluster again")
	require.NotContains(t, err.Error(), tc.d.Combiners[0].Entries[0].C.Text(16)[:16])
	put(t, path, []byte(`{"format": "tolerant combiner key v1", "c": "not json`))
	_, err = InsecureLoadPlaintextCombiner(path, tc.trust())
	require.ErrorIs(t, err, share.ErrMalformed)

	require.NoError(t, os.Remove(filepath.Join(dir, SignatureFile)))
	_, err = LoadPublic(dir, tc.trust())
	require.ErrorIs(t, err, ErrUnsigned)
}

// SignedBundle signs one node's material as WriteCluster does.
func TestSignedBundle(t *testing.T) {
	tc := newTestCluster(t)
	n := share.Node{Role: share.RoleCombiner, Number: 1}
	material := tc.marshal(t, n)
	pt, err := SignedBundle(tc.dl, n, material)
	require.NoError(t, err)
	sealed, err := Seal(pt, tc.ids[n].Recipient())
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), BundleFile(n, SealedExt))
	put(t, path, sealed)
	ck, err := LoadCombiner(path, tc.ids[n], tc.trust())
	require.NoError(t, err)
	back, err := ck.Marshal()
	require.NoError(t, err)
	require.Equal(t, material, back)
	_, err = SignedBundle(tc.dl, n, []byte("not key material"))
	require.Error(t, err)
	_, err = SignedBundle(tc.dl, n, []byte(`{"key_id": "another key"}`))
	require.Error(t, err)
}

// Whatever a bundle's plaintext holds, opening it never panics and never
// accepts what the dealer did not sign.
func FuzzOpenBundle(f *testing.F) {
	tc := newTestCluster(f)
	n := share.Node{Role: share.RoleCalculator, Number: 1}
	good, err := SignedBundle(tc.dl, n, tc.marshal(f, n))
	require.NoError(f, err)
	f.Add(good)
	f.Add(tc.marshal(f, n))
	f.Add([]byte(`{"format":"tolerant signed bundle v1","role":"calculator","number":1}`))
	f.Add([]byte(`{`))
	trust := tc.trust()
	f.Fuzz(func(t *testing.T, b []byte) {
		sb, err := openBundle(b, share.RoleCalculator, trust)
		if err != nil {
			return
		}
		msg := bundleMessage(share.Node{Role: sb.Role, Number: sb.Number}, sb.KeyID, sb.Epoch, sb.Material)
		require.True(t, share.VerifyDealer(tc.dl.DealerKey(), msg, sb.Signature))
	})
}
