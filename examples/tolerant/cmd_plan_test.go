package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tolerantca/tolerant/grouping"
)

// TestRegressionPlanCommandLimits: plan -k 11 -t 10 -l 64 panicked and
// plan -k 6 -t 5 -l 64 ran out of memory; both now fail at once.
func TestRegressionPlanCommandLimits(t *testing.T) {
	for _, args := range [][]string{
		{"-k", "11", "-t", "10", "-l", "64"},
		{"-k", "6", "-t", "5", "-l", "64"},
		{"-k", "6", "-t", "5", "-l", "16"},
		{"-k", "64", "-t", "6", "-l", "2"},
	} {
		start := time.Now()
		var out bytes.Buffer
		err := runPlan(args, &out)
		require.ErrorIs(t, err, grouping.ErrLimits, "%v", args)
		require.Less(t, time.Since(start), time.Second, "%v", args)
	}
}

// TestPlanTextIntegerVerdict: plan -text says that the verdict is exact
// over the integers.
func TestPlanTextIntegerVerdict(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, runPlan([]string{"-k", "7", "-t", "3", "-l", "2", "-text"}, &out))
	require.Contains(t, out.String(), "exact over the integers")
	require.Contains(t, out.String(), "SECURE: no combiner together with t-1 calculators learns d or d mod g")
}

// TestRegressionCheckCommandModularLeak: check used to pass the default
// (7,3,2) plan of the rational-only search, in which combiner 2 with
// calculators 4 and 5 learns d mod 3.
func TestRegressionCheckCommandModularLeak(t *testing.T) {
	b, err := os.ReadFile("../../grouping/testdata/plan_7_3_2_main.json")
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "plan.json")
	require.NoError(t, os.WriteFile(file, b, 0o600))
	var out bytes.Buffer
	err = runCheck([]string{"-plan", file}, &out)
	require.ErrorIs(t, err, grouping.ErrInsecure)
	require.Contains(t, out.String(), "LEAK of d mod 3 with calculators [4 5]")
	require.Contains(t, err.Error(), "combiner 2")
}
