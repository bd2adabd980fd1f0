package natsbus

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testcluster"
)

// TestRetryDial: with RetryDial, Dial waits for a server started after it;
// refused credentials end it at once, and so does its context.
func TestRetryDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())

	url := "nats://127.0.0.1:" + itoa(port)
	got := make(chan error, 1)
	go func() {
		b, err := Dial(testcluster.Timeout(t, 20*time.Second), Options{URL: url, Cluster: testCluster, RetryDial: true, RetryMaxWait: 200 * time.Millisecond, DialTimeout: time.Second})
		if err == nil {
			b.Close()
		}
		got <- err
	}()
	time.Sleep(700 * time.Millisecond) // a few failed attempts
	srv := startServer(t, ServerOptions{Port: port, Users: []User{{Name: "u", Password: "right"}}})
	select {
	case err := <-got:
		require.ErrorIs(t, err, ErrAuth, "no credentials: refused, not retried")
	case <-time.After(15 * time.Second):
		require.FailNow(t, "Dial did not return in 15 s")
	}
	b, err := Dial(testcluster.Timeout(t, 10*time.Second), Options{URL: srv.URL(), Cluster: testCluster, RetryDial: true, User: "u", Password: "right"})
	require.NoError(t, err)
	require.NoError(t, b.Close())

	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	_, err = Dial(ctx, Options{URL: "nats://127.0.0.1:1", Cluster: testCluster, RetryDial: true})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func itoa(n int) string { return strconv.Itoa(n) }
