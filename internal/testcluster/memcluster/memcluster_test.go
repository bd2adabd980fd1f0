package memcluster

import (
	"crypto"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
)

// TestSignerOverLiars: a cluster with a lying calculator still signs what
// crypto/rsa signs, and the liar is named or suspected.
func TestSignerOverLiars(t *testing.T) {
	dl, d := testcluster.Dealer(t, 5, 3, 2, nil)
	opts := &broadcast.LocalOptions{Down: []int{1}}
	require.Same(t, opts, Liars(t, d, opts, time.Second), "no liars: opts unchanged")
	l := Start(t, d, Liars(t, d, opts, time.Second, 3))
	s := Signer(t, dl, l.Distributor(), nil)
	sig, err := s.SignMessage(nil, []byte("m"), crypto.SHA256)
	require.NoError(t, err)
	require.Equal(t, testcluster.Want(t, nil, "m"), sig)

	out, err := l.Distributor().SignDetailed(testcluster.Timeout(t, 20*time.Second), testcluster.Request("n"))
	require.NoError(t, err)
	require.Equal(t, testcluster.Want(t, nil, "n"), out.Signature)
	named := append(slices.Clone(out.Claimed), out.Suspects...)
	named = append(named, out.Inconsistent...)
	require.Contains(t, named, 3, "liar 3 neither claimed nor suspected: %+v", out)
	require.NotContains(t, out.Calculators, 1, "calculator 1 is down")
}
