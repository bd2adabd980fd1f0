package main

import (
	"context"
	"crypto"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/examples/tolerant-pkcs11/internal/clienttest"
	"github.com/tolerantca/tolerant/examples/tolerant-pkcs11/p11conf"

	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// clientsInstall says how to install the client programs.
const clientsInstall = "Debian: apt-get install opensc gnutls-bin libengine-pkcs11-openssl p11-kit openssl; pkcs11-provider from bookworm-backports"

// needTools skips t, or fails it under TOLERANT_REQUIRE_CLIENTS=1, when
// one of the programs is not installed.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	clienttest.NeedTools(t, clientsInstall, tools...)
}

// needFile is needTools for a file (a module or an OpenSSL plugin).
func needFile(t *testing.T, what string, globs ...string) string {
	t.Helper()
	for _, g := range globs {
		if m, _ := filepath.Glob(g); len(m) > 0 {
			return m[0]
		}
	}
	clienttest.Missing(t, fmt.Sprintf("%s not found (%v)", what, globs), clientsInstall)
	return ""
}

// clientEnv is a running cluster and what the clients need to use it.
type clientEnv struct {
	dir, module, tolerant, goClient string
	cluster, identity, url          string // for more configurations
	conf, pinFile, pin, label       string
	public                          string // the cluster's public.pem
	env                             []string
	calcs                           map[int]*clienttest.Proc
}

// run runs a client program in the environment of the module and
// returns its standard output followed by its standard error; it fails
// the test when the program fails.
func (e *clientEnv) run(t *testing.T, exe string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), e.env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, err, "%s %s:\n%s%s", exe, strings.Join(args, " "), stdout.String(), stderr.String())
	return stdout.String() + stderr.String()
}

// goBuild builds pkg into dir/name with extra flags.
func goBuild(t *testing.T, dir, name, pkg string, flags ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	args := append(append([]string{"build", "-o", out}, flags...), pkg)
	b, err := exec.Command("go", args...).CombinedOutput()
	require.NoError(t, err, "go build %s:\n%s", pkg, b)
	return out
}

// startCluster builds the programs, deals a sealed (5,3,2) cluster to
// identities made with keygen, starts a broker and every calculator and
// combiner as its own process, and writes the module's configuration
// with tolerant pkcs11-config.
func startCluster(t *testing.T) *clientEnv {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build the module with")
	}
	dir := t.TempDir()
	start := time.Now()
	e := &clientEnv{dir: dir, calcs: map[int]*clienttest.Proc{}}
	e.tolerant = goBuild(t, dir, "tolerant", "../tolerant")
	e.module = goBuild(t, dir, "libtolerant-pkcs11.so", ".", "-buildmode=c-shared")
	e.goClient = goBuild(t, dir, "p11goclient", "./internal/p11goclient")
	t.Logf("built the program, the module and the Go client in %v", time.Since(start).Round(time.Millisecond))

	broker := clienttest.Start(t, "broker", e.tolerant, nil, "broker", "-listen", "127.0.0.1:0")
	url := strings.TrimPrefix(broker.WaitFor(t, "broker listening on "), "broker listening on ")
	nodes := []share.Node{{Role: share.RoleDistributor, Number: 1}}
	for j := 1; j <= 5; j++ {
		nodes = append(nodes, share.Node{Role: share.RoleCalculator, Number: j})
	}
	nodes = append(nodes, share.Node{Role: share.RoleCombiner, Number: 1}, share.Node{Role: share.RoleCombiner, Number: 2})
	identity := func(n share.Node) string { return filepath.Join(dir, fmt.Sprintf("%s-%d.key", n.Role, n.Number)) }
	var recipients strings.Builder
	for _, n := range nodes {
		out, err := exec.Command(e.tolerant, "keygen", "-out", identity(n)).Output()
		require.NoError(t, err)
		r := strings.TrimSpace(string(out))
		fmt.Fprintf(&recipients, "%s %d %s\n", n.Role, n.Number, r)
	}
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
		return p
	}
	cdir := filepath.Join(dir, "cluster")
	e.run(t, e.tolerant, "deal", "-key", write("ca.pem", string(testkeys.PEM(testkeys.RSA2048b))), "-k", "5", "-t", "3", "-l", "2",
		"-recipients", write("recipients.txt", recipients.String()), "-passphrase-file", write("pass.txt", "dealer passphrase of the client test\n"), "-out", cdir)
	c, err := seal.LoadPublic(cdir, seal.Trust{InsecureTrustOnFirstUse: true})
	require.NoError(t, err)
	for _, n := range nodes[1:] {
		if n.Role == share.RoleCombiner && n.Number > len(c.Plan.Combiners) {
			continue
		}
		p := clienttest.Start(t, fmt.Sprintf("%s-%d", n.Role, n.Number), e.tolerant, nil, "node", "-insecure-no-policy", "-role", strings.ToLower(n.Role.String()),
			"-bundle", c.Path(n), "-identity", identity(n), "-nats", url, "-audit-dir", filepath.Join(dir, "audit"))
		p.WaitFor(t, `"node ready"`)
		if n.Role == share.RoleCalculator {
			e.calcs[n.Number] = p
		}
	}
	e.pin = "271828"
	e.pinFile = write("pin.txt", e.pin+"\n")
	e.conf = filepath.Join(dir, "p11.conf")
	e.run(t, e.tolerant, "pkcs11-config", "-cluster", cdir, "-identity", identity(nodes[0]), "-nats", url,
		"-pin-file", e.pinFile, "-out", e.conf, "-audit-log", filepath.Join(dir, "audit", "module.jsonl"))
	e.label = c.Info.KeyID
	e.cluster, e.identity, e.url = cdir, identity(nodes[0]), url
	e.public = filepath.Join(cdir, seal.PublicFile)
	e.env = []string{p11confEnv + "=" + e.conf}
	t.Logf("cluster of %d calculators and %d combiners on %s ready after %v", 5, len(c.Plan.Combiners), url, time.Since(start).Round(time.Millisecond))
	return e
}

