package main

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
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
	if _, e, err := runCmd(t); !errors.Is(err, errUsage) || !strings.Contains(e, "Usage:") {
		t.Fatalf("no arguments: %v\n%s", err, e)
	}
	if _, e, err := runCmd(t, "frobnicate"); !errors.Is(err, errUsage) || !strings.Contains(e, "unknown command") {
		t.Fatalf("unknown command: %v\n%s", err, e)
	}
	if o, _, err := runCmd(t, "help"); err != nil || !strings.Contains(o, "tolerant demo") {
		t.Fatalf("help: %v\n%s", err, o)
	}
	for _, cmd := range []string{"demo", "deal", "sign"} {
		if _, e, err := runCmd(t, cmd, "-h"); err != nil || !strings.Contains(e, "Usage: tolerant "+cmd) {
			t.Fatalf("%s -h: %v\n%s", cmd, err, e)
		}
		if _, _, err := runCmd(t, cmd, "-no-such-flag"); !errors.Is(err, errUsage) {
			t.Fatalf("%s with a bad flag: %v", cmd, err)
		}
	}
	if _, _, err := runCmd(t, "demo", "-test-key"); !errors.Is(err, errUsage) {
		t.Fatalf("demo -test-key: %v", err)
	}
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	o, e, err := runCmd(t, "demo", "-down", "1", "-liars", "1", "-out", dir)
	if err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, o, e)
	}
	t.Logf("demo output:\n%s", o)
	for _, want := range []string{
		"k=5 calculators, threshold t=3, l=2",
		"calculators that acknowledged",
		"matched representation",
		"x509.Verify",
		"calculators down: [5], lying: [1]",
		"summary  2 tasks: 2 signed, 0 failed",
	} {
		if !strings.Contains(o, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(o, "partials at the combiner from: [1 2 3 4 5]") {
		t.Error("a calculator that is down answered")
	}
	if _, err := exec.LookPath("openssl"); err == nil {
		out, err := exec.Command("openssl", "verify", "-CAfile", filepath.Join(dir, "root.pem"), filepath.Join(dir, "leaf.pem")).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl verify: %v\n%s", err, out)
		}
	}
	if _, _, err := runCmd(t, "demo", "-down", "4", "-liars", "2"); err == nil {
		t.Fatal("demo accepted 6 faulty calculators of 5")
	}
}

// demoJSON runs the demo with -json and decodes its summary.
func demoJSON(t *testing.T, args ...string) (demoSummary, error) {
	t.Helper()
	o, e, err := runCmd(t, append([]string{"demo", "-json"}, args...)...)
	var sum demoSummary
	if jerr := json.Unmarshal([]byte(o), &sum); jerr != nil {
		t.Fatalf("demo -json printed no JSON (%v):\nstdout:\n%s\nstderr:\n%s", jerr, o, e)
	}
	return sum, err
}

