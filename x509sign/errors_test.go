package x509sign_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// refusingCluster fails every request with the error a node gives.
type refusingCluster struct{ err error }

func (c refusingCluster) Sign(context.Context, *share.Request) ([]byte, error) { return nil, c.err }

// TestRegressionSentinelsSharedWithShare: x509sign's refusals of a hash, a
// digest length and a message size are share's sentinels, so one errors.Is
// test catches a refusal whether the signer made it or a node did.
func TestRegressionSentinelsSharedWithShare(t *testing.T) {
	pairs := []struct {
		name     string
		x509, sh error
	}{
		{"unsupported hash", x509sign.ErrUnsupportedHash, share.ErrUnsupportedHash},
		{"digest length", x509sign.ErrDigestLength, share.ErrDigestLength},
		{"too large", x509sign.ErrTooLarge, share.ErrTooLarge},
	}
	for _, p := range pairs {
		require.ErrorIs(t, p.x509, p.sh, p.name)
		require.ErrorIs(t, p.sh, p.x509, p.name)
	}

	key := testkeys.Must(testkeys.RSA2048)
	// A node's refusal, wrapped by the signer, still is x509sign's sentinel.
	s, err := x509sign.New(&key.PublicKey, "k", refusingCluster{share.ErrDigestLength}, nil)
	require.NoError(t, err)
	sum := make([]byte, 32)
	_, err = s.Sign(rand.Reader, sum, crypto.SHA256)
	require.ErrorIs(t, err, x509sign.ErrDigestLength)

	// The signer's own refusals are share's sentinels.
	_, err = s.Sign(rand.Reader, sum[:31], crypto.SHA256)
	require.ErrorIs(t, err, share.ErrDigestLength)
	_, err = s.Sign(rand.Reader, sum[:20], crypto.SHA1)
	require.ErrorIs(t, err, share.ErrUnsupportedHash)
	_, err = s.SignMessage(rand.Reader, make([]byte, share.MaxContentSize+1), crypto.SHA256)
	require.ErrorIs(t, err, share.ErrTooLarge)
	require.NotErrorIs(t, err, share.ErrDigestLength)
}
