package metrics

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/share"
)

// requireClientsEnv, set to 1 (as .ci/run does), makes a missing client
// program a test failure instead of a skip.
const requireClientsEnv = "TOLERANT_REQUIRE_CLIENTS"

// promtool returns the path of promtool, or skips t (fails it under
// TOLERANT_REQUIRE_CLIENTS=1) when it is not installed.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv(requireClientsEnv) == "1" {
			require.FailNow(t, "promtool is not installed", "%s=1 makes its absence a failure (Debian: apt-get install prometheus)", requireClientsEnv)
		}
		t.Skipf("promtool is not installed: skipping (Debian: apt-get install prometheus; set %s=1 to make this a failure)", requireClientsEnv)
	}
	return path
}

// checkMetrics runs `promtool check metrics` on a text exposition.
func checkMetrics(t *testing.T, exposition []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool(t), "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool check metrics:\n%s\non:\n%s", out, exposition)
}

// scrape GETs /metrics from h as Prometheus's text format.
func scrape(t *testing.T, h http.Handler) []byte {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain"), resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return body
}

// traffic feeds every kind of event, with and without errors, to the
// metrics of each role.
func traffic(t *testing.T, reg prometheus.Registerer) {
	t.Helper()
	healthy := func() error { return nil }
	for _, role := range []share.Role{share.RoleDistributor, share.RoleCalculator, share.RoleCombiner} {
		m, err := New(reg, role, &Options{
			HeldBytes: func() int64 { return 100 }, HeldTasks: func() int64 { return 1 },
			NATSHealthy: healthy, NATSReconnects: func() uint64 { return 1 },
		})
		require.NoError(t, err)
		for kind := broadcast.EventTaskSeen; kind <= broadcast.EventFailed; kind++ {
			e := ev(kind, "ca-1")
			e.Duration, e.Wait, e.Calculators = time.Millisecond, time.Second, []int{1}
			m.Observe(e)
			e.Err = broadcast.ErrBusy
			m.Observe(e)
		}
	}
}

func TestHandlerPromtool(t *testing.T) {
	reg := NewRegistry()
	traffic(t, reg)
	body := scrape(t, Handler(reg))
	for _, name := range []string{
		"tolerant_events_total", "tolerant_refusals_total", "tolerant_partials_sent_total",
		"tolerant_partials_dropped_total", "tolerant_signatures_total",
		"tolerant_inconsistent_calculators_total", "tolerant_approval_wait_seconds",
		"tolerant_exponentiation_seconds", "tolerant_combination_seconds", "tolerant_held_bytes",
		"tolerant_held_tasks", "tolerant_nats_connected", "tolerant_nats_reconnects_total",
		"go_goroutines", "process_cpu_seconds_total",
	} {
		require.Contains(t, string(body), "\n# TYPE "+name+" ", "metric %s", name)
	}
	checkMetrics(t, body)
}

// TestPromtoolRejects shows that the check above can fail: promtool
// rejects a counter named without _total.
func TestPromtoolRejects(t *testing.T) {
	cmd := exec.Command(promtool(t), "check", "metrics")
	cmd.Stdin = strings.NewReader("# HELP foo A counter.\n# TYPE foo counter\nfoo 1\n")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "promtool accepted a bad exposition: %s", out)
	require.Contains(t, string(out), "_total")
}
