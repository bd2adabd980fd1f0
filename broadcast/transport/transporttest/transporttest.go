// Package transporttest checks a transport against the contract of
// package transport, in the transport's own tests:
//
//	func TestContract(t *testing.T) {
//		transporttest.Run(t, func(t *testing.T) (a, b transport.Broadcaster) {
//			// two endpoints of a fresh bus, closed by t.Cleanup
//		})
//	}
//
// It checks what the protocol relies on, under perfect conditions:
// subscribers, the publisher's own included, receive what is published
// (republished until it arrives, as the protocol does, since delivery is
// best effort), byte for byte and only on its channel; unknown channels
// and ended contexts are refused; Publish does not wait for a subscriber
// that does not read; closing a subscription, or a transport that is an
// io.Closer, closes C and makes later calls fail with transport.ErrClosed.
// Like package transport, it imports only the standard library.
package transporttest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/tolerantca/tolerant/broadcast/transport"
)

// Open returns two endpoints of one fresh bus: each receives what either
// publishes. It registers their cleanup with t.
type Open func(t *testing.T) (a, b transport.Broadcaster)

// wait bounds every wait of the checks.
const wait = 5 * time.Second

// Run runs the checks, each as a subtest on buses of its own.
func Run(t *testing.T, open Open) {
	t.Run("Delivery", func(t *testing.T) { checkDelivery(t, open) })
	t.Run("Channels", func(t *testing.T) { checkChannels(t, open) })
	t.Run("Refusals", func(t *testing.T) { checkRefusals(t, open) })
	t.Run("NeverBlocks", func(t *testing.T) { checkNeverBlocks(t, open) })
	t.Run("Concurrent", func(t *testing.T) { checkConcurrent(t, open) })
	t.Run("SubscriptionClose", func(t *testing.T) { checkSubscriptionClose(t, open) })
	t.Run("Close", func(t *testing.T) { checkClose(t, open) })
}

// checkDelivery: a message reaches the other endpoint's subscribers and
// the publisher's own, unchanged, whatever its bytes.
func checkDelivery(t *testing.T, open Open) {
	a, b := open(t)
	own, other, second := subscribe(t, a, transport.B1), subscribe(t, b, transport.B1), subscribe(t, b, transport.B1)
	msg := make([]byte, 256)
	for i := range msg {
		msg[i] = byte(i)
	}
	for name, s := range map[string]transport.Subscription{"the publisher's own": own, "the other endpoint's": other, "a second one's": second} {
		if !await(t, s, msg, func() { publish(t, a, transport.B1, msg) }) {
			t.Errorf("%s subscription of B1 did not receive the message within %v", name, wait)
		}
	}
}

// checkChannels: what is published on one channel arrives on that
// channel only.
func checkChannels(t *testing.T, open Open) {
	a, b := open(t)
	subs := map[transport.Channel]transport.Subscription{}
	for _, ch := range []transport.Channel{transport.B1, transport.B2, transport.B3} {
		subs[ch] = subscribe(t, b, ch)
	}
	for _, ch := range []transport.Channel{transport.B1, transport.B2, transport.B3} {
		msg := []byte("only on " + ch.String())
		if !await(t, subs[ch], msg, func() { publish(t, a, ch, msg) }) {
			t.Fatalf("a subscription of %v did not receive a message published on it within %v", ch, wait)
		}
	}
	time.Sleep(50 * time.Millisecond) // for any stray delivery
	for ch, s := range subs {
		for _, got := range drain(s) {
			if want := "only on " + ch.String(); string(got) != want {
				t.Errorf("a subscription of %v received %q, want only %q", ch, got, want)
			}
		}
	}
}

