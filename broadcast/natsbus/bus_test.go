package natsbus

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
)

var _ broadcast.Broadcaster = (*Bus)(nil)
var _ broadcast.Subscription = (*Subscription)(nil)

func recv(t *testing.T, s broadcast.Subscription) string {
	t.Helper()
	select {
	case m, ok := <-s.C():
		require.True(t, ok, "subscription closed, want a message")
		return string(m)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "no message in 5 s, want one")
	}
	return ""
}

func subscribe(t *testing.T, b *Bus, ch broadcast.Channel) broadcast.Subscription {
	t.Helper()
	s, err := b.Subscribe(ch)
	require.NoError(t, err)
	return s
}

// Every subscriber of a channel gets every message, its own included;
// channels and clusters are separate ([0061]).
func TestPubSub(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	ctx := testcluster.Timeout(t, 10*time.Second)
	a := dial(t, Options{URL: srv.URL(), Name: "a"})
	b := dial(t, Options{URL: srv.URL(), Name: "b"})
	other := dial(t, Options{URL: srv.URL(), Name: "other", Cluster: "other"})

	a1, b1, b1bis := subscribe(t, a, broadcast.B1), subscribe(t, b, broadcast.B1), subscribe(t, b, broadcast.B1)
	b2 := subscribe(t, b, broadcast.B2)
	o1 := subscribe(t, other, broadcast.B1)

	const n = 50
	for i := range n {
		require.NoError(t, a.Publish(ctx, broadcast.B1, fmt.Appendf(nil, "m%d", i)))
	}
	require.NoError(t, a.Flush(ctx))
	for _, s := range []broadcast.Subscription{a1, b1, b1bis} {
		for i := range n { // one publisher: NATS keeps its order
			require.Equal(t, fmt.Sprintf("m%d", i), recv(t, s))
		}
	}
	// Nothing of B1 reached B2 or the other cluster: the first message
	// there is the one published there afterwards.
	require.NoError(t, b.Publish(ctx, broadcast.B2, []byte("b2")))
	require.Equal(t, "b2", recv(t, b2), "B2 received")
	require.NoError(t, other.Publish(ctx, broadcast.B1, []byte("other")))
	require.Equal(t, "other", recv(t, o1), "the other cluster received")
	require.NoError(t, other.Flush(ctx))
	require.NoError(t, a.Publish(ctx, broadcast.B1, []byte("mine")))
	require.Equal(t, "mine", recv(t, a1), "cluster tolerant received")
	require.Equal(t, "mine", recv(t, b1), "cluster tolerant received")
	require.Equal(t, "mine", recv(t, b1bis), "cluster tolerant received")

	// A closed subscription stops; the others go on.
	b1bis.Close()
	b1bis.Close()
	_, ok := <-b1bis.C()
	require.False(t, ok, "closed subscription delivered")
	require.NoError(t, a.Publish(ctx, broadcast.B1, []byte("after")))
	require.Equal(t, "after", recv(t, b1))
	st := b.Status()
	assert.True(t, st.Connected, "connected, status %+v", st)
	assert.Equal(t, "CONNECTED", st.State, "state, status %+v", st)
	assert.Equal(t, 2, st.Subscriptions, "subscriptions, status %+v", st)
	assert.GreaterOrEqual(t, st.Delivered, uint64(2*n), "delivered, status %+v", st)
	assert.Zero(t, st.Dropped, "dropped, status %+v", st)
	assert.Equal(t, "b", st.Name, "name, status %+v", st)
	require.NoError(t, b.Healthy())
}

// Subscribing in both orders of a race with a publisher: once Subscribe
// returns, every later message arrives.
func TestSubscribeIsRegistered(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	ctx := testcluster.Timeout(t, 10*time.Second)
	pub := dial(t, Options{URL: srv.URL()})
	for i := range 20 {
		sub := dial(t, Options{URL: srv.URL()})
		s := subscribe(t, sub, broadcast.B3)
		require.NoError(t, pub.Publish(ctx, broadcast.B3, fmt.Appendf(nil, "x%d", i)))
		require.Equal(t, fmt.Sprintf("x%d", i), recv(t, s))
		sub.Close()
	}
}

func TestQueueOverflow(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	ctx := testcluster.Timeout(t, 10*time.Second)
	b := dial(t, Options{URL: srv.URL(), QueueSize: 4})
	s := subscribe(t, b, broadcast.B2)
	const n = 64
	for range n {
		require.NoError(t, b.Publish(ctx, broadcast.B2, []byte("x")))
	}
	waitFor(t, 5*time.Second, "all messages handled", func() bool {
		st := b.Status()
		return st.Delivered+st.Dropped == n
	})
	st := b.Status()
	assert.Equal(t, uint64(4), st.Delivered, "delivered, status %+v", st)
	assert.Equal(t, uint64(n-4), st.Dropped, "dropped, status %+v", st)
	assert.Equal(t, uint64(n-4), s.(*Subscription).Dropped(), "dropped by the subscription")
	assert.Len(t, s.C(), 4, "queue")
}

