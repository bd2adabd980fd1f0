package main

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

const testDealerPassphrase = "the dealer's passphrase, for tests"

// fastScrypt lowers the scrypt work factor of dealer.age for one test.
func fastScrypt(t *testing.T) {
	t.Helper()
	testScryptWorkFactor = 10
	t.Cleanup(func() { testScryptWorkFactor = 0 })
}

// keygen runs "tolerant keygen -out FILE" and returns the recipient it prints.
func keygen(t *testing.T, path string) string {
	t.Helper()
	var o, e bytes.Buffer
	require.NoError(t, runKeygen([]string{"-out", path}, &o, &e), "keygen\n%s", e.String())
	r := strings.TrimSpace(o.String())
	require.True(t, strings.HasPrefix(r, "age1"), "keygen printed %q, want an age1 recipient", o.String())
	require.NotContains(t, r, "\n", "keygen printed more than one line")
	require.NotContains(t, o.String()+e.String(), "AGE-SECRET-KEY", "keygen printed the secret key")
	return r
}

// sealedSetup runs keygen for every node of a k=4 t=2 l=2 cluster (one
// distributor) into idDir and writes the recipients file.
func sealedSetup(t *testing.T) (idDir, recipients, passFile string, nodes []share.Node) {
	t.Helper()
	plan, _, err := grouping.Search(4, 2, 2, &grouping.Options{Redundancy: 1})
	require.NoError(t, err)
	nodes = append(nodes, share.Node{Role: share.RoleDistributor, Number: 1})
	for j := 1; j <= 4; j++ {
		nodes = append(nodes, share.Node{Role: share.RoleCalculator, Number: j})
	}
	for a := 1; a <= len(plan.Combiners); a++ {
		nodes = append(nodes, share.Node{Role: share.RoleCombiner, Number: a})
	}
	idDir = t.TempDir()
	var rf strings.Builder
	rf.WriteString("# recipients of the test cluster\n")
	for _, n := range nodes {
		fmt.Fprintf(&rf, "%s %d %s\n", n.Role, n.Number, keygen(t, filepath.Join(idDir, seal.IdentityFile(n))))
	}
	dir := t.TempDir()
	recipients = filepath.Join(dir, "recipients.txt")
	require.NoError(t, os.WriteFile(recipients, []byte(rf.String()), 0o644))
	passFile = filepath.Join(dir, "passphrase")
	require.NoError(t, os.WriteFile(passFile, []byte(testDealerPassphrase+"\n"), 0o600))
	return idDir, recipients, passFile, nodes
}

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.key")
	r := keygen(t, path)
	assertMode600(t, path)
	id, err := seal.ReadIdentityFile(path)
	require.NoError(t, err)
	require.Equal(t, r, id.Recipient().String(), "the identity file's recipient against the one printed")
	var o, e bytes.Buffer
	require.NoError(t, runKeygen([]string{"-y", path}, &o, &e), "keygen -y")
	require.Equal(t, r, strings.TrimSpace(o.String()), "keygen -y")
	require.Error(t, runKeygen([]string{"-out", path}, &o, &e), "keygen overwrote an identity file")
	again, err := seal.ReadIdentityFile(path)
	require.NoError(t, err)
	require.Equal(t, id.String(), again.String(), "identity file changed")
	for _, args := range [][]string{nil, {"-out", path, "-y", path}, {"extra"}, {"-bogus"}} {
		assert.ErrorIs(t, runKeygen(args, &o, &e), errUsage, "keygen %v", args)
	}
	e.Reset()
	require.NoError(t, runKeygen([]string{"-h"}, &o, &e), "keygen -h")
	require.Contains(t, e.String(), "Usage: tolerant keygen", "keygen -h")
}

