package policy_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/policy"
)

// TestPolicyInCluster: calculators and combiners with a policy sign a
// certificate it allows, and refuse anything else with the rule's name,
// which the distributor reports.
func TestPolicyInCluster(t *testing.T) {
	d := testcluster.Deal(t, 3, 2, 1, &testcluster.Options{Key: caKey, Seed: 9, Search: true})
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
	require.ErrorIs(t, err, broadcast.ErrRefused)
	require.ErrorIs(t, err, broadcast.ErrPolicy)
	require.ErrorContains(t, err, `"kind"`)
}

// TestFloodingDistributorRateLimited: a roster distributor that sends
// valid tasks as fast as it can is held to its rate by the policy, whose
// refusals cost no exponentiation, and the honest distributor still signs.
func TestFloodingDistributorRateLimited(t *testing.T) {
	d := testcluster.Deal(t, 3, 2, 1, &testcluster.Options{Key: caKey, Seed: 10, Search: true, Share: &share.Options{Distributors: 2}})
	p := &policy.Policy{Kinds: []string{policy.KindCertificate}, RatePerMinute: 20}
	f, err := p.Approver(nil)
	require.NoError(t, err)
	l, err := broadcast.StartLocal(context.Background(), d, &broadcast.LocalOptions{Approve: f, CombinerApprove: f})
	require.NoError(t, err)
	defer l.Close()
	flooder, err := broadcast.NewDistributor(l.Memory().Endpoint("distributor-2"), d.Distributors[1], nil)
	require.NoError(t, err)
	defer flooder.Close()

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var refused atomic.Int64
	tbs := tbsCert(t, "flood.example.com", 30, false, x509.KeyUsageDigitalSignature)
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				req := request(tbs)
				req.KeyID = ""
				if _, err := flooder.Sign(ctx, req); errors.Is(err, broadcast.ErrPolicy) {
					refused.Add(1)
				}
			}
		})
	}
	for range 4 {
		good := request(tbsCert(t, "www.example.com", 90, false, x509.KeyUsageDigitalSignature))
		good.KeyID = ""
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := l.Distributor().Sign(sctx, good)
		cancel()
		require.NoError(t, err)
	}
	stop()
	wg.Wait()
	require.Positive(t, refused.Load(), "the flood is refused by the rate rule")
	require.LessOrEqual(t, l.Distributor().Stats().Signed, uint64(4))
	t.Logf("flooder: %d tasks, %d signed, %d refused by the rate", flooder.Stats().Tasks, flooder.Stats().Signed, refused.Load())
}
