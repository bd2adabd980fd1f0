package x509sign_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/testcluster/memcluster"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// dealt is how these tests deal a key: seed 42 over the evenly loaded plan
// of grouping.Search.
func dealt(key *rsa.PrivateKey) *testcluster.Options {
	return &testcluster.Options{Key: key, Seed: 42, Search: true}
}

// The same guarantees through the real in-process protocol.
func TestBroadcast(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	key := testkeys.Must(testkeys.RSA2048)
	local, dl := memcluster.Deal(t, 5, 3, 2, dealt(key), nil)
	s := memcluster.Signer(t, dl, local.Distributor(), nil)
	msg := []byte("through broadcast")
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		got, err := s.SignMessage(nil, msg, h)
		require.NoError(t, err, "%v", h)
		want, err := rsa.SignPKCS1v15(nil, key, h, digestOf(h, msg))
		require.NoError(t, err)
		require.Equal(t, want, got, "%v: differs from rsa.SignPKCS1v15", h)
		pss := &rsa.PSSOptions{Hash: h, SaltLength: rsa.PSSSaltLengthEqualsHash}
		got, err = s.Sign(rand.Reader, digestOf(h, msg), pss)
		require.NoError(t, err, "%v PSS", h)
		require.NoError(t, rsa.VerifyPSS(&key.PublicKey, h, digestOf(h, msg), got, pss), "%v PSS", h)
	}
	root, leaf, _ := issue(t, s, x509.SHA256WithRSA, x509.SHA384WithRSAPSS)
	pool := x509.NewCertPool()
	pool.AddCert(root)
	_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "leaf.example.com"})
	require.NoError(t, err, "x509.Verify")
	require.NoError(t, local.Close())
}

// outcomes is a Cluster that keeps the broadcast outcome of each signature.
type outcomes struct {
	d    *broadcast.Distributor
	last *broadcast.Outcome
}

func (o *outcomes) Sign(ctx context.Context, req *share.Request) ([]byte, error) {
	out, err := o.d.SignDetailed(ctx, req)
	if err != nil {
		return nil, err
	}
	o.last = out
	return out.Signature, nil
}

// With k-t calculators down the cluster still signs; a lying calculator is
// set aside and named; with a liar among only t answering calculators no
// signature comes out, and nothing unverified is returned.
func TestBroadcastFaults(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048b)
	msg := []byte("degraded cluster")
	want, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digestOf(crypto.SHA256, msg))
	require.NoError(t, err)
	cases := []struct {
		name        string
		down, liars []int
		ok          bool
	}{
		{"two-down", []int{2, 4}, nil, true},
		{"one-down-one-liar", []int{1}, []int{3}, true},
		{"two-down-one-liar", []int{1, 5}, []int{3}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dl, d := testcluster.Dealer(t, 5, 3, 2, dealt(key))
			local := memcluster.Start(t, d, memcluster.Liars(t, d, &broadcast.LocalOptions{Down: c.down}, 500*time.Millisecond, c.liars...))
			rec := &outcomes{d: local.Distributor()}
			s := memcluster.Signer(t, dl, rec, &x509sign.Options{Timeout: 2 * time.Second})
			sig, err := s.SignMessage(nil, msg, crypto.SHA256)
			if !c.ok {
				require.ErrorIs(t, err, broadcast.ErrDeadline)
				require.Nil(t, sig, "a signature although only t calculators answered, one lying")
				return
			}
			require.NoError(t, err)
			require.Equal(t, want, sig, "differs from rsa.SignPKCS1v15")
			for _, j := range c.down {
				require.NotContains(t, rec.last.Calculators, j, "calculator %d is down but sent partials", j)
			}
			for _, x := range rec.last.Claimed {
				assert.Contains(t, c.liars, x, "honest calculator %d claimed", x)
			}
			// Proven by a combiner, or suspected when the partials that
			// arrived cannot tell it from two colluders.
			named := append(slices.Clone(rec.last.Claimed), rec.last.Suspects...)
			for _, j := range c.liars {
				assert.Contains(t, named, j, "liar %d neither claimed nor suspected (claimed: %v, suspects: %v)", j, rec.last.Claimed, rec.last.Suspects)
			}
		})
	}
}

// Fewer than t calculators: a clear error when the deadline passes, no panic.
func TestBroadcastFewerThanT(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048c)
	local, dl := memcluster.Deal(t, 4, 3, 1, dealt(key), &broadcast.LocalOptions{Down: []int{2, 3}})
	s := memcluster.Signer(t, dl, local.Distributor(), &x509sign.Options{Timeout: 300 * time.Millisecond})
	sig, err := s.SignMessage(nil, []byte("m"), crypto.SHA256)
	require.ErrorIs(t, err, broadcast.ErrNotEnoughCalculators)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Nil(t, sig)
}
