package main

import (
	"bytes"
	"encoding/json"
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

// TestPlanTextLoadAndTradeoff: plan -text shows each combiner's share of
// the calculator sets and tasks, where a lost combiner's tasks go, and the
// l-against-combiners trade-off; -optimal says whether the count is proven.
func TestPlanTextLoadAndTradeoff(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, runPlan([]string{"-k", "6", "-t", "3", "-l", "2", "-r", "2", "-optimal", "-text"}, &out))
	s := out.String()
	require.Contains(t, s, "combiner 1: 14 calculator sets, 14 representations, 35.0% of tasks")
	require.Contains(t, s, "spread: 1 calculator sets")
	require.Contains(t, s, "combiner 1 lost: 0.0% of tasks unserved; its tasks go to")
	require.Contains(t, s, "proven optimal")
	require.Contains(t, s, "l=3: 2 combiners")
	require.Contains(t, s, "3 exponentiations per calculator per task")
}

// TestPlanJSONLoad: the JSON output carries the load, and the plan
// command's plan for (7,3,2) has two evenly loaded combiners.
func TestPlanJSONLoad(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, runPlan([]string{"-k", "7", "-t", "3", "-l", "2"}, &out))
	var got struct {
		Combiners [][]grouping.Rep `json:"combiners"`
		Load      grouping.Load    `json:"load"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	require.Len(t, got.Combiners, 2)
	require.Equal(t, []int{18, 17}, got.Load.Sets)
}

// TestPlanRefusesTimeLimit: a non-positive -time-limit is refused.
func TestPlanRefusesTimeLimit(t *testing.T) {
	var out bytes.Buffer
	require.Error(t, runPlan([]string{"-optimal", "-time-limit", "0s"}, &out))
}
