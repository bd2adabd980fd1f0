package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/smallstep/certificates/authority"
	"github.com/smallstep/certificates/authority/config"
	"github.com/smallstep/certificates/authority/provisioner"
	"go.step.sm/crypto/jose"

	// step-ca's pkcs11 KMS (crypto11, cgo): the "kms" section of ca.json
	// names it.
	_ "go.step.sm/crypto/kms/pkcs11"
)

// openAuthority reads a step-ca configuration (ca.json) and starts
// step-ca's authority from it, as the step-ca server does: its KMS (here
// the pkcs11 one, loading p11-kit-client.so), the signer of the
// intermediate key through that KMS, and the provisioners.
func openAuthority(file string) (*authority.Authority, error) {
	cfg, err := config.LoadConfiguration(file)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return authority.New(cfg)
}

// errNotJWK: the named provisioner is not a JWK provisioner.
var errNotJWK = errors.New("not a JWK provisioner")

// jwkProvisioner returns the JWK provisioner called name and its private
// key, decrypted from the provisioner's encryptedKey with password (what
// "step ca token" does).
func jwkProvisioner(a *authority.Authority, name string, password []byte) (*provisioner.JWK, *jose.JSONWebKey, error) {
	p, err := a.LoadProvisionerByName(name)
	if err != nil {
		return nil, nil, err
	}
	jwk, ok := p.(*provisioner.JWK)
	if !ok {
		return nil, nil, fmt.Errorf("provisioner %q: %w", name, errNotJWK)
	}
	b, err := jose.Decrypt([]byte(jwk.EncryptedKey), jose.WithPassword(password))
	if err != nil {
		return nil, nil, fmt.Errorf("provisioner %q: %w", name, err)
	}
	key, err := jose.ParseKey(b)
	if err != nil {
		return nil, nil, fmt.Errorf("provisioner %q: %w", name, err)
	}
	return jwk, key, nil
}

// oneTimeToken is the provisioner's token for a certificate of subject
// and sans, for the sign endpoint of the CA at dnsName.
func oneTimeToken(p *provisioner.JWK, key *jose.JSONWebKey, dnsName, subject string, sans []string) (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key.Key},
		new(jose.SignerOptions).WithType("JWT").WithHeader("kid", key.KeyID))
	if err != nil {
		return "", err
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return "", err
	}
	// The authority refuses tokens issued before it started, in whole
	// seconds: the next second is never earlier than its start.
	now := time.Now().Truncate(time.Second).Add(time.Second)
	claims := jose.Claims{
		ID: hex.EncodeToString(id), Issuer: p.Name, Subject: subject,
		Audience: jose.Audience{"https://" + dnsName + "/1.0/sign"},
		IssuedAt: jose.NewNumericDate(now), NotBefore: jose.NewNumericDate(now), Expiry: jose.NewNumericDate(now.Add(5 * time.Minute)),
	}
	return jose.Signed(sig).Claims(claims).Claims(map[string]any{"sans": sans}).CompactSerialize()
}

// issue signs csr the way step-ca's POST /1.0/sign does: the provisioner's
// one-time token is authorized, and its sign options shape the
// certificate, which the authority signs with the intermediate key. It
// returns the certificate and the intermediate.
func issue(ctx context.Context, a *authority.Authority, p *provisioner.JWK, key *jose.JSONWebKey, csr *x509.CertificateRequest) ([]*x509.Certificate, error) {
	sans := append(append([]string{}, csr.DNSNames...), csr.EmailAddresses...)
	for _, ip := range csr.IPAddresses {
		sans = append(sans, ip.String())
	}
	for _, u := range csr.URIs {
		sans = append(sans, u.String())
	}
	tok, err := oneTimeToken(p, key, a.GetConfig().DNSNames[0], csr.Subject.CommonName, sans)
	if err != nil {
		return nil, err
	}
	ctx = provisioner.NewContextWithMethod(ctx, provisioner.SignMethod)
	opts, err := a.Authorize(ctx, tok)
	if err != nil {
		return nil, err
	}
	return a.SignWithContext(ctx, csr, provisioner.SignOptions{}, opts...)
}
