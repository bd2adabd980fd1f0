package policy_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/policy"
)

// TestPolicyInCluster: calculators and combiners with a policy sign a
// certificate it allows, and refuse anything else with the rule's name,
// which the distributor reports.
func TestPolicyInCluster(t *testing.T) {
	plan, _, err := grouping.Search(3, 2, 1, &grouping.Options{Redundancy: 1})
	require.NoError(t, err)
	dl, err := share.NewDealer(mrand.NewChaCha8([32]byte{9}), caKey, 3, 2, 1, nil)
	require.NoError(t, err)
	d, err := dl.Deal(plan)
	require.NoError(t, err)
	p, err := policy.Parse([]byte(`{"kinds": ["certificate"], "sans": ["*.example.com", "192.0.2.1"]}`))
	require.NoError(t, err)
	f, err := p.Approver(nil)
	require.NoError(t, err)
	l, err := broadcast.StartLocal(context.Background(), d, &broadcast.LocalOptions{Approve: f, CombinerApprove: f})
	require.NoError(t, err)
	defer l.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	good := request(tbsCert(t, "www.example.com", 90, false, x509.KeyUsageDigitalSignature))
	good.KeyID = ""
	sig, err := l.Distributor().Sign(ctx, good)
	require.NoError(t, err)
	require.NoError(t, rsa.VerifyPKCS1v15(&caKey.PublicKey, good.Hash, good.Digest, sig))

	bad := request([]byte("any digest at all"))
	bad.KeyID = ""
	_, err = l.Distributor().Sign(ctx, bad)
	require.True(t, errors.Is(err, broadcast.ErrRefused) && errors.Is(err, broadcast.ErrPolicy), "got %v", err)
	require.ErrorContains(t, err, `"kind"`)
}
