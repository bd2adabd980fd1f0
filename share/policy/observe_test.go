package policy_test

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/testcluster/memcluster"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/policy"
)

// TestPolicyNamesRuleAndApprover: in a node's events the policy names the
// kind of content as the rule that accepted a request and "operator" as
// the approver when the operator confirms; a rule's refusal is a refusal,
// the operator's no a decline.
func TestPolicyNamesRuleAndApprover(t *testing.T) {
	d := testcluster.Deal(t, 3, 2, 1, &testcluster.Options{Key: caKey, Seed: 11, Search: true})
	p := &policy.Policy{Kinds: []string{policy.KindCertificate}}
	f, err := p.Approver(func(_ context.Context, s *policy.Summary) error {
		if strings.HasPrefix(s.Subject, "CN=no.") {
			return errors.New("no")
		}
		return nil
	})
	require.NoError(t, err)
	rec := &memcluster.Recorder{}
	l, err := broadcast.StartLocal(context.Background(), d, &broadcast.LocalOptions{
		Approve: f,
		Observer: func(role share.Role, _ int) broadcast.Observer {
			if role != share.RoleCalculator {
				return nil
			}
			return rec
		},
	})
	require.NoError(t, err)
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	good := request(tbsCert(t, "www.example.com", 90, false, x509.KeyUsageDigitalSignature))
	good.KeyID = ""
	out, err := l.Distributor().SignDetailed(ctx, good)
	require.NoError(t, err)
	no := request(tbsCert(t, "no.example.com", 90, false, x509.KeyUsageDigitalSignature))
	no.KeyID = ""
	_, err = l.Distributor().Sign(ctx, no)
	var declined *broadcast.SignError
	require.ErrorAs(t, err, &declined)
	bad := request([]byte("not a certificate"))
	bad.KeyID = ""
	_, err = l.Distributor().Sign(ctx, bad)
	var refused *broadcast.SignError
	require.ErrorAs(t, err, &refused)
	l.Close()

	acc := rec.Of(broadcast.EventAccepted, out.Task)
	require.NotEmpty(t, acc)
	for _, e := range acc {
		require.Equal(t, policy.KindCertificate, e.Rule)
	}
	for _, e := range rec.Of(broadcast.EventApproved, out.Task) {
		require.Equal(t, policy.RuleConfirm, e.Approver)
	}
	dec := rec.Of(broadcast.EventDeclined, declined.Task)
	require.NotEmpty(t, dec)
	for _, e := range dec {
		require.Equal(t, policy.RuleConfirm, e.Rule)
		require.Equal(t, policy.RuleConfirm, e.Approver)
		require.ErrorIs(t, e.Err, broadcast.ErrPolicy)
	}
	ref := rec.Of(broadcast.EventRefused, refused.Task)
	require.NotEmpty(t, ref)
	for _, e := range ref {
		require.Equal(t, policy.RuleKind, e.Rule)
	}
	require.Empty(t, rec.Of(broadcast.EventDeclined, refused.Task), "a rule's refusal asks no operator")
}
