package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/jose"

	"github.com/tolerantca/tolerant/examples/tolerant-pkcs11/internal/clienttest"
	"github.com/tolerantca/tolerant/share/policy"
)

// TestStepCA runs step-ca's authority with its pkcs11 KMS on
// p11-kit-client.so, in front of p11-kit server running the tolerant
// module, whose key (a cluster of node processes over NATS) is the
// intermediate's. step-ca signs digests only: with nodes whose policy
// does not list the module's distributor in digest_only_distributors,
// the calculators refuse and step-ca's signing fails with
// CKR_FUNCTION_REJECTED; with the example's policy.json the certificate
// is issued, and it verifies against the intermediate and, with openssl
// verify, the root.
func TestStepCA(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module and runs a cluster of processes")
	}
	needTools(t, "go", "p11-kit", "openssl")
	client := clienttest.P11KitClient(t)
	pol, err := policy.Load("policy.json")
	require.NoError(t, err)
	require.Equal(t, []uint32{1}, pol.DigestOnly, "policy.json lets the module's distributor (1) send digests")
	strict := *pol
	strict.DigestOnly = nil
	b, err := json.Marshal(&strict)
	require.NoError(t, err)

	c := newCluster(t)
	c.startNodes(t, c.write(t, "strict-policy.json", string(b)))
	t.Setenv("P11_KIT_SERVER_ADDRESS", c.p11KitServer(t))
	caJSON, root, inter := c.stepCAConfig(t, client)
	csr := c.write(t, "leaf.csr", string(newCSR(t, "leaf.example.com")))
	leaf := filepath.Join(c.dir, "leaf.pem")

	err = run(caJSON, "tolerant", filepath.Join(c.dir, "provisioner.pw"), csr, leaf)
	require.ErrorContains(t, err, "CKR_FUNCTION_REJECTED", "step-ca's digest-only request is refused by the nodes' policy")
	t.Logf("without digest_only_distributors: %v", err)

	c.stopNodes()
	c.startNodes(t, "policy.json")
	require.NoError(t, run(caJSON, "tolerant", filepath.Join(c.dir, "provisioner.pw"), csr, leaf))
	chain := readCerts(t, leaf)
	require.Len(t, chain, 2, "the certificate and the intermediate")
	require.NoError(t, chain[0].CheckSignatureFrom(readCerts(t, inter)[0]))
	require.Equal(t, []string{"leaf.example.com"}, chain[0].DNSNames)
	require.Equal(t, x509.SHA256WithRSA, chain[0].SignatureAlgorithm)
	out := runOut(t, "openssl", "verify", "-CAfile", root, "-untrusted", inter, leaf)
	require.Contains(t, out, ": OK")
}

// stepCAConfig writes a software root CA, the intermediate certificate of
// the cluster's key signed by it, a JWK provisioner with its password,
// and the ca.json that puts them together with the pkcs11 KMS on the
// p11-kit client module; it returns the paths of ca.json, the root and
// the intermediate.
func (c *cluster) stepCAConfig(t *testing.T, client string) (caJSON, root, inter string) {
	pubPEM, err := os.ReadFile(filepath.Join(c.cdir, "public.pem"))
	require.NoError(t, err)
	blk, _ := pem.Decode(pubPEM)
	require.NotNil(t, blk)
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	require.NoError(t, err)
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "step-ca test root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	root = c.writeCert(t, "root.pem", rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	interTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "tolerant intermediate"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	inter = c.writeCert(t, "intermediate.pem", interTmpl, rootTmpl, pub, rootKey)

	password := "provisioner password"
	c.write(t, "provisioner.pw", password+"\n")
	jwk, jwe, err := jose.GenerateDefaultKeyPair([]byte(password))
	require.NoError(t, err)
	enc, err := jwe.CompactSerialize()
	require.NoError(t, err)
	cfg := map[string]any{
		"root": root, "crt": inter, "key": "pkcs11:object=" + c.key,
		"kms": map[string]any{"type": "pkcs11",
			"uri": "pkcs11:module-path=" + client + ";token=" + c.key + "?pin-source=" + filepath.Join(c.dir, "pin.txt")},
		"address": "127.0.0.1:9000", "dnsNames": []string{"ca.example.com"},
		"authority": map[string]any{"provisioners": []any{
			map[string]any{"type": "JWK", "name": "tolerant", "key": jwk, "encryptedKey": enc}}},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	require.NoError(t, err)
	return c.write(t, "ca.json", string(b)), root, inter
}

// writeCert signs a certificate and writes it as PEM.
func (c *cluster) writeCert(t *testing.T, name string, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) string {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	require.NoError(t, err)
	return c.write(t, name, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
}

// newCSR returns a PEM certificate request for a fresh P-256 key.
func newCSR(t *testing.T, name string) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: name}, DNSNames: []string{name}}, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

// readCerts reads the PEM certificates of a file.
func readCerts(t *testing.T, file string) []*x509.Certificate {
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var certs []*x509.Certificate
	for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
		cert, err := x509.ParseCertificate(blk.Bytes)
		require.NoError(t, err)
		certs = append(certs, cert)
	}
	return certs
}
