package main

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// runCmd runs the program in-process and returns its output.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(args, &o, &e)
	return o.String(), e.String(), err
}

func TestUsage(t *testing.T) {
	_, e, err := runCmd(t)
	require.ErrorIs(t, err, errUsage, "no arguments")
	require.Contains(t, e, "Usage:", "no arguments")
	_, e, err = runCmd(t, "frobnicate")
	require.ErrorIs(t, err, errUsage, "unknown command")
	require.Contains(t, e, "unknown command")
	o, _, err := runCmd(t, "help")
	require.NoError(t, err, "help")
	require.Contains(t, o, "tolerant demo", "help")
	for _, cmd := range []string{"demo", "deal", "sign"} {
		requireHelp(t, cmd)
		_, _, err := runCmd(t, cmd, "-no-such-flag")
		require.ErrorIs(t, err, errUsage, "%s with a bad flag", cmd)
	}
	_, _, err = runCmd(t, "demo", "-test-key")
	require.ErrorIs(t, err, errUsage, "demo -test-key")
}

// requireHelp fails unless the command args (args[0] and its flags)
// with -h succeeds and prints args[0]'s usage; it returns the usage.
func requireHelp(t *testing.T, args ...string) string {
	t.Helper()
	_, e, err := runCmd(t, append(args, "-h")...)
	require.NoError(t, err, "%v -h", args)
	require.Contains(t, e, "Usage: tolerant "+args[0], "%v -h", args)
	return e
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	o, e, err := runCmd(t, "demo", "-down", "1", "-liars", "1", "-out", dir)
	require.NoError(t, err, "demo\nstdout:\n%s\nstderr:\n%s", o, e)
	t.Logf("demo output:\n%s", o)
	for _, want := range []string{
		"k=5 calculators, threshold t=3, l=2",
		"calculators that acknowledged",
		"matched representation",
		"x509.Verify",
		"calculators down: [5], lying: [1]",
		"summary  2 tasks: 2 signed, 0 failed",
	} {
		assert.Contains(t, o, want, "demo output")
	}
	assert.NotContains(t, o, "partials at the combiner from: [1 2 3 4 5]", "a calculator that is down answered")
	if _, err := exec.LookPath("openssl"); err == nil {
		out, err := exec.Command("openssl", "verify", "-CAfile", filepath.Join(dir, "root.pem"), filepath.Join(dir, "leaf.pem")).CombinedOutput()
		require.NoError(t, err, "openssl verify\n%s", out)
	}
	_, _, err = runCmd(t, "demo", "-down", "4", "-liars", "2")
	require.Error(t, err, "demo accepted 6 faulty calculators of 5")
}

// demoJSON runs the demo with -json and decodes its summary.
func demoJSON(t *testing.T, args ...string) (demoSummary, error) {
	t.Helper()
	o, e, err := runCmd(t, append([]string{"demo", "-json"}, args...)...)
	var sum demoSummary
	require.NoError(t, json.Unmarshal([]byte(o), &sum), "demo -json printed no JSON:\nstdout:\n%s\nstderr:\n%s", o, e)
	return sum, err
}

// TestDemoFaults: the demo's fault flags (-loss, -down, -combiners-down,
// -liars) and its JSON summary.
func TestDemoFaults(t *testing.T) {
	sum, err := demoJSON(t, "-tasks", "8", "-loss", "0.1", "-down", "2", "-combiners-down", "1")
	what := "loss, 2 calculators and a combiner down"
	assert.NoError(t, err, what)
	assert.Equal(t, 9, sum.Tasks, what)
	assert.Equal(t, 9, sum.Signed, what)
	assert.Zero(t, sum.Failed, what)
	assert.False(t, sum.ExpectFailures, what)
	assert.Positive(t, sum.P50ms, "latency p50")
	assert.GreaterOrEqual(t, sum.P99ms, sum.P50ms, "latency p99 against p50")
	sum, err = demoJSON(t, "-tasks", "4", "-liars", "1")
	assert.NoError(t, err, "one liar")
	assert.Equal(t, 5, sum.Signed, "one liar")
	assert.Equal(t, []int{1}, sum.Inconsistent, "one liar")
	// Three calculators down: every task fails, as it must, and in time; the
	// demo says so without failing itself.
	start := time.Now()
	sum, err = demoJSON(t, "-tasks", "2", "-down", "3", "-timeout", "1s")
	assert.NoError(t, err, "three down")
	assert.Equal(t, 3, sum.Failed, "three down")
	assert.Zero(t, sum.Signed, "three down")
	assert.True(t, sum.ExpectFailures, "three down")
	assert.LessOrEqual(t, time.Since(start), 10*time.Second, "three down took too long")
}

