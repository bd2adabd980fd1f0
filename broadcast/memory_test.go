package broadcast

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func recv(t *testing.T, s Subscription) []byte {
	t.Helper()
	select {
	case m, ok := <-s.C():
		require.True(t, ok, "subscription closed, want a message")
		return m
	case <-time.After(5 * time.Second):
		require.FailNow(t, "nothing received in 5 s, want a message")
	}
	return nil
}

func none(t *testing.T, s Subscription) {
	t.Helper()
	select {
	case m := <-s.C():
		require.FailNow(t, "unexpected message", "got %q, want nothing in 20 ms", m)
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
	require.NoError(t, m.Endpoint("x").Publish(ctx, B1, msg))
	msg[0] = 'j' // the publisher may reuse its buffer
	for _, s := range []Subscription{a, b} {
		assert.Equal(t, "hello", string(recv(t, s)))
	}
	none(t, c)
	b.Close()
	b.Close()
	_, ok := <-b.C()
	assert.False(t, ok, "closed subscription delivers")
	m.Publish(ctx, B1, []byte("again"))
	recv(t, a)
	assert.ErrorIs(t, m.Publish(ctx, 9, nil), ErrChannel, "publish on channel 9")
	_, err := m.Subscribe(0)
	assert.ErrorIs(t, err, ErrChannel, "subscribe to channel 0")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, m.Publish(cctx, B1, nil), context.Canceled, "publish with a cancelled context")
	m.Close()
	_, ok = <-a.C()
	assert.False(t, ok, "subscription open after Close")
	assert.ErrorIs(t, m.Publish(ctx, B1, nil), ErrClosed, "publish after Close")
	_, err = m.Subscribe(B1)
	assert.ErrorIs(t, err, ErrClosed, "subscribe after Close")
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
		require.FailNow(t, "publisher blocked for 5 s")
	}
	st := m.Stats()
	assert.Equal(t, uint64(4), st.Delivered, "delivered, stats %+v", st)
	assert.Equal(t, uint64(96), st.Overflow, "overflow, stats %+v", st)
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
	assert.Equal(t, a, b, "same seed, different faults")
	assert.GreaterOrEqual(t, a.Lost, uint64(150), "lost, stats %+v", a)
	assert.LessOrEqual(t, a.Lost, uint64(250), "lost, stats %+v", a)
	assert.GreaterOrEqual(t, a.Duplicated, uint64(120), "duplicated, stats %+v", a)
	assert.LessOrEqual(t, a.Duplicated, uint64(200), "duplicated, stats %+v", a)
	assert.Equal(t, 1000-a.Lost+a.Duplicated, a.Delivered, "delivered = 1000 - lost + duplicated, stats %+v", a)
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
	inOrder := make([]byte, 50)
	for i := range inOrder {
		inOrder[i] = byte(i)
	}
	assert.NotEqual(t, inOrder, got, "no reordering")
	// Delayed deliveries pending at Close are cancelled.
	before := m.Stats().Delayed
	m.SetFaults(Faults{Delay: time.Hour})
	m.Publish(context.Background(), B3, []byte("late"))
	st := m.Stats()
	assert.Equal(t, before+1, st.Delayed, "delayed, stats %+v", st)
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
	assert.NotZero(t, m.Stats().Blocked, "nothing blocked")
}
