package memory_test

import (
	"testing"

	"github.com/tolerantca/tolerant/broadcast/memory"
	"github.com/tolerantca/tolerant/broadcast/transport"
	"github.com/tolerantca/tolerant/broadcast/transport/transporttest"
)

// TestContract: a Bus and one of its endpoints keep package transport's
// contract.
func TestContract(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) (a, b transport.Broadcaster) {
		m := memory.New(nil)
		t.Cleanup(func() { m.Close() })
		return m, m.Endpoint("b")
	})
}
