package main

import (
	"context"
	"crypto"
	"crypto/sha256"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/share"
)

// TestNodePolicyFlags: -policy FILE gives the node its approval hook,
// -approve needs it, and a bad policy stops the node before it starts.
func TestNodePolicyFlags(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	f, err := (&policyFlags{noPolicy: true}).approver(nil, io.Discard, log)
	require.NoError(t, err)
	require.Nil(t, f)
	_, err = (&policyFlags{noPolicy: true, approve: "prompt"}).approver(nil, io.Discard, log)
	require.Error(t, err)
	_, err = (&policyFlags{noPolicy: true, file: "policy.json"}).approver(nil, io.Discard, log)
	require.Error(t, err)

	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"kinds":["anything"]}`), 0o600))
	_, err = (&policyFlags{file: bad}).approver(nil, io.Discard, log)
	require.Error(t, err)
	_, err = (&policyFlags{file: filepath.Join(dir, "missing.json")}).approver(nil, io.Discard, log)
	require.Error(t, err)

	good := filepath.Join(dir, "policy.json")
	require.NoError(t, os.WriteFile(good, []byte(`{"kinds":["certificate"]}`), 0o600))
	f, err = (&policyFlags{file: good, approve: "exec:true"}).approver(nil, io.Discard, log)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte("hello"))
	err = f(broadcast.WithTask(context.Background(), broadcast.TaskInfo{Distributor: 1}),
		&share.Request{Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: []byte("hello")})
	require.ErrorIs(t, err, share.ErrDeclined)
	require.ErrorContains(t, err, `"kind"`)
}

// TestRegressionNodeWithoutPolicy: a node started without -policy used to
// sign every request of a roster distributor, digest-only ones included;
// now it refuses to start unless -insecure-no-policy says so.
func TestRegressionNodeWithoutPolicy(t *testing.T) {
	_, err := (&policyFlags{}).approver(nil, io.Discard, slog.New(slog.DiscardHandler))
	require.ErrorIs(t, err, errNoPolicy)
	_, _, err = runCmd(t, "node", "-role", "calculator", "-bundle", "calculator-1.age", "-identity", "x.key", "-nats", "nats://127.0.0.1:1")
	require.ErrorIs(t, err, errNoPolicy)
}
