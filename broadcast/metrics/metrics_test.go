package metrics

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/policy"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newMetrics(t *testing.T, role share.Role, opts *Options) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := New(reg, role, opts)
	require.NoError(t, err)
	return m, reg
}

func ev(kind broadcast.EventKind, key string) *broadcast.Event {
	return &broadcast.Event{Kind: kind, Time: time.Now(), KeyID: key, Epoch: 1, Distributor: 1, Task: 7}
}

func TestObserveCalculator(t *testing.T) {
	m, reg := newMetrics(t, share.RoleCalculator, nil)
	seen := ev(broadcast.EventTaskSeen, "ca-1")
	m.Observe(seen)
	m.Observe(ev(broadcast.EventAccepted, "ca-1"))
	approved := ev(broadcast.EventApproved, "ca-1")
	approved.Wait = 20 * time.Millisecond
	m.Observe(approved)
	for range 3 {
		p := ev(broadcast.EventPartialSent, "ca-1")
		p.Duration = 3 * time.Millisecond
		m.Observe(p)
	}
	m.Observe(ev(broadcast.EventDropped, "ca-1"))
	busy := ev(broadcast.EventRefused, "ca-1")
	busy.Err = fmt.Errorf("calculator 3: %w", broadcast.ErrBusy)
	m.Observe(busy)
	declined := ev(broadcast.EventDeclined, "ca-1")
	declined.Wait = 2 * time.Second
	m.Observe(declined)
	timeout := ev(broadcast.EventDeclined, "ca-2")
	timeout.Err, timeout.Wait = broadcast.ErrApprovalTimeout, time.Minute
	m.Observe(timeout)
	m.Observe(nil)

	require.Equal(t, 3.0, testutil.ToFloat64(m.partials.WithLabelValues("ca-1")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.dropped.WithLabelValues("ca-1")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.refusals.WithLabelValues("ca-1", "busy")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.refusals.WithLabelValues("ca-1", "declined")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.refusals.WithLabelValues("ca-2", "approval_timeout")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.events.WithLabelValues("ca-1", "task_seen", "none")))
	require.Equal(t, 3.0, testutil.ToFloat64(m.events.WithLabelValues("ca-1", "partial_sent", "none")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.events.WithLabelValues("ca-1", "refused", "busy")))
	require.Equal(t, 3, testutil.CollectAndCount(m.approval), "approval series: ca-1 approved, ca-1 declined, ca-2 declined")

	want := `
# HELP tolerant_exponentiation_seconds Time of a calculator's exponentiation for one partial result.
# TYPE tolerant_exponentiation_seconds histogram
` + histogram("tolerant_exponentiation_seconds", `key_id="ca-1",role="calculator"`, timeBuckets, 0.003, 0.003, 0.003)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "tolerant_exponentiation_seconds"))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
}

// histogram writes the text exposition of a histogram of the values vs.
func histogram(name, labels string, buckets []float64, vs ...float64) string {
	var b strings.Builder
	sum := 0.0
	for _, v := range vs {
		sum += v
	}
	for _, le := range buckets {
		n := 0
		for _, v := range vs {
			if v <= le {
				n++
			}
		}
		fmt.Fprintf(&b, "%s_bucket{%s,le=\"%g\"} %d\n", name, labels, le, n)
	}
	fmt.Fprintf(&b, "%s_bucket{%s,le=\"+Inf\"} %d\n", name, labels, len(vs))
	fmt.Fprintf(&b, "%s_sum{%s} %g\n", name, labels, sum)
	fmt.Fprintf(&b, "%s_count{%s} %d\n", name, labels, len(vs))
	return b.String()
}

