// Command tolerant-pkcs11 is a PKCS #11 v2.40 module (build it with
// "go build -buildmode=c-shared -o libtolerant-pkcs11.so") whose one token
// holds the RSA key of a tolerant signing cluster: the key never exists in
// one place; every signature is a task the module distributes over NATS
// to the cluster's calculators and combiners ([0047], [0106]-[0116]).
//
// The module reads the configuration file named by TOLERANT_PKCS11_CONFIG,
// written by "tolerant pkcs11-config". One slot, one token labelled with
// the key id; a private key, a public key and, when configured, the key's
// certificate, all with the same CKA_ID (the SHA-1 of the public key, as
// in a subject key identifier). The user PIN is checked against a slow
// scrypt hash; repeated wrong PINs lock the token.
//
// Mechanisms: CKM_RSA_PKCS on a DER DigestInfo of SHA-256/384/512 and
// CKM_RSA_PKCS_PSS on a digest (digest-only requests), and
// CKM_SHA256/384/512_RSA_PKCS and _RSA_PKCS_PSS on the whole message,
// which goes to the cluster as the request's content so that every node
// hashes and checks it and applies its policy. A refusal by the nodes is
// CKR_FUNCTION_REJECTED; too few calculators or no combiner,
// CKR_DEVICE_ERROR; no answer in time, CKR_FUNCTION_CANCELED.
//
// # Fork safety and Go programs
//
// The Go runtime does not survive fork() in its host: a child process
// that calls the module after its parent loaded it gets
// CKR_DEVICE_ERROR (the module notices the fork and refuses, rather than
// hang). Two Go runtimes in one process are not supported either, so a Go
// program (step-ca, a crypto11 or miekg/pkcs11 client) must not load this
// module directly. For both, run the module in its own process behind
// p11-kit's RPC server and let the clients load p11-kit-client.so:
//
//	p11-kit server -f -n /run/tolerant/p11.sock --provider /path/libtolerant-pkcs11.so "pkcs11:"
//	P11_KIT_SERVER_ADDRESS=unix:path=/run/tolerant/p11.sock CLIENT --module /usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so
//
// p11-kit 0.24's RPC does not carry PSS parameters: through it, use the
// PKCS #1 v1.5 mechanisms. README.md shows every client's command.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/tolerantca/tolerant/examples/tolerant-pkcs11/p11conf"
)

// mod is the module's state between C_Initialize and C_Finalize.
var mod struct {
	sync.Mutex
	tok *token
}

// current returns the token, or CKR_CRYPTOKI_NOT_INITIALIZED.
func current() (*token, uint) {
	mod.Lock()
	defer mod.Unlock()
	if mod.tok == nil {
		return nil, ckrCryptokiNotInitialized
	}
	return mod.tok, ckrOK
}

// checkInitArgs checks C_Initialize's CK_C_INITIALIZE_ARGS (section 5.4):
// pReserved must be NULL, and the four mutex functions all given or none.
// Mutex functions with or without CKF_OS_LOCKING_OK are both accepted:
// the module's own locks are OS-level (Go's), which is correct for any
// application whose threads are OS threads (cases 2 to 4 of the section);
// GnuTLS passes functions without the flag. CKF_LIBRARY_CANT_CREATE_OS_THREADS
// is accepted too: the Go runtime started its threads when the module was
// loaded, and they never call into the application; p11-kit (hence
// GnuTLS) sets the flag.
func checkInitArgs(reserved bool, mutexFns [4]bool, _ uint) uint {
	if reserved {
		return ckrArgumentsBad
	}
	for _, f := range mutexFns[1:] {
		if f != mutexFns[0] {
			return ckrArgumentsBad
		}
	}
	return ckrOK
}

// initialize loads the configuration and builds the token.
func initialize() uint {
	mod.Lock()
	defer mod.Unlock()
	if mod.tok != nil {
		return ckrCryptokiAlreadyInitialized
	}
	path := os.Getenv(p11conf.EnvVar)
	if path == "" {
		fmt.Fprintf(os.Stderr, "tolerant-pkcs11: %s is not set: it names the file written by tolerant pkcs11-config\n", p11conf.EnvVar)
		return ckrGeneralError
	}
	c, err := p11conf.Load(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tolerant-pkcs11: %v\n", err)
		return ckrGeneralError
	}
	level := slog.LevelError
	if c.LogLevel != "" && level.UnmarshalText([]byte(c.LogLevel)) != nil {
		fmt.Fprintf(os.Stderr, "tolerant-pkcs11: %s: log_level %q: want debug, info, warn or error\n", path, c.LogLevel)
		return ckrGeneralError
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	t, err := newToken(c, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tolerant-pkcs11: %s: %v\n", path, err)
		return ckrGeneralError
	}
	mod.tok = t
	return ckrOK
}

// finalize closes the connection to the cluster and forgets the token.
func finalize() uint {
	mod.Lock()
	t := mod.tok
	mod.tok = nil
	mod.Unlock()
	if t == nil {
		return ckrCryptokiNotInitialized
	}
	t.close()
	return ckrOK
}

// logPanic reports a recovered panic, without its value (which could
// hold anything).
func logPanic() {
	fmt.Fprintln(os.Stderr, "tolerant-pkcs11: internal error (recovered panic); returning CKR_GENERAL_ERROR")
}

// sessionCount is the number of open sessions.
func (t *token) sessionCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.sessions)
}

// main is never run: the module is a library (-buildmode=c-shared).
func main() {}
