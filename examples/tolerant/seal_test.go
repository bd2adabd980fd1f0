package main

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	if err := runKeygen([]string{"-out", path}, &o, &e); err != nil {
		t.Fatalf("keygen: %v\n%s", err, e.String())
	}
	r := strings.TrimSpace(o.String())
	if !strings.HasPrefix(r, "age1") || strings.Contains(r, "\n") {
		t.Fatalf("keygen printed %q", o.String())
	}
	if strings.Contains(o.String()+e.String(), "AGE-SECRET-KEY") {
		t.Fatal("keygen printed the secret key")
	}
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
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file: %v %v", err, fi)
	}
	id, err := seal.ReadIdentityFile(path)
	if err != nil || id.Recipient().String() != r {
		t.Fatalf("identity file does not hold the recipient printed: %v", err)
	}
	var o, e bytes.Buffer
	if err := runKeygen([]string{"-y", path}, &o, &e); err != nil || strings.TrimSpace(o.String()) != r {
		t.Fatalf("keygen -y: %v %q", err, o.String())
	}
	if err := runKeygen([]string{"-out", path}, &o, &e); err == nil {
		t.Fatal("keygen overwrote an identity file")
	}
	if again, _ := seal.ReadIdentityFile(path); again == nil || again.String() != id.String() {
		t.Fatal("identity file changed")
	}
	for _, args := range [][]string{nil, {"-out", path, "-y", path}, {"extra"}, {"-bogus"}} {
		if err := runKeygen(args, &o, &e); !errors.Is(err, errUsage) {
			t.Errorf("keygen %v: %v", args, err)
		}
	}
	e.Reset()
	if err := runKeygen([]string{"-h"}, &o, &e); err != nil || !strings.Contains(e.String(), "Usage: tolerant keygen") {
		t.Fatalf("keygen -h: %v\n%s", err, e.String())
	}
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
	if err != nil {
		t.Fatalf("deal: %v\n%s%s", err, o, e)
	}
	t.Logf("deal stdout:\n%sdeal stderr:\n%s", o, e)
	// A progress line per step, and no secret on either stream.
	for _, want := range []string{"searching a combiner plan", "drawing", "second sub-keys", "sealing calculator 1 to age1",
		"sealing combiner 1 to age1", "sealing distributor 1 to age1", "sealing the dealer's state", "writing"} {
		if !strings.Contains(e, want) {
			t.Errorf("deal progress lacks %q", want)
		}
	}
	if strings.Contains(o+e, testDealerPassphrase) || strings.Contains(o+e, "AGE-SECRET-KEY") {
		t.Fatal("deal printed a secret")
	}
	// The layout: sealed bundles only.
	c, err := seal.LoadPublic(dir, testTrust)
	if err != nil || !c.Sealed() || !c.PublicKey.Equal(&key.PublicKey) {
		t.Fatalf("cluster: %v", err)
	}
	for _, n := range nodes {
		if _, err := os.Stat(c.Path(n)); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, seal.BundleFile(n, seal.PlaintextExt))); err == nil {
			t.Fatalf("plaintext bundle of %v written", n)
		}
		if !strings.Contains(o, seal.BundleFile(n, seal.SealedExt)) {
			t.Errorf("deal output does not name %v's bundle", n)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "dealer.json")); err == nil {
		t.Fatal("plaintext dealer state written")
	}
	if _, err := c.Dealer(testDealerPassphrase); err != nil {
		t.Fatalf("dealer.age: %v", err)
	}

	// Sign with the identities; openssl checks.
	in := filepath.Join(t.TempDir(), "message.txt")
	content := []byte("signed by a sealed tolerant cluster\n")
	os.WriteFile(in, content, 0o644)
	sigPath := filepath.Join(t.TempDir(), "sig")
	if o, e, err := runCmd(t, "sign", "-cluster", dir, "-identities", idDir, "-in", in, "-out", sigPath); err != nil {
		t.Fatalf("sign: %v\n%s%s", err, o, e)
	} else if strings.Contains(e, "without packet signatures") {
		t.Errorf("distributor not loaded: %s", e)
	}
	sig, _ := os.ReadFile(sigPath)
	sum := sha256.Sum256(content)
	require.NoError(t, rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig))
	opensslVerify(t, filepath.Join(dir, publicFile), in, sigPath, "sha256", false)
	pssPath := filepath.Join(t.TempDir(), "sig.pss")
	if o, e, err := runCmd(t, "sign", "-cluster", dir, "-identities", idDir, "-in", in, "-hash", "sha384", "-pss", "-out", pssPath); err != nil {
		t.Fatalf("sign -pss: %v\n%s%s", err, o, e)
	}
	opensslVerify(t, filepath.Join(dir, publicFile), in, pssPath, "sha384", true)

	// Without identities, a sealed cluster does not sign.
	if _, _, err := runCmd(t, "sign", "-cluster", dir, "-in", in, "-out", sigPath); err == nil || !strings.Contains(err.Error(), "-identities") {
		t.Fatalf("sign without -identities: %v", err)
	}
	// A node's identity cannot open another node's bundle: calculator 2's
	// identity in place of calculator 1's.
	swapped := copyDir(t, idDir)
	os.Remove(filepath.Join(swapped, "calculator-1.key"))
	copyFile(t, filepath.Join(idDir, "calculator-2.key"), filepath.Join(swapped, "calculator-1.key"))
	if _, _, err := runCmd(t, "sign", "-cluster", dir, "-identities", swapped, "-in", in, "-out", sigPath); !errors.Is(err, seal.ErrWrongIdentity) {
		t.Fatalf("calculator 2's identity on calculator 1's bundle: %v", err)
	}
	// Calculator 3's bundle renamed calculator-1.age, with calculator 3's
	// identity as calculator 1's: opens, but is refused as another node's.
	moved := copyDir(t, dir)
	os.Remove(filepath.Join(moved, "calculator-1.age"))
	copyFile(t, filepath.Join(dir, "calculator-3.age"), filepath.Join(moved, "calculator-1.age"))
	ids3 := copyDir(t, idDir)
	os.Remove(filepath.Join(ids3, "calculator-1.key"))
	copyFile(t, filepath.Join(idDir, "calculator-3.key"), filepath.Join(ids3, "calculator-1.key"))
	if _, _, err := runCmd(t, "sign", "-cluster", moved, "-identities", ids3, "-in", in, "-out", sigPath); !errors.Is(err, seal.ErrWrongNode) {
		t.Fatalf("swapped bundle: %v", err)
	}
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
	if !errors.Is(err, seal.ErrTampered) && !errors.Is(err, seal.ErrWrongIdentity) {
		t.Fatalf("tampered bundle: %v", err)
	}
	// Missing identities leave their nodes out; t=2 of 4 still sign.
	partial := copyDir(t, idDir)
	os.Remove(filepath.Join(partial, "calculator-1.key"))
	os.Remove(filepath.Join(partial, "calculator-4.key"))
	if o, e, err := runCmd(t, "sign", "-cluster", dir, "-identities", partial, "-in", in, "-out", sigPath); err != nil {
		t.Fatalf("sign with calculators 2 and 3: %v\n%s%s", err, o, e)
	} else if !strings.Contains(e, "calculators [1 4]") {
		t.Errorf("missing nodes not reported: %s", e)
	}
	opensslVerify(t, filepath.Join(dir, publicFile), in, sigPath, "sha256", false)
}