func TestObserveCombinerAndDistributor(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	comb, err := New(reg, share.RoleCombiner, nil)
	require.NoError(t, err)
	dist, err := New(reg, share.RoleDistributor, nil)
	require.NoError(t, err, "two roles share a registry")

	bad := ev(broadcast.EventInconsistent, "ca-1")
	bad.Calculators = []int{2, 5}
	comb.Observe(bad)
	comb.Observe(bad)
	signed := ev(broadcast.EventSigned, "ca-1")
	signed.Duration, signed.Signature = 4*time.Millisecond, []byte{1, 2, 3}
	comb.Observe(signed)
	comb.Observe(ev(broadcast.EventMatched, "ca-1"))

	dist.Observe(ev(broadcast.EventSubmitted, "ca-1"))
	verified := ev(broadcast.EventVerified, "ca-1")
	dist.Observe(verified)
	verified.Err = fmt.Errorf("result of combiner 2: %w", errors.New("crypto/rsa: verification error"))
	dist.Observe(verified)
	dist.Observe(ev(broadcast.EventReleased, "ca-1"))
	failed := ev(broadcast.EventFailed, "ca-1")
	failed.Err = errors.Join(broadcast.ErrRefused, &policy.Refusal{Rule: policy.RuleCA})
	dist.Observe(failed)
	failed.Err = errors.Join(broadcast.ErrDeadline, broadcast.ErrNotEnoughCalculators, context.DeadlineExceeded)
	dist.Observe(failed)

	require.Equal(t, 4.0, testutil.ToFloat64(comb.inconsistent.WithLabelValues("ca-1")))
	require.Equal(t, 1.0, testutil.ToFloat64(comb.signatures.WithLabelValues("ca-1")))
	require.Equal(t, 1.0, testutil.ToFloat64(comb.events.WithLabelValues("ca-1", "matched", "none")))
	require.Equal(t, 1.0, testutil.ToFloat64(dist.signatures.WithLabelValues("ca-1")))
	require.Equal(t, 1.0, testutil.ToFloat64(dist.events.WithLabelValues("ca-1", "verified", "none")))
	require.Equal(t, 1.0, testutil.ToFloat64(dist.events.WithLabelValues("ca-1", "verified", "other")))
	require.Equal(t, 1.0, testutil.ToFloat64(dist.events.WithLabelValues("ca-1", "failed", "refused")))
	require.Equal(t, 1.0, testutil.ToFloat64(dist.events.WithLabelValues("ca-1", "failed", "not_enough_calculators")))

	want := `
# HELP tolerant_signatures_total Signatures a combiner produced or a distributor released.
# TYPE tolerant_signatures_total counter
tolerant_signatures_total{key_id="ca-1",role="combiner"} 1
tolerant_signatures_total{key_id="ca-1",role="distributor"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "tolerant_signatures_total"))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
}

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "none"},
		{broadcast.ErrBusy, "busy"},
		{fmt.Errorf("x: %w", broadcast.ErrOverBound), "over_bound"},
		{broadcast.ErrTaskTime, "task_time"},
		{broadcast.ErrApprovalTimeout, "approval_timeout"},
		{broadcast.ErrWrongEpoch, "wrong_epoch"},
		{broadcast.ErrTaskConflict, "conflict"},
		{broadcast.ErrPolicy, "policy"},
		{&policy.Refusal{Rule: policy.RuleRate}, "policy"},
		{fmt.Errorf("calculator 2: %w", &policy.Refusal{Rule: "evil\nrule"}), "policy"},
		{share.ErrContentMismatch, "content_mismatch"},
		{share.ErrDeclined, "declined"},
		{share.ErrWrongKey, "wrong_key"},
		{errors.Join(broadcast.ErrRefused, share.ErrContentMismatch), "refused"},
		{errors.Join(broadcast.ErrDeadline, broadcast.ErrNoCombiner, context.DeadlineExceeded), "no_combiner"},
		{errors.Join(broadcast.ErrDeadline, context.Canceled), "deadline"},
		{context.Canceled, "canceled"},
		{fmt.Errorf("combiner 2: %w", rsa.ErrVerification), "verification"},
		{errors.New(`attacker's "free" text`), "other"},
	} {
		require.Equal(t, tc.want, Reason(tc.err), "Reason(%v)", tc.err)
	}
}

