package share

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"

	"github.com/tolerantca/tolerant/internal/emsa"
)

// Scheme is an RSA signature scheme.
type Scheme uint8

const (
	// PKCS1v15 is RSASSA-PKCS1-v1_5 (RFC 8017 section 8.2).
	PKCS1v15 Scheme = 1
	// PSS is RSASSA-PSS with MGF1 of the same hash (RFC 8017 section 8.1).
	PSS Scheme = 2
)

func (s Scheme) String() string {
	switch s {
	case PKCS1v15:
		return "PKCS1v15"
	case PSS:
		return "PSS"
	}
	return fmt.Sprintf("Scheme(%d)", uint8(s))
}

// MaxContentSize bounds the content a request may carry (a TBS certificate or
// CRL). Larger requests are refused.
const MaxContentSize = 16 << 20

// Request is a signing task as every calculator and combiner sees it
// ([0047] f3, [0092]). It carries the digest and, when the distributor has it,
// the content itself, so that each node can check what it signs.
type Request struct {
	KeyID   string      // which key ([0124])
	Hash    crypto.Hash // SHA-256, SHA-384 or SHA-512
	Digest  []byte      // the hash of the content
	Scheme  Scheme      // PKCS1v15 or PSS
	Content []byte      // optional: the content whose hash is Digest
	// For PSS only: the encoded message EM built by the distributor (with its
	// random salt), and the salt length it must have: a length in bytes,
	// or rsa.PSSSaltLengthEqualsHash (-1), or rsa.PSSSaltLengthAuto (0) for any.
	Encoded    []byte
	SaltLength int
}

// Errors for a request that a node refuses. Each is distinct so that an
// operator can tell why, and none says anything about a key.
var (
	ErrUnsupportedHash = errors.New("share: unsupported hash (want SHA-256, SHA-384 or SHA-512)")
	ErrUnsupported     = errors.New("share: unsupported signature scheme")
	ErrDigestLength    = errors.New("share: digest length does not match the hash")
	ErrContentMismatch = errors.New("share: content does not hash to the digest")
	ErrPSSEncoding     = errors.New("share: PSS encoding does not verify against the digest")
	ErrWrongKey        = errors.New("share: request is for another key")
	ErrTooLarge        = errors.New("share: request content too large")
	ErrDeclined        = errors.New("share: request declined by the approval hook")
)

// Encode checks the request and returns the encoded message M that may be
// exponentiated, as exactly the modulus size in bytes ([0092], [0110]):
//
//   - the digest has the hash's length;
//   - when there is content, its hash equals the digest;
//   - PKCS#1 v1.5: M is built here from the digest, never taken from the request;
//   - PSS: the distributor's encoding must pass EMSA-PSS-VERIFY for the digest.
//
// pub must come from the node's own key material.
func (r *Request) Encode(pub *rsa.PublicKey) ([]byte, error) {
	if r == nil {
		return nil, ErrUnsupported
	}
	if !emsa.SupportedHash(r.Hash) {
		return nil, ErrUnsupportedHash
	}
	if len(r.Digest) != r.Hash.Size() {
		return nil, ErrDigestLength
	}
	if len(r.Content) > MaxContentSize {
		return nil, ErrTooLarge
	}
	if r.Content != nil {
		h := r.Hash.New()
		h.Write(r.Content)
		if !bytes.Equal(h.Sum(nil), r.Digest) {
			return nil, ErrContentMismatch
		}
	}
	k := (pub.N.BitLen() + 7) / 8
	switch r.Scheme {
	case PKCS1v15:
		em, err := emsa.PKCS1v15(r.Hash, r.Digest, k)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
		}
		return em, nil
	case PSS:
		if err := emsa.PSSVerify(r.Encoded, r.Hash, r.Digest, r.SaltLength, pub.N.BitLen()); err != nil {
			return nil, ErrPSSEncoding
		}
		em, err := emsa.ToModulusSize(r.Encoded, k)
		if err != nil {
			return nil, ErrPSSEncoding
		}
		return em, nil
	}
	return nil, ErrUnsupported
}