// keygen on every node host, recipients to the dealer, deal sealed, sign
// with the identities, check with openssl.
func TestSealedDealSign(t *testing.T) {
	fastScrypt(t)
	idDir, recipients, passFile, nodes := sealedSetup(t)
	keyPath, key := writeKey(t, false)
	dir := filepath.Join(t.TempDir(), "cluster")
	o, e, err := runCmd(t, "deal", "-key", keyPath, "-k", "4", "-t", "2", "-l", "2", "-out", dir,
		"-recipients", recipients, "-passphrase-file", passFile)
	require.NoError(t, err, "deal\n%s%s", o, e)
	t.Logf("deal stdout:\n%sdeal stderr:\n%s", o, e)
	// A progress line per step, and no secret on either stream.
	for _, want := range []string{"searching a combiner plan", "drawing", "second sub-keys", "sealing calculator 1 to age1",
		"sealing combiner 1 to age1", "sealing distributor 1 to age1", "sealing the dealer's state", "writing"} {
		assert.Contains(t, e, want, "deal progress")
	}
	require.NotContains(t, o+e, testDealerPassphrase, "deal printed the passphrase")
	require.NotContains(t, o+e, "AGE-SECRET-KEY", "deal printed a secret key")
	// The layout: sealed bundles only.
	c, err := seal.LoadPublic(dir, testTrust)
	require.NoError(t, err, "cluster")
	require.True(t, c.Sealed(), "cluster not sealed")
	require.True(t, c.PublicKey.Equal(&key.PublicKey), "cluster holds another public key")
	for _, n := range nodes {
		require.FileExists(t, c.Path(n))
		requireAbsent(t, filepath.Join(dir, seal.BundleFile(n, seal.PlaintextExt)), "plaintext bundle of %v written", n)
		assert.Contains(t, o, seal.BundleFile(n, seal.SealedExt), "deal output does not name %v's bundle", n)
	}
	requireAbsent(t, filepath.Join(dir, "dealer.json"), "plaintext dealer state written")
	_, err = c.Dealer(testDealerPassphrase)
	require.NoError(t, err, "dealer.age")

	// Sign with the identities; openssl checks.
	in := filepath.Join(t.TempDir(), "message.txt")
	content := []byte("signed by a sealed tolerant cluster\n")
	os.WriteFile(in, content, 0o644)
	sigPath := filepath.Join(t.TempDir(), "sig")
	o, e, err = runCmd(t, "sign", "-cluster", dir, "-identities", idDir, "-in", in, "-out", sigPath)
	require.NoError(t, err, "sign\n%s%s", o, e)
	assert.NotContains(t, e, "without packet signatures", "distributor not loaded")
	sig, _ := os.ReadFile(sigPath)
	sum := sha256.Sum256(content)
	require.NoError(t, rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig))
	opensslVerify(t, filepath.Join(dir, publicFile), in, sigPath, "sha256", false)
	pssPath := filepath.Join(t.TempDir(), "sig.pss")
	o, e, err = runCmd(t, "sign", "-cluster", dir, "-identities", idDir, "-in", in, "-hash", "sha384", "-pss", "-out", pssPath)
	require.NoError(t, err, "sign -pss\n%s%s", o, e)
	opensslVerify(t, filepath.Join(dir, publicFile), in, pssPath, "sha384", true)

	// Without identities, a sealed cluster does not sign.
	_, _, err = runCmd(t, "sign", "-cluster", dir, "-in", in, "-out", sigPath)
	require.ErrorContains(t, err, "-identities", "sign without -identities")
	// A node's identity cannot open another node's bundle: calculator 2's
	// identity in place of calculator 1's.
	swapped := copyDirReplacing(t, idDir, "calculator-1.key", "calculator-2.key")
	_, _, err = runCmd(t, "sign", "-cluster", dir, "-identities", swapped, "-in", in, "-out", sigPath)
	require.ErrorIs(t, err, seal.ErrWrongIdentity, "calculator 2's identity on calculator 1's bundle")
	// Calculator 3's bundle renamed calculator-1.age, with calculator 3's
	// identity as calculator 1's: opens, but is refused as another node's.
	moved := copyDirReplacing(t, dir, "calculator-1.age", "calculator-3.age")
	ids3 := copyDirReplacing(t, idDir, "calculator-1.key", "calculator-3.key")
	_, _, err = runCmd(t, "sign", "-cluster", moved, "-identities", ids3, "-in", in, "-out", sigPath)
	require.ErrorIs(t, err, seal.ErrWrongNode, "swapped bundle")
	// A tampered bundle is refused.
	tampered := copyDir(t, dir)
	p := filepath.Join(tampered, "combiner-1.age")
	b, _ := os.ReadFile(p)
	lines := bytes.Split(b, []byte("\n"))
	mid := lines[len(lines)/2]
	if mid[3] == 'A' {
		mid[3] = 'B'
	} else {
		mid[3] = 'A'
	}
	os.Remove(p)
	os.WriteFile(p, bytes.Join(lines, []byte("\n")), 0o600)
	_, _, err = runCmd(t, "sign", "-cluster", tampered, "-identities", idDir, "-in", in, "-out", sigPath)
	require.True(t, errors.Is(err, seal.ErrTampered) || errors.Is(err, seal.ErrWrongIdentity),
		"tampered bundle: got %v, want seal.ErrTampered or seal.ErrWrongIdentity", err)
	// Missing identities leave their nodes out; t=2 of 4 still sign.
	partial := copyDir(t, idDir)
	os.Remove(filepath.Join(partial, "calculator-1.key"))
	os.Remove(filepath.Join(partial, "calculator-4.key"))
	o, e, err = runCmd(t, "sign", "-cluster", dir, "-identities", partial, "-in", in, "-out", sigPath)
	require.NoError(t, err, "sign with calculators 2 and 3\n%s%s", o, e)
	assert.Contains(t, e, "calculators [1 4]", "missing nodes not reported")
	opensslVerify(t, filepath.Join(dir, publicFile), in, sigPath, "sha256", false)
}

