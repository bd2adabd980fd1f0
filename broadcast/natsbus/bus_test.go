package natsbus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
)

var _ broadcast.Broadcaster = (*Bus)(nil)
var _ broadcast.Subscription = (*Subscription)(nil)

func recv(t *testing.T, s broadcast.Subscription) string {
	t.Helper()
	select {
	case m, ok := <-s.C():
		if !ok {
			t.Fatal("subscription closed")
		}
		return string(m)
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
	return ""
}

func subscribe(t *testing.T, b *Bus, ch broadcast.Channel) broadcast.Subscription {
	t.Helper()
	s, err := b.Subscribe(ch)
	if err != nil {
		t.Fatal(err)
	}
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
		if err := a.Publish(ctx, broadcast.B1, fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range []broadcast.Subscription{a1, b1, b1bis} {
		for i := range n { // one publisher: NATS keeps its order
			if got, w := recv(t, s), fmt.Sprintf("m%d", i); got != w {
				t.Fatalf("got %q, want %q", got, w)
			}
		}
	}
	// Nothing of B1 reached B2 or the other cluster: the first message
	// there is the one published there afterwards.
	if err := b.Publish(ctx, broadcast.B2, []byte("b2")); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, b2); got != "b2" {
		t.Fatalf("B2 got %q", got)
	}
	if err := other.Publish(ctx, broadcast.B1, []byte("other")); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, o1); got != "other" {
		t.Fatalf("other cluster got %q", got)
	}
	if err := other.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(ctx, broadcast.B1, []byte("mine")); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, a1); got != "mine" {
		t.Fatalf("cluster tolerant received %q", got)
	}
	if got := recv(t, b1); got != "mine" {
		t.Fatalf("cluster tolerant received %q", got)
	}
	if got := recv(t, b1bis); got != "mine" {
		t.Fatalf("cluster tolerant received %q", got)
	}

	// A closed subscription stops; the others go on.
	b1bis.Close()
	b1bis.Close()
	if _, ok := <-b1bis.C(); ok {
		t.Fatal("closed subscription delivered")
	}
	if err := a.Publish(ctx, broadcast.B1, []byte("after")); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, b1); got != "after" {
		t.Fatalf("got %q", got)
	}
	st := b.Status()
	if !st.Connected || st.State != "CONNECTED" || st.Subscriptions != 2 || st.Delivered < 2*n || st.Dropped != 0 || st.Name != "b" {
		t.Fatalf("status %+v", st)
	}
	if err := b.Healthy(); err != nil {
		t.Fatal(err)
	}
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
		if err := pub.Publish(ctx, broadcast.B3, fmt.Appendf(nil, "x%d", i)); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, s); got != fmt.Sprintf("x%d", i) {
			t.Fatalf("got %q", got)
		}
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
		if err := b.Publish(ctx, broadcast.B2, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "all messages handled", func() bool {
		st := b.Status()
		return st.Delivered+st.Dropped == n
	})
	st := b.Status()
	if st.Delivered != 4 || st.Dropped != n-4 || s.(*Subscription).Dropped() != n-4 {
		t.Fatalf("status %+v", st)
	}
	if len(s.C()) != 4 {
		t.Fatalf("queue holds %d", len(s.C()))
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []string{"", "a.b", "a b", "*", ">", "é", strings.Repeat("x", 65), "a\n"} {
		if err := ValidateCluster(c); !errors.Is(err, ErrOptions) {
			t.Errorf("ValidateCluster(%q) = %v", c, err)
		}
		if c == "" {
			continue
		}
		if _, err := Dial(context.Background(), Options{Cluster: c}); !errors.Is(err, ErrOptions) {
			t.Errorf("Dial with cluster %q: %v", c, err)
		}
	}
	for ch, w := range map[broadcast.Channel]string{broadcast.B1: "tolerant.ca-1.b1", broadcast.B2: "tolerant.ca-1.b2", broadcast.B3: "tolerant.ca-1.b3"} {
		if s, err := Subject("ca-1", ch); err != nil || s != w {
			t.Errorf("Subject(ca-1, %v) = %q, %v", ch, s, err)
		}
	}
	if _, err := Subject("", broadcast.B1); !errors.Is(err, ErrOptions) {
		t.Errorf("Subject without a cluster: %v", err)
	}
	if _, err := Dial(context.Background(), Options{}); !errors.Is(err, ErrOptions) {
		t.Errorf("Dial without a cluster: %v", err)
	}
	if _, err := Subject("x", 4); !errors.Is(err, broadcast.ErrChannel) {
		t.Errorf("Subject(x, 4): %v", err)
	}

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
		if _, err := Dial(context.Background(), o); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: %v", name, err)
		}
	}

	srv := startServer(t, ServerOptions{})
	ctx := testcluster.Timeout(t, 10*time.Second)
	b := dial(t, Options{URL: srv.URL()})
	if err := b.Publish(ctx, 0, nil); !errors.Is(err, broadcast.ErrChannel) {
		t.Errorf("Publish on channel 0: %v", err)
	}
	if _, err := b.Subscribe(7); !errors.Is(err, broadcast.ErrChannel) {
		t.Errorf("Subscribe to channel 7: %v", err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Publish(done, broadcast.B1, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish with a cancelled context: %v", err)
	}
	if err := b.Publish(ctx, broadcast.B1, make([]byte, 2<<20)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Publish 2 MiB: %v", err)
	}
	var nilCtx context.Context // must not panic
	if err := b.Publish(nilCtx, broadcast.B1, nil); err != nil {
		t.Errorf("Publish with a nil context: %v", err)
	}

	s := subscribe(t, b, broadcast.B1)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-s.C(); ok {
		t.Error("subscription still open after Close")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := b.Publish(ctx, broadcast.B1, nil); !errors.Is(err, broadcast.ErrClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
	if _, err := b.Subscribe(broadcast.B1); !errors.Is(err, broadcast.ErrClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
	if err := b.Healthy(); !errors.Is(err, broadcast.ErrClosed) {
		t.Errorf("Healthy after Close: %v", err)
	}
	s.Close()

	// Dialling: a cancelled context, a port where nothing listens.
	if _, err := Dial(done, Options{Cluster: testCluster, URL: srv.URL()}); !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with a cancelled context: %v", err)
	}
	port := srv.Port()
	srv.Close()
	start := time.Now()
	if _, err := Dial(ctx, Options{Cluster: testCluster, URL: fmt.Sprintf("nats://127.0.0.1:%d", port), DialTimeout: time.Second}); err == nil {
		t.Error("Dial to a closed port succeeded")
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("Dial to a closed port took %v", time.Since(start))
	}

	for name, o := range map[string]ServerOptions{
		"token and users": {Token: "t", Users: []User{{Name: "u", Password: "p"}}},
		"bad nkey":        {Users: []User{{NKey: "UNOTAKEY"}}},
		"nameless user":   {Users: []User{{Password: "p"}}},
		"duplicate user":  {Users: []User{{Name: "u"}, {Name: "u"}}},
		"bad port":        {Port: 70000},
	} {
		if _, err := StartServer(o); !errors.Is(err, ErrOptions) {
			t.Errorf("StartServer %s: %v", name, err)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
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
		if got := redact(in); got != w {
			t.Errorf("redact(%q) = %q, want %q", in, got, w)
		}
	}
}