// p11confEnv is the configuration's environment variable.
const p11confEnv = "TOLERANT_PKCS11_CONFIG"

// TestClients runs the real PKCS #11 clients against a cluster of node
// processes over NATS: pkcs11-tool, OpenSSL 3 through pkcs11-provider and
// through libp11's engine, openssl ca, GnuTLS's certtool, and, behind
// p11-kit server, pkcs11-tool and a Go program; then the same with two
// calculators down.
func TestClients(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module and runs a cluster of processes")
	}
	needTools(t, "openssl")
	e := startCluster(t)
	clients := func(t *testing.T) {
		t.Run("pkcs11-tool", func(t *testing.T) { e.pkcs11Tool(t, e.module, true) })
		t.Run("openssl-provider", e.opensslProvider)
		t.Run("openssl-engine", e.opensslEngine)
		t.Run("certtool", e.certtool)
		t.Run("nss-certutil", e.nssCertutil)
		t.Run("p11-kit-server", e.p11KitServer)
	}
	t.Run("fork", func(t *testing.T) { testFork(t, e) })
	t.Run("all-calculators", clients)
	t.Run("throughput", e.throughput)
	t.Run("cfssl", e.cfssl)
	e.calcs[4].Kill()
	e.calcs[5].Kill()
	t.Run("two-calculators-down", clients)
	t.Run("audit-logs", e.auditLogs)
}

// auditLogs checks the audit logs of the module (the distributor of every
// client above) and of the nodes: each chains, and every signature the
// module released shows in t calculators' logs and one combiner's.
func (e *clientEnv) auditLogs(t *testing.T) {
	logs, err := filepath.Glob(filepath.Join(e.dir, "audit", "*.jsonl"))
	require.NoError(t, err)
	require.Contains(t, logs, filepath.Join(e.dir, "audit", "module.jsonl"))
	out := e.run(t, e.tolerant, append([]string{"audit", "verify"}, logs...)...)
	require.Contains(t, out, "audit logs OK")
	require.NotContains(t, out, "cross-check: 0 releases")
	t.Log(out[strings.LastIndex(out, "cross-check"):])
}

