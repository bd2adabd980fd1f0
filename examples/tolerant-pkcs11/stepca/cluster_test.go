package main

// The client harness: a cluster of real node processes over NATS (with
// the parent module's clienttest, as its test files are not importable),
// the tolerant module's configuration, and the module behind p11-kit
// server.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/examples/tolerant-pkcs11/internal/clienttest"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// needTools checks that the programs are installed.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	clienttest.NeedTools(t, "Debian: apt-get install p11-kit p11-kit-modules openssl", tools...)
}

// runEnv runs a program and returns its standard output; it fails t if
// the program fails.
func runEnv(t *testing.T, env []string, exe string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), exe, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "%s %s:\n%s%s", exe, strings.Join(args, " "), stdout.String(), stderr.String())
	return stdout.String()
}

// runOut is runEnv in the test's environment.
func runOut(t *testing.T, exe string, args ...string) string {
	t.Helper()
	return runEnv(t, nil, exe, args...)
}

// cluster is a dealt (5,3,2) cluster, its broker and its nodes.
type cluster struct {
	dir, tolerant, module string
	url, cdir             string
	key                   string // the key id: token and key label
	nodes                 []share.Node
	procs                 []*clienttest.Proc
	conf, pin             string // the module's configuration and PIN
}

// identity is the age identity file of node n.
func (c *cluster) identity(n share.Node) string {
	return filepath.Join(c.dir, fmt.Sprintf("%s-%d.key", n.Role, n.Number))
}

// write writes a file in the test's directory.
func (c *cluster) write(t *testing.T, name, s string) string {
	p := filepath.Join(c.dir, name)
	require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
	return p
}

// newCluster builds the tolerant program and the module (in the parent
// module), starts a broker, deals a sealed (5,3,2) cluster to identities
// made with keygen and writes the module's configuration for
// distributor 1. No node runs yet.
func newCluster(t *testing.T) *cluster {
	c := &cluster{dir: t.TempDir()}
	began := time.Now()
	c.tolerant = filepath.Join(c.dir, "tolerant")
	c.module = filepath.Join(c.dir, "libtolerant-pkcs11.so")
	for _, b := range [][]string{{"-o", c.tolerant, "../tolerant"}, {"-o", c.module, "-buildmode=c-shared", "."}} {
		cmd := exec.Command("go", append([]string{"build"}, b...)...)
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go build %v:\n%s", b, out)
	}
	t.Logf("built the tolerant program and the module in %v", time.Since(began).Round(time.Millisecond))
	broker := clienttest.Start(t, "broker", c.tolerant, nil, "broker", "-listen", "127.0.0.1:0")
	c.url = strings.TrimPrefix(broker.WaitFor(t, "broker listening on "), "broker listening on ")
	c.nodes = []share.Node{{Role: share.RoleDistributor, Number: 1}}
	for j := 1; j <= 5; j++ {
		c.nodes = append(c.nodes, share.Node{Role: share.RoleCalculator, Number: j})
	}
	var recipients strings.Builder
	for _, n := range append(c.nodes, share.Node{Role: share.RoleCombiner, Number: 1}, share.Node{Role: share.RoleCombiner, Number: 2}) {
		r := runEnv(t, nil, c.tolerant, "keygen", "-out", c.identity(n))
		fmt.Fprintf(&recipients, "%s %d %s\n", n.Role, n.Number, strings.TrimSpace(r))
	}
	c.cdir = filepath.Join(c.dir, "cluster")
	runEnv(t, nil, c.tolerant, "deal", "-key", c.write(t, "ca.pem", string(testkeys.PEM(testkeys.RSA2048b))), "-k", "5", "-t", "3", "-l", "2",
		"-recipients", c.write(t, "recipients.txt", recipients.String()), "-passphrase-file", c.write(t, "pass.txt", "dealer passphrase of the step-ca test\n"), "-out", c.cdir)
	pub, err := seal.LoadPublic(c.cdir, seal.Trust{InsecureTrustOnFirstUse: true})
	require.NoError(t, err)
	for a := range pub.Plan.Combiners {
		c.nodes = append(c.nodes, share.Node{Role: share.RoleCombiner, Number: a + 1})
	}
	c.key = pub.Info.KeyID
	c.pin = "314159"
	c.conf = filepath.Join(c.dir, "p11.conf")
	runEnv(t, nil, c.tolerant, "pkcs11-config", "-cluster", c.cdir, "-identity", c.identity(c.nodes[0]), "-nats", c.url,
		"-pin-file", c.write(t, "pin.txt", c.pin+"\n"), "-out", c.conf)
	return c
}

// startNodes starts every calculator and combiner with the policy file
// and waits until they are ready.
func (c *cluster) startNodes(t *testing.T, policyFile string) {
	pub, err := seal.LoadPublic(c.cdir, seal.Trust{InsecureTrustOnFirstUse: true})
	require.NoError(t, err)
	for _, n := range c.nodes[1:] {
		p := clienttest.Start(t, fmt.Sprintf("%s-%d", n.Role, n.Number), c.tolerant, nil, "node", "-policy", policyFile,
			"-role", strings.ToLower(n.Role.String()), "-bundle", pub.Path(n), "-identity", c.identity(n), "-nats", c.url)
		p.WaitFor(t, `"node ready"`)
		c.procs = append(c.procs, p)
	}
}

// stopNodes kills every calculator and combiner.
func (c *cluster) stopNodes() {
	for _, p := range c.procs {
		p.Kill()
	}
	c.procs = nil
}

// p11KitServer runs the module behind p11-kit server and returns the
// value of P11_KIT_SERVER_ADDRESS for its clients.
func (c *cluster) p11KitServer(t *testing.T) string {
	sock := filepath.Join(c.dir, "p11kit.sock")
	srv := clienttest.Start(t, "p11-kit server", "p11-kit", []string{"TOLERANT_PKCS11_CONFIG=" + c.conf},
		"server", "-f", "-s", "-n", sock, "--provider", c.module, "pkcs11:")
	srv.WaitFor(t, "P11_KIT_SERVER_ADDRESS=")
	return "unix:path=" + sock
}
