package seal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// Errors of this package. Every error returned by [Open] and
// [OpenWithPassphrase] wraps exactly one of the first four.
var (
	// ErrNotSealed means the input is not an age file at all.
	ErrNotSealed = errors.New("seal: not an age-encrypted file")
	// ErrWrongIdentity means none of the identities is a recipient of the
	// file (age.NoIdentityMatchError).
	ErrWrongIdentity = errors.New("seal: the identity is not a recipient of this file")
	// ErrWrongPassphrase means the passphrase does not open the file.
	ErrWrongPassphrase = errors.New("seal: wrong passphrase")
	// ErrTampered means the armor, header or payload does not decode or
	// authenticate: the file is corrupted, truncated or was tampered with.
	ErrTampered = errors.New("seal: the sealed file is corrupted, truncated or was tampered with")

	// ErrWeakPassphrase is returned when sealing to a passphrase shorter
	// than [MinPassphraseLength] bytes.
	ErrWeakPassphrase = errors.New("seal: passphrase too short")
	// ErrWrongNode is returned when a bundle holds the key material of
	// another node than the one expected (a renamed or swapped file), or of
	// another cluster.
	ErrWrongNode = errors.New("seal: the bundle holds another node's key material")
)

// MinPassphraseLength is the shortest passphrase, in bytes, that
// [SealWithPassphrase] accepts.
const MinPassphraseLength = 12

// Size limits. Key material is at most 4 MiB of JSON (package share); sealed
// and armored it stays below MaxSealedSize.
const (
	MaxSealedSize    = 8 << 20
	maxPlaintextSize = 4 << 20
)

// maxScryptWorkFactor caps the scrypt work an opened file may demand
// (2^20: 1 GiB of memory); age seals with 2^18.
const maxScryptWorkFactor = 20

// Errors for a missing recipient or identity: a caller's bug, not a file's.
var (
	errNoRecipient = errors.New("seal: no recipient")
	errNilIdentity = errors.New("seal: nil identity")
)

// Seal encrypts plaintext to r and returns ASCII-armored age.
func Seal(plaintext []byte, r age.Recipient) ([]byte, error) {
	if isNil[age.X25519Recipient, age.ScryptRecipient](r) {
		return nil, errNoRecipient
	}
	return seal(plaintext, r)
}

// isNil reports whether v is nil or a nil pointer to X or S (an age
// recipient or identity type).
func isNil[X, S any](v any) bool {
	switch p := v.(type) {
	case nil:
		return true
	case *X:
		return p == nil
	case *S:
		return p == nil
	}
	return false
}

func seal(plaintext []byte, r age.Recipient) ([]byte, error) {
	if len(plaintext) > maxPlaintextSize {
		return nil, fmt.Errorf("seal: %d bytes to seal, at most %d", len(plaintext), maxPlaintextSize)
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return nil, fmt.Errorf("seal: encrypting: %w", err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, fmt.Errorf("seal: encrypting: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("seal: encrypting: %w", err)
	}
	if err := aw.Close(); err != nil {
		return nil, fmt.Errorf("seal: armoring: %w", err)
	}
	return buf.Bytes(), nil
}

// SealWithPassphrase encrypts plaintext to passphrase with age's scrypt
// recipient at age's default work factor, and returns ASCII-armored age.
// Passphrases shorter than [MinPassphraseLength] bytes are refused.
func SealWithPassphrase(plaintext []byte, passphrase string) ([]byte, error) {
	return sealWithPassphrase(plaintext, passphrase, 0)
}

// sealWithPassphrase is SealWithPassphrase with a scrypt work factor of
// 2^logN; 0 keeps age's default. Only tests lower it.
func sealWithPassphrase(plaintext []byte, passphrase string, logN int) ([]byte, error) {
	if err := CheckPassphrase(passphrase); err != nil {
		return nil, err
	}
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWeakPassphrase, err)
	}
	if logN != 0 {
		if logN < 1 || logN > 30 {
			return nil, fmt.Errorf("seal: scrypt work factor 2^%d", logN)
		}
		r.SetWorkFactor(logN)
	}
	return seal(plaintext, r)
}

// CheckPassphrase reports whether passphrase is acceptable for
// [SealWithPassphrase], without sealing anything, so that a long run can
// refuse a bad passphrase before it starts. The error never holds the
// passphrase.
func CheckPassphrase(passphrase string) error {
	if len(passphrase) < MinPassphraseLength {
		return fmt.Errorf("%w: %d bytes, want at least %d", ErrWeakPassphrase, len(passphrase), MinPassphraseLength)
	}
	return nil
}

// Open decrypts sealed, armored or binary age, with the first of ids that is
// a recipient. Its errors wrap [ErrNotSealed], [ErrWrongIdentity],
// [ErrWrongPassphrase] (when ids hold an *age.ScryptIdentity) or
// [ErrTampered]. It never panics, whatever sealed holds.
func Open(sealed []byte, ids ...age.Identity) ([]byte, error) {
	if len(ids) == 0 {
		return nil, errors.New("seal: no identity to open with")
	}
	for _, id := range ids {
		if isNil[age.X25519Identity, age.ScryptIdentity](id) {
			return nil, errNilIdentity
		}
	}
	return open(sealed, ids)
}