func TestSealedDealPassphraseFromEnv(t *testing.T) {
	fastScrypt(t)
	_, recipients, _, _ := sealedSetup(t)
	keyPath, _ := writeKey(t, true)
	dir := filepath.Join(t.TempDir(), "cluster")
	args := []string{"deal", "-key", keyPath, "-k", "4", "-t", "2", "-l", "2", "-out", dir, "-recipients", recipients}
	t.Setenv(passphraseEnv, "")
	_, _, err := runCmd(t, args...)
	require.ErrorContains(t, err, passphraseEnv, "deal without a passphrase")
	t.Setenv(passphraseEnv, "qwzxv")
	_, _, err = runCmd(t, args...)
	require.ErrorIs(t, err, seal.ErrWeakPassphrase, "short passphrase")
	require.NotContains(t, err.Error(), "qwzxv", "the error shows the passphrase")
	requireAbsent(t, dir, "deal wrote something although it refused")
	t.Setenv(passphraseEnv, testDealerPassphrase)
	o, e, err := runCmd(t, args...)
	require.NoError(t, err, "deal\n%s%s", o, e)
	_, err = seal.LoadDealer(filepath.Join(dir, "dealer.age"), testDealerPassphrase)
	require.NoError(t, err)
	_, err = seal.LoadDealer(filepath.Join(dir, "dealer.age"), "not the dealer's passphrase")
	require.ErrorIs(t, err, seal.ErrWrongPassphrase)
	// Dealing again into the directory is refused.
	_, _, err = runCmd(t, args...)
	require.ErrorContains(t, err, "already exists", "second deal")
}

