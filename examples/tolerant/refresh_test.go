package main

import (
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// TestRefreshCutover: "tolerant refresh" writes epoch 1 of the same key;
// the nodes of epoch 1 start next to those of epoch 0 on one transport,
// the distributor moves to epoch 1 at the operator's moment and the
// epoch 0 nodes stop: no request fails. Then a task of epoch 0 is refused
// by every node of epoch 1 (its packets do not authenticate: node keys
// differ per epoch) and fails.
func TestRefreshCutover(t *testing.T) {
	dir0 := dealPlaintext(t, "-k", "5", "-t", "3", "-l", "2")
	dir1, o := change(t, dir0, "refresh")
	require.Contains(t, o, "epoch 0 -> 1")
	lv := newLive(t)
	c0, c1 := lv.load(dir0), lv.load(dir1)
	require.Equal(t, uint32(1), c1.Info.Epoch)
	require.True(t, c0.DealerKey.Equal(c1.DealerKey), "the dealer key is the same")
	require.True(t, c0.Plan.Equal(c1.Plan))

	lv.startAll("e0", c0)
	lv.useDistributor(c0)
	lv.startSigning(2)
	lv.waitSigned(3)
	lv.startAll("e1", c1) // both epochs side by side
	lv.waitSigned(3)
	lv.useDistributor(c1) // the operator's moment
	lv.waitSigned(3)
	for j := 1; j <= c0.Plan.K; j++ {
		lv.stop(nodeName("e0", share.RoleCalculator, j))
		lv.waitSigned(1)
	}
	for _, a := range seal.InService(c0.Plan) {
		lv.stop(nodeName("e0", share.RoleCombiner, a))
		lv.waitSigned(1)
	}
	lv.waitSigned(3)
	lv.stopSigning()
	lv.requireNoFailure()
	t.Logf("%d signatures through the cutover from epoch 0 to 1, none failed", lv.signedCount())

	// An old distributor's task now finds no node that accepts it.
	dk, err := c0.Distributor(1, nil)
	require.NoError(t, err)
	old, err := broadcast.NewDistributor(lv.mem.Endpoint("old"), dk, nil)
	require.NoError(t, err)
	defer old.Close()
	sum := sha256.Sum256([]byte("an epoch 0 task after the cutover"))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = old.Sign(ctx, &share.Request{KeyID: dk.KeyID, Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15})
	require.Error(t, err)
	require.True(t, errors.Is(err, broadcast.ErrNotEnoughCalculators) || errors.Is(err, broadcast.ErrDeadline), "%v", err)

	// The refreshed directory can be refreshed again; the dealer keeps
	// both past epochs.
	dir2, o := change(t, dir1, "refresh")
	require.Contains(t, o, "epoch 1 -> 2")
	dl, err := mustLoad(t, dir2).Dealer("")
	require.NoError(t, err)
	past := dl.PastEpochs()
	require.Len(t, past, 2)
	require.Equal(t, uint32(0), past[0].Epoch)
	require.Equal(t, uint32(1), past[1].Epoch)
	// A combiner with its bundles of all three epochs and two calculators
	// with theirs: each epoch is checked on its own (see
	// share.TestRefreshEpochsIndependent for the combined system).
	checkHeld(t, heldBy(t, dir0), 5, 3, 2, false)
	checkHeld(t, heldBy(t, dir1), 5, 3, 2, false)
}

// TestSealedRefreshAndCombiners: on a sealed cluster, refresh keeps the
// nodes' recipients; combiner add needs a recipient for the new combiner
// and remove refuses one for the removed combiner; each result signs.
func TestSealedRefreshAndCombiners(t *testing.T) {
	fastScrypt(t)
	idDir, recipients, passFile, nodes := sealedSetup(t)
	keyPath, _ := writeKey(t, false)
	dir := filepath.Join(t.TempDir(), "cluster")
	_, e, err := runCmd(t, "deal", "-key", keyPath, "-k", "4", "-t", "2", "-l", "2", "-out", dir,
		"-recipients", recipients, "-passphrase-file", passFile)
	require.NoError(t, err, e)
	sealed := func(from string, args ...string) string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "changed")
		_, e, err := runCmd(t, append(args, "-cluster", from, "-out", out, "-recipients", recipients, "-passphrase-file", passFile)...)
		require.NoError(t, err, e)
		return out
	}
	signs := func(dir string) {
		t.Helper()
		in := filepath.Join(t.TempDir(), "tbs")
		require.NoError(t, os.WriteFile(in, []byte("signed by "+dir), 0o600))
		_, e, err := runCmd(t, "sign", "-cluster", dir, "-identities", idDir, "-in", in, "-out", in+".sig")
		require.NoError(t, err, e)
	}
	refreshed := sealed(dir, "refresh")
	require.Equal(t, uint32(1), mustLoad(t, refreshed).Info.Epoch)
	signs(refreshed)

	// The new combiner needs a recipient.
	m := 0
	for _, n := range nodes {
		if n.Role == share.RoleCombiner {
			m = max(m, n.Number)
		}
	}
	_, _, err = runCmd(t, "combiner", "add", "-cluster", refreshed, "-out", filepath.Join(t.TempDir(), "x"), "-recipients", recipients, "-passphrase-file", passFile)
	require.ErrorIs(t, err, seal.ErrRecipients)
	newComb := share.Node{Role: share.RoleCombiner, Number: m + 1}
	line := fmt.Sprintf("combiner %d %s\n", m+1, keygen(t, filepath.Join(idDir, seal.IdentityFile(newComb))))
	f, err := os.OpenFile(recipients, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(line)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	added := sealed(refreshed, "combiner", "add", "-copy", "1")
	signs(added)

	// The removed combiner's recipient must go from the file.
	_, _, err = runCmd(t, "combiner", "remove", "-combiner", "1", "-cluster", added, "-out", filepath.Join(t.TempDir(), "x"), "-recipients", recipients, "-passphrase-file", passFile)
	require.ErrorIs(t, err, seal.ErrRecipients)
	b, err := os.ReadFile(recipients)
	require.NoError(t, err)
	var kept []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "combiner 1 ") {
			kept = append(kept, l)
		}
	}
	require.NoError(t, os.WriteFile(recipients, []byte(strings.Join(kept, "\n")), 0o644))
	removed := sealed(added, "combiner", "remove", "-combiner", "1")
	signs(removed)
}