func TestBadInput(t *testing.T) {
	for _, c := range []string{"", "a.b", "a b", "*", ">", "é", strings.Repeat("x", 65), "a\n"} {
		assert.ErrorIs(t, ValidateCluster(c), ErrOptions, "ValidateCluster(%q)", c)
		if c == "" {
			continue
		}
		_, err := Dial(context.Background(), Options{Cluster: c})
		assert.ErrorIs(t, err, ErrOptions, "Dial with cluster %q", c)
	}
	for ch, w := range map[broadcast.Channel]string{broadcast.B1: "tolerant.ca-1.b1", broadcast.B2: "tolerant.ca-1.b2", broadcast.B3: "tolerant.ca-1.b3"} {
		s, err := Subject("ca-1", ch)
		assert.NoError(t, err, "Subject(ca-1, %v)", ch)
		assert.Equal(t, w, s, "Subject(ca-1, %v)", ch)
	}
	_, err := Subject("", broadcast.B1)
	assert.ErrorIs(t, err, ErrOptions, "Subject without a cluster")
	_, err = Dial(context.Background(), Options{})
	assert.ErrorIs(t, err, ErrOptions, "Dial without a cluster")
	_, err = Subject("x", 4)
	assert.ErrorIs(t, err, broadcast.ErrChannel, "Subject(x, 4)")

	dir := t.TempDir()
	for name, o := range map[string]Options{
		"two credentials":   {User: "u", Password: "p", Token: "t"},
		"missing creds":     {CredsFile: filepath.Join(dir, "none.creds")},
		"missing seed":      {NKeySeedFile: filepath.Join(dir, "none.nk")},
		"cert without key":  {ClientCert: "c.pem"},
		"missing root CAs":  {RootCAs: []string{filepath.Join(dir, "none.pem")}},
		"bad seed contents": {NKeySeedFile: writeFile(t, dir, "bad.nk", "not a seed")},
	} {
		o.Cluster = testCluster
		_, err := Dial(context.Background(), o)
		assert.ErrorIs(t, err, ErrOptions, name)
	}

	srv := startServer(t, ServerOptions{})
	ctx := testcluster.Timeout(t, 10*time.Second)
	b := dial(t, Options{URL: srv.URL()})
	assert.ErrorIs(t, b.Publish(ctx, 0, nil), broadcast.ErrChannel, "Publish on channel 0")
	_, err = b.Subscribe(7)
	assert.ErrorIs(t, err, broadcast.ErrChannel, "Subscribe to channel 7")
	done, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, b.Publish(done, broadcast.B1, nil), context.Canceled, "Publish with a cancelled context")
	assert.ErrorIs(t, b.Publish(ctx, broadcast.B1, make([]byte, 2<<20)), ErrTooLarge, "Publish 2 MiB")
	var nilCtx context.Context // must not panic
	assert.NoError(t, b.Publish(nilCtx, broadcast.B1, nil), "Publish with a nil context")

	s := subscribe(t, b, broadcast.B1)
	require.NoError(t, b.Close())
	_, ok := <-s.C()
	assert.False(t, ok, "subscription still open after Close")
	assert.NoError(t, b.Close(), "second Close")
	assert.ErrorIs(t, b.Publish(ctx, broadcast.B1, nil), broadcast.ErrClosed, "Publish after Close")
	_, err = b.Subscribe(broadcast.B1)
	assert.ErrorIs(t, err, broadcast.ErrClosed, "Subscribe after Close")
	assert.ErrorIs(t, b.Healthy(), broadcast.ErrClosed, "Healthy after Close")
	s.Close()

	// Dialling: a cancelled context, a port where nothing listens.
	_, err = Dial(done, Options{Cluster: testCluster, URL: srv.URL()})
	assert.ErrorIs(t, err, context.Canceled, "Dial with a cancelled context")
	port := srv.Port()
	srv.Close()
	start := time.Now()
	_, err = Dial(ctx, Options{Cluster: testCluster, URL: fmt.Sprintf("nats://127.0.0.1:%d", port), DialTimeout: time.Second})
	assert.Error(t, err, "Dial to a closed port succeeded")
	assert.LessOrEqual(t, time.Since(start), 3*time.Second, "Dial to a closed port took longer than 3 s")

	for name, o := range map[string]ServerOptions{
		"token and users": {Token: "t", Users: []User{{Name: "u", Password: "p"}}},
		"bad nkey":        {Users: []User{{NKey: "UNOTAKEY"}}},
		"nameless user":   {Users: []User{{Password: "p"}}},
		"duplicate user":  {Users: []User{{Name: "u"}, {Name: "u"}}},
		"bad port":        {Port: 70000},
	} {
		_, err := StartServer(o)
		assert.ErrorIs(t, err, ErrOptions, "StartServer %s", name)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestRedact(t *testing.T) {
	for in, w := range map[string]string{
		"nats://127.0.0.1:4222":                            "nats://127.0.0.1:4222",
		"nats://user:secret@h:4222":                        "nats://REDACTED@h:4222",
		"nats://tok3n@h:1, tls://u:p@h2:2":                 "nats://REDACTED@h:1,tls://REDACTED@h2:2",
		"u:p@h:4222":                                       "REDACTED",
		"nats://h:1,nats://secret%zz@h":                    "nats://h:1,REDACTED",
		"tls://a:b@[::1]:4222":                             "tls://REDACTED@[::1]:4222",
		"nats://127.0.0.1:4222,nats://127.0.0.1:4223":      "nats://127.0.0.1:4222,nats://127.0.0.1:4223",
		"nats://x@127.0.0.1:4222,nats://y:z@127.0.0.1:423": "nats://REDACTED@127.0.0.1:4222,nats://REDACTED@127.0.0.1:423",
	} {
		assert.Equal(t, w, redact(in), "redact(%q)", in)
	}
}
