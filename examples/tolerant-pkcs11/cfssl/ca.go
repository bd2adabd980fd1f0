package main

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"time"

	"github.com/cloudflare/cfssl/api/signhandler"
	"github.com/cloudflare/cfssl/config"
	"github.com/cloudflare/cfssl/signer/local"
)

// signPath is the path of cfssl's sign API.
const signPath = "/api/v1/cfssl/sign"

// newHandler returns cfssl's sign API for a CA whose key is s and whose
// certificate is ca, issuing TLS server and client certificates valid for
// validity.
func newHandler(s crypto.Signer, ca *x509.Certificate, validity time.Duration) (http.Handler, error) {
	policy := &config.Signing{Default: &config.SigningProfile{
		Usage:        []string{"digital signature", "key encipherment", "server auth", "client auth"},
		Expiry:       validity,
		ExpiryString: validity.String(),
	}}
	sg, err := local.NewSigner(s, ca, x509.SHA256WithRSA, policy)
	if err != nil {
		return nil, err
	}
	h, err := signhandler.NewHandlerFromSigner(sg)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(signPath, h)
	return mux, nil
}

// readCert reads a PEM certificate.
func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New(path + ": not a PEM certificate")
	}
	return x509.ParseCertificate(blk.Bytes)
}