// TestDemoFailsWhenItShouldNot: a failure the faults do not explain makes the
// demo exit non-zero.
func TestDemoFailsWhenItShouldNot(t *testing.T) {
	cfg := &demoConfig{k: 5, t: 3, l: 2, bits: 2048, tasks: 1}
	require.NoError(t, cfg.pick(0, 0, 0))
	var out strings.Builder
	assert.Error(t, cfg.finish(&demoSummary{Tasks: 2, Signed: 1, Failed: 1}, &out, &out), "an unexplained failure did not fail the demo")
	assert.NoError(t, cfg.finish(&demoSummary{Tasks: 2, Failed: 2, ExpectFailures: true}, &out, &out), "an expected failure failed the demo")
}

// writeKey writes the 2048-bit test key as PKCS#1 or PKCS#8 PEM.
func writeKey(t *testing.T, pkcs8 bool) (string, *rsa.PrivateKey) {
	t.Helper()
	key := testkeys.Must(testkeys.RSA2048b)
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}
	if pkcs8 {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		require.NoError(t, err)
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(block), 0o600))
	return path, key
}

func TestDealRefusesPlaintextWithoutFlag(t *testing.T) {
	keyPath, _ := writeKey(t, false)
	out := filepath.Join(t.TempDir(), "cluster")
	_, _, err := runCmd(t, "deal", "-key", keyPath, "-k", "3", "-t", "2", "-l", "2", "-out", out)
	require.ErrorIs(t, err, errPlaintext)
	require.ErrorContains(t, err, "-insecure-plaintext-keys")
	requireAbsent(t, out, "deal wrote something although it refused")
}

// requireAbsent fails if anything exists at path.
func requireAbsent(t *testing.T, path string, msgAndArgs ...any) {
	t.Helper()
	_, err := os.Stat(path)
	require.ErrorIs(t, err, fs.ErrNotExist, msgAndArgs...)
}

func TestDealErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	ec := filepath.Join(dir, "ec.pem")
	os.WriteFile(ec, []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"), 0o600)
	keyPath, _ := writeKey(t, true)
	cases := [][]string{
		{"-key", bad, "-out", filepath.Join(dir, "a")},
		{"-key", ec, "-out", filepath.Join(dir, "b")},
		{"-key", filepath.Join(dir, "missing.pem"), "-out", filepath.Join(dir, "c")},
		{"-key", keyPath, "-k", "3", "-t", "3", "-out", filepath.Join(dir, "d")},
		{"-key", keyPath, "-k", "0", "-out", filepath.Join(dir, "e")},
	}
	for _, c := range cases {
		args := append([]string{"deal", "-insecure-plaintext-keys"}, c...)
		_, _, err := runCmd(t, args...)
		assert.Error(t, err, "%v: accepted", c)
	}
	_, _, err := runCmd(t, "deal", "-insecure-plaintext-keys", "-out", dir)
	assert.ErrorIs(t, err, errUsage, "deal without -key")
}

