package emsa

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVerify: Verify accepts crypto/rsa's PKCS #1 v1.5 signature of em
// and refuses every other input without panicking, a nil or malformed
// public key included.
func TestVerify(t *testing.T) {
	priv := testKey(t, 2048)
	pub := &priv.PublicKey
	d := sha256.Sum256([]byte("verify"))
	em, err := PKCS1v15(crypto.SHA256, d[:], pub.Size())
	require.NoError(t, err)
	sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, d[:])
	require.NoError(t, err)
	require.True(t, Verify(pub, sig, em), "crypto/rsa's signature")

	other := append([]byte(nil), em...)
	other[len(other)-1] ^= 1
	require.False(t, Verify(pub, sig, other), "another message")
	require.False(t, Verify(pub, sig[1:], em), "short signature")
	require.False(t, Verify(pub, append([]byte{0}, sig...), em), "long signature")
	require.False(t, Verify(pub, make([]byte, len(sig)), em), "zero")
	require.False(t, Verify(pub, pub.N.FillBytes(make([]byte, len(sig))), em), "N itself")
	require.False(t, Verify(pub, new(big.Int).Add(pub.N, big.NewInt(1)).FillBytes(make([]byte, len(sig))), em), "above N")
	for name, bad := range map[string]*rsa.PublicKey{
		"nil key":      nil,
		"nil modulus":  {E: 65537},
		"zero modulus": {N: new(big.Int), E: 65537},
		"exponent 0":   {N: pub.N, E: 0},
		"exponent -3":  {N: pub.N, E: -3},
	} {
		require.NotPanics(t, func() { require.False(t, Verify(bad, sig, em), name) }, name)
	}
}
