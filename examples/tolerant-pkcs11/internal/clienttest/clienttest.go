// Package clienttest holds what the client tests of tolerant-pkcs11 and
// of its cfssl and step-ca examples (modules of their own, which cannot
// import each other's test files) share: the rule for a missing client
// program, programs run in the background with their output kept, and a
// request to cfssl's sign API. It is for tests only.
package clienttest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// RequireClientsEnv, set to 1 (as .ci/run does), makes a missing client
// program a test failure instead of a skip.
const RequireClientsEnv = "TOLERANT_REQUIRE_CLIENTS"

// Missing skips t because of what is missing or, under
// TOLERANT_REQUIRE_CLIENTS=1, fails it; install says how to install it.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	if os.Getenv(RequireClientsEnv) == "1" {
		require.FailNow(t, fmt.Sprintf("%s and %s=1 (%s)", what, RequireClientsEnv, install))
	}
	t.Skipf("%s: skipping (set %s=1 to make this a failure)", what, RequireClientsEnv)
}

// NeedTools calls Missing for the first of the programs that is not
// installed.
func NeedTools(t testing.TB, install string, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			Missing(t, tool+" is not installed", install)
		}
	}
}

// P11KitClient returns the path of p11-kit's client module, or calls
// Missing.
func P11KitClient(t testing.TB) string {
	t.Helper()
	globs := []string{"/usr/lib/*/pkcs11/p11-kit-client.so", "/usr/lib/pkcs11/p11-kit-client.so", "/usr/lib64/pkcs11/p11-kit-client.so"}
	for _, g := range globs {
		if m, _ := filepath.Glob(g); len(m) > 0 {
			return m[0]
		}
	}
	Missing(t, fmt.Sprintf("p11-kit-client.so not found (%v)", globs), "Debian: apt-get install p11-kit-modules")
	return ""
}

// Proc is a program a test started; it is killed when the test ends.
type Proc struct {
	// Name names the program in failures and logs.
	Name  string
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	seen  chan struct{} // pinged on every line
}

// Start starts exe with args and env (added to the test's environment)
// as a process called name, and keeps its output lines. When t ends the
// process is killed, and its last lines are logged if t failed.
func Start(t testing.TB, name, exe string, env []string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), env...)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = w, w
	require.NoError(t, cmd.Start(), name)
	w.Close()
	p := &Proc{Name: name, cmd: cmd, seen: make(chan struct{}, 1)}
	go p.read(r)
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			lines := p.Lines()
			t.Logf("--- %s, last output:\n%s", name, strings.Join(lines[max(0, len(lines)-8):], "\n"))
		}
	})
	return p
}

// read keeps the lines of r until it ends.
func (p *Proc) read(r *os.File) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		p.mu.Unlock()
		select {
		case p.seen <- struct{}{}:
		default:
		}
	}
}

// Lines returns the output lines so far.
func (p *Proc) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// Kill ends the process (SIGKILL) and waits for it.
func (p *Proc) Kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// WaitFor returns the first output line containing s; it fails t if none
// comes within a minute.
func (p *Proc) WaitFor(t testing.TB, s string) string {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		for _, l := range p.Lines() {
			if strings.Contains(l, s) {
				return l
			}
		}
		select {
		case <-p.seen:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			require.FailNow(t, fmt.Sprintf("%s: no %q in its output within a minute", p.Name, s))
		}
	}
}

// CFSSLSign posts a certificate request for a new P-256 key, with common
// name and DNS name cn, to the cfssl sign API at url, and returns the
// certificate cfssl answers, PEM; it fails t unless cfssl says it
// succeeded.
func CFSSLSign(t testing.TB, url, cn string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn}}, key)
	require.NoError(t, err)
	body, err := json.Marshal(map[string]string{"certificate_request": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}))})
	require.NoError(t, err)
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Success bool `json:"success"`
		Result  struct {
			Certificate string `json:"certificate"`
		} `json:"result"`
		Errors []any `json:"errors"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.True(t, out.Success, "cfssl errors: %v", out.Errors)
	return out.Result.Certificate
}
