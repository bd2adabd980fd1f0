package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share/seal"
)

// dealPlaintext deals the test key into a new plaintext cluster directory.
func dealPlaintext(t *testing.T, args ...string) string {
	t.Helper()
	keyPath, _ := writeKey(t, true)
	dir := filepath.Join(t.TempDir(), "cluster")
	_, e, err := runCmd(t, append([]string{"deal", "-key", keyPath, "-out", dir, "-insecure-plaintext-keys"}, args...)...)
	require.NoError(t, err, e)
	return dir
}

// heldBy returns, per combiner, every representation in its bundles of the
// cluster directories dirs: what a combiner that kept every bundle knows.
func heldBy(t *testing.T, dirs ...string) [][]grouping.Rep {
	t.Helper()
	var h [][]grouping.Rep
	for _, dir := range dirs {
		c, err := seal.LoadPublic(dir, seal.Trust{InsecureTrustOnFirstUse: true})
		require.NoError(t, err)
		for _, n := range seal.InService(c.Plan) {
			a := n - 1
			ck, err := c.Combiner(n, nil)
			require.NoError(t, err)
			for len(h) <= a {
				h = append(h, nil)
			}
			for _, r := range ck.Reps() {
				if !slices.ContainsFunc(h[a], r.Equal) {
					h[a] = append(h[a], r)
				}
			}
		}
	}
	return h
}

// checkHeld fails unless every combiner (and with pairs every pair), with
// everything it holds, is safe against t-1 of k calculators.
func checkHeld(t *testing.T, h [][]grouping.Rep, k, tt, l int, pairs bool) {
	t.Helper()
	report, err := grouping.Check(&grouping.Plan{K: k, T: tt, L: l, Combiners: h})
	require.NoError(t, err)
	require.True(t, report.Secure, "a combiner's history leaks: %+v", report.Combiners)
	if pairs {
		require.True(t, report.PairsSecure, "a pair's history leaks: %+v", report.Pairs)
	}
}

