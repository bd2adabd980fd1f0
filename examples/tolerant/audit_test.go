package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tolerantca/tolerant/broadcast/audit"
)

// writeAuditLogs writes the audit logs of a cluster of distributor 1,
// calculators 1-3 and combiner 1 (t=3) that signed two tasks, and returns
// their paths and the distributor's head.
func writeAuditLogs(t *testing.T, dir string) ([]string, audit.Head) {
	t.Helper()
	keys := []audit.KeyInfo{{KeyID: "k1", Epoch: 1, T: 3}}
	open := func(role audit.Role, n int) (*audit.Writer, string) {
		path := filepath.Join(dir, fmt.Sprintf("%s-%d.jsonl", role, n))
		w, err := audit.OpenWriter(path, audit.Header{Role: role, Number: n, Keys: keys})
		require.NoError(t, err)
		return w, path
	}
	d, dp := open(audit.RoleDistributor, 1)
	c, cp := open(audit.RoleCombiner, 1)
	paths := []string{dp, cp}
	var calcs []*audit.Writer
	for j := 1; j <= 3; j++ {
		w, p := open(audit.RoleCalculator, j)
		calcs, paths = append(calcs, w), append(paths, p)
	}
	for task := uint64(1); task <= 2; task++ {
		ev := func(k audit.Kind) audit.Event {
			return audit.Event{Kind: k, KeyID: "k1", Epoch: 1, Distributor: 1, Task: task,
				ContentSHA256: audit.ContentSHA256([]byte("tbs")), Combiner: 1}
		}
		sig := audit.ContentSHA256([]byte(fmt.Sprint("sig", task)))
		require.NoError(t, d.Append(ev(audit.KindSubmitted)))
		for _, w := range calcs {
			require.NoError(t, w.Append(ev(audit.KindPartialSent)))
		}
		signed := ev(audit.KindSigned)
		signed.SignatureSHA256 = sig
		require.NoError(t, c.Append(signed))
		verified := ev(audit.KindVerified)
		verified.SignatureSHA256, verified.Result = sig, audit.ResultOK
		require.NoError(t, d.Append(verified))
		released := ev(audit.KindReleased)
		released.SignatureSHA256, released.Calculators = sig, []int{1, 2, 3}
		require.NoError(t, d.Append(released))
	}
	head := d.Head()
	for _, w := range append(calcs, d, c) {
		require.NoError(t, w.Close())
	}
	return paths, head
}

func TestAuditVerify(t *testing.T) {
	paths, head := writeAuditLogs(t, t.TempDir())
	o, e, err := runCmd(t, append([]string{"audit", "verify", "-head", head.String()}, paths...)...)
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", o, e)
	require.Contains(t, o, "cross-check: 2 releases")
	require.Contains(t, o, "audit logs OK")
	require.Contains(t, o, "distributor 1, 7 lines")

	o, _, err = runCmd(t, "audit", "head", paths[0])
	require.NoError(t, err)
	require.Equal(t, head.String()+"\n", o)

	// A calculator's log missing: the releases lack t calculators.
	o, _, err = runCmd(t, append([]string{"audit", "verify"}, paths[:4]...)...)
	require.ErrorIs(t, err, audit.ErrProblems)
	require.False(t, errors.Is(err, errUsage), "a failed verification exits 1, not 2")
	require.Contains(t, o, "partials from calculators [1 2] in the logs given, t=3 needed")
	require.Contains(t, o, "audit logs NOT OK")

	// One byte of the distributor's log edited.
	b, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	edited := bytes.Replace(b, []byte(`"task":1,`), []byte(`"task":3,`), 1)
	require.NotEqual(t, b, edited)
	require.NoError(t, os.WriteFile(paths[0], edited, 0o600))
	o, _, err = runCmd(t, append([]string{"audit", "verify"}, paths...)...)
	require.ErrorIs(t, err, audit.ErrProblems)
	require.Contains(t, o, "BROKEN  "+paths[0]+": audit: broken log at line 3: prev does not match the hash of line 2")
	_, _, err = runCmd(t, "audit", "head", paths[0])
	require.ErrorIs(t, err, audit.ErrBroken)

	// The distributor's log cut short after its head was reported.
	lines := bytes.SplitAfter(b, []byte("\n"))
	require.NoError(t, os.WriteFile(paths[0], bytes.Join(lines[:4], nil), 0o600))
	o, _, err = runCmd(t, "audit", "verify", "-head", head.String(), paths[0])
	require.ErrorIs(t, err, audit.ErrProblems)
	require.Contains(t, o, "PROBLEM head "+head.String()+" is in no intact log given")
}

func TestAuditUsage(t *testing.T) {
	for _, args := range [][]string{
		{"audit"}, {"audit", "frob"}, {"audit", "verify"}, {"audit", "verify", "-head", "12:xyz", "f"}, {"audit", "head"},
	} {
		_, e, err := runCmd(t, args...)
		require.ErrorIs(t, err, errUsage, strings.Join(args, " "))
		require.Contains(t, e, "Usage: tolerant audit verify", strings.Join(args, " "))
	}
	_, e, err := runCmd(t, "audit", "verify", "-h")
	require.NoError(t, err)
	require.Contains(t, e, "cross-checks them")
	_, _, err = runCmd(t, "audit", "verify", filepath.Join(t.TempDir(), "absent"))
	require.ErrorIs(t, err, audit.ErrProblems)
	o, _, _ := runCmd(t, "help")
	require.Contains(t, o, "tolerant audit verify")
}
