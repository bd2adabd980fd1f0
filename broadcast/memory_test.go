package broadcast

import (
	"context"
	"errors"
	"testing"
	"time"
)

func recv(t *testing.T, s Subscription) []byte {
	t.Helper()
	select {
	case m, ok := <-s.C():
		if !ok {
			t.Fatal("subscription closed")
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received")
	}
	return nil
}

func none(t *testing.T, s Subscription) {
	t.Helper()
	select {
	case m := <-s.C():
		t.Fatalf("unexpected message %q", m)
	case <-time.After(20 * time.Millisecond):
	}
}

func TestMemoryEverySubscriberGetsEveryMessage(t *testing.T) {
	m := NewMemory(nil)
	defer m.Close()
	ctx := context.Background()
	a, _ := m.Subscribe(B1)
	b, _ := m.Endpoint("b").Subscribe(B1)
	c, _ := m.Subscribe(B2)
	msg := []byte("hello")
	if err := m.Endpoint("x").Publish(ctx, B1, msg); err != nil {
		t.Fatal(err)
	}
	msg[0] = 'j' // the publisher may reuse its buffer
	for _, s := range []Subscription{a, b} {
		if got := recv(t, s); string(got) != "hello" {
			t.Errorf("got %q", got)
		}
	}
	none(t, c)
	b.Close()
	b.Close()
	if _, ok := <-b.C(); ok {
		t.Error("closed subscription delivers")
	}
	m.Publish(ctx, B1, []byte("again"))
	recv(t, a)
	if err := m.Publish(ctx, 9, nil); !errors.Is(err, ErrChannel) {
		t.Errorf("err = %v", err)
	}
	if _, err := m.Subscribe(0); !errors.Is(err, ErrChannel) {
		t.Errorf("err = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.Publish(cctx, B1, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	m.Close()
	if _, ok := <-a.C(); ok {
		t.Error("subscription open after Close")
	}
	if err := m.Publish(ctx, B1, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("err = %v", err)
	}
	if _, err := m.Subscribe(B1); !errors.Is(err, ErrClosed) {
		t.Errorf("err = %v", err)
	}
}

func TestMemoryNeverBlocks(t *testing.T) {
	m := NewMemory(&MemoryOptions{Buffer: 4})
	defer m.Close()
	s, _ := m.Subscribe(B2) // never read
	defer s.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			m.Publish(context.Background(), B2, []byte("x"))
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("publisher blocked")
	}
	if st := m.Stats(); st.Delivered != 4 || st.Overflow != 96 {
		t.Errorf("stats %+v", st)
	}
}

func TestMemoryFaults(t *testing.T) {
	run := func() MemoryStats {
		m := NewMemory(&MemoryOptions{Seed: 42, Faults: Faults{Loss: 0.2, Duplicate: 0.2}})
		defer m.Close()
		s, _ := m.Subscribe(B1)
		defer s.Close()
		for range 1000 {
			m.Publish(context.Background(), B1, []byte("x"))
		}
		return m.Stats()
	}
	a, b := run(), run()
	if a != b {
		t.Errorf("same seed, different faults: %+v vs %+v", a, b)
	}
	if a.Lost < 150 || a.Lost > 250 || a.Duplicated < 120 || a.Duplicated > 200 || a.Delivered != 1000-a.Lost+a.Duplicated {
		t.Errorf("stats %+v", a)
	}
}

func TestMemoryReorderAndDelay(t *testing.T) {
	m := NewMemory(&MemoryOptions{Seed: 1, Faults: Faults{Reorder: 0.5, ReorderWindow: 20 * time.Millisecond}})
	defer m.Close()
	s, _ := m.Subscribe(B3)
	for i := range 50 {
		m.Publish(context.Background(), B3, []byte{byte(i)})
	}
	var got []byte
	for range 50 {
		got = append(got, recv(t, s)[0])
	}
	inOrder := true
	for i := range got {
		inOrder = inOrder && got[i] == byte(i)
	}
	if inOrder {
		t.Error("no reordering")
	}
	// Delayed deliveries pending at Close are cancelled.
	before := m.Stats().Delayed
	m.SetFaults(Faults{Delay: time.Hour})
	m.Publish(context.Background(), B3, []byte("late"))
	if st := m.Stats(); st.Delayed != before+1 {
		t.Errorf("stats %+v", st)
	}
	none(t, s)
}

func TestMemoryPartitionAndDown(t *testing.T) {
	m := NewMemory(nil)
	defer m.Close()
	ctx := context.Background()
	a, b, c := m.Endpoint("a"), m.Endpoint("b"), m.Endpoint("c")
	sa, _ := a.Subscribe(B1)
	sb, _ := b.Subscribe(B1)
	sc, _ := c.Subscribe(B1)
	m.Partition([]string{"a"}, []string{"b"})
	a.Publish(ctx, B1, []byte("from a"))
	recv(t, sa)
	none(t, sb)
	recv(t, sc) // c is on no side: it reaches everyone
	m.Heal()
	m.SetDown("b", true)
	a.Publish(ctx, B1, []byte("x"))
	b.Publish(ctx, B1, []byte("y"))
	recv(t, sa)
	recv(t, sc)
	none(t, sa)
	none(t, sb)
	m.SetDown("b", false)
	b.Publish(ctx, B1, []byte("z"))
	recv(t, sa)
	recv(t, sb)
	if m.Stats().Blocked == 0 {
		t.Error("nothing blocked")
	}
}