// TestDemoFaults: the demo's fault flags (-loss, -down, -combiners-down,
// -liars) and its JSON summary.
func TestDemoFaults(t *testing.T) {
	sum, err := demoJSON(t, "-tasks", "8", "-loss", "0.1", "-down", "2", "-combiners-down", "1")
	if err != nil || sum.Tasks != 9 || sum.Signed != 9 || sum.Failed != 0 || sum.ExpectFailures {
		t.Errorf("loss, 2 calculators and a combiner down: %+v, %v", sum, err)
	}
	if sum.P50ms <= 0 || sum.P99ms < sum.P50ms {
		t.Errorf("latency percentiles %v, %v", sum.P50ms, sum.P99ms)
	}
	sum, err = demoJSON(t, "-tasks", "4", "-liars", "1")
	if err != nil || sum.Signed != 5 || !slices.Equal(sum.Inconsistent, []int{1}) {
		t.Errorf("one liar: %+v, %v", sum, err)
	}
	// Three calculators down: every task fails, as it must, and in time; the
	// demo says so without failing itself.
	start := time.Now()
	sum, err = demoJSON(t, "-tasks", "2", "-down", "3", "-timeout", "1s")
	if err != nil || sum.Failed != 3 || sum.Signed != 0 || !sum.ExpectFailures {
		t.Errorf("three down: %+v, %v", sum, err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("three down took %v", time.Since(start))
	}
}

// TestDemoFailsWhenItShouldNot: a failure the faults do not explain makes the
// demo exit non-zero.
func TestDemoFailsWhenItShouldNot(t *testing.T) {
	cfg := &demoConfig{k: 5, t: 3, l: 2, bits: 2048, tasks: 1}
	require.NoError(t, cfg.pick(0, 0, 0))
	var out strings.Builder
	if err := cfg.finish(&demoSummary{Tasks: 2, Signed: 1, Failed: 1}, &out, &out); err == nil {
		t.Error("an unexplained failure did not fail the demo")
	}
	if err := cfg.finish(&demoSummary{Tasks: 2, Failed: 2, ExpectFailures: true}, &out, &out); err != nil {
		t.Errorf("an expected failure failed the demo: %v", err)
	}
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
	if !errors.Is(err, errPlaintext) || !strings.Contains(err.Error(), "-insecure-plaintext-keys") {
		t.Fatalf("deal without -insecure-plaintext-keys: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("deal wrote something although it refused")
	}
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
		if _, _, err := runCmd(t, args...); err == nil {
			t.Errorf("%v: accepted", c)
		}
	}
	if _, _, err := runCmd(t, "deal", "-insecure-plaintext-keys", "-out", dir); !errors.Is(err, errUsage) {
		t.Errorf("deal without -key: %v", err)
	}
}

func TestDealSignRoundTrip(t *testing.T) {
	for _, pkcs8 := range []bool{false, true} {
		name := map[bool]string{false: "pkcs1", true: "pkcs8"}[pkcs8]
		t.Run(name, func(t *testing.T) {
			keyPath, key := writeKey(t, pkcs8)
			dir := filepath.Join(t.TempDir(), "cluster")
			o, e, err := runCmd(t, "deal", "-key", keyPath, "-k", "4", "-t", "2", "-l", "2", "-out", dir, "-insecure-plaintext-keys")
			if err != nil {
				t.Fatalf("deal: %v\n%s%s", err, o, e)
			}
			checkClusterDir(t, dir, key, 4, 2, 2)
			// Dealing again into the same directory never overwrites key material.
			if _, _, err := runCmd(t, "deal", "-key", keyPath, "-k", "4", "-t", "2", "-l", "2", "-out", dir, "-insecure-plaintext-keys"); err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Fatalf("second deal into %s: %v", dir, err)
			}

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
				if err != nil {
					t.Fatalf("sign %v: %v\n%s%s", args, err, o, e)
				}
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
			if o, e, err := runCmd(t, "sign", "-cluster", dir, "-in", in, "-out", sigPath); err != nil {
				t.Fatalf("sign with two calculators: %v\n%s%s", err, o, e)
			}
			opensslVerify(t, filepath.Join(dir, publicFile), in, sigPath, "sha256", false)
			// With one, it cannot.
			os.Remove(filepath.Join(dir, calculatorFile(3)))
			if _, _, err := runCmd(t, "sign", "-cluster", dir, "-in", in, "-out", sigPath); err == nil {
				t.Fatal("signed with one calculator of t=2")
			}
		})
	}
}

// checkClusterDir checks what deal wrote.
func checkClusterDir(t *testing.T, dir string, key *rsa.PrivateKey, k, tt, l int) {
	t.Helper()
	pub, err := readPublicKey(filepath.Join(dir, publicFile))
	if err != nil || !pub.Equal(&key.PublicKey) {
		t.Fatalf("public.pem: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, planFile))
	require.NoError(t, err)
	plan, err := grouping.ParsePlan(b)
	if err != nil || plan.K != k || plan.T != tt || plan.L != l {
		t.Fatalf("plan.json: %v", err)
	}
	for j := 1; j <= k; j++ {
		path := filepath.Join(dir, calculatorFile(j))
		fi, err := os.Stat(path)
		require.NoError(t, err)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", path, fi.Mode().Perm())
		}
		ck, err := seal.InsecureLoadPlaintextCalculator(path, testTrust)
		if err != nil || ck.Number != j {
			t.Fatalf("%s: %v", path, err)
		}
	}
	for a := 1; a <= len(plan.Combiners); a++ {
		path := filepath.Join(dir, combinerFile(a))
		fi, err := os.Stat(path)
		require.NoError(t, err)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", path, fi.Mode().Perm())
		}
		if _, err := seal.InsecureLoadPlaintextCombiner(path, testTrust); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
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
	if err != nil || !strings.Contains(string(out), "Verified OK") {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

func TestSignErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.WriteFile(in, []byte("x"), 0o644)
	if _, _, err := runCmd(t, "sign", "-cluster", dir, "-in", in, "-out", filepath.Join(dir, "sig"), "-hash", "sha1"); !errors.Is(err, errUsage) {
		t.Fatalf("sha1: %v", err)
	}
	if _, _, err := runCmd(t, "sign", "-cluster", dir, "-in", in, "-out", filepath.Join(dir, "sig")); err == nil {
		t.Fatal("signed with an empty cluster directory")
	}
	if _, _, err := runCmd(t, "sign", "-in", in); !errors.Is(err, errUsage) {
		t.Fatalf("missing flags: %v", err)
	}
}
