package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	mrand "math/rand/v2"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/examples/tolerant-pkcs11/internal/clienttest"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// TestCFSSLIssues runs cfssl's sign API with a (5,3,2) cluster (two
// calculators down) as its key, posts a CSR, and checks the certificate
// against the CA and that the calculators saw the TBSCertificate itself.
func TestCFSSLIssues(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	plan, _, err := grouping.Search(5, 3, 2, nil)
	require.NoError(t, err)
	dealer, err := share.NewDealer(mrand.NewChaCha8([32]byte{2}), key, 5, 3, 2, nil)
	require.NoError(t, err)
	dealing, err := dealer.Deal(plan)
	require.NoError(t, err)
	var mu sync.Mutex
	var seen [][]byte
	local, err := broadcast.StartLocal(context.Background(), dealing, &broadcast.LocalOptions{
		Down: []int{2, 5},
		Approve: func(_ context.Context, r *share.Request) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, r.Content)
			return nil
		},
	})
	require.NoError(t, err)
	defer local.Close()
	signer, err := x509sign.New(&key.PublicKey, local.Distributor().KeyID(), local.Distributor(), nil)
	require.NoError(t, err)

	// The CA certificate, issued by the cluster too.
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tolerant cfssl root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, signer)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(der)
	require.NoError(t, err)

	h, err := newHandler(signer, ca, 90*24*time.Hour)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	blk, _ := pem.Decode([]byte(clienttest.CFSSLSign(t, srv.URL+signPath, "www.example.com")))
	require.NotNil(t, blk)
	leaf, err := x509.ParseCertificate(blk.Bytes)
	require.NoError(t, err)
	require.NoError(t, leaf.CheckSignatureFrom(ca))
	require.Equal(t, []string{"www.example.com"}, leaf.DNSNames)
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, seen, leaf.RawTBSCertificate, "cfssl's signature carried the TBSCertificate to the calculators")
}
