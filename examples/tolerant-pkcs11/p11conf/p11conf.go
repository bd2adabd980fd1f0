// Package p11conf is the configuration of the tolerant PKCS #11 module: the
// file named by TOLERANT_PKCS11_CONFIG, which "tolerant pkcs11-config"
// writes and the module reads. It holds paths (the cluster's public files,
// the distributor's bundle and identity, NATS credentials), labels, and the
// user PIN as a slow hash (scrypt) only: never a key and never the PIN.
package p11conf

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/scrypt"
)

// EnvVar names the environment variable that gives the module its
// configuration file.
const EnvVar = "TOLERANT_PKCS11_CONFIG"

// Version is the format version written by Write and accepted by Load.
const Version = 1

// DefaultMaxPINFailures is how many wrong PINs in a row lock the token
// when the configuration does not say.
const DefaultMaxPINFailures = 5

// DefaultTimeout bounds one signature when the configuration does not say.
const DefaultTimeout = 30 * time.Second

// PIN lengths accepted by HashPIN (PKCS #11 v2.40 section 4.5,
// ulMinPinLen and ulMaxPinLen).
const (
	MinPINLen = 4
	MaxPINLen = 256
)

// Errors of this package.
var (
	// ErrConfig: the file is not a usable configuration.
	ErrConfig = errors.New("p11conf: invalid configuration")
	// ErrPINLength: the PIN is shorter than MinPINLen or longer than MaxPINLen.
	ErrPINLength = errors.New("p11conf: PIN length out of range")
)

// NATS are the NATS connection settings of the distributor, as the
// tolerant command's NATS flags take them.
type NATS struct {
	URL          string `json:"url"`
	Cluster      string `json:"cluster,omitempty"` // default: the key id
	TLSCA        string `json:"tls_ca,omitempty"`
	TLSCert      string `json:"tls_cert,omitempty"`
	TLSKey       string `json:"tls_key,omitempty"`
	Creds        string `json:"creds,omitempty"`
	User         string `json:"user,omitempty"`
	PasswordFile string `json:"password_file,omitempty"`
}

// PINHash is the user PIN as an scrypt hash (RFC 7914) with its
// parameters and salt.
type PINHash struct {
	Scheme string `json:"scheme"` // "scrypt"
	N      int    `json:"n"`
	R      int    `json:"r"`
	P      int    `json:"p"`
	Salt   []byte `json:"salt"`
	Hash   []byte `json:"hash"`
}

// Config is the module's configuration. Relative paths are relative to
// the directory of the configuration file.
type Config struct {
	Version int `json:"version"`
	// Cluster is the directory of the cluster's public files.
	Cluster string `json:"cluster"`
	// Distributor is the distributor's bundle; Identity the age identity
	// that opens it. InsecurePlaintextKeys accepts a plaintext bundle
	// (tests and demos only), which then has no Identity.
	Distributor           string `json:"distributor"`
	Identity              string `json:"identity,omitempty"`
	InsecurePlaintextKeys bool   `json:"insecure_plaintext_keys,omitempty"`
	// DealerKey is the dealer's key (seal.FormatDealerKey): the public
	// files and the bundle must be signed by it.
	DealerKey string `json:"dealer_key"`
	NATS      NATS   `json:"nats"`
	// KeyID is the cluster's key id, as recorded when the file was written.
	KeyID string `json:"key_id"`
	// TokenLabel and KeyLabel default to the key id.
	TokenLabel string `json:"token_label,omitempty"`
	KeyLabel   string `json:"key_label,omitempty"`
	// Certificate is an optional PEM certificate of the key, shown as a
	// certificate object with the key's CKA_ID.
	Certificate string  `json:"certificate,omitempty"`
	PIN         PINHash `json:"pin"`
	// MaxPINFailures wrong PINs in a row lock the token (0: the default).
	// The count is kept in FailureFile (default: the configuration file's
	// path + ".failures"); removing that file unlocks the token.
	MaxPINFailures int    `json:"max_pin_failures,omitempty"`
	FailureFile    string `json:"failure_file,omitempty"`
	// Timeout bounds one signature, e.g. "30s" (empty: the default).
	Timeout string `json:"timeout,omitempty"`
	// LogLevel of the module's JSON logs on stderr (default "error").
	LogLevel string `json:"log_level,omitempty"`
	// AuditLog, when set, is the path of the distributor's append-only
	// audit log (broadcast/audit): every task submitted, every result
	// verified, every signature released. One process at a time holds
	// it (the file is locked): with it, load the module in one process,
	// e.g. behind p11-kit server, or a second process fails to sign.
	AuditLog string `json:"audit_log,omitempty"`

	dir  string // the configuration file's directory
	path string
}

