package x509sign_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// Issue a self-signed root certificate with a key split over five
// calculators (any three sign) and the combiners of a searched plan, all
// running in this process on the in-memory broadcast.
func ExampleNew() {
	// Offline: split the CA key ([0041] steps B-E).
	key, err := rsa.GenerateKey(rand.Reader, 2048) // in production: the CA's own key
	if err != nil {
		panic(err)
	}
	plan, _, err := grouping.Search(5, 3, 2, nil)
	if err != nil {
		panic(err)
	}
	dl, err := share.NewDealer(rand.Reader, key, 5, 3, 2, nil)
	if err != nil {
		panic(err)
	}
	dealing, err := dl.Deal(plan)
	if err != nil {
		panic(err)
	}

	// Online: the cluster, with calculators 2 and 5 down.
	local, err := broadcast.StartLocal(context.Background(), dealing, &broadcast.LocalOptions{Down: []int{2, 5}})
	if err != nil {
		panic(err)
	}
	defer local.Close()

	signer, err := x509sign.New(dl.PublicKey(), dl.KeyID(), local.Distributor(), nil)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Example Tolerant Root"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	// x509 passes the TBS certificate to signer.SignMessage: every node
	// sees what it signs.
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		panic(err)
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	fmt.Println(root.Subject.CommonName, root.SignatureAlgorithm)
	fmt.Println("self-signature verifies:", root.CheckSignatureFrom(root) == nil)
	// Output:
	// Example Tolerant Root SHA256-RSA
	// self-signature verifies: true
}
