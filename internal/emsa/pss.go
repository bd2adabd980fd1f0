package emsa

// EMSA-PSS encoding and verification with MGF1 (RFC 8017 Section 9.1).
//
// Ported from Go's crypto/internal/fips140/rsa/pkcs1v22.go:
//
//	Copyright 2013 The Go Authors. All rights reserved.
//	Use of this source code is governed by a BSD-style
//	license that can be found in the LICENSE file.
//
// Changes: crypto.Hash instead of hash.Hash, hostile-input length checks
// (no integer overflow, no panics), the input EM is never modified, and
// distinct sentinel errors.
//
//	EM = maskedDB || H || 0xbc,  maskedDB = DB xor MGF1(H, emLen-hLen-1)
//	DB = PS || 0x01 || salt,     H = Hash(0x00*8 || mHash || salt)
//	emLen = psLen + sLen + hLen + 2

import (
	"bytes"
	"crypto"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
)

// pssLengths returns emBits = modBits-1 and emLen = ceil(emBits/8).
func pssLengths(modBits int) (emBits, emLen int, err error) {
	if modBits < 2 || modBits > MaxModulusBits {
		return 0, 0, ErrModulusSize
	}
	emBits = modBits - 1
	return emBits, (emBits + 7) / 8, nil
}

// mgf1XOR XORs out with MGF1(seed, len(out)) using hash.
func mgf1XOR(out []byte, hash hash.Hash, seed []byte) {
	var counter [4]byte
	var digest []byte
	done := 0
	for c := uint32(0); done < len(out); c++ {
		binary.BigEndian.PutUint32(counter[:], c)
		hash.Reset()
		hash.Write(seed)
		hash.Write(counter[:])
		digest = hash.Sum(digest[:0])
		for i := 0; i < len(digest) && done < len(out); i++ {
			out[done] ^= digest[i]
			done++
		}
	}
}

// pssHash returns Hash(0x00*8 || mHash || salt).
func pssHash(hash hash.Hash, mHash, salt []byte) []byte {
	var prefix [8]byte
	hash.Reset()
	hash.Write(prefix[:])
	hash.Write(mHash)
	hash.Write(salt)
	return hash.Sum(nil)
}

// PSSEncode returns EMSA-PSS-ENCODE(digest, emBits) (RFC 8017 Section
// 9.1.1) with MGF1 over h, for a modulus of modBits bits (emBits =
// modBits-1). The result is emLen = ceil((modBits-1)/8) bytes long, which is
// one byte shorter than the modulus when modBits-1 is a multiple of 8; use
// [ToModulusSize] before exponentiating.
//
// saltLen is SaltLengthAuto (largest salt that fits), SaltLengthEqualsHash,
// or an explicit positive length in bytes. The salt is read from rand with
// io.ReadFull; rand may be nil only if the salt is empty.
//
// Errors: ErrHashUnsupported, ErrDigestLength, ErrModulusSize (modBits < 2
// or > MaxModulusBits), ErrSaltLength, ErrMessageTooLong (emLen <
// hLen+sLen+2), ErrNilRand, or a wrapped error from rand.
func PSSEncode(rand io.Reader, h crypto.Hash, digest []byte, saltLen int, modBits int) ([]byte, error) {
	hLen, err := checkHashDigest(h, digest)
	if err != nil {
		return nil, err
	}
	emBits, emLen, err := pssLengths(modBits)
	if err != nil {
		return nil, err
	}
	maxSalt := emLen - hLen - 2 // may be negative; no overflow (emLen is bounded)
	var sLen int
	switch {
	case saltLen == SaltLengthAuto:
		sLen = maxSalt
	case saltLen == SaltLengthEqualsHash:
		sLen = hLen
	case saltLen > 0:
		sLen = saltLen
	default:
		return nil, ErrSaltLength
	}
	// RFC 8017 9.1.1 step 3: if emLen < hLen + sLen + 2, "encoding error".
	if sLen < 0 || sLen > maxSalt {
		return nil, ErrMessageTooLong
	}

	// Step 4: random salt.
	salt := make([]byte, sLen)
	if sLen > 0 {
		if rand == nil {
			return nil, ErrNilRand
		}
		if _, err := io.ReadFull(rand, salt); err != nil {
			return nil, fmt.Errorf("emsa: reading PSS salt: %w", err)
		}
	}

	hh := h.New()
	em := make([]byte, emLen)
	psLen := emLen - sLen - hLen - 2
	db := em[:psLen+1+sLen]
	hOut := em[psLen+1+sLen : emLen-1]

	// Steps 5-6: H = Hash(M'), M' = 0x00*8 || mHash || salt.
	copy(hOut, pssHash(hh, digest, salt))

	// Steps 7-8: DB = PS || 0x01 || salt (PS is already zero).
	db[psLen] = 0x01
	copy(db[psLen+1:], salt)

	// Steps 9-10: maskedDB = DB xor MGF1(H, emLen - hLen - 1).
	mgf1XOR(db, hh, hOut)

	// Step 11: clear the leftmost 8*emLen - emBits bits.
	db[0] &= 0xff >> (8*emLen - emBits)

	// Step 12: EM = maskedDB || H || 0xbc.
	em[emLen-1] = 0xbc
	return em, nil
}

