//go:build race

package ctexp

// raceEnabled: the race detector makes sync.Pool drop items on purpose.
const raceEnabled = true
