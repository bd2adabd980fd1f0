package main

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tolerantca/tolerant/share/seal"
)

// TestExtend: a calculator added from the dealer's state alone takes part in
// signatures, and every representation dealt before keeps its c_a.
func TestExtend(t *testing.T) {
	keyPath, key := writeKey(t, true)
	old := filepath.Join(t.TempDir(), "old")
	_, e, err := runCmd(t, "deal", "-key", keyPath, "-k", "4", "-t", "3", "-l", "2", "-out", old, "-insecure-plaintext-keys")
	require.NoError(t, err, "deal\n%s", e)
	// The CA key is gone: extend works from the dealer's state.
	os.Remove(keyPath)
	next := filepath.Join(t.TempDir(), "next")
	o, e, err := runCmd(t, "extend", "-cluster", old, "-out", next, "-insecure-plaintext-keys")
	require.NoError(t, err, "extend\n%s", e)
	assert.Contains(t, o, "added calculator 5", "extend output")
	oc, err := seal.LoadPublic(old, testTrust)
	require.NoError(t, err)
	nc, err := seal.LoadPublic(next, testTrust)
	require.NoError(t, err)
	require.Equal(t, 5, nc.Plan.K, "extended plan k")
	require.True(t, nc.PublicKey.Equal(oc.PublicKey), "the extended cluster has another public key")
	for a := range oc.Plan.Combiners {
		before, err := oc.Combiner(a+1, nil)
		require.NoError(t, err)
		after, err := nc.Combiner(a+1, nil)
		require.NoError(t, err)
		// The c_a are secret: a failure names the entry, not its value.
		for n, e := range before.Entries {
			assert.Equal(t, e.Rep, after.Entries[n].Rep, "combiner %d: entry %d's representation", a+1, n)
			assert.Zero(t, after.Entries[n].C.Cmp(e.C), "combiner %d: %v changed its c_a", a+1, e.Rep)
		}
	}
	for j := 1; j <= 4; j++ {
		before, err := oc.Calculator(j, nil)
		require.NoError(t, err)
		after, err := nc.Calculator(j, nil)
		require.NoError(t, err)
		for i := range before.Shares {
			assert.Zero(t, before.Shares[i].Cmp(after.Shares[i]), "calculator %d share %d changed", j, i+1)
		}
	}
	// Calculators 1 and 2 are gone: only {3,4,5} is left, so calculator 5's
	// new representations must sign.
	for _, j := range []int{1, 2} {
		require.NoError(t, os.Remove(filepath.Join(next, calculatorFile(j))))
	}
	in := filepath.Join(t.TempDir(), "tbs")
	os.WriteFile(in, []byte("to be signed after the extension"), 0o600)
	sig := in + ".sig"
	_, e, err = runCmd(t, "sign", "-cluster", next, "-in", in, "-out", sig)
	require.NoError(t, err, "sign with calculators 3, 4, 5\n%s", e)
	b, _ := os.ReadFile(sig)
	digest := sha256.Sum256([]byte("to be signed after the extension"))
	require.NoError(t, rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], b), "signature after the extension")
	_, _, err = runCmd(t, "extend", "-cluster", old, "-out", next, "-insecure-plaintext-keys")
	assert.Error(t, err, "extend overwrote a cluster")
}