// checkRefusals: channels other than B1, B2 and B3 are refused with
// ErrChannel, and Publish with an ended context with the context's error.
func checkRefusals(t *testing.T, open Open) {
	a, _ := open(t)
	for _, ch := range []transport.Channel{0, 4, 255} {
		if err := a.Publish(context.Background(), ch, []byte("x")); !errors.Is(err, transport.ErrChannel) {
			t.Errorf("Publish on %v: err = %v, want ErrChannel", ch, err)
		}
		if s, err := a.Subscribe(ch); !errors.Is(err, transport.ErrChannel) {
			t.Errorf("Subscribe to %v: err = %v, want ErrChannel", ch, err)
			if s != nil {
				s.Close()
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Publish(ctx, transport.B1, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish with a canceled context: err = %v, want context.Canceled", err)
	}
}

// checkNeverBlocks: a subscriber that never reads does not hold the
// publisher back.
func checkNeverBlocks(t *testing.T, open Open) {
	a, b := open(t)
	subscribe(t, b, transport.B2) // never read
	subscribe(t, a, transport.B2)
	const n = 20000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range n {
			a.Publish(context.Background(), transport.B2, []byte("flood")) // errors are allowed, waiting is not
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * wait):
		t.Fatalf("%d publications to subscribers that do not read took over %v", n, 2*wait)
	}
}

// checkConcurrent: publishing, subscribing and closing from many
// goroutines at once (for the race detector).
func checkConcurrent(t *testing.T, open Open) {
	a, b := open(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		bus := []transport.Broadcaster{a, b}[g%2]
		wg.Go(func() {
			s, err := bus.Subscribe(transport.B3)
			if err != nil {
				errs <- err
				return
			}
			for range 50 {
				if err := bus.Publish(context.Background(), transport.B3, []byte("concurrent")); err != nil {
					errs <- err
				}
			}
			errs <- s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent use: %v", err)
		}
	}
}

// checkSubscriptionClose: Subscription.Close closes C and is idempotent.
func checkSubscriptionClose(t *testing.T, open Open) {
	_, b := open(t)
	s := subscribe(t, b, transport.B1)
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Errorf("Close number %d of a subscription: %v", i+1, err)
		}
	}
	if !closed(s) {
		t.Errorf("C of a closed subscription is still open after %v", wait)
	}
}

// checkClose: closing a transport that is an io.Closer closes its
// subscriptions' C, later calls fail with ErrClosed, and Close is
// idempotent.
func checkClose(t *testing.T, open Open) {
	a, _ := open(t)
	c, ok := a.(io.Closer)
	if !ok {
		t.Skip("the first endpoint is no io.Closer")
	}
	s := subscribe(t, a, transport.B1)
	for i := range 2 {
		if err := c.Close(); err != nil {
			t.Errorf("Close number %d of the transport: %v", i+1, err)
		}
	}
	if !closed(s) {
		t.Errorf("C of a subscription is still open %v after its transport closed", wait)
	}
	if err := a.Publish(context.Background(), transport.B1, []byte("x")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Publish after Close: err = %v, want ErrClosed", err)
	}
	if s, err := a.Subscribe(transport.B1); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Subscribe after Close: err = %v, want ErrClosed", err)
		if s != nil {
			s.Close()
		}
	}
}

// subscribe subscribes to ch of b, to be closed by t's cleanup.
func subscribe(t *testing.T, b transport.Broadcaster, ch transport.Channel) transport.Subscription {
	t.Helper()
	s, err := b.Subscribe(ch)
	if err != nil {
		t.Fatalf("Subscribe to %v: %v", ch, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// publish publishes msg on ch of b; under perfect conditions it must
// succeed.
func publish(t *testing.T, b transport.Broadcaster, ch transport.Channel, msg []byte) {
	t.Helper()
	if err := b.Publish(context.Background(), ch, bytes.Clone(msg)); err != nil {
		t.Errorf("Publish on %v: %v", ch, err)
	}
}

// await reports whether s receives want within wait, calling republish
// at once and then every 50 ms: delivery is best effort.
func await(t *testing.T, s transport.Subscription, want []byte, republish func()) bool {
	t.Helper()
	deadline := time.After(wait)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	republish()
	for {
		select {
		case got, ok := <-s.C():
			if !ok {
				t.Error("C closed while waiting for a message")
				return false
			}
			if bytes.Equal(got, want) {
				return true
			}
		case <-tick.C:
			republish()
		case <-deadline:
			return false
		}
	}
}

// drain returns what s holds now.
func drain(s transport.Subscription) [][]byte {
	var out [][]byte
	for {
		select {
		case m, ok := <-s.C():
			if !ok {
				return out
			}
			out = append(out, m)
		default:
			return out
		}
	}
}

// closed reports whether C of s is closed within wait, discarding what
// it still delivers.
func closed(s transport.Subscription) bool {
	deadline := time.After(wait)
	for {
		select {
		case _, ok := <-s.C():
			if !ok {
				return true
			}
		case <-deadline:
			return false
		}
	}
}