// TestRegressionExtendTrustsPlanJSON: extend works from the sealed plan; a
// plan.json with two combiners' lists swapped is refused, first by the
// dealer's signature of the public files (cluster.sig). The check behind
// it, against the sealed state, has its own test in share/seal
// (TestDealerRefusesTamperedPlan).
func TestRegressionExtendTrustsPlanJSON(t *testing.T) {
	dir := dealPlaintext(t, "-k", "5", "-t", "3", "-l", "2")
	path := filepath.Join(dir, seal.PlanFile)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var p grouping.Plan
	require.NoError(t, json.Unmarshal(b, &p))
	require.GreaterOrEqual(t, len(p.Combiners), 2)
	p.Combiners[0], p.Combiners[1] = p.Combiners[1], p.Combiners[0]
	b, err = json.Marshal(&p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	next := filepath.Join(t.TempDir(), "next")
	_, e, err := runCmd(t, "extend", "-cluster", dir, "-out", next, "-insecure-plaintext-keys")
	require.ErrorIs(t, err, seal.ErrBadSignature, e)
	_, err = os.Stat(next)
	require.ErrorIs(t, err, os.ErrNotExist, "nothing written")
}

// TestRegressionRetireThenAdd: retire then extend, for (6,3,2) and every
// calculator: no combiner that kept all its bundles recovers d with two
// calculators, and the retired cluster signs without the retired one.
func TestRegressionRetireThenAdd(t *testing.T) {
	dir := dealPlaintext(t, "-k", "6", "-t", "3", "-l", "2")
	for j := 1; j <= 6; j++ {
		retired := filepath.Join(t.TempDir(), "retired")
		o, e, err := runCmd(t, "retire", "-cluster", dir, "-calculator", strconv.Itoa(j), "-out", retired, "-insecure-plaintext-keys")
		require.NoError(t, err, e)
		require.Contains(t, o, "retired calculator "+strconv.Itoa(j))
		rc, err := seal.LoadPublic(retired, seal.Trust{InsecureTrustOnFirstUse: true})
		require.NoError(t, err)
		require.Equal(t, []int{j}, rc.Plan.Retired)
		next := filepath.Join(t.TempDir(), "next")
		_, e, err = runCmd(t, "extend", "-cluster", retired, "-out", next, "-insecure-plaintext-keys")
		require.NoError(t, err, e)
		checkHeld(t, heldBy(t, dir, retired, next), 7, 3, 2, false)
		if j == 1 {
			require.NoError(t, os.Remove(filepath.Join(retired, calculatorFile(1))))
			in := filepath.Join(t.TempDir(), "tbs")
			require.NoError(t, os.WriteFile(in, []byte("signed without calculator 1"), 0o600))
			_, e, err := runCmd(t, "sign", "-cluster", retired, "-in", in, "-out", in+".sig")
			require.NoError(t, err, e)
		}
	}
	_, _, err := runCmd(t, "retire", "-cluster", dir, "-calculator", "9", "-out", filepath.Join(t.TempDir(), "x"), "-insecure-plaintext-keys")
	require.ErrorIs(t, err, grouping.ErrNoCalculator)
	_, _, err = runCmd(t, "retire", "-cluster", dir, "-out", filepath.Join(t.TempDir(), "x"), "-insecure-plaintext-keys")
	require.ErrorIs(t, err, errUsage)
}

// TestRegressionExtendLosesPairs: a plan of "plan -pairs" is dealt with
// deal -plan FILE -pairs, and extend and retire keep every pair safe.
func TestRegressionExtendLosesPairs(t *testing.T) {
	o, _, err := runCmd(t, "plan", "-k", "5", "-t", "3", "-l", "2", "-pairs")
	require.NoError(t, err)
	planPath := filepath.Join(t.TempDir(), "plan.json")
	require.NoError(t, os.WriteFile(planPath, []byte(o), 0o644))
	dir := dealPlaintext(t, "-plan", planPath, "-pairs")
	next := filepath.Join(t.TempDir(), "next")
	_, e, err := runCmd(t, "extend", "-cluster", dir, "-out", next, "-insecure-plaintext-keys")
	require.NoError(t, err, e)
	checkHeld(t, heldBy(t, dir, next), 6, 3, 2, true)
	// A pair-safe plan has small combiners: retiring a calculator may leave
	// one with nothing that fits; retire refuses then.
	done, extended := 0, 0
	for j := 1; j <= 6; j++ {
		retired := filepath.Join(t.TempDir(), "retired")
		_, e, err = runCmd(t, "retire", "-cluster", next, "-calculator", strconv.Itoa(j), "-out", retired, "-insecure-plaintext-keys")
		if err != nil {
			require.ErrorIs(t, err, errEmptyCombiner, e)
			continue
		}
		done++
		checkHeld(t, heldBy(t, dir, next, retired), 6, 3, 2, true)
		// Pair mode may find no place for a new calculator set: extend
		// refuses rather than deal a leaking pair.
		again := filepath.Join(t.TempDir(), "again")
		_, e, err = runCmd(t, "extend", "-cluster", retired, "-out", again, "-insecure-plaintext-keys")
		if err != nil {
			require.ErrorIs(t, err, grouping.ErrInsecure, e)
			continue
		}
		extended++
		checkHeld(t, heldBy(t, dir, next, retired, again), 7, 3, 2, true)
	}
	t.Logf("pair-safe (6,3,2): %d of 6 calculators retired, %d of those then extended", done, extended)
	require.Positive(t, done)

	// deal -pairs without -plan searches a pair-safe plan.
	dir2 := dealPlaintext(t, "-k", "5", "-t", "3", "-l", "2", "-pairs")
	checkHeld(t, heldBy(t, dir2), 5, 3, 2, true)
}

// TestDealPlanErrors: deal -plan refuses an insecure plan, a plan that
// misses -pairs or -r, and -k/-t/-l that disagree with it.
func TestDealPlanErrors(t *testing.T) {
	keyPath, _ := writeKey(t, true)
	write := func(p string) string {
		path := filepath.Join(t.TempDir(), "plan.json")
		require.NoError(t, os.WriteFile(path, []byte(p), 0o644))
		return path
	}
	unsafe := write(`{"k":4,"t":3,"l":1,"combiners":[[[[1,1],[2,1],[3,1]],[[1,1],[2,1],[4,1]],[[1,1],[3,1],[4,1]]],[[[2,1],[3,1],[4,1]]]]}`)
	patent := write(`{"k":5,"t":3,"l":2,"combiners":` + patentCombiners(t) + `}`)
	for _, tc := range []struct {
		args []string
		want error
		text string
	}{
		{[]string{"-plan", unsafe}, grouping.ErrInsecure, "combiner 1 with calculators [1 2]"},
		{[]string{"-plan", patent, "-pairs"}, grouping.ErrInsecure, "-pairs"},
		{[]string{"-plan", patent, "-r", "2"}, grouping.ErrIncomplete, "-r 2"},
		{[]string{"-plan", patent, "-k", "6"}, nil, "-k 6"},
	} {
		_, e, err := runCmd(t, append([]string{"deal", "-key", keyPath, "-out", filepath.Join(t.TempDir(), "x"), "-insecure-plaintext-keys"}, tc.args...)...)
		require.Error(t, err, "%v", tc.args)
		if tc.want != nil {
			require.ErrorIs(t, err, tc.want, "%v: %s", tc.args, e)
		}
		require.Contains(t, err.Error(), tc.text)
	}
	dir := filepath.Join(t.TempDir(), "ok")
	_, e, err := runCmd(t, "deal", "-key", keyPath, "-out", dir, "-insecure-plaintext-keys", "-plan", patent)
	require.NoError(t, err, e)
	c, err := seal.LoadPublic(dir, seal.Trust{InsecureTrustOnFirstUse: true})
	require.NoError(t, err)
	require.Equal(t, 5, c.Plan.K)
}

// patentCombiners returns the combiners of the patent's plan as JSON.
func patentCombiners(t *testing.T) string {
	b, err := json.Marshal(grouping.PatentPlan().Combiners)
	require.NoError(t, err)
	return string(b)
}

// TestExtendRefusesStateWithoutHistory: a dealer's state written before the
// history was recorded (version 1) is not extended or retired.
func TestExtendRefusesStateWithoutHistory(t *testing.T) {
	dir := dealPlaintext(t, "-k", "4", "-t", "3", "-l", "2")
	path := filepath.Join(dir, seal.DealerFile(seal.PlaintextExt))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, f := range []string{"plan", "history", "redundancy", "pairs"} {
		delete(m, f)
	}
	m["format"] = "tolerant dealer state v1"
	b, err = json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o600))
	for _, cmd := range [][]string{{"extend"}, {"retire", "-calculator", "1"}} {
		_, _, err := runCmd(t, append(cmd, "-cluster", dir, "-out", filepath.Join(t.TempDir(), "x"), "-insecure-plaintext-keys")...)
		require.ErrorIs(t, err, errNoPlan)
		require.True(t, strings.Contains(err.Error(), "new -epoch"))
	}
}

