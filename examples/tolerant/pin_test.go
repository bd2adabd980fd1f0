package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// testTrust loads the clusters the tests deal themselves.
var testTrust = seal.Trust{InsecureTrustOnFirstUse: true}

// dealerKeyLine is the line of deal's output that names the dealer key.
var dealerKeyLine = regexp.MustCompile(`(?m)^dealer key (\S+): `)

// dealSealed deals the CA key at keyPath, k=4 t=2 l=2, sealed to the
// recipients, into a new directory, and returns it and the dealer key
// deal printed.
func dealSealed(t *testing.T, keyPath, recipients, passFile string) (dir, dealerKey string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "cluster")
	o, e, err := runCmd(t, "deal", "-key", keyPath, "-k", "4", "-t", "2", "-l", "2", "-out", dir,
		"-recipients", recipients, "-passphrase-file", passFile)
	require.NoError(t, err, "deal: %s%s", o, e)
	m := dealerKeyLine.FindStringSubmatch(o)
	require.NotNil(t, m, "deal printed no dealer key:\n%s", o)
	return dir, m[1]
}

// A node accepted any bundle sealed to its recipient, whoever dealt it: a
// second dealing of the same CA key (another dealer) replaced its bundle
// unnoticed. Now the node pins its first dealer next to its identity, or
// trusts only -dealer-key.
func TestRegressionNodeTrustsAnyDealer(t *testing.T) {
	fastScrypt(t)
	idDir, recipients, passFile, _ := sealedSetup(t)
	keyPath, _ := writeKey(t, false)
	dir, dealerKey := dealSealed(t, keyPath, recipients, passFile)
	forger, forgerKey := dealSealed(t, keyPath, recipients, passFile)
	require.NotEqual(t, dealerKey, forgerKey)

	n := share.Node{Role: share.RoleCalculator, Number: 1}
	identity := filepath.Join(idDir, seal.IdentityFile(n))
	bundle := func(dir string) bundleFlags {
		return bundleFlags{bundle: filepath.Join(dir, seal.BundleFile(n, seal.SealedExt)), identity: identity}
	}
	// First start: the dealer is pinned next to the identity.
	ck, err := loadCalculatorKey(bundle(dir))
	require.NoError(t, err)
	pinned, err := os.ReadFile(identity + dealerPinExt)
	require.NoError(t, err)
	require.Equal(t, dealerKey+"\n", string(pinned))
	require.Equal(t, dealerKey, seal.FormatDealerKey(ck.DealerKey))
	// The forger's bundle, sealed to the same recipient, is refused.
	_, err = loadCalculatorKey(bundle(forger))
	require.ErrorIs(t, err, seal.ErrWrongDealer)

	// -dealer-key refuses it from the first start.
	require.NoError(t, os.Remove(identity+dealerPinExt))
	bf := bundle(forger)
	bf.dealerKey = dealerKey
	_, err = loadCalculatorKey(bf)
	require.ErrorIs(t, err, seal.ErrWrongDealer)
	bf = bundle(dir)
	bf.dealerKey = dealerKey
	_, err = loadCalculatorKey(bf)
	require.NoError(t, err)
	_, err = os.Stat(identity + dealerPinExt)
	require.ErrorIs(t, err, os.ErrNotExist, "-dealer-key pins nothing")
	// A pin that cannot be written names -dealer-key.
	err = pinDealer(filepath.Join(t.TempDir(), "absent", "node.key"+dealerPinExt), ck.DealerKey)
	require.ErrorContains(t, err, "-dealer-key "+dealerKey)

	// The in-process cluster pins its dealer in the identities directory.
	_, err = loadCluster(dir, idDir)
	require.NoError(t, err)
	_, err = loadCluster(forger, idDir)
	require.ErrorIs(t, err, seal.ErrWrongDealer)
}