func TestSealedDealPassphraseFromEnv(t *testing.T) {
	fastScrypt(t)
	_, recipients, _, _ := sealedSetup(t)
	keyPath, _ := writeKey(t, true)
	dir := filepath.Join(t.TempDir(), "cluster")
	args := []string{"deal", "-key", keyPath, "-k", "4", "-t", "2", "-l", "2", "-out", dir, "-recipients", recipients}
	t.Setenv(passphraseEnv, "")
	if _, _, err := runCmd(t, args...); err == nil || !strings.Contains(err.Error(), passphraseEnv) {
		t.Fatalf("deal without a passphrase: %v", err)
	}
	t.Setenv(passphraseEnv, "qwzxv")
	if _, _, err := runCmd(t, args...); !errors.Is(err, seal.ErrWeakPassphrase) || strings.Contains(err.Error(), "qwzxv") {
		t.Fatalf("short passphrase: %v", err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("deal wrote something although it refused")
	}
	t.Setenv(passphraseEnv, testDealerPassphrase)
	if o, e, err := runCmd(t, args...); err != nil {
		t.Fatalf("deal: %v\n%s%s", err, o, e)
	}
	if _, err := seal.LoadDealer(filepath.Join(dir, "dealer.age"), testDealerPassphrase); err != nil {
		t.Fatal(err)
	}
	if _, err := seal.LoadDealer(filepath.Join(dir, "dealer.age"), "not the dealer's passphrase"); !errors.Is(err, seal.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	// Dealing again into the directory is refused.
	if _, _, err := runCmd(t, args...); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second deal: %v", err)
	}
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
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if strings.Contains(err.Error()+e, secretLine) {
			t.Errorf("%s: the secret key was printed", name)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%s: deal wrote %s", name, dir)
		}
	}
	dir := filepath.Join(t.TempDir(), "cluster")
	for _, args := range [][]string{
		{"-recipients", recipients, "-insecure-plaintext-keys"},
		{"-passphrase-file", passFile, "-insecure-plaintext-keys"},
	} {
		full := append([]string{"deal", "-key", keyPath, "-k", "4", "-t", "2", "-l", "2", "-out", dir}, args...)
		if _, _, err := runCmd(t, full...); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// The plaintext layout (-insecure-plaintext-keys) has every file of the
// sealed one, in JSON, and signs without identities.
func TestPlaintextLayout(t *testing.T) {
	keyPath, _ := writeKey(t, false)
	dir := filepath.Join(t.TempDir(), "cluster")
	if o, e, err := runCmd(t, "deal", "-key", keyPath, "-k", "3", "-t", "2", "-l", "2", "-distributors", "2", "-out", dir, "-insecure-plaintext-keys"); err != nil {
		t.Fatalf("deal: %v\n%s%s", err, o, e)
	}
	c, err := seal.LoadPublic(dir, testTrust)
	if err != nil || c.Sealed() || c.Distributors() != 2 {
		t.Fatalf("plaintext cluster: %v", err)
	}
	if _, err := c.Dealer(""); err != nil {
		t.Fatalf("dealer.json: %v", err)
	}
	if _, err := c.Distributor(2, nil); err != nil {
		t.Fatal(err)
	}
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

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	fi, _ := os.Stat(src)
	require.NoError(t, os.WriteFile(dst, b, fi.Mode().Perm()))
}
