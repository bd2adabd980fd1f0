package natsbus

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
)

// TestRegressionSubscribeContextKind: Subscribe returned a
// broadcast.Subscription and SubscribeContext a *Subscription, two kinds of
// thing for one job. Both now return a broadcast.Subscription holding a
// *Subscription, and an untyped nil on error.
func TestRegressionSubscribeContextKind(t *testing.T) {
	srv := startServer(t, ServerOptions{Port: -1})
	b := dial(t, Options{URL: srv.URL()})
	ctx := testcluster.Timeout(t, 10*time.Second)

	var subscribe func(broadcast.Channel) (broadcast.Subscription, error) = b.Subscribe
	var subscribeContext func(context.Context, broadcast.Channel) (broadcast.Subscription, error) = b.SubscribeContext

	s, err := subscribe(broadcast.B1)
	require.NoError(t, err)
	defer s.Close()
	require.IsType(t, (*Subscription)(nil), s)
	sc, err := subscribeContext(ctx, broadcast.B2)
	require.NoError(t, err)
	defer sc.Close()
	require.IsType(t, (*Subscription)(nil), sc)

	bad, err := subscribeContext(ctx, broadcast.Channel(9))
	require.ErrorIs(t, err, broadcast.ErrChannel)
	require.True(t, bad == nil, "SubscribeContext returned a typed nil %T", bad)
}
