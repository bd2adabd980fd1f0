package main

import (
	"errors"
	"net/http"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/metrics"
	"github.com/tolerantca/tolerant/broadcast/node"
	"github.com/tolerantca/tolerant/share"
)

// nodeMetrics returns the Prometheus metrics of the host's nodes of role,
// whose key ids are keyIDs, and the /metrics handler that serves them.
// The gauges sum over the host's nodes at every scrape.
func nodeMetrics(role share.Role, keyIDs []string, host *node.Host) (*metrics.Metrics, http.Handler, error) {
	reg := metrics.NewRegistry()
	m, err := metrics.New(reg, role, &metrics.Options{
		KeyIDs:      keyIDs,
		HeldBytes:   func() int64 { b, _ := held(host); return b },
		HeldTasks:   func() int64 { _, t := held(host); return t },
		NATSHealthy: func() error { return healthy(host) },
	})
	if err != nil {
		return nil, nil, err
	}
	return m, metrics.Handler(reg), nil
}

// held sums the bytes and tasks the host's nodes hold now. Calculators
// count no held tasks: their queue is bounded by bytes.
func held(host *node.Host) (bytes, tasks int64) {
	for _, n := range host.Nodes() {
		switch s := n.Stats().(type) {
		case broadcast.CalculatorStats:
			bytes += s.Bytes
		case broadcast.CombinerStats:
			bytes += s.Bytes
			tasks += int64(s.Held)
		}
	}
	return bytes, tasks
}

// healthy is nil while every node of the host runs and is connected.
func healthy(host *node.Host) error {
	var errs []error
	for _, n := range host.Nodes() {
		errs = append(errs, n.Healthy())
	}
	return errors.Join(errs...)
}
