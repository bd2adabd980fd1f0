// Package emsa implements the byte-oriented RSA signature message encodings
// of RFC 8017 (PKCS #1 v2.2): EMSA-PKCS1-v1_5 (Section 9.2) and EMSA-PSS
// with MGF1 (Section 9.1).
//
// It is meant for threshold-RSA code that must build (or check) the encoded
// message itself before (or after) exponentiating with key shares. The
// functions here only ever produce well-formed encodings of a digest; they
// never expose a raw RSA operation.
//
// All functions are pure (apart from reading the salt from the supplied
// random source in [PSSEncode]), never modify their inputs, never panic on
// any input, and report failures with the sentinel errors declared below
// (test with [errors.Is]).
//
// Only SHA-256, SHA-384 and SHA-512 are supported; in particular SHA-1 is
// refused. For PSS the MGF1 mask generation function always uses the same
// hash as the message digest.
//
// Parts of this package are ported from the Go standard library
// (crypto/internal/fips140/rsa/pkcs1v15.go and pkcs1v22.go):
//
//	Copyright 2009 The Go Authors. All rights reserved.
//	Use of this source code is governed by a BSD-style
//	license that can be found in the LICENSE file.
//
// (https://go.dev/LICENSE).
package emsa

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	_ "crypto/sha256" // register SHA-256 for crypto.Hash.New
	_ "crypto/sha512" // register SHA-384 and SHA-512 for crypto.Hash.New
	"errors"
	"math/big"
)

// Salt length selectors for [PSSEncode] and [PSSVerify]. Any positive value
// is an explicit salt length in bytes. As in crypto/rsa, an explicit zero
// salt length cannot be requested (0 means [SaltLengthAuto]).
const (
	// SaltLengthAuto: PSSEncode uses the largest salt that fits the modulus
	// (emLen - hLen - 2 bytes); PSSVerify accepts any salt length.
	SaltLengthAuto = 0
	// SaltLengthEqualsHash: the salt length equals the digest size.
	SaltLengthEqualsHash = -1
)

// MaxModulusBits is the largest modulus size, in bits, accepted by this
// package (the same limit as OpenSSL's OPENSSL_RSA_MAX_MODULUS_BITS). It bounds
// every allocation made on behalf of a caller-supplied size.
const MaxModulusBits = 16384

// maxModulusBytes is MaxModulusBits in bytes.
const maxModulusBytes = MaxModulusBits / 8

var (
	// ErrHashUnsupported: the hash is not SHA-256, SHA-384 or SHA-512.
	ErrHashUnsupported = errors.New("emsa: unsupported hash function")
	// ErrDigestLength: the digest length differs from the hash output size.
	ErrDigestLength = errors.New("emsa: digest length does not match hash size")
	// ErrModulusSize: the modulus size (k bytes or modBits bits) is not
	// positive or exceeds MaxModulusBits.
	ErrModulusSize = errors.New("emsa: modulus size out of range")
	// ErrMessageTooLong: the modulus is too small to hold the encoding
	// (RFC 8017 "intended encoded message length too short" / "encoding
	// error"), e.g. k < tLen+11 for PKCS #1 v1.5 or emLen < hLen+sLen+2
	// for PSS encoding.
	ErrMessageTooLong = errors.New("emsa: modulus too small for encoded message")
	// ErrSaltLength: the salt length argument is negative and not
	// SaltLengthEqualsHash.
	ErrSaltLength = errors.New("emsa: invalid PSS salt length")
	// ErrNilRand: PSSEncode needs salt bytes but the random source is nil.
	ErrNilRand = errors.New("emsa: nil random source")
	// ErrEncodedLength: an encoded message has the wrong length for the
	// given modulus size (PSSVerify, ToModulusSize, FromModulusSize).
	ErrEncodedLength = errors.New("emsa: encoded message has wrong length")
	// ErrInconsistent: EMSA-PSS-VERIFY output "inconsistent", i.e. the
	// encoded message is not a valid PSS encoding of the digest.
	ErrInconsistent = errors.New("emsa: inconsistent PSS encoding")
)

// hashPrefixes are the DER encodings of DigestInfo up to (excluding) the
// digest bytes (RFC 8017 Section 9.2, Note 1). Ported from Go's
// crypto/internal/fips140/rsa/pkcs1v15.go (BSD license, see package doc).
var hashPrefixes = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// SupportedHash reports whether h is usable with this package: SHA-256,
// SHA-384 or SHA-512.
func SupportedHash(h crypto.Hash) bool {
	switch h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
		return h.Available()
	}
	return false
}

