package policy

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"time"

	"github.com/tolerantca/tolerant/share"
)

// ErrUnknownContent: the content is none of the kinds a policy knows.
var ErrUnknownContent = errors.New("policy: content is not a TBS certificate, CSR, CRL or OCSP response")

// Decoded is what a node learns from a request's DER content.
type Decoded struct {
	Kind       string    `json:"kind"`
	Subject    string    `json:"subject,omitempty"`
	SANs       []string  `json:"sans,omitempty"`
	Issuer     string    `json:"issuer,omitempty"`
	NotBefore  time.Time `json:"not_before,omitzero"`
	NotAfter   time.Time `json:"not_after,omitzero"`
	Key        string    `json:"key,omitempty"` // e.g. "RSA 2048"
	IsCA       bool      `json:"is_ca,omitempty"`
	KeyUsage   []string  `json:"key_usage,omitempty"`
	Extensions []string  `json:"extensions,omitempty"` // OIDs, "!" marking critical ones
}

// Summary is what the operator is shown for one request ([0092]).
type Summary struct {
	Distributor uint32 `json:"distributor"`
	Hash        string `json:"hash"`
	Scheme      string `json:"scheme"`
	Digest      string `json:"digest"`               // hex
	TBSSHA256   string `json:"tbs_sha256,omitempty"` // hex SHA-256 of the content
	*Decoded
}

func summaryOf(dist uint32, req *share.Request, d *Decoded) *Summary {
	s := &Summary{Distributor: dist, Hash: req.Hash.String(), Scheme: req.Scheme.String(), Digest: hex.EncodeToString(req.Digest), Decoded: d}
	if req.Content != nil {
		sum := sha256.Sum256(req.Content)
		s.TBSSHA256 = hex.EncodeToString(sum[:])
	}
	if d == nil {
		s.Decoded = &Decoded{Kind: "digest-only"}
	}
	return s
}

// Decode detects and decodes the to-be-signed content of a certificate,
// CSR, CRL or OCSP response from its DER.
func Decode(der []byte) (*Decoded, error) {
	elems, err := sequence(der)
	if err != nil {
		return nil, ErrUnknownContent
	}
	if c, err := parseTBSCertificate(der, elems); err == nil {
		return decodedCert(c), nil
	}
	if crl, err := parseTBSCertList(der, elems); err == nil {
		return &Decoded{Kind: KindCRL, Issuer: crl.Issuer.String(), NotBefore: crl.ThisUpdate, NotAfter: crl.NextUpdate}, nil
	}
	if csr, err := parseCSRInfo(der); err == nil {
		return &Decoded{Kind: KindCSR, Subject: csr.Subject.String(), SANs: sans(csr.DNSNames, csr.EmailAddresses, csr.IPAddresses, csr.URIs), Key: keyName(csr.PublicKey)}, nil
	}
	if isOCSPResponseData(elems) {
		return &Decoded{Kind: KindOCSP}, nil
	}
	return nil, ErrUnknownContent
}

// sequence returns the elements of the DER SEQUENCE der, which must be
// the whole of der.
func sequence(der []byte) ([]asn1.RawValue, error) {
	var outer asn1.RawValue
	rest, err := asn1.Unmarshal(der, &outer)
	if err != nil || len(rest) > 0 || outer.Class != asn1.ClassUniversal || outer.Tag != asn1.TagSequence || !outer.IsCompound {
		return nil, ErrUnknownContent
	}
	var out []asn1.RawValue
	for b := outer.Bytes; len(b) > 0; {
		var e asn1.RawValue
		if b, err = asn1.Unmarshal(b, &e); err != nil {
			return nil, ErrUnknownContent
		}
		out = append(out, e)
	}
	return out, nil
}

// signed wraps tbs as a signed structure with algorithm alg and an empty
// signature, for crypto/x509's parsers (which check no signature).
func signed(tbs []byte, alg asn1.RawValue) ([]byte, error) {
	return asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, alg, asn1.BitString{Bytes: []byte{0}, BitLength: 8}})
}

func parseTBSCertificate(der []byte, elems []asn1.RawValue) (*x509.Certificate, error) {
	n := 0
	if len(elems) > 0 && elems[0].Class == asn1.ClassContextSpecific && elems[0].Tag == 0 {
		n = 1 // version
	}
	if len(elems) < n+2 {
		return nil, ErrUnknownContent
	}
	b, err := signed(der, elems[n+1])
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(b)
}

