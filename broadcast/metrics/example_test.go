package metrics_test

import (
	"net/http"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/metrics"
	"github.com/tolerantca/tolerant/share"
)

// A calculator node counted by its metrics, served at /metrics next to
// the node's health check.
func ExampleNew() {
	var bus broadcast.Broadcaster // e.g. a *natsbus.Bus
	var key *share.CalculatorKey  // the calculator's key material
	var node *broadcast.CalculatorNode

	reg := metrics.NewRegistry()
	m, err := metrics.New(reg, share.RoleCalculator, &metrics.Options{
		HeldBytes: func() int64 { return node.Stats().Bytes },
	})
	if err != nil {
		panic(err)
	}
	node, err = broadcast.NewCalculatorNode(bus, key, &broadcast.CalculatorOptions{Observer: m})
	if err != nil {
		panic(err)
	}
	http.Handle("/metrics", metrics.Handler(reg))
}