// scrypt parameters of new PIN hashes: about 50-100 ms per check on a
// server core, so that a stolen configuration file resists guessing.
const (
	scryptN = 1 << 15
	scryptR = 8
	scryptP = 1
)

// HashPIN returns the scrypt hash of pin under a fresh salt.
func HashPIN(pin []byte) (PINHash, error) {
	return hashPIN(pin, scryptN)
}

func hashPIN(pin []byte, n int) (PINHash, error) {
	if len(pin) < MinPINLen || len(pin) > MaxPINLen {
		return PINHash{}, ErrPINLength
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return PINHash{}, err
	}
	h, err := scrypt.Key(pin, salt, n, scryptR, scryptP, 32)
	if err != nil {
		return PINHash{}, err
	}
	return PINHash{Scheme: "scrypt", N: n, R: scryptR, P: scryptP, Salt: salt, Hash: h}, nil
}

// Check reports whether pin matches the hash, in time independent of
// where they differ.
func (h PINHash) Check(pin []byte) bool {
	if h.Scheme != "scrypt" || len(h.Hash) != 32 || len(h.Salt) < 16 {
		return false
	}
	got, err := scrypt.Key(pin, h.Salt, h.N, h.R, h.P, 32)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, h.Hash) == 1
}

// valid reports whether the hash's parameters are usable and bounded, so
// that a configuration cannot make each check take unbounded memory.
func (h PINHash) valid() bool {
	return h.Scheme == "scrypt" && h.N >= 1<<10 && h.N <= 1<<20 && h.N&(h.N-1) == 0 &&
		h.R >= 1 && h.R <= 32 && h.P >= 1 && h.P <= 16 && len(h.Salt) >= 16 && len(h.Hash) == 32
}

// Write writes c to path (mode 0600), refusing to overwrite a file.
func Write(path string, c *Config) error {
	c.Version = Version
	if err := c.check(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// Load reads and checks the configuration file path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%w: %s: not JSON", ErrConfig, path)
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	c.path, c.dir = abs, filepath.Dir(abs)
	return &c, nil
}

// check reports the first thing that makes c unusable.
func (c *Config) check() error {
	switch {
	case c.Version != Version:
		return fmt.Errorf("%w: version %d (want %d)", ErrConfig, c.Version, Version)
	case c.Cluster == "" || c.Distributor == "" || c.NATS.URL == "" || c.KeyID == "":
		return fmt.Errorf("%w: cluster, distributor, nats.url and key_id are required", ErrConfig)
	case c.Identity == "" && !c.InsecurePlaintextKeys:
		return fmt.Errorf("%w: identity is required for a sealed distributor bundle", ErrConfig)
	case c.DealerKey == "":
		return fmt.Errorf("%w: dealer_key is required", ErrConfig)
	case !c.PIN.valid():
		return fmt.Errorf("%w: pin is not a usable scrypt hash", ErrConfig)
	case c.MaxPINFailures < 0:
		return fmt.Errorf("%w: max_pin_failures < 0", ErrConfig)
	}
	if _, err := c.SignTimeout(); err != nil {
		return err
	}
	return nil
}

// Path resolves p against the configuration file's directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

// FailurePath is the file that counts wrong PINs.
func (c *Config) FailurePath() string {
	if c.FailureFile != "" {
		return c.Path(c.FailureFile)
	}
	return c.path + ".failures"
}

// MaxFailures is the number of wrong PINs in a row that lock the token.
func (c *Config) MaxFailures() int {
	if c.MaxPINFailures == 0 {
		return DefaultMaxPINFailures
	}
	return c.MaxPINFailures
}

// SignTimeout is the bound on one signature.
func (c *Config) SignTimeout() (time.Duration, error) {
	if c.Timeout == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(c.Timeout)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%w: timeout %q", ErrConfig, c.Timeout)
	}
	return d, nil
}

// Labels returns the token label and the key label.
func (c *Config) Labels() (token, key string) {
	token, key = c.TokenLabel, c.KeyLabel
	if token == "" {
		token = c.KeyID
	}
	if key == "" {
		key = c.KeyID
	}
	return token, key
}

// InsecureWeakHashPIN hashes pin with the smallest scrypt cost Load
// accepts (N = 1024): for tests only, where the slow hash would only
// slow them down.
func InsecureWeakHashPIN(pin []byte) (PINHash, error) {
	return hashPIN(pin, 1<<10)
}
