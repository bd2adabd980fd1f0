package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// change runs a cluster-changing command from dir into a new directory
// and returns it.
func change(t *testing.T, dir string, args ...string) (string, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "changed")
	cmd := append(append([]string(nil), args...), "-cluster", dir, "-out", out, "-insecure-plaintext-keys")
	o, e, err := runCmd(t, cmd...)
	require.NoError(t, err, e)
	return out, o
}

// TestMembershipWhileSigning: a cluster signs continuously, on the
// in-memory transport, while a calculator is retired, a combiner added
// and a combiner removed, each node restarted with its new bundle one by
// one; no request fails and signing goes on between every two restarts.
func TestMembershipWhileSigning(t *testing.T) {
	dir0 := dealPlaintext(t, "-k", "5", "-t", "3", "-l", "2", "-r", "2")
	lv := newLive(t)
	c0 := lv.load(dir0)
	lv.startAll("g0", c0)
	lv.useDistributor(c0)
	lv.startSigning(2)
	lv.waitSigned(3)

	// Retire calculator 5: combiners first (they drop its
	// representations), then the other calculators, the distributor, and
	// calculator 5 is stopped.
	dir1, o := change(t, dir0, "retire", "-calculator", "5")
	require.Contains(t, o, "retired calculator 5")
	c1 := lv.load(dir1)
	rollTo(lv, c1, seal.InService(c1.Plan), 4)
	lv.stop(nodeName("g0", share.RoleCalculator, 5))
	lv.waitSigned(3)

	// Add a combiner: it starts first, then every node takes the roster
	// that lists it.
	dir2, o := change(t, dir1, "combiner", "add")
	c2 := lv.load(dir2)
	in1, in2 := seal.InService(c1.Plan), seal.InService(c2.Plan)
	added := in2[len(in2)-1]
	require.Equal(t, len(c1.Plan.Combiners)+1, added)
	require.Contains(t, o, "added combiner "+strconv.Itoa(added))
	lv.start(nodeName("g0", share.RoleCombiner, added), c2, share.Node{Role: share.RoleCombiner, Number: added})
	rollTo(lv, c2, in1, 4)
	lv.waitSigned(3)

	// Remove combiner 1: every other node takes the roster without it,
	// then it is stopped.
	dir3, o := change(t, dir2, "combiner", "remove", "-combiner", "1")
	require.Contains(t, o, "removed combiner 1")
	c3 := lv.load(dir3)
	_, err := os.Stat(filepath.Join(dir3, seal.BundleFile(share.Node{Role: share.RoleCombiner, Number: 1}, seal.PlaintextExt)))
	require.ErrorIs(t, err, os.ErrNotExist, "a removed combiner gets no bundle")
	rollTo(lv, c3, seal.InService(c3.Plan), 4)
	lv.stop(nodeName("g0", share.RoleCombiner, 1))
	lv.waitSigned(3)

	lv.stopSigning()
	lv.requireNoFailure()
	t.Logf("%d signatures through retire, combiner add and combiner remove, none failed", lv.signedCount())

	// Every combiner, with all it was dealt, stays safe.
	checkHeld(t, heldBy(t, dir0, dir1, dir2, dir3), 5, 3, 2, false)
}

// rollTo moves the running group g0 to c: it restarts combiners and
// calculators 1 to k with c's bundles, then sends new requests with c's
// distributor.
func rollTo(lv *live, c *seal.Cluster, combiners []int, k int) {
	for _, a := range combiners {
		lv.restart(nodeName("g0", share.RoleCombiner, a), c, share.Node{Role: share.RoleCombiner, Number: a})
	}
	for j := 1; j <= k; j++ {
		lv.restart(nodeName("g0", share.RoleCalculator, j), c, share.Node{Role: share.RoleCalculator, Number: j})
	}
	lv.useDistributor(c)
}