func TestSealedDealErrors(t *testing.T) {
	fastScrypt(t)
	idDir, recipients, passFile, nodes := sealedSetup(t)
	keyPath, _ := writeKey(t, false)
	all, _ := os.ReadFile(recipients)
	write := func(content string) string {
		p := filepath.Join(t.TempDir(), "recipients.txt")
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	var withoutLastCombiner []string
	for _, line := range strings.Split(strings.TrimSpace(string(all)), "\n") {
		last := nodes[len(nodes)-1]
		if !strings.HasPrefix(line, fmt.Sprintf("%s %d ", last.Role, last.Number)) {
			withoutLastCombiner = append(withoutLastCombiner, line)
		}
	}
	secret, _ := os.ReadFile(filepath.Join(idDir, "calculator-1.key"))
	secretLine := strings.TrimSpace(string(secret[bytes.Index(secret, []byte("AGE-SECRET-KEY")):]))
	for name, c := range map[string]struct {
		recipients string
		want       string
	}{
		"missing combiner":   {write(strings.Join(withoutLastCombiner, "\n")), "combiner"},
		"missing calculator": {write(strings.Replace(string(all), "calculator 4 ", "# calculator 4 ", 1)), "calculator 4"},
		"extra calculator":   {write(string(all) + "calculator 5 " + keygen(t, filepath.Join(t.TempDir(), "x.key")) + "\n"), "calculator 5"},
		"secret key pasted":  {write(string(all) + "calculator 5 " + secretLine + "\n"), "secret key"},
		"no such file":       {filepath.Join(t.TempDir(), "none.txt"), "no such file"},
	} {
		dir := filepath.Join(t.TempDir(), "cluster")
		_, e, err := runCmd(t, "deal", "-key", keyPath, "-k", "4", "-t", "2", "-l", "2", "-out", dir,
			"-recipients", c.recipients, "-passphrase-file", passFile)
		if !assert.ErrorContains(t, err, c.want, name) {
			continue
		}
		assert.NotContains(t, err.Error()+e, secretLine, "%s: the secret key was printed", name)
		_, err = os.Stat(dir)
		assert.ErrorIs(t, err, fs.ErrNotExist, "%s: deal wrote %s", name, dir)
	}
	dir := filepath.Join(t.TempDir(), "cluster")
	for _, args := range [][]string{
		{"-recipients", recipients, "-insecure-plaintext-keys"},
		{"-passphrase-file", passFile, "-insecure-plaintext-keys"},
	} {
		full := append([]string{"deal", "-key", keyPath, "-k", "4", "-t", "2", "-l", "2", "-out", dir}, args...)
		_, _, err := runCmd(t, full...)
		assert.ErrorIs(t, err, errUsage, "%v", args)
	}
}

// The plaintext layout (-insecure-plaintext-keys) has every file of the
// sealed one, in JSON, and signs without identities.
func TestPlaintextLayout(t *testing.T) {
	keyPath, _ := writeKey(t, false)
	dir := filepath.Join(t.TempDir(), "cluster")
	o, e, err := runCmd(t, "deal", "-key", keyPath, "-k", "3", "-t", "2", "-l", "2", "-distributors", "2", "-out", dir, "-insecure-plaintext-keys")
	require.NoError(t, err, "deal\n%s%s", o, e)
	c, err := seal.LoadPublic(dir, testTrust)
	require.NoError(t, err, "plaintext cluster")
	require.False(t, c.Sealed(), "plaintext cluster reported sealed")
	require.Equal(t, 2, c.Distributors(), "distributors")
	_, err = c.Dealer("")
	require.NoError(t, err, "dealer.json")
	_, err = c.Distributor(2, nil)
	require.NoError(t, err)
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		copyFile(t, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
	}
	return dst
}

// copyDirReplacing copies dir to a new directory in which the file named
// dst is a copy of dir's file named src.
func copyDirReplacing(t *testing.T, dir, dst, src string) string {
	t.Helper()
	out := copyDir(t, dir)
	require.NoError(t, os.Remove(filepath.Join(out, dst)))
	copyFile(t, filepath.Join(dir, src), filepath.Join(out, dst))
	return out
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	fi, _ := os.Stat(src)
	require.NoError(t, os.WriteFile(dst, b, fi.Mode().Perm()))
}