// PSSVerify runs EMSA-PSS-VERIFY (RFC 8017 Section 9.1.2) with MGF1 over h
// for a modulus of modBits bits. em must be exactly ceil((modBits-1)/8) bytes
// (see [FromModulusSize]); it is not modified.
//
// saltLen is SaltLengthAuto (any salt length is accepted),
// SaltLengthEqualsHash, or an explicit positive length in bytes.
//
// It returns nil if em is "consistent". Errors: ErrHashUnsupported,
// ErrDigestLength, ErrModulusSize, ErrSaltLength, ErrEncodedLength, and
// ErrInconsistent for every verification failure.
func PSSVerify(em []byte, h crypto.Hash, digest []byte, saltLen int, modBits int) error {
	hLen, err := checkHashDigest(h, digest)
	if err != nil {
		return err
	}
	emBits, emLen, err := pssLengths(modBits)
	if err != nil {
		return err
	}
	sLen := -1 // autodetect
	switch {
	case saltLen == SaltLengthAuto:
	case saltLen == SaltLengthEqualsHash:
		sLen = hLen
	case saltLen > 0:
		sLen = saltLen
	default:
		return ErrSaltLength
	}
	if len(em) != emLen {
		return ErrEncodedLength
	}

	// Step 3: if emLen < hLen + sLen + 2, "inconsistent". Written to avoid
	// overflow for huge sLen. With autodetection we still need room for the
	// 0x01 separator (sLen >= 0); upstream relies on minimum key sizes here.
	maxSalt := emLen - hLen - 2
	if maxSalt < 0 || sLen > maxSalt {
		return ErrInconsistent
	}

	// Step 4: rightmost octet must be 0xbc.
	if em[emLen-1] != 0xbc {
		return ErrInconsistent
	}

	// Step 5: maskedDB || H. DB is unmasked in a copy.
	db := bytes.Clone(em[:emLen-hLen-1])
	hIn := em[emLen-hLen-1 : emLen-1]

	// Step 6: the leftmost 8*emLen - emBits bits must be zero.
	bitMask := byte(0xff >> (8*emLen - emBits))
	if em[0]&^bitMask != 0 {
		return ErrInconsistent
	}

	// Steps 7-9: DB = maskedDB xor MGF1(H), clear the leftmost bits.
	hh := h.New()
	mgf1XOR(db, hh, hIn)
	db[0] &= bitMask

	// Salt length autodetection: the first 0x01 is the separator.
	if sLen < 0 {
		psLen := bytes.IndexByte(db, 0x01)
		if psLen < 0 {
			return ErrInconsistent
		}
		sLen = len(db) - psLen - 1
	}

	// Step 10: PS must be zero, followed by 0x01.
	psLen := emLen - hLen - sLen - 2
	for _, e := range db[:psLen] {
		if e != 0x00 {
			return ErrInconsistent
		}
	}
	if db[psLen] != 0x01 {
		return ErrInconsistent
	}

	// Steps 11-14: H' = Hash(0x00*8 || mHash || salt) must equal H.
	salt := db[len(db)-sLen:]
	if !bytes.Equal(pssHash(hh, digest, salt), hIn) {
		return ErrInconsistent
	}
	return nil
}