// pkcs11Tool lists the token and its objects and signs with
// SHA256-RSA-PKCS and, with pss, SHA256-RSA-PKCS-PSS, checked by openssl
// dgst.
func (e *clientEnv) pkcs11Tool(t *testing.T, module string, pss bool) {
	needTools(t, "pkcs11-tool")
	out := e.run(t, "pkcs11-tool", "--module", module, "-L")
	require.Contains(t, out, "token label        : "+e.label)
	require.Contains(t, out, "login required")
	out = e.run(t, "pkcs11-tool", "--module", module, "-O", "--login", "--pin", e.pin)
	require.Contains(t, out, "Private Key Object; RSA")
	require.Contains(t, out, "Public Key Object; RSA 2048 bits")
	msg := filepath.Join(e.dir, "msg.txt")
	require.NoError(t, os.WriteFile(msg, []byte("signed through PKCS #11 by a tolerant cluster\n"), 0o644))
	for mech, verify := range map[string][]string{
		"SHA256-RSA-PKCS":     nil,
		"SHA256-RSA-PKCS-PSS": {"-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"},
	} {
		if verify != nil && !pss {
			continue
		}
		sig := filepath.Join(e.dir, mech+".sig")
		e.run(t, "pkcs11-tool", "--module", module, "--login", "--pin", e.pin, "--sign", "-m", mech, "-i", msg, "-o", sig)
		args := append(append([]string{"dgst", "-sha256", "-verify", e.public}, verify...), "-signature", sig, msg)
		require.Contains(t, e.run(t, "openssl", args...), "Verified OK", mech)
	}
	// A wrong PIN is CKR_PIN_INCORRECT (the count is reset by the next
	// right PIN of the other steps).
	cmd := exec.Command("pkcs11-tool", "--module", module, "--login", "--pin", "000000", "-O")
	cmd.Env = append(os.Environ(), e.env...)
	b, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(b), "CKR_PIN_INCORRECT")
	e.run(t, "pkcs11-tool", "--module", module, "--login", "--pin", e.pin, "-O")
}

// keyURI is the RFC 7512 URI of the private key.
func (e *clientEnv) keyURI() string {
	return "pkcs11:token=" + e.label + ";object=" + e.label + ";type=private"
}

// verify checks cert against root with openssl verify.
func (e *clientEnv) verify(t *testing.T, root, cert string) {
	t.Helper()
	require.Contains(t, e.run(t, "openssl", "verify", "-CAfile", root, cert), ": OK")
}

// opensslDir returns the directory "openssl version" names with flag.
func opensslDir(t *testing.T, flag, prefix string) string {
	out, err := exec.Command("openssl", "version", flag).Output()
	require.NoError(t, err)
	s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), prefix))
	return strings.Trim(s, `"`)
}

// opensslWith writes an OpenSSL configuration whose openssl_init section
// is init into a new directory, and returns a function that runs openssl
// with it (OPENSSL_CONF) in the module's environment, the file and the
// directory.
func (e *clientEnv) opensslWith(t *testing.T, init string) (ossl func(args ...string) string, cnf, dir string) {
	t.Helper()
	dir = t.TempDir()
	cnf = filepath.Join(dir, "openssl.cnf")
	require.NoError(t, os.WriteFile(cnf, []byte("openssl_conf = openssl_init\n[openssl_init]\n"+init), 0o644))
	return func(args ...string) string {
		return e.run(t, "env", append([]string{"OPENSSL_CONF=" + cnf, "openssl"}, args...)...)
	}, cnf, dir
}

