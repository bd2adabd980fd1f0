package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testcluster"
)

// lines keeps what a running command writes (a testcluster.Buffer).
type lines struct{ testcluster.Buffer }

// after returns the rest of the first line starting with prefix, if any.
func (l *lines) after(prefix string) (string, bool) {
	for _, line := range strings.Split(l.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			return rest, true
		}
	}
	return "", false
}

// TestBrokerMonitor: `tolerant broker -monitor ADDR` serves NATS's own
// monitoring endpoints, and a bad address is refused.
func TestBrokerMonitor(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	signals := func() (context.Context, context.CancelFunc) { return context.WithCancel(parent) }
	var stdout lines
	done := make(chan error, 1)
	go func() {
		done <- broker(signals, []string{"-listen", "127.0.0.1:0", "-monitor", "127.0.0.1:0"}, &stdout, io.Discard)
	}()
	var url string
	require.Eventually(t, func() bool {
		var ok bool
		url, ok = stdout.after("broker monitoring on ")
		return ok
	}, 10*time.Second, 10*time.Millisecond, "no monitoring line")
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url + "/varz")
	require.NoError(t, err)
	var varz struct {
		ServerID string `json:"server_id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&varz)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, varz.ServerID)
	cancel()
	require.NoError(t, <-done)
	_, listed := stdout.after("broker listening on ")
	require.True(t, listed)

	err = broker(signals, []string{"-listen", "127.0.0.1:0", "-monitor", "127.0.0.1:x"}, io.Discard, io.Discard)
	require.ErrorContains(t, err, "-monitor")
}
