package audit

import (
	"crypto/x509"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// CertFields returns the subject, serial number and validity of der, a DER
// certificate or TBSCertificate (RFC 5280 section 4.1), for [Event.Cert],
// and false when der is neither. It trusts nothing in der and never panics;
// a subject longer than [MaxName] is cut short.
func CertFields(der []byte) (*Cert, bool) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		wrapped, ok := wrapTBS(der)
		if !ok {
			return nil, false
		}
		if cert, err = x509.ParseCertificate(wrapped); err != nil {
			return nil, false
		}
	}
	return &Cert{
		Subject:   clip(cert.Subject.String(), MaxName),
		Serial:    clip(cert.SerialNumber.Text(16), MaxName),
		NotBefore: cert.NotBefore.UTC(),
		NotAfter:  cert.NotAfter.UTC(),
	}, true
}

// wrapTBS wraps a TBSCertificate into a Certificate with the TBS's own
// signature algorithm and an empty signature, so that the x509 parser
// reads its fields. The signature is never checked.
func wrapTBS(tbs []byte) ([]byte, bool) {
	in := cryptobyte.String(tbs)
	var body, alg cryptobyte.String
	if !in.ReadASN1(&body, asn1.SEQUENCE) || !in.Empty() {
		return nil, false
	}
	body.SkipOptionalASN1(asn1.Tag(0).Constructed().ContextSpecific())
	if !body.SkipASN1(asn1.INTEGER) || !body.ReadASN1Element(&alg, asn1.SEQUENCE) {
		return nil, false
	}
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(alg)
		b.AddASN1BitString([]byte{0})
	})
	out, err := b.Bytes()
	return out, err == nil
}

// clip cuts s to at most n bytes, on a rune boundary, and replaces
// non-printable characters, so that it passes the entry checks.
func clip(s string, n int) string {
	out := make([]rune, 0, len(s))
	size := 0
	for _, r := range s {
		if r == utf8.RuneError || !isPrint(r) {
			r = '?'
		}
		size += utf8.RuneLen(r)
		if size > n {
			break
		}
		out = append(out, r)
	}
	return string(out)
}
