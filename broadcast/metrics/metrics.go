package metrics

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/share"
)

// Errors of [New].
var (
	// ErrRole: the role is not a distributor, calculator or combiner.
	ErrRole = errors.New("metrics: unknown role")
	// ErrRegisterer: New was given no Registerer.
	ErrRegisterer = errors.New("metrics: no Registerer")
)

// MaxKeyIDs bounds the key_id label's values when Options.KeyIDs is
// empty: the first MaxKeyIDs key ids seen get their own value, later ones
// share [OtherKey].
const MaxKeyIDs = 16

// OtherKey is the key_id label of events for a key id outside
// Options.KeyIDs, beyond MaxKeyIDs or invalid. No key id is empty
// (share.CheckKeyID), so it never stands for a real key.
const OtherKey = ""

// Options configure [New]. The zero value counts the events of up to
// MaxKeyIDs keys and exports no gauge.
type Options struct {
	// KeyIDs, when set, are the only key ids with a key_id label of their
	// own; events of any other key id count under OtherKey.
	KeyIDs []string
	// HeldBytes and HeldTasks, when set, are read at every scrape for
	// tolerant_held_bytes and tolerant_held_tasks: the bytes of task
	// packets and the tasks the node holds now (e.g. the sum over its keys
	// of broadcast.CalculatorStats.Bytes, or CombinerStats.Bytes and
	// CombinerStats.Held). They must be safe for concurrent use.
	HeldBytes func() int64
	HeldTasks func() int64
	// NATSHealthy, when set, is read at every scrape for
	// tolerant_nats_connected: 1 while it returns nil (e.g.
	// natsbus.Bus.Healthy), 0 otherwise.
	NATSHealthy func() error
	// NATSReconnects, when set, is read at every scrape for
	// tolerant_nats_reconnects_total (e.g. natsbus.Bus.Status().Reconnects).
	NATSReconnects func() uint64
}

// Metrics is a [broadcast.Observer] that counts a node's events as
// Prometheus metrics. It is safe for concurrent use; one Metrics may serve
// several nodes of its role (e.g. one per key: the key_id label tells them
// apart).
type Metrics struct {
	events       *prometheus.CounterVec
	refusals     *prometheus.CounterVec
	partials     *prometheus.CounterVec
	dropped      *prometheus.CounterVec
	signatures   *prometheus.CounterVec
	inconsistent *prometheus.CounterVec
	approval     *prometheus.HistogramVec
	exponent     *prometheus.HistogramVec
	combination  *prometheus.HistogramVec

	fixed bool // keys holds Options.KeyIDs: no other id is added
	mu    sync.Mutex
	keys  map[string]bool
}

// Buckets of the histograms, in seconds: an approval waits for an operator
// or a program (milliseconds to minutes); an exponentiation with a share
// of a 2048- to 4096-bit key takes about a millisecond to a few tens.
var (
	approvalBuckets = []float64{0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300}
	timeBuckets     = prometheus.ExponentialBuckets(0.00025, 2, 14) // 0.25 ms to 2 s
)

// New returns the metrics of a node of role, registered with reg under
// the constant label role ("distributor", "calculator" or "combiner").
// Register one Metrics per role in a registry, and pass it as the
// Observer of that role's nodes. opts may be nil.
func New(reg prometheus.Registerer, role share.Role, opts *Options) (*Metrics, error) {
	if reg == nil {
		return nil, ErrRegisterer
	}
	switch role {
	case share.RoleDistributor, share.RoleCalculator, share.RoleCombiner:
	default:
		return nil, fmt.Errorf("%w: %d", ErrRole, uint8(role))
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	m := &Metrics{keys: make(map[string]bool), fixed: len(o.KeyIDs) > 0}
	for _, id := range o.KeyIDs {
		if err := share.CheckKeyID(id); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		m.keys[id] = true
	}
	reg = prometheus.WrapRegistererWith(prometheus.Labels{"role": role.String()}, reg)
	cs := m.newCollectors()
	cs = append(cs, gauges(&o)...)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, nil
}

// newCollectors makes the counters and histograms fed by Observe.
func (m *Metrics) newCollectors() []prometheus.Collector {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, append([]string{"key_id"}, labels...))
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, append([]string{"key_id"}, labels...))
	}
	m.events = counter("tolerant_events_total", "Per-task events of the node, by kind and reason.", "event", "reason")
	m.refusals = counter("tolerant_refusals_total", "Tasks the node refused or its approval hook declined, by reason.", "reason")
	m.partials = counter("tolerant_partials_sent_total", "Partial results a calculator published.")
	m.dropped = counter("tolerant_partials_dropped_total", "Partial results a calculator did not compute because the task was already signed.")
	m.signatures = counter("tolerant_signatures_total", "Signatures a combiner produced or a distributor released.")
	m.inconsistent = counter("tolerant_inconsistent_calculators_total", "Calculators a combiner proved inconsistent, summed over tasks.")
	m.approval = histogram("tolerant_approval_wait_seconds", "Time the approval hook took to approve or decline.", approvalBuckets, "event")
	m.exponent = histogram("tolerant_exponentiation_seconds", "Time of a calculator's exponentiation for one partial result.", timeBuckets)
	m.combination = histogram("tolerant_combination_seconds", "Time of a combiner's combination of a signature.", timeBuckets)
	return []prometheus.Collector{m.events, m.refusals, m.partials, m.dropped, m.signatures,
		m.inconsistent, m.approval, m.exponent, m.combination}
}