func TestKeyIDsBounded(t *testing.T) {
	m, _ := newMetrics(t, share.RoleCalculator, nil)
	for n := range 3 * MaxKeyIDs {
		m.Observe(ev(broadcast.EventTaskSeen, fmt.Sprintf("key-%d", n)))
	}
	m.Observe(ev(broadcast.EventTaskSeen, "not a key id"))
	m.Observe(ev(broadcast.EventTaskSeen, ""))
	require.Equal(t, MaxKeyIDs+1, testutil.CollectAndCount(m.events), "MaxKeyIDs ids and OtherKey")
	require.Equal(t, 2.0*MaxKeyIDs+2, testutil.ToFloat64(m.events.WithLabelValues(OtherKey, "task_seen", "none")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.events.WithLabelValues("key-0", "task_seen", "none")))

	fixed, _ := newMetrics(t, share.RoleCombiner, &Options{KeyIDs: []string{"a", "b"}})
	for _, id := range []string{"a", "b", "c", "d"} {
		fixed.Observe(ev(broadcast.EventSigned, id))
	}
	require.Equal(t, 3, testutil.CollectAndCount(fixed.signatures))
	require.Equal(t, 2.0, testutil.ToFloat64(fixed.signatures.WithLabelValues(OtherKey)))
}

func TestNewErrors(t *testing.T) {
	_, err := New(nil, share.RoleCalculator, nil)
	require.ErrorIs(t, err, ErrRegisterer)
	_, err = New(prometheus.NewRegistry(), share.Role(9), nil)
	require.ErrorIs(t, err, ErrRole)
	_, err = New(prometheus.NewRegistry(), share.RoleCombiner, &Options{KeyIDs: []string{"a b"}})
	require.ErrorIs(t, err, share.ErrKeyID)

	reg := prometheus.NewRegistry()
	_, err = New(reg, share.RoleCalculator, nil)
	require.NoError(t, err)
	_, err = New(reg, share.RoleCalculator, nil)
	var are prometheus.AlreadyRegisteredError
	require.ErrorAs(t, err, &are, "one Metrics per role and registry")
}

func TestGauges(t *testing.T) {
	var healthy error
	reconnects := uint64(0)
	_, reg := newMetrics(t, share.RoleCombiner, &Options{
		HeldBytes:      func() int64 { return 4096 },
		HeldTasks:      func() int64 { return 3 },
		NATSHealthy:    func() error { return healthy },
		NATSReconnects: func() uint64 { return reconnects },
	})
	want := func(connected, reconnects int) string {
		return fmt.Sprintf(`
# HELP tolerant_held_bytes Bytes of task packets the node holds now.
# TYPE tolerant_held_bytes gauge
tolerant_held_bytes{role="combiner"} 4096
# HELP tolerant_held_tasks Tasks the node holds now.
# TYPE tolerant_held_tasks gauge
tolerant_held_tasks{role="combiner"} 3
# HELP tolerant_nats_connected 1 while the node's NATS connection is up, else 0.
# TYPE tolerant_nats_connected gauge
tolerant_nats_connected{role="combiner"} %d
# HELP tolerant_nats_reconnects_total Reconnections of the node's NATS connection.
# TYPE tolerant_nats_reconnects_total counter
tolerant_nats_reconnects_total{role="combiner"} %d
`, connected, reconnects)
	}
	names := []string{"tolerant_held_bytes", "tolerant_held_tasks", "tolerant_nats_connected", "tolerant_nats_reconnects_total"}
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want(1, 0)), names...))
	healthy, reconnects = errors.New("natsbus: not connected"), 2
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want(0, 2)), names...))
}

func TestObserveConcurrent(t *testing.T) {
	m, _ := newMetrics(t, share.RoleCalculator, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 200 {
				e := ev(broadcast.EventPartialSent, fmt.Sprintf("key-%d", (g+n)%4))
				e.Duration = time.Millisecond
				m.Observe(e)
			}
		})
	}
	wg.Wait()
	total := 0.0
	for k := range 4 {
		total += testutil.ToFloat64(m.partials.WithLabelValues(fmt.Sprintf("key-%d", k)))
	}
	require.Equal(t, 8*200.0, total)
}
