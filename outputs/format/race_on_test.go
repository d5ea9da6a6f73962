//go:build race

package format

// raceEnabled: allocation counts mean nothing under the race detector.
const raceEnabled = true