// OpenWithPassphrase decrypts what [SealWithPassphrase] sealed. A wrong
// passphrase gives [ErrWrongPassphrase]; a file sealed to X25519 recipients
// gives [ErrWrongIdentity]. Files demanding more than 2^20 scrypt work are
// refused as [ErrTampered].
func OpenWithPassphrase(sealed []byte, passphrase string) ([]byte, error) {
	if passphrase == "" {
		return nil, fmt.Errorf("%w: empty passphrase", ErrWrongPassphrase)
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWrongPassphrase, err)
	}
	id.SetMaxWorkFactor(maxScryptWorkFactor)
	return open(sealed, []age.Identity{id})
}

// openError is an error of Open: a sentinel, a description that never
// quotes the input, and age's error for errors.As (not printed, since age
// quotes malformed input in some of its messages).
type openError struct {
	kind  error
	msg   string
	cause error
}

func (e *openError) Error() string {
	if e.msg == "" {
		return e.kind.Error()
	}
	return e.kind.Error() + ": " + e.msg
}

func (e *openError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

const binaryPrefix = "age-encryption.org/"

func open(sealed []byte, ids []age.Identity) ([]byte, error) {
	if len(sealed) > MaxSealedSize {
		return nil, &openError{kind: ErrNotSealed, msg: fmt.Sprintf("%d bytes, more than %d", len(sealed), MaxSealedSize)}
	}
	var src io.Reader
	trimmed := bytes.TrimLeft(sealed, " \t\r\n")
	switch {
	case bytes.HasPrefix(trimmed, []byte(armor.Header)):
		src = armor.NewReader(bytes.NewReader(sealed))
	case bytes.HasPrefix(sealed, []byte(binaryPrefix)):
		src = bytes.NewReader(sealed)
	case len(sealed) == 0:
		return nil, &openError{kind: ErrNotSealed, msg: "empty"}
	default:
		return nil, &openError{kind: ErrNotSealed, msg: "no age header"}
	}
	r, err := age.Decrypt(src, ids...)
	if err != nil {
		return nil, classify(err, ids)
	}
	var out bytes.Buffer
	out.Grow(min(len(sealed), maxPlaintextSize) + 2*bytes.MinRead) // never reallocated: no stray copies of the plaintext
	_, err = io.Copy(&out, io.LimitReader(r, maxPlaintextSize+1))
	if err != nil {
		clear(out.Bytes())
		return nil, classify(err, ids)
	}
	if out.Len() > maxPlaintextSize {
		clear(out.Bytes())
		return nil, &openError{kind: ErrTampered, msg: "plaintext too large"}
	}
	return out.Bytes(), nil
}

// classify maps an error of age to one of the sentinels.
func classify(err error, ids []age.Identity) error {
	var nm *age.NoIdentityMatchError
	if errors.As(err, &nm) {
		scryptFile := false
		for _, t := range nm.StanzaTypes {
			if t == "scrypt" {
				scryptFile = true
			}
		}
		scryptIDs := false
		for _, id := range ids {
			if _, ok := id.(*age.ScryptIdentity); ok {
				scryptIDs = true
			}
		}
		switch {
		case scryptFile && scryptIDs:
			return &openError{kind: ErrWrongPassphrase, cause: err}
		case scryptFile:
			return &openError{kind: ErrWrongIdentity, msg: "the file is sealed to a passphrase", cause: err}
		case scryptIDs:
			return &openError{kind: ErrWrongIdentity, msg: "the file is sealed to age recipients, not to a passphrase", cause: err}
		}
		return &openError{kind: ErrWrongIdentity, cause: err}
	}
	var ae *armor.Error
	if errors.As(err, &ae) {
		return &openError{kind: ErrTampered, msg: "the armor does not decode", cause: err}
	}
	s := err.Error()
	switch {
	case strings.HasPrefix(s, "failed to read header"):
		return &openError{kind: ErrTampered, msg: "the header does not parse", cause: err}
	case strings.Contains(s, "bad header MAC"):
		return &openError{kind: ErrTampered, msg: "the header does not authenticate", cause: err}
	case strings.HasPrefix(s, "failed to read nonce"):
		return &openError{kind: ErrTampered, msg: "truncated after the header", cause: err}
	case strings.Contains(s, "scrypt work factor too large"):
		return &openError{kind: ErrTampered, msg: fmt.Sprintf("the file demands more scrypt work than 2^%d", maxScryptWorkFactor), cause: err}
	case strings.Contains(s, "recipient"), strings.Contains(s, "scrypt"):
		return &openError{kind: ErrTampered, msg: "a recipient stanza is malformed", cause: err}
	}
	return &openError{kind: ErrTampered, msg: "the payload does not authenticate", cause: err}
}
