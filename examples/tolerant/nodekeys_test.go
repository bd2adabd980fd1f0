package main

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// TestNodeBundlesOfTwoDealers: one node identity opens sealed bundles of
// two CAs' keys dealt by two dealers, when -dealer-key names each; a
// bundle of a dealer not named is refused, and without -dealer-key the
// second dealer is refused with a hint.
func TestNodeBundlesOfTwoDealers(t *testing.T) {
	fastScrypt(t)
	idDir, recipients, passFile, _ := sealedSetup(t)
	keyA, _ := writeKey(t, false)
	der, err := x509.MarshalPKCS8PrivateKey(testkeys.Must(testkeys.RSA2048c))
	require.NoError(t, err)
	keyB := filepath.Join(t.TempDir(), "ca2.pem")
	require.NoError(t, os.WriteFile(keyB, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	dirA, dealerA := dealSealed(t, keyA, recipients, passFile)
	dirB, dealerB := dealSealed(t, keyB, recipients, passFile)
	n := share.Node{Role: share.RoleCalculator, Number: 1}
	cfg := &nodeConfig{role: "calculator", identity: filepath.Join(idDir, seal.IdentityFile(n)),
		bundles: listFlag{filepath.Join(dirA, seal.BundleFile(n, seal.SealedExt)), filepath.Join(dirB, seal.BundleFile(n, seal.SealedExt))}}
	log, err := newLogger(io.Discard, "error")
	require.NoError(t, err)

	cfg.dealerKeys = listFlag{dealerB, dealerA}
	keys, err := cfg.open(log)
	require.NoError(t, err)
	require.Len(t, keys, 2)
	require.NotEqual(t, keys[0].meta.KeyID, keys[1].meta.KeyID)

	cfg.dealerKeys = listFlag{dealerA}
	_, err = cfg.open(log)
	require.ErrorIs(t, err, seal.ErrWrongDealer)

	cfg.dealerKeys = nil // the first dealer is pinned, the second refused
	_, err = cfg.open(log)
	require.ErrorIs(t, err, seal.ErrWrongDealer)
	require.ErrorContains(t, err, "-dealer-key once per dealer")
}
