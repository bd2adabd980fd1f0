package main

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tolerantca/tolerant/share/seal"
)

// TestExtend: a calculator added from the dealer's state alone takes part in
// signatures, and every representation dealt before keeps its c_a.
func TestExtend(t *testing.T) {
	keyPath, key := writeKey(t, true)
	old := filepath.Join(t.TempDir(), "old")
	if _, e, err := runCmd(t, "deal", "-key", keyPath, "-k", "4", "-t", "3", "-l", "2", "-out", old, "-insecure-plaintext-keys"); err != nil {
		t.Fatalf("deal: %v\n%s", err, e)
	}
	// The CA key is gone: extend works from the dealer's state.
	os.Remove(keyPath)
	next := filepath.Join(t.TempDir(), "next")
	o, e, err := runCmd(t, "extend", "-cluster", old, "-out", next, "-insecure-plaintext-keys")
	if err != nil {
		t.Fatalf("extend: %v\n%s", err, e)
	}
	if !strings.Contains(o, "added calculator 5") {
		t.Errorf("extend output: %s", o)
	}
	oc, err := seal.LoadPublic(old, testTrust)
	require.NoError(t, err)
	nc, err := seal.LoadPublic(next, testTrust)
	require.NoError(t, err)
	if nc.Plan.K != 5 || !nc.PublicKey.Equal(oc.PublicKey) {
		t.Fatalf("extended plan k=%d", nc.Plan.K)
	}
	for a := range oc.Plan.Combiners {
		before, err := oc.Combiner(a+1, nil)
		require.NoError(t, err)
		after, err := nc.Combiner(a+1, nil)
		require.NoError(t, err)
		for n, e := range before.Entries {
			if !after.Entries[n].Rep.Equal(e.Rep) || after.Entries[n].C.Cmp(e.C) != 0 {
				t.Errorf("combiner %d: %v changed", a+1, e.Rep)
			}
		}
	}
	for j := 1; j <= 4; j++ {
		before, _ := oc.Calculator(j, nil)
		after, _ := nc.Calculator(j, nil)
		for i := range before.Shares {
			if before.Shares[i].Cmp(after.Shares[i]) != 0 {
				t.Errorf("calculator %d share %d changed", j, i+1)
			}
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
	if _, e, err := runCmd(t, "sign", "-cluster", next, "-in", in, "-out", sig); err != nil {
		t.Fatalf("sign with calculators 3, 4, 5: %v\n%s", err, e)
	}
	b, _ := os.ReadFile(sig)
	digest := sha256.Sum256([]byte("to be signed after the extension"))
	require.NoError(t, rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], b), "signature after the extension")
	if _, _, err := runCmd(t, "extend", "-cluster", old, "-out", next, "-insecure-plaintext-keys"); err == nil {
		t.Error("extend overwrote a cluster")
	}
}
