package node

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
)

// TestLogObserver: events are logged with their task's numbers and public
// details, refusals at Info and steps at Debug, never the content or the
// signature.
func TestLogObserver(t *testing.T) {
	require.Nil(t, LogObserver(nil))
	var buf testcluster.Buffer
	o := LogObserver(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	req := testcluster.Request("secret-looking content")
	o.Observe(&broadcast.Event{Kind: broadcast.EventTaskSeen, Distributor: 1, Task: 7, Request: req})
	require.Empty(t, buf.String(), "task_seen is a Debug event")
	o.Observe(&broadcast.Event{Kind: broadcast.EventRefused, Distributor: 1, Task: 7, Request: req, Rule: "max-validity", Err: errors.New("refused by policy")})
	o.Observe(&broadcast.Event{Kind: broadcast.EventPartialSent, Distributor: 1, Task: 8, Share: 2, Duration: 3 * time.Millisecond})
	o.Observe(&broadcast.Event{Kind: broadcast.EventSigned, Distributor: 1, Task: 8, Calculators: []int{1, 2, 4}, Signature: []byte("SIGNATUREBYTES")})
	out := buf.String()
	require.Contains(t, out, `"msg":"task refused","distributor":1,"task":7,"rule":"max-validity","err":"refused by policy"`)
	require.Contains(t, out, `"msg":"task partial_sent","distributor":1,"task":8,"share":2,"duration":3000000`)
	require.Contains(t, out, `"calculators":[1,2,4]`)
	require.NotContains(t, out, "secret-looking")
	require.NotContains(t, out, "SIGNATUREBYTES")
	require.NotContains(t, out, "U0lHTkFUVVJFQllURVM", "base64 of the signature")
}
