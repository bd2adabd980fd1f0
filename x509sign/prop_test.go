package x509sign_test

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/x509sign"
)

// Whatever the options and input, the signer never panics, and whatever it
// returns verifies; inputs with a supported hash and a right-sized digest
// are signed.
func TestPropertyNeverPanics(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	s := newSigner(t, key, testcluster.WholeKey{Key: key})
	hashes := []crypto.Hash{0, crypto.MD5, crypto.SHA1, crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512, crypto.SHA3_256, crypto.Hash(99)}
	rapid.Check(t, func(rt *rapid.T) {
		h := rapid.SampledFrom(hashes).Draw(rt, "hash")
		pss := rapid.Bool().Draw(rt, "pss")
		salt := rapid.IntRange(-3, 300).Draw(rt, "salt")
		message := rapid.Bool().Draw(rt, "message")
		input := rapid.SliceOfN(rapid.Byte(), 0, 80).Draw(rt, "input")
		var opts crypto.SignerOpts = h
		if pss {
			opts = &rsa.PSSOptions{Hash: h, SaltLength: salt}
		}
		var sig []byte
		var err error
		if message {
			sig, err = s.SignMessage(nil, input, opts)
		} else {
			sig, err = s.Sign(nil, input, opts)
		}
		supported := h == crypto.SHA256 || h == crypto.SHA384 || h == crypto.SHA512
		if !supported {
			require.ErrorIs(rt, err, x509sign.ErrUnsupportedHash, "%v", h)
			return
		}
		if err != nil {
			badDigest := !message && len(input) != h.Size() && errors.Is(err, x509sign.ErrDigestLength)
			badSalt := pss && errors.Is(err, x509sign.ErrOptions)
			require.Nil(rt, sig, "a signature with the error %v", err)
			require.True(rt, badDigest || badSalt, "unexpected error: %v; want ErrDigestLength for a wrong-sized digest or ErrOptions for a bad salt", err)
			return
		}
		digest := input
		if message {
			digest = digestOf(h, input)
		}
		if pss {
			err = rsa.VerifyPSS(&key.PublicKey, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		} else {
			err = rsa.VerifyPKCS1v15(&key.PublicKey, h, digest, sig)
		}
		require.NoError(rt, err, "returned signature does not verify")
	})
}
