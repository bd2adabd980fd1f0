package main

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"errors"
)

// digestInfoPrefixes are the DER prefixes of a DigestInfo (RFC 8017
// section 9.2, note 1) for the hashes the cluster signs with. DER is
// unique, so a DigestInfo is accepted only when it is exactly a prefix
// followed by a digest of the hash's size.
var digestInfoPrefixes = []struct {
	hash   crypto.Hash
	prefix []byte
}{
	{crypto.SHA256, []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}},
	{crypto.SHA384, []byte{0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30}},
	{crypto.SHA512, []byte{0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40}},
}

// errDigestInfo: CKM_RSA_PKCS data that is not the DigestInfo of a
// SHA-256, SHA-384 or SHA-512 digest.
var errDigestInfo = errors.New("tolerant-pkcs11: not a SHA-256/384/512 DigestInfo")

// parseDigestInfo returns the hash and the digest of a DER DigestInfo
// (RFC 8017 section 9.2 step 2), the input of CKM_RSA_PKCS.
func parseDigestInfo(b []byte) (crypto.Hash, []byte, error) {
	for _, p := range digestInfoPrefixes {
		if len(b) == len(p.prefix)+p.hash.Size() && bytes.HasPrefix(b, p.prefix) {
			return p.hash, bytes.Clone(b[len(p.prefix):]), nil
		}
	}
	return 0, nil, errDigestInfo
}

// pssParams are the CK_RSA_PKCS_PSS_PARAMS of a mechanism, when present.
type pssParams struct {
	present   bool
	hashAlg   uint
	mgf       uint
	saltBytes uint
}

// hashOfMech maps the CKM_SHA* hash mechanisms to hashes, and mgfOfHash
// each hash to its MGF1 (PKCS #11 Current Mechanisms section 2.1.4).
var (
	hashOfMech = map[uint]crypto.Hash{ckmSHA256: crypto.SHA256, ckmSHA384: crypto.SHA384, ckmSHA512: crypto.SHA512}
	mgfOfHash  = map[crypto.Hash]uint{crypto.SHA256: ckgMGF1SHA256, crypto.SHA384: ckgMGF1SHA384, crypto.SHA512: ckgMGF1SHA512}
)

// signParams is what a mechanism asks of the cluster.
type signParams struct {
	mech       uint
	hash       crypto.Hash // 0 for CKM_RSA_PKCS: the DigestInfo names it
	pss        *rsa.PSSOptions
	digestOnly bool // the data is a digest (or DigestInfo), not the message
}

// paramsOf checks a mechanism and its parameters against a key of
// modBits bits and returns what it asks for, or a PKCS #11 return value.
func paramsOf(mech uint, pp pssParams, modBits int) (signParams, uint) {
	sp := signParams{mech: mech}
	switch mech {
	case ckmRSAPKCS:
		if pp.present {
			return sp, ckrMechanismParamInvalid
		}
		sp.digestOnly = true
		return sp, ckrOK
	case ckmSHA256RSAPKCS, ckmSHA384RSAPKCS, ckmSHA512RSAPKCS:
		if pp.present {
			return sp, ckrMechanismParamInvalid
		}
		sp.hash = map[uint]crypto.Hash{ckmSHA256RSAPKCS: crypto.SHA256, ckmSHA384RSAPKCS: crypto.SHA384, ckmSHA512RSAPKCS: crypto.SHA512}[mech]
		return sp, ckrOK
	case ckmSHA256RSAPKCSPSS, ckmSHA384RSAPKCSPSS, ckmSHA512RSAPKCSPSS:
		sp.hash = map[uint]crypto.Hash{ckmSHA256RSAPKCSPSS: crypto.SHA256, ckmSHA384RSAPKCSPSS: crypto.SHA384, ckmSHA512RSAPKCSPSS: crypto.SHA512}[mech]
	case ckmRSAPKCSPSS:
		if !pp.present {
			return sp, ckrMechanismParamInvalid
		}
		sp.hash = hashOfMech[pp.hashAlg]
		sp.digestOnly = true
	default:
		return sp, ckrMechanismInvalid
	}
	return pssOf(sp, pp, modBits)
}

// pssOf completes the PSS parameters of sp: the parameters' hash and MGF1
// hash must be the mechanism's (the only combination RSASSA-PSS as the
// cluster computes it supports), and the salt must fit the key
// (RFC 8017 section 9.1.1 step 3). Without parameters, a PSS mechanism
// with a hash uses a salt as long as the hash.
func pssOf(sp signParams, pp pssParams, modBits int) (signParams, uint) {
	if sp.hash == 0 {
		return sp, ckrMechanismParamInvalid // a hash the cluster does not sign with
	}
	salt := sp.hash.Size()
	if pp.present {
		if hashOfMech[pp.hashAlg] != sp.hash || mgfOfHash[sp.hash] != pp.mgf {
			return sp, ckrMechanismParamInvalid
		}
		// A salt of zero bytes cannot be asked of crypto/rsa, whose
		// PSSOptions reads 0 as "automatic".
		maxSalt := (modBits-1+7)/8 - sp.hash.Size() - 2
		if pp.saltBytes == 0 || pp.saltBytes > uint(maxSalt) {
			return sp, ckrMechanismParamInvalid
		}
		salt = int(pp.saltBytes)
	}
	sp.pss = &rsa.PSSOptions{Hash: sp.hash, SaltLength: salt}
	return sp, ckrOK
}

// opts are the crypto.SignerOpts of a signature with hash h.
func (sp signParams) opts(h crypto.Hash) crypto.SignerOpts {
	if sp.pss != nil {
		return sp.pss
	}
	return h
}
