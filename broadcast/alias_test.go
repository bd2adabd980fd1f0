package broadcast_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/memory"
	"github.com/tolerantca/tolerant/broadcast/transport"
)

// TestTransportNamesAreTheSame: package broadcast's transport names are
// package transport's and package memory's, not copies: a sentinel
// matches under either name, and a transport error from one package is
// the other's.
func TestTransportNamesAreTheSame(t *testing.T) {
	require.ErrorIs(t, fmt.Errorf("wrapped: %w", transport.ErrClosed), broadcast.ErrClosed)
	require.ErrorIs(t, fmt.Errorf("wrapped: %w", broadcast.ErrClosed), transport.ErrClosed)
	require.ErrorIs(t, fmt.Errorf("wrapped: %w", transport.ErrChannel), broadcast.ErrChannel)
	require.ErrorIs(t, fmt.Errorf("wrapped: %w", broadcast.ErrChannel), transport.ErrChannel)
	require.Equal(t, []transport.Channel{transport.B1, transport.B2, transport.B3},
		[]broadcast.Channel{broadcast.B1, broadcast.B2, broadcast.B3})

	var m *memory.Bus = broadcast.NewMemory(&memory.Options{Buffer: 1})
	var b broadcast.Broadcaster = m.Endpoint("a")
	var _ transport.Broadcaster = b
	require.ErrorIs(t, b.Publish(context.Background(), 9, nil), broadcast.ErrChannel)
	require.NoError(t, m.Close())
	_, err := b.Subscribe(transport.B1)
	require.ErrorIs(t, err, broadcast.ErrClosed)
}