func TestRetireUsage(t *testing.T) {
	for _, cmd := range []string{"retire", "extend"} {
		_, e, err := runCmd(t, cmd, "-h")
		require.NoError(t, err)
		require.Contains(t, e, "Usage: tolerant "+cmd)
		_, _, err = runCmd(t, cmd, "-cluster", "x")
		require.ErrorIs(t, err, errUsage)
	}
	o, _, err := runCmd(t, "help")
	require.NoError(t, err)
	require.Contains(t, o, "tolerant retire")
}

// TestSealedRetire: retire re-seals every bundle to the recipients and the
// dealer's state to the passphrase.
func TestSealedRetire(t *testing.T) {
	fastScrypt(t)
	_, recipients, passFile, _ := sealedSetup(t)
	keyPath, _ := writeKey(t, false)
	dir := filepath.Join(t.TempDir(), "cluster")
	_, e, err := runCmd(t, "deal", "-key", keyPath, "-k", "4", "-t", "2", "-l", "2", "-out", dir,
		"-recipients", recipients, "-passphrase-file", passFile)
	require.NoError(t, err, e)
	out := filepath.Join(t.TempDir(), "retired")
	o, e, err := runCmd(t, "retire", "-cluster", dir, "-calculator", "4", "-out", out,
		"-recipients", recipients, "-passphrase-file", passFile)
	require.NoError(t, err, e)
	require.Contains(t, o, "retired calculator 4")
	c, err := seal.LoadPublic(out, seal.Trust{InsecureTrustOnFirstUse: true})
	require.NoError(t, err)
	require.True(t, c.Sealed())
	require.Equal(t, []int{4}, c.Plan.Retired)
	pass, err := os.ReadFile(passFile)
	require.NoError(t, err)
	dl, err := c.Dealer(strings.TrimSpace(string(pass)))
	require.NoError(t, err)
	require.True(t, dl.Plan().Equal(c.Plan))
	// A plaintext flag on a sealed cluster is refused.
	_, _, err = runCmd(t, "retire", "-cluster", dir, "-calculator", "4", "-out", filepath.Join(t.TempDir(), "x"), "-insecure-plaintext-keys")
	require.Error(t, err)
}
