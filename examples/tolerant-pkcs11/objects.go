package main

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"math/big"
)

// Object handles: fixed, one key per token.
const (
	hPrivateKey  = 1
	hPublicKey   = 2
	hCertificate = 3
)

// object is a token object: its attributes in their PKCS #11 encoding
// (CK_ULONG in the host's byte order, CK_BBOOL one byte), and the types
// that exist but are never revealed (CKA_SENSITIVE secrets).
type object struct {
	handle    uint
	private   bool // CKA_PRIVATE: visible only after C_Login
	attrs     map[uint][]byte
	sensitive map[uint]bool
}

// ulongSize is sizeof(CK_ULONG) on the platforms the module builds for
// (LP64); the cgo layer checks it at compile time.
const ulongSize = 8

// ulong encodes a CK_ULONG attribute value.
func ulong(v uint) []byte {
	b := make([]byte, ulongSize)
	binary.NativeEndian.PutUint64(b, uint64(v))
	return b
}

// boolAttr encodes a CK_BBOOL attribute value.
func boolAttr(v bool) []byte {
	if v {
		return []byte{1}
	}
	return []byte{0}
}

// keyObjectID is the CKA_ID of the key's objects: the SHA-1 of the
// subjectPublicKey BIT STRING (RFC 5280 section 4.2.1.2, method 1), which
// is also the subject key identifier of the certificates Go and OpenSSL
// make for the key, so that clients can match a certificate to its key.
func keyObjectID(pub *rsa.PublicKey) []byte {
	sum := sha1.Sum(x509.MarshalPKCS1PublicKey(pub))
	return sum[:]
}

// sensitiveRSA are the private-key attributes that exist but are never
// revealed: in a tolerant cluster they do not exist in one place at all.
var sensitiveRSA = []uint{ckaPrivateExponent, ckaPrime1, ckaPrime2, ckaExponent1, ckaExponent2, ckaCoefficient, ckaValue}

// signMechanisms are the mechanisms of the token, in the order
// C_GetMechanismList gives them.
var signMechanisms = []uint{ckmRSAPKCS, ckmRSAPKCSPSS, ckmSHA256RSAPKCS, ckmSHA384RSAPKCS, ckmSHA512RSAPKCS,
	ckmSHA256RSAPKCSPSS, ckmSHA384RSAPKCSPSS, ckmSHA512RSAPKCSPSS}

// errCertificate: the configured certificate is not of the cluster's key.
var errCertificate = errors.New("tolerant-pkcs11: the certificate is not of the cluster's public key")

// newObjects returns the private key, the public key and, when cert is
// not nil, the certificate object of the key pub, labelled label.
func newObjects(pub *rsa.PublicKey, label string, cert *x509.Certificate) ([]*object, error) {
	id := keyObjectID(pub)
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var subject []byte
	if cert != nil {
		cp, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok || !cp.Equal(pub) {
			return nil, errCertificate
		}
		subject = cert.RawSubject
	}
	n := pub.N.Bytes()
	e := big.NewInt(int64(pub.E)).Bytes()
	common := func(class uint, private bool) map[uint][]byte {
		return map[uint][]byte{
			ckaClass: ulong(class), ckaToken: boolAttr(true), ckaPrivate: boolAttr(private),
			ckaLabel: []byte(label), ckaID: id, ckaModifiable: boolAttr(false),
			ckaCopyable: boolAttr(false), ckaDestroyable: boolAttr(false),
		}
	}
	priv := common(ckoPrivateKey, true)
	for t, v := range map[uint][]byte{
		ckaKeyType: ulong(ckkRSA), ckaSubject: subject, ckaModulus: n, ckaPublicExponent: e,
		ckaModulusBits: ulong(uint(pub.N.BitLen())), ckaPublicKeyInfo: spki,
		ckaSign: boolAttr(true), ckaSignRecover: boolAttr(false), ckaDecrypt: boolAttr(false),
		ckaUnwrap: boolAttr(false), ckaDerive: boolAttr(false), ckaSensitive: boolAttr(true),
		ckaExtractable: boolAttr(false), ckaAlwaysSensitive: boolAttr(true),
		ckaNeverExtractable: boolAttr(true), ckaLocal: boolAttr(false),
		ckaAlwaysAuthenticate: boolAttr(false), ckaAllowedMechanisms: ulongs(signMechanisms),
	} {
		priv[t] = v
	}
	pubAttrs := common(ckoPublicKey, false)
	for t, v := range map[uint][]byte{
		ckaKeyType: ulong(ckkRSA), ckaSubject: subject, ckaModulus: n, ckaPublicExponent: e,
		ckaModulusBits: ulong(uint(pub.N.BitLen())), ckaPublicKeyInfo: spki,
		ckaVerify: boolAttr(true), ckaVerifyRecover: boolAttr(false), ckaEncrypt: boolAttr(false),
		ckaWrap: boolAttr(false), ckaDerive: boolAttr(false), ckaLocal: boolAttr(false),
	} {
		pubAttrs[t] = v
	}
	sens := make(map[uint]bool)
	for _, t := range sensitiveRSA {
		sens[t] = true
	}
	objs := []*object{
		{handle: hPrivateKey, private: true, attrs: priv, sensitive: sens},
		{handle: hPublicKey, attrs: pubAttrs},
	}
	if cert != nil {
		serial, err := asn1.Marshal(cert.SerialNumber)
		if err != nil {
			return nil, err
		}
		ca := common(ckoCertificate, false)
		for t, v := range map[uint][]byte{
			ckaCertificateType: ulong(ckcX509), ckaValue: cert.Raw, ckaSubject: cert.RawSubject,
			ckaIssuer: cert.RawIssuer, ckaSerialNumber: serial, ckaTrusted: boolAttr(false),
			ckaCertificateCategory: ulong(0),
		} {
			ca[t] = v
		}
		objs = append(objs, &object{handle: hCertificate, attrs: ca})
	}
	return objs, nil
}

// ulongs encodes a CK_ULONG array attribute value.
func ulongs(vs []uint) []byte {
	var b []byte
	for _, v := range vs {
		b = append(b, ulong(v)...)
	}
	return b
}

// attribute is one entry of a template: a type and, for a search, the
// value it must have.
type attribute struct {
	typ uint
	val []byte
}

// matches reports whether the object has every attribute of the template
// with exactly that value (PKCS #11 v2.40 section 5.7, C_FindObjectsInit).
// A sensitive attribute never matches, so that a search cannot test a
// secret's value.
func (o *object) matches(tmpl []attribute) bool {
	for _, a := range tmpl {
		v, ok := o.attrs[a.typ]
		if !ok || o.sensitive[a.typ] || !bytes.Equal(v, a.val) {
			return false
		}
	}
	return true
}

// get returns the value of one attribute, or the return value that
// C_GetAttributeValue reports for it: CKR_ATTRIBUTE_SENSITIVE for a
// secret, CKR_ATTRIBUTE_TYPE_INVALID for a type the object does not have.
func (o *object) get(typ uint) ([]byte, uint) {
	if o.sensitive[typ] {
		return nil, ckrAttributeSensitive
	}
	v, ok := o.attrs[typ]
	if !ok {
		return nil, ckrAttributeTypeInvalid
	}
	return v, ckrOK
}