// opensslProvider issues a root (req -x509), a leaf from a CSR (x509
// -req, PKCS #1 v1.5 and PSS) and a leaf through openssl ca, all through
// OpenSSL 3's pkcs11-provider, which signs with CKM_SHA256_RSA_PKCS(_PSS)
// and the whole TBSCertificate.
func (e *clientEnv) opensslProvider(t *testing.T) {
	mod := needFile(t, "pkcs11-provider (bookworm-backports)", filepath.Join(opensslDir(t, "-m", "MODULESDIR:"), "pkcs11.so"))
	ossl, cnf, dir := e.opensslWith(t, fmt.Sprintf(`providers = provider_sect
[provider_sect]
default = default_sect
pkcs11 = pkcs11_sect
[default_sect]
activate = 1
[pkcs11_sect]
module = %s
pkcs11-module-path = %s
activate = 1
`, mod, e.module))
	key := e.keyURI() + "?pin-value=" + e.pin
	root, leaf, csr, leafKey := filepath.Join(dir, "root.pem"), filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "leaf.csr"), filepath.Join(dir, "leaf.key")
	ossl("req", "-x509", "-new", "-key", key, "-subj", "/CN=tolerant root (pkcs11-provider)", "-days", "30", "-sha256", "-out", root)
	e.verify(t, root, root)
	e.spyProvider(t, cnf, key, dir)
	e.run(t, "openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", leafKey, "-subj", "/CN=leaf.example.com", "-out", csr)
	ossl("x509", "-req", "-in", csr, "-CA", root, "-CAkey", key, "-days", "7", "-sha256", "-out", leaf)
	e.verify(t, root, leaf)
	pss := filepath.Join(dir, "leaf-pss.pem")
	ossl("x509", "-req", "-in", csr, "-CA", root, "-CAkey", key, "-days", "7", "-sha256",
		"-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32", "-out", pss)
	e.verify(t, root, pss)
	require.Contains(t, e.run(t, "openssl", "x509", "-in", pss, "-noout", "-text"), "rsassaPss")

	// openssl ca, with its database.
	ca := filepath.Join(dir, "ca")
	require.NoError(t, os.MkdirAll(filepath.Join(ca, "newcerts"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(ca, "index.txt"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(ca, "serial"), []byte("1000\n"), 0o644))
	caCnf := filepath.Join(dir, "ca.cnf")
	require.NoError(t, os.WriteFile(caCnf, []byte(fmt.Sprintf(`[ca]
default_ca = tolerant
[tolerant]
dir = %s
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
certificate = %s
default_md = sha256
default_days = 7
policy = anything
[anything]
commonName = supplied
`, ca, root)), 0o644))
	caLeaf := filepath.Join(dir, "ca-leaf.pem")
	ossl("ca", "-batch", "-config", caCnf, "-propquery", "?provider=default", "-keyfile", key, "-in", csr, "-out", caLeaf)
	e.verify(t, root, caLeaf)
}

// opensslEngine issues a root and a leaf through libp11's engine (OpenSSL
// 1.1-style engines still work in OpenSSL 3), which signs with
// CKM_RSA_PKCS on a DigestInfo.
func (e *clientEnv) opensslEngine(t *testing.T) {
	eng := needFile(t, "libp11's engine (libengine-pkcs11-openssl)", filepath.Join(opensslDir(t, "-e", "ENGINESDIR:"), "pkcs11.so"))
	ossl, _, dir := e.opensslWith(t, fmt.Sprintf(`engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = %s
MODULE_PATH = %s
init = 0
`, eng, e.module))
	key := e.keyURI() + ";pin-value=" + e.pin
	root, leaf, csr := filepath.Join(dir, "root.pem"), filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "leaf.csr")
	ossl("req", "-x509", "-new", "-engine", "pkcs11", "-keyform", "engine", "-key", key, "-subj", "/CN=tolerant root (libp11 engine)", "-days", "30", "-sha256", "-out", root)
	e.verify(t, root, root)
	e.run(t, "openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", filepath.Join(dir, "leaf.key"), "-subj", "/CN=engine.example.com", "-out", csr)
	ossl("x509", "-req", "-in", csr, "-CA", root, "-engine", "pkcs11", "-CAkeyform", "engine", "-CAkey", key, "-days", "7", "-sha256", "-out", leaf)
	e.verify(t, root, leaf)
}

// certtool makes a self-signed CA certificate through the module.
func (e *clientEnv) certtool(t *testing.T) {
	needTools(t, "certtool")
	root := e.certtoolRoot(t, t.TempDir(), "tolerant root (certtool)")
	e.verify(t, root, root)
}

// certtoolRoot makes a self-signed CA certificate named cn through the
// module with certtool, in dir, and returns its PEM file.
func (e *clientEnv) certtoolRoot(t *testing.T, dir, cn string) string {
	t.Helper()
	tmpl := filepath.Join(dir, "ca.tmpl")
	require.NoError(t, os.WriteFile(tmpl, []byte("cn = "+cn+"\nca\ncert_signing_key\nexpiration_days = 30\n"), 0o644))
	root := filepath.Join(dir, "root.pem")
	e.run(t, "env", "GNUTLS_PIN="+e.pin, "certtool", "--provider", e.module, "--generate-self-signed",
		"--load-privkey", e.keyURI(), "--template", tmpl, "--outfile", root)
	return root
}