func TestDealSignRoundTrip(t *testing.T) {
	for _, pkcs8 := range []bool{false, true} {
		name := map[bool]string{false: "pkcs1", true: "pkcs8"}[pkcs8]
		t.Run(name, func(t *testing.T) {
			keyPath, key := writeKey(t, pkcs8)
			dir := filepath.Join(t.TempDir(), "cluster")
			o, e, err := runCmd(t, "deal", "-key", keyPath, "-k", "4", "-t", "2", "-l", "2", "-out", dir, "-insecure-plaintext-keys")
			require.NoError(t, err, "deal\n%s%s", o, e)
			checkClusterDir(t, dir, key, 4, 2, 2)
			// Dealing again into the same directory never overwrites key material.
			_, _, err = runCmd(t, "deal", "-key", keyPath, "-k", "4", "-t", "2", "-l", "2", "-out", dir, "-insecure-plaintext-keys")
			require.ErrorContains(t, err, "already exists", "second deal into %s", dir)

			in := filepath.Join(t.TempDir(), "message.txt")
			content := []byte("signed by a tolerant cluster\n")
			os.WriteFile(in, content, 0o644)
			for _, c := range []struct {
				hash string
				h    crypto.Hash
				pss  bool
			}{
				{"sha256", crypto.SHA256, false},
				{"sha384", crypto.SHA384, true},
				{"sha512", crypto.SHA512, false},
			} {
				sigPath := filepath.Join(t.TempDir(), "sig")
				args := []string{"sign", "-cluster", dir, "-in", in, "-hash", c.hash, "-out", sigPath}
				if c.pss {
					args = append(args, "-pss")
				}
				o, e, err := runCmd(t, args...)
				require.NoError(t, err, "sign %v\n%s%s", args, o, e)
				sig, err := os.ReadFile(sigPath)
				require.NoError(t, err)
				hh := c.h.New()
				hh.Write(content)
				if c.pss {
					err = rsa.VerifyPSS(&key.PublicKey, c.h, hh.Sum(nil), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
				} else {
					err = rsa.VerifyPKCS1v15(&key.PublicKey, c.h, hh.Sum(nil), sig)
				}
				require.NoError(t, err, "%s pss=%v: signature does not verify", c.hash, c.pss)
				opensslVerify(t, filepath.Join(dir, publicFile), in, sigPath, c.hash, c.pss)
			}

			// With calculators 1 and 2 gone, 3 and 4 still sign.
			os.Remove(filepath.Join(dir, calculatorFile(1)))
			os.Remove(filepath.Join(dir, calculatorFile(2)))
			sigPath := filepath.Join(t.TempDir(), "sig")
			o, e, err = runCmd(t, "sign", "-cluster", dir, "-in", in, "-out", sigPath)
			require.NoError(t, err, "sign with two calculators\n%s%s", o, e)
			opensslVerify(t, filepath.Join(dir, publicFile), in, sigPath, "sha256", false)
			// With one, it cannot.
			os.Remove(filepath.Join(dir, calculatorFile(3)))
			_, _, err = runCmd(t, "sign", "-cluster", dir, "-in", in, "-out", sigPath)
			require.Error(t, err, "signed with one calculator of t=2")
		})
	}
}

// checkClusterDir checks what deal wrote.
func checkClusterDir(t *testing.T, dir string, key *rsa.PrivateKey, k, tt, l int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, publicFile))
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	require.NotNil(t, block, "public.pem: no PEM block")
	require.Equal(t, "PUBLIC KEY", block.Type, "public.pem: PEM block type")
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	require.NoError(t, err, "public.pem")
	require.True(t, key.PublicKey.Equal(pub), "public.pem holds another key")
	b, err = os.ReadFile(filepath.Join(dir, planFile))
	require.NoError(t, err)
	plan, err := grouping.ParsePlan(b)
	require.NoError(t, err, "plan.json")
	require.Equal(t, [3]int{k, tt, l}, [3]int{plan.K, plan.T, plan.L}, "plan.json (k, t, l)")
	for j := 1; j <= k; j++ {
		path := filepath.Join(dir, calculatorFile(j))
		assertMode600(t, path)
		ck, err := seal.InsecureLoadPlaintextCalculator(path, testTrust)
		require.NoError(t, err, path)
		require.Equal(t, j, ck.Number, "%s: calculator number", path)
	}
	for a := 1; a <= len(plan.Combiners); a++ {
		path := filepath.Join(dir, combinerFile(a))
		assertMode600(t, path)
		_, err := seal.InsecureLoadPlaintextCombiner(path, testTrust)
		require.NoError(t, err, path)
	}
}

// assertMode600 fails unless the file at path exists and only its owner
// may read and write it.
func assertMode600(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "%s: mode", path)
}

// opensslVerify checks a signature with openssl dgst, an independent
// implementation; it skips when openssl is not installed.
func opensslVerify(t *testing.T, pubPath, in, sigPath, hash string, pss bool) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Log("openssl not installed: skipping the independent check")
		return
	}
	args := []string{"dgst", "-" + hash, "-verify", pubPath, "-signature", sigPath}
	if pss {
		args = append(args, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest")
	}
	args = append(args, in)
	out, err := exec.Command("openssl", args...).CombinedOutput()
	require.NoError(t, err, "openssl %v\n%s", args, out)
	require.Contains(t, string(out), "Verified OK", "openssl %v", args)
}

func TestSignErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.WriteFile(in, []byte("x"), 0o644)
	_, _, err := runCmd(t, "sign", "-cluster", dir, "-in", in, "-out", filepath.Join(dir, "sig"), "-hash", "sha1")
	require.ErrorIs(t, err, errUsage, "sha1")
	_, _, err = runCmd(t, "sign", "-cluster", dir, "-in", in, "-out", filepath.Join(dir, "sig"))
	require.Error(t, err, "signed with an empty cluster directory")
	_, _, err = runCmd(t, "sign", "-in", in)
	require.ErrorIs(t, err, errUsage, "missing flags")
}

// calculatorFile and combinerFile are the names of plaintext bundles
// (-insecure-plaintext-keys); sealed ones end in .age.
func calculatorFile(j int) string {
	return seal.BundleFile(share.Node{Role: share.RoleCalculator, Number: j}, seal.PlaintextExt)
}
func combinerFile(a int) string {
	return seal.BundleFile(share.Node{Role: share.RoleCombiner, Number: a}, seal.PlaintextExt)
}
