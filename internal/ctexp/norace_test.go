//go:build !race

package ctexp

const raceEnabled = false