// startP11KitServer runs the module in its own process behind p11-kit
// server, points e's environment at it and returns p11-kit-client.so and
// the environment before.
func (e *clientEnv) startP11KitServer(t *testing.T) (client string, before []string) {
	t.Helper()
	needTools(t, "p11-kit")
	client = clienttest.P11KitClient(t)
	sock := filepath.Join(t.TempDir(), "p11kit.sock")
	srv := clienttest.Start(t, "p11-kit server", "p11-kit", e.env, "server", "-f", "-s", "-n", sock, "--provider", e.module, "pkcs11:")
	srv.WaitFor(t, "P11_KIT_SERVER_ADDRESS=")
	before = e.env
	e.env = append(append([]string{}, e.env...), "P11_KIT_SERVER_ADDRESS=unix:path="+sock)
	return client, before
}

// p11KitServer runs the module in its own process behind p11-kit server
// and uses it through p11-kit-client.so from pkcs11-tool (C) and from a
// Go program that issues a certificate with crypto/x509.
func (e *clientEnv) p11KitServer(t *testing.T) {
	needTools(t, "pkcs11-tool")
	client, env := e.startP11KitServer(t)
	defer func() { e.env = env }()
	// p11-kit 0.24's RPC (bookworm) does not carry PSS parameters: its
	// client answers CKR_MECHANISM_INVALID for every PSS mechanism.
	e.pkcs11Tool(t, client, false)
	cert := filepath.Join(t.TempDir(), "go-client.pem")
	e.run(t, e.goClient, "-module", client, "-label", e.label, "-pin-file", e.pinFile, "-out", cert)
	e.verify(t, cert, cert)
}

// forkScript loads the module, initializes it, forks, and checks that the
// child's calls are refused with CKR_DEVICE_ERROR (rather than hang in a
// Go runtime that did not survive the fork) while the parent still works.
const forkScript = `
import ctypes, os, sys
lib = ctypes.CDLL(sys.argv[1])
for f in (lib.C_Initialize, lib.C_Finalize, lib.C_GetSlotList):
    f.restype = ctypes.c_ulong
assert lib.C_Initialize(None) == 0, "initialize"
n = ctypes.c_ulong(0)
pid = os.fork()
if pid == 0:
    ok = lib.C_GetSlotList(0, None, ctypes.byref(n)) == 0x30 and lib.C_Finalize(None) == 0x30
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "child not refused"
assert lib.C_GetSlotList(0, None, ctypes.byref(n)) == 0 and n.value == 1, "parent"
assert lib.C_Finalize(None) == 0, "finalize"
print("fork refused in the child, parent unaffected")
`

// testFork runs forkScript with Python's ctypes against a built module.
func testFork(t *testing.T, e *clientEnv) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: the fork check needs its ctypes")
	}
	out := e.run(t, "python3", "-c", forkScript, e.module)
	require.Contains(t, out, "fork refused in the child")
}

// nssCertutil configures the token with a certificate of its key (made
// with certtool) and lists it with NSS's certutil, which shows a
// certificate with its private key ("u,u,u") only when the certificate
// object has the key's CKA_ID.
func (e *clientEnv) nssCertutil(t *testing.T) {
	needTools(t, "certutil", "modutil", "certtool")
	dir := t.TempDir()
	root := e.certtoolRoot(t, dir, "tolerant root (for NSS)")
	conf := filepath.Join(dir, "p11-cert.conf")
	e.run(t, e.tolerant, "pkcs11-config", "-cluster", e.cluster, "-identity", e.identity, "-nats", e.url,
		"-pin-file", e.pinFile, "-cert", root, "-out", conf)
	db := "sql:" + filepath.Join(dir, "nssdb")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "nssdb"), 0o700))
	env := []string{p11confEnv + "=" + conf}
	run := func(args ...string) string { return e.run(t, "env", append(env, args...)...) }
	run("certutil", "-N", "-d", db, "--empty-password")
	run("modutil", "-dbdir", db, "-add", "tolerant", "-libfile", e.module, "-force")
	out := run("certutil", "-L", "-d", db, "-h", e.label, "-f", e.pinFile)
	require.Contains(t, out, e.label+":"+e.label)
	require.Contains(t, out, "u,u,u", "the certificate is matched to its private key")
}

