package x509sign_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testcluster/memcluster"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/x509sign"
)

// TestFromCluster: the Signer of a distributor takes the public key and
// the key id from the distributor's key material.
func TestFromCluster(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	local, dealer := memcluster.Deal(t, 3, 2, 1, dealt(key), nil)
	defer local.Close()
	s, err := x509sign.FromCluster(local.Distributor(), nil)
	require.NoError(t, err)
	require.True(t, key.PublicKey.Equal(s.Public()))
	require.Equal(t, dealer.KeyID(), s.KeyID())
	sum := sha256.Sum256([]byte("from cluster"))
	sig, err := s.Sign(rand.Reader, sum[:], crypto.SHA256)
	require.NoError(t, err)
	require.NoError(t, rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig))
	_, err = x509sign.FromCluster(nil, nil)
	require.Error(t, err)
}