// gauges makes the metrics read from o's functions at every scrape.
func gauges(o *Options) []prometheus.Collector {
	var cs []prometheus.Collector
	if f := o.HeldBytes; f != nil {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tolerant_held_bytes",
			Help: "Bytes of task packets the node holds now."}, func() float64 { return float64(f()) }))
	}
	if f := o.HeldTasks; f != nil {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tolerant_held_tasks",
			Help: "Tasks the node holds now."}, func() float64 { return float64(f()) }))
	}
	if f := o.NATSHealthy; f != nil {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tolerant_nats_connected",
			Help: "1 while the node's NATS connection is up, else 0."}, func() float64 {
			if f() == nil {
				return 1
			}
			return 0
		}))
	}
	if f := o.NATSReconnects; f != nil {
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tolerant_nats_reconnects_total",
			Help: "Reconnections of the node's NATS connection."}, func() float64 { return float64(f()) }))
	}
	return cs
}

// Observe counts e; it implements [broadcast.Observer].
func (m *Metrics) Observe(e *broadcast.Event) {
	if e == nil {
		return
	}
	key := m.keyLabel(e.KeyID)
	reason := Reason(e.Err)
	if e.Kind == broadcast.EventDeclined && e.Err == nil {
		reason = "declined"
	}
	m.events.WithLabelValues(key, e.Kind.String(), reason).Inc()
	switch e.Kind {
	case broadcast.EventRefused, broadcast.EventDeclined:
		m.refusals.WithLabelValues(key, reason).Inc()
	case broadcast.EventPartialSent:
		m.partials.WithLabelValues(key).Inc()
		observe(m.exponent.WithLabelValues(key), e.Duration)
	case broadcast.EventDropped:
		m.dropped.WithLabelValues(key).Inc()
	case broadcast.EventInconsistent:
		m.inconsistent.WithLabelValues(key).Add(float64(len(e.Calculators)))
	case broadcast.EventSigned:
		m.signatures.WithLabelValues(key).Inc()
		observe(m.combination.WithLabelValues(key), e.Duration)
	case broadcast.EventReleased:
		m.signatures.WithLabelValues(key).Inc()
	}
	if e.Kind == broadcast.EventApproved || e.Kind == broadcast.EventDeclined {
		observe(m.approval.WithLabelValues(key, e.Kind.String()), e.Wait)
	}
}

// observe records d in h when the event carries a duration.
func observe(h prometheus.Observer, d time.Duration) {
	if d > 0 {
		h.Observe(d.Seconds())
	}
}

// keyLabel returns the key_id label of id: id itself when it is one of
// Options.KeyIDs, or, without them, among the first MaxKeyIDs valid key
// ids seen; OtherKey otherwise.
func (m *Metrics) keyLabel(id string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys[id] {
		return id
	}
	if m.fixed || len(m.keys) >= MaxKeyIDs || share.CheckKeyID(id) != nil {
		return OtherKey
	}
	m.keys[id] = true
	return id
}

// NewRegistry returns a registry holding the Go runtime's and the
// process's standard collectors (go_*, process_*), for [New] and [Handler].
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// maxScrapes bounds the scrapes served at once; more are answered 503.
const maxScrapes = 4

// Handler returns the handler of /metrics: g's metrics in the Prometheus
// text exposition format (or OpenMetrics when the scraper asks for it).
// A metric that fails to gather is left out and the rest served.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: maxScrapes,
		Timeout:             10 * time.Second,
		EnableOpenMetrics:   true,
	})
}
