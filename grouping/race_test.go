//go:build race

package grouping

// raceEnabled: the race detector slows the search about tenfold, so the
// long rows of TestTableRows run only without it (.ci/run runs them so).
const raceEnabled = true