// TestCombinerCommands: add and remove checked against the recorded
// redundancy; the removed number is never reused; "tolerant sign" runs
// the changed cluster.
func TestCombinerCommands(t *testing.T) {
	dir := dealPlaintext(t, "-k", "5", "-t", "3", "-l", "2")
	c := mustLoad(t, dir)
	m := len(c.Plan.Combiners)

	// Redundancy 1 and one combiner per set: removing one is refused, even
	// when forced below the redundancy, since a set would have none.
	_, _, err := runCmd(t, "combiner", "remove", "-cluster", dir, "-combiner", "1", "-out", filepath.Join(t.TempDir(), "x"), "-insecure-plaintext-keys", "-insecure-below-redundancy")
	if err == nil {
		t.Skip("the plan serves combiner 1's sets twice")
	}
	require.ErrorContains(t, err, "no combiner")

	// A copy of combiner 1 first, then combiner 1 can go.
	added, o := change(t, dir, "combiner", "add", "-copy", "1")
	require.Regexp(t, "added combiner "+strconv.Itoa(m+1)+" to key .*, serving what combiner 1 serves", o)
	removed, _ := change(t, added, "combiner", "remove", "-combiner", "1")
	rc := mustLoad(t, removed)
	require.Empty(t, rc.Plan.Combiners[0])
	require.Equal(t, c.Plan.Combiners[0], rc.Plan.Combiners[m])
	again, o := change(t, removed, "combiner", "add")
	require.Contains(t, o, "added combiner "+strconv.Itoa(m+2))
	in := filepath.Join(t.TempDir(), "tbs")
	require.NoError(t, os.WriteFile(in, []byte("signed by a changed cluster"), 0o600))
	_, e, err := runCmd(t, "sign", "-cluster", again, "-in", in, "-out", in+".sig")
	require.NoError(t, err, e)
	require.NotContains(t, e, "no key files", "a removed combiner is not missing")

	// Copying a removed combiner is allowed (what it served); retire and
	// extend keep combiner 1 empty.
	_, o = change(t, again, "combiner", "add", "-copy", "1")
	require.Contains(t, o, "added combiner "+strconv.Itoa(m+3))
	retired, _ := change(t, again, "retire", "-calculator", "2")
	require.Empty(t, mustLoad(t, retired).Plan.Combiners[0])
	extended, _ := change(t, retired, "extend")
	require.Empty(t, mustLoad(t, extended).Plan.Combiners[0])
	checkHeld(t, heldBy(t, dir, added, removed, again, retired, extended), 6, 3, 2, false)

	// With redundancy 2, a removal that leaves a set with one combiner is
	// refused unless forced, and forcing it lowers the redundancy.
	dir2 := dealPlaintext(t, "-k", "5", "-t", "3", "-l", "2", "-r", "2")
	for a := 1; ; a++ {
		_, _, err := runCmd(t, "combiner", "remove", "-cluster", dir2, "-combiner", strconv.Itoa(a), "-out", filepath.Join(t.TempDir(), "x"), "-insecure-plaintext-keys")
		if err != nil {
			require.ErrorIs(t, err, share.ErrBelowRedundancy)
			_, o := change(t, dir2, "combiner", "remove", "-combiner", strconv.Itoa(a), "-insecure-below-redundancy")
			require.Contains(t, o, "redundancy is now 1 (was 2)")
			break
		}
		require.Less(t, a, len(mustLoad(t, dir2).Plan.Combiners))
	}

	for _, args := range [][]string{{"combiner"}, {"combiner", "rename"}, {"combiner", "remove", "-cluster", dir, "-out", "x", "-insecure-plaintext-keys"},
		{"combiner", "add", "-no-such-flag"}, {"refresh", "-cluster", dir}} {
		_, _, err := runCmd(t, args...)
		require.ErrorIs(t, err, errUsage, "%v", args)
	}
	for _, args := range [][]string{{"combiner", "-h"}, {"combiner", "add", "-h"}, {"combiner", "remove", "-h"}, {"refresh", "-h"}} {
		_, e, err := runCmd(t, args...)
		require.NoError(t, err, "%v", args)
		require.Contains(t, e, "Usage: tolerant "+args[0])
	}
	o, _, err = runCmd(t, "help")
	require.NoError(t, err)
	require.Contains(t, o, "tolerant refresh")
	require.Contains(t, o, "tolerant combiner add")
}

func mustLoad(t *testing.T, dir string) *seal.Cluster {
	t.Helper()
	c, err := seal.LoadPublic(dir, seal.Trust{InsecureTrustOnFirstUse: true})
	require.NoError(t, err)
	return c
}
