// Command stepca-tolerant issues a certificate from a CSR with step-ca's
// authority (github.com/smallstep/certificates v0.30.2), configured by a
// step-ca ca.json whose KMS is step-ca's pkcs11 KMS pointed at
// p11-kit-client.so, in front of "p11-kit server" running the tolerant
// PKCS #11 module: the intermediate key is a tolerant cluster's. It is
// what "step ca sign --offline" does: the JWK provisioner's one-time
// token, authorized and signed in process.
//
// Usage:
//
//	P11_KIT_SERVER_ADDRESS=unix:path=/run/tolerant/p11.sock \
//	stepca-tolerant -config ca.json -provisioner NAME -password-file FILE -csr leaf.csr -out leaf.pem
//
// The same ca.json runs the step-ca server ("step-ca ca.json").
package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	cfg := flag.String("config", "", "step-ca configuration (ca.json) (required)")
	prov := flag.String("provisioner", "", "name of the JWK provisioner (required)")
	pwFile := flag.String("password-file", "", "file holding the provisioner's password (required)")
	csrFile := flag.String("csr", "", "PEM certificate request (required)")
	out := flag.String("out", "", "where to write the certificate and the intermediate, PEM (required)")
	flag.Parse()
	if *cfg == "" || *prov == "" || *pwFile == "" || *csrFile == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*cfg, *prov, *pwFile, *csrFile, *out); err != nil {
		fmt.Fprintln(os.Stderr, "stepca-tolerant:", err)
		os.Exit(1)
	}
}

// run issues one certificate and writes it with the intermediate.
func run(cfg, prov, pwFile, csrFile, out string) error {
	pw, err := os.ReadFile(pwFile)
	if err != nil {
		return err
	}
	csr, err := readCSR(csrFile)
	if err != nil {
		return err
	}
	a, err := openAuthority(cfg)
	if err != nil {
		return err
	}
	defer a.Shutdown()
	p, key, err := jwkProvisioner(a, prov, []byte(strings.TrimRight(string(pw), "\r\n")))
	if err != nil {
		return err
	}
	chain, err := issue(context.Background(), a, p, key, csr)
	if err != nil {
		return err
	}
	var b []byte
	for _, c := range chain {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return os.WriteFile(out, b, 0o644)
}

// readCSR reads a PEM certificate request.
func readCSR(file string) (*x509.CertificateRequest, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New(file + ": not a PEM certificate request")
	}
	return x509.ParseCertificateRequest(blk.Bytes)
}
