package metrics

import (
	"context"
	"crypto"
	"crypto/sha256"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
)

// recorder counts the events a role's nodes emit, next to the metrics.
type recorder struct {
	mu    sync.Mutex
	kinds map[broadcast.EventKind]int
}

func (r *recorder) Observe(e *broadcast.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kinds[e.Kind]++
}

func (r *recorder) count(k broadcast.EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.kinds[k]
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.kinds {
		n += c
	}
	return n
}

// series returns the value of a counter of gathered metrics, 0 when absent.
func series(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// TestLocalCluster runs a (3,2,1) cluster whose nodes observe into one
// registry, signs three requests and has a fourth declined, then checks
// the counters against the events the nodes emitted and, for each role
// that emits events, against the nodes' own statistics.
func TestLocalCluster(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	plan, _, err := grouping.Search(3, 2, 1, nil)
	require.NoError(t, err)
	dealer, err := share.NewDealer(rand.NewChaCha8([32]byte{3, 2, 1}), key, 3, 2, 1, nil)
	require.NoError(t, err)
	d, err := dealer.Deal(plan)
	require.NoError(t, err)
	keyID := d.Calculators[0].KeyID

	reg := NewRegistry()
	var l *broadcast.Local
	roles := []share.Role{share.RoleDistributor, share.RoleCalculator, share.RoleCombiner}
	recs := make(map[share.Role]*recorder)
	obs := make(map[share.Role]broadcast.Observer)
	for _, role := range roles {
		var opts Options
		switch role {
		case share.RoleCalculator:
			opts.HeldBytes = func() int64 {
				n := int64(0)
				for j := 1; j <= 3; j++ {
					n += l.Calculator(j).Stats().Bytes
				}
				return n
			}
		case share.RoleCombiner:
			opts.HeldTasks = func() int64 {
				n := int64(0)
				for _, c := range d.Combiners {
					n += int64(l.Combiner(c.Number).Stats().Held)
				}
				return n
			}
		}
		m, err := New(reg, role, &opts)
		require.NoError(t, err)
		recs[role] = &recorder{kinds: make(map[broadcast.EventKind]int)}
		obs[role] = broadcast.Observers(m, recs[role])
	}
	l, err = broadcast.StartLocal(context.Background(), d, &broadcast.LocalOptions{
		Approve: func(_ context.Context, req *share.Request) error {
			if string(req.Content) == "decline me" {
				return share.ErrDeclined
			}
			return nil
		},
		Distributor: &broadcast.DistributorOptions{Observer: obs[share.RoleDistributor]},
		Calculator:  &broadcast.CalculatorOptions{Observer: obs[share.RoleCalculator]},
		Combiner:    &broadcast.CombinerOptions{Observer: obs[share.RoleCombiner]},
	})
	require.NoError(t, err)
	defer l.Close()

	for _, msg := range []string{"one", "two", "three", "decline me"} {
		sum := sha256.Sum256([]byte(msg))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := l.Distributor().Sign(ctx, &share.Request{Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: []byte(msg)})
		cancel()
		if msg == "decline me" {
			require.Error(t, err)
		} else {
			require.NoError(t, err)
		}
	}
	require.Equal(t, uint64(3), l.Distributor().Stats().Signed)

	// Whatever the nodes emit, the counters agree with it.
	for _, role := range roles {
		for kind := broadcast.EventTaskSeen; kind <= broadcast.EventFailed; kind++ {
			got := series(t, reg, "tolerant_events_total", map[string]string{"role": role.String(), "key_id": keyID, "event": kind.String()})
			require.Equal(t, float64(recs[role].count(kind)), got, "%s %s", role, kind)
		}
		if recs[role].total() == 0 {
			t.Logf("%s nodes emitted no event yet: only the agreement with the events is checked", role)
		}
	}
	// Where the nodes emit events, the counters agree with the nodes' statistics.
	lbl := func(role share.Role) map[string]string {
		return map[string]string{"role": role.String(), "key_id": keyID}
	}
	if recs[share.RoleDistributor].total() > 0 {
		require.Equal(t, 3.0, series(t, reg, "tolerant_signatures_total", lbl(share.RoleDistributor)))
		require.Equal(t, 4, recs[share.RoleDistributor].count(broadcast.EventSubmitted))
		require.Equal(t, 1, recs[share.RoleDistributor].count(broadcast.EventFailed))
	}
	if recs[share.RoleCalculator].total() > 0 {
		partials := 0.0
		for j := 1; j <= 3; j++ {
			partials += float64(l.Calculator(j).Stats().Partials)
		}
		require.Equal(t, partials, series(t, reg, "tolerant_partials_sent_total", lbl(share.RoleCalculator)))
		require.Positive(t, series(t, reg, "tolerant_refusals_total", map[string]string{"role": "calculator", "reason": "declined"}))
	}
	if recs[share.RoleCombiner].total() > 0 {
		signed := 0.0
		for _, c := range d.Combiners {
			signed += float64(l.Combiner(c.Number).Stats().Signed)
		}
		require.Equal(t, signed, series(t, reg, "tolerant_signatures_total", lbl(share.RoleCombiner)))
	}

	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
	body := scrape(t, Handler(reg))
	require.Contains(t, string(body), `tolerant_held_bytes{role="calculator"}`)
	require.Contains(t, string(body), `tolerant_held_tasks{role="combiner"}`)
	t.Run("promtool", func(t *testing.T) { checkMetrics(t, body) })
}
