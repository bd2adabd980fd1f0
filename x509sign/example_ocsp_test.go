package x509sign_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// Answer an OCSP request (RFC 6960) with the CA key held by a cluster
// running in this process, and parse the response back as a relying party
// does. ocsp.CreateResponse signs through the signer's digest-only Sign.
func Example_ocsp() {
	// Offline: split the CA key over five calculators, any three of which
	// sign, with the patent's plan ([0084]-[0087]).
	key, err := rsa.GenerateKey(rand.Reader, 2048) // in production: the CA's key
	if err != nil {
		panic(err)
	}
	dl, err := share.NewDealer(rand.Reader, key, 5, 3, 2, nil)
	if err != nil {
		panic(err)
	}
	dealing, err := dl.Deal(grouping.PatentPlan())
	if err != nil {
		panic(err)
	}

	// Online: the cluster on the in-memory broadcast, calculator 4 down.
	local, err := broadcast.StartLocal(context.Background(), dealing, &broadcast.LocalOptions{Down: []int{4}})
	if err != nil {
		panic(err)
	}
	defer local.Close()
	signer, err := x509sign.FromCluster(local.Distributor(), nil) // the distributor knows its key
	if err != nil {
		panic(err)
	}

	// The CA certificate, itself signed by the cluster as in ExampleNew:
	// the OCSP response names it as its issuer and responder.
	now := time.Now().Truncate(time.Minute)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Example Tolerant CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	if ca.Raw, err = x509.CreateCertificate(rand.Reader, ca, ca, signer.Public(), signer); err != nil {
		panic(err)
	}
	if ca, err = x509.ParseCertificate(ca.Raw); err != nil {
		panic(err)
	}

	// The OCSP response for serial number 42: good, signed by the CA.
	resp, err := ocsp.CreateResponse(ca, ca, ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: big.NewInt(42),
		ThisUpdate:   now,
		NextUpdate:   now.Add(time.Hour),
		IssuerHash:   crypto.SHA256,
	}, signer)
	if err != nil {
		panic(err)
	}

	// A relying party parses it and checks its signature with the CA's key.
	parsed, err := ocsp.ParseResponse(resp, ca)
	if err != nil {
		panic(err)
	}
	fmt.Println("serial", parsed.SerialNumber, "good:", parsed.Status == ocsp.Good)
	fmt.Println("signed with", parsed.SignatureAlgorithm)
	// Output:
	// serial 42 good: true
	// signed with SHA256-RSA
}