func parseTBSCertList(der []byte, elems []asn1.RawValue) (*x509.RevocationList, error) {
	n := 0
	if len(elems) > 0 && elems[0].Tag == asn1.TagInteger {
		n = 1 // version
	}
	if len(elems) < n+1 {
		return nil, ErrUnknownContent
	}
	b, err := signed(der, elems[n])
	if err != nil {
		return nil, err
	}
	return x509.ParseRevocationList(b)
}

var sha256WithRSA = asn1.RawValue{FullBytes: []byte{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00}}

func parseCSRInfo(der []byte) (*x509.CertificateRequest, error) {
	b, err := signed(der, sha256WithRSA)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificateRequest(b)
}

// isOCSPResponseData recognises RFC 6960's ResponseData: an optional [0]
// version, a responder id [1] or [2], producedAt, and the responses.
func isOCSPResponseData(elems []asn1.RawValue) bool {
	n := 0
	if len(elems) > 0 && elems[0].Class == asn1.ClassContextSpecific && elems[0].Tag == 0 {
		n = 1
	}
	if len(elems) < n+3 {
		return false
	}
	id, at, rs := elems[n], elems[n+1], elems[n+2]
	if id.Class != asn1.ClassContextSpecific || (id.Tag != 1 && id.Tag != 2) {
		return false
	}
	if at.Class != asn1.ClassUniversal || at.Tag != asn1.TagGeneralizedTime {
		return false
	}
	var when time.Time
	if _, err := asn1.UnmarshalWithParams(at.FullBytes, &when, "generalized"); err != nil {
		return false
	}
	return rs.Class == asn1.ClassUniversal && rs.Tag == asn1.TagSequence
}

func decodedCert(c *x509.Certificate) *Decoded {
	d := &Decoded{
		Kind: KindCertificate, Subject: c.Subject.String(), Issuer: c.Issuer.String(),
		SANs:      sans(c.DNSNames, c.EmailAddresses, c.IPAddresses, c.URIs),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, Key: keyName(c.PublicKey),
		IsCA: c.BasicConstraintsValid && c.IsCA, KeyUsage: keyUsages(c.KeyUsage),
	}
	for _, e := range c.Extensions {
		s := e.Id.String()
		if e.Critical {
			s = "!" + s
		}
		d.Extensions = append(d.Extensions, s)
	}
	return d
}

func sans[I, U fmt.Stringer](dns, email []string, ips []I, uris []U) []string {
	out := slices.Concat(dns, email)
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	for _, u := range uris {
		out = append(out, u.String())
	}
	return out
}

func keyName(k any) string {
	switch k := k.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return "unknown"
}

var keyUsageNames = map[string]x509.KeyUsage{
	"digitalSignature": x509.KeyUsageDigitalSignature, "contentCommitment": x509.KeyUsageContentCommitment,
	"keyEncipherment": x509.KeyUsageKeyEncipherment, "dataEncipherment": x509.KeyUsageDataEncipherment,
	"keyAgreement": x509.KeyUsageKeyAgreement, "keyCertSign": x509.KeyUsageCertSign,
	"cRLSign": x509.KeyUsageCRLSign, "encipherOnly": x509.KeyUsageEncipherOnly, "decipherOnly": x509.KeyUsageDecipherOnly,
}

func keyUsages(u x509.KeyUsage) []string {
	var out []string
	for name, bit := range keyUsageNames {
		if u&bit != 0 {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// checkDecoded applies the content rules.
func (c *compiled) checkDecoded(d *Decoded) error {
	if d.Kind != KindCertificate && d.Kind != KindCSR {
		return nil
	}
	if len(c.subjects) > 0 && !slices.ContainsFunc(c.subjects, func(re *regexp.Regexp) bool { return re.MatchString(d.Subject) }) {
		return refuse(RuleSubject)
	}
	if len(c.p.SANs) > 0 {
		for _, s := range d.SANs {
			if !slices.ContainsFunc(c.p.SANs, func(p string) bool { ok, _ := path.Match(p, s); return ok }) {
				return refuse(RuleSAN)
			}
		}
	}
	if d.Kind != KindCertificate {
		return nil
	}
	if c.p.MaxValidityDays > 0 && d.NotAfter.Sub(d.NotBefore) > time.Duration(c.p.MaxValidityDays)*24*time.Hour {
		return refuse(RuleValidity)
	}
	if d.IsCA && !c.p.AllowCA {
		return refuse(RuleCA)
	}
	if len(c.p.KeyUsages) > 0 {
		for _, u := range d.KeyUsage {
			if !slices.Contains(c.p.KeyUsages, u) {
				return refuse(RuleKeyUsage)
			}
		}
	}
	return nil
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