// spyProvider runs openssl req -x509 through OpenSC's pkcs11-spy.so (when
// installed) and checks that the provider signs with CKM_SHA256_RSA_PKCS
// and C_SignUpdate: the whole TBSCertificate goes to the cluster.
func (e *clientEnv) spyProvider(t *testing.T, cnf, key, dir string) {
	spy := ""
	for _, g := range []string{"/usr/lib/*/pkcs11-spy.so", "/usr/lib/*/pkcs11/pkcs11-spy.so"} {
		if m, _ := filepath.Glob(g); len(m) > 0 {
			spy = m[0]
			break
		}
	}
	if spy == "" {
		t.Log("pkcs11-spy.so not installed: the mechanism the provider uses is not checked")
		return
	}
	b, err := os.ReadFile(cnf)
	require.NoError(t, err)
	spyCnf, spyLog, cert := filepath.Join(dir, "spy.cnf"), filepath.Join(dir, "spy.log"), filepath.Join(dir, "spy.pem")
	require.NoError(t, os.WriteFile(spyCnf, []byte(strings.Replace(string(b), "pkcs11-module-path = "+e.module, "pkcs11-module-path = "+spy, 1)), 0o644))
	e.run(t, "env", "OPENSSL_CONF="+spyCnf, "PKCS11SPY="+e.module, "PKCS11SPY_OUTPUT="+spyLog,
		"openssl", "req", "-x509", "-new", "-key", key, "-subj", "/CN=spied", "-days", "1", "-sha256", "-out", cert)
	e.verify(t, cert, cert)
	log, err := os.ReadFile(spyLog)
	require.NoError(t, err)
	require.Contains(t, string(log), "CKM_SHA256_RSA_PKCS ")
	require.Contains(t, string(log), "C_SignUpdate")
}

// throughput signs 64 digests over 16 sessions at once through the
// module (in p11-kit server, from the Go client) and 64 messages with 16
// goroutines through x509sign's Signer dialled from the same
// configuration, on the same cluster, and logs both rates. (Under -race
// the Go signer runs instrumented, the module does not.)
func (e *clientEnv) throughput(t *testing.T) {
	client, env := e.startP11KitServer(t)
	out := e.run(t, e.goClient, "-module", client, "-label", e.label, "-pin-file", e.pinFile, "-bench", "64", "-sessions", "16")
	e.env = env
	t.Logf("through the module: %s", strings.TrimSpace(out))

	c, err := p11conf.Load(e.conf)
	require.NoError(t, err)
	cl, err := c.LoadPublic()
	require.NoError(t, err)
	s, closer, err := c.Dial(t.Context(), cl, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer closer.Close()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 16 {
		wg.Go(func() {
			for i := range 4 {
				d := sha256.Sum256(fmt.Appendf(nil, "go %d %d", w, i))
				if _, err := s.SignContext(t.Context(), nil, d[:], crypto.SHA256); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	el := time.Since(start)
	t.Logf("through x509sign's Signer: 64 signatures over 16 goroutines in %v: %.1f/s", el.Round(time.Millisecond), 64/el.Seconds())
}

// cfssl builds the cfssl example (its own module), runs it as a CA server
// whose key is the cluster, over NATS from the module's configuration,
// and has it sign a CSR through its HTTP API.
func (e *clientEnv) cfssl(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "cfssl-tolerant")
	cmd := exec.Command("go", "build", "-o", exe, ".")
	cmd.Dir = "cfssl"
	if b, err := cmd.CombinedOutput(); err != nil {
		clienttest.Missing(t, fmt.Sprintf("cannot build the cfssl example (its dependencies may not be downloadable here): %v\n%s", err, b),
			"go mod download in examples/tolerant-pkcs11/cfssl")
	}
	// The CA certificate, made through the module by certtool.
	needTools(t, "certtool")
	root := e.certtoolRoot(t, dir, "tolerant root (cfssl)")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	srv := clienttest.Start(t, "cfssl-tolerant", exe, nil, "-config", e.conf, "-ca-cert", root, "-listen", addr)
	srv.WaitFor(t, "cfssl sign API listening")

	cert := clienttest.CFSSLSign(t, "http://"+addr+"/api/v1/cfssl/sign", "cfssl.example.com")
	leaf := filepath.Join(dir, "leaf.pem")
	require.NoError(t, os.WriteFile(leaf, []byte(cert), 0o644))
	e.verify(t, root, leaf)
}
