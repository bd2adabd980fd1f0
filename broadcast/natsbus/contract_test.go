package natsbus

import (
	"testing"

	"github.com/tolerantca/tolerant/broadcast/transport"
	"github.com/tolerantca/tolerant/broadcast/transport/transporttest"
)

// TestContract: two Buses on one server keep package transport's
// contract.
func TestContract(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	transporttest.Run(t, func(t *testing.T) (a, b transport.Broadcaster) {
		return dial(t, Options{URL: srv.URL(), Name: "a"}), dial(t, Options{URL: srv.URL(), Name: "b"})
	})
}