// checkHashDigest validates h and digest and returns the hash size.
func checkHashDigest(h crypto.Hash, digest []byte) (int, error) {
	if !SupportedHash(h) {
		return 0, ErrHashUnsupported
	}
	hLen := h.Size()
	if len(digest) != hLen {
		return 0, ErrDigestLength
	}
	return hLen, nil
}

// PKCS1v15 returns the EMSA-PKCS1-v1_5 encoding (RFC 8017 Section 9.2) of
// digest, which must be the output of hash h, for a modulus of k bytes:
//
//	EM = 0x00 || 0x01 || PS (0xff bytes, at least 8) || 0x00 || DigestInfo
//
// The result is k bytes long. Raising it to the private exponent yields the
// RSASSA-PKCS1-v1_5 signature. Errors: ErrHashUnsupported, ErrDigestLength,
// ErrModulusSize (k < 1 or k > MaxModulusBits/8), ErrMessageTooLong
// (k < len(DigestInfo)+11).
func PKCS1v15(h crypto.Hash, digest []byte, k int) ([]byte, error) {
	if _, err := checkHashDigest(h, digest); err != nil {
		return nil, err
	}
	if k < 1 || k > maxModulusBytes {
		return nil, ErrModulusSize
	}
	prefix := hashPrefixes[h]
	tLen := len(prefix) + len(digest)
	if k < tLen+11 {
		return nil, ErrMessageTooLong
	}
	// Ported from pkcs1v15ConstructEM in Go's
	// crypto/internal/fips140/rsa/pkcs1v15.go (BSD license).
	em := make([]byte, k)
	em[1] = 0x01
	for i := 2; i < k-tLen-1; i++ {
		em[i] = 0xff
	}
	// em[k-tLen-1] is the 0x00 separator.
	copy(em[k-tLen:], prefix)
	copy(em[k-len(digest):], digest)
	return em, nil
}

// ToModulusSize left-pads an encoded message with zero bytes to k bytes, the
// size of the modulus, as needed before exponentiation. A PSS encoding is
// k-1 bytes long when modBits-1 is a multiple of 8. It always returns a new
// slice. Errors: ErrModulusSize, ErrEncodedLength (len(em) > k).
func ToModulusSize(em []byte, k int) ([]byte, error) {
	if k < 1 || k > maxModulusBytes {
		return nil, ErrModulusSize
	}
	if len(em) > k {
		return nil, ErrEncodedLength
	}
	out := make([]byte, k)
	copy(out[k-len(em):], em)
	return out, nil
}

// FromModulusSize converts m, a big-endian message representative such as
// s^e mod N (at most k = ceil(modBits/8) bytes, shorter inputs are treated as
// left-padded with zeros), to the emLen = ceil((modBits-1)/8)-byte encoded
// message expected by [PSSVerify] (RFC 8017 Section 8.1.2 step 2c). It always
// returns a new slice. Errors: ErrModulusSize, ErrEncodedLength (len(m) > k),
// ErrInconsistent (m does not fit in emLen bytes).
func FromModulusSize(m []byte, modBits int) ([]byte, error) {
	_, emLen, err := pssLengths(modBits)
	if err != nil {
		return nil, err
	}
	k := (modBits + 7) / 8
	if len(m) > k {
		return nil, ErrEncodedLength
	}
	for len(m) > emLen {
		if m[0] != 0 {
			return nil, ErrInconsistent
		}
		m = m[1:]
	}
	out := make([]byte, emLen)
	copy(out[emLen-len(m):], m)
	return out, nil
}

// Verify reports whether sig is a signature of the encoded message em
// under pub, that is sig^e mod N = em ([0095], [0116]): sig is of N's byte
// length, nonzero and below N.
func Verify(pub *rsa.PublicKey, sig, em []byte) bool {
	if pub == nil || pub.N == nil || pub.N.Sign() <= 0 || pub.E < 2 {
		return false
	}
	k := (pub.N.BitLen() + 7) / 8
	if len(sig) != k {
		return false
	}
	s := new(big.Int).SetBytes(sig)
	if s.Sign() == 0 || s.Cmp(pub.N) >= 0 {
		return false
	}
	m := s.Exp(s, big.NewInt(int64(pub.E)), pub.N)
	out := make([]byte, k)
	m.FillBytes(out)
	return bytes.Equal(out, em)
}
