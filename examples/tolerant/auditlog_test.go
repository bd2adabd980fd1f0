package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/share"
)

// TestRegressionAuditLogKeyIDStaysInDir: the audit log's file name is
// built from the bundle's key id, which may hold '/' and "..": a key id
// such as "../x" wrote the log outside -audit-dir. Such a name is refused.
func TestRegressionAuditLogKeyIDStaysInDir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "audit")
	for _, id := range []string{"../x", "a/b", `a\b`} {
		meta := &share.Meta{KeyID: id, Epoch: 0, T: 3}
		l, err := openAuditLog(dir, share.RoleCalculator, 1, meta)
		require.Error(t, err, "key id %q", id)
		require.Nil(t, l)
	}
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the audit directory was created")
	_, err = os.Stat(filepath.Join(root, "x-e0-calculator-1.jsonl"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestRepeatableFlagRefusesEmpty: an empty -dealer-key or -bundle is a
// mistake, not a value (an empty -dealer-key would fall back to trust on
// first use).
func TestRepeatableFlagRefusesEmpty(t *testing.T) {
	var l listFlag
	require.Error(t, l.Set(""))
	require.NoError(t, l.Set("dealer.pub"))
	require.Equal(t, listFlag{"dealer.pub"}, l)
}
