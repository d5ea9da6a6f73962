package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLogDurations: durations are logged as Go writes them, with their
// unit, in JSON and on the console ("deadline=10000" left the unit to
// guess).
func TestLogDurations(t *testing.T) {
	for _, console := range []bool{false, true} {
		var buf bytes.Buffer
		log := newLoggerTo(&buf, console, "info")
		log.Info().Dur("deadline", 10*time.Second).Dur("retry_in", 250*time.Millisecond).Msg("stopping")
		want := []string{`"deadline":"10s"`, `"retry_in":"250ms"`}
		if console {
			want = []string{"deadline=10s", "retry_in=250ms"}
		}
		got := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(buf.String(), "")
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("console=%v: %q lacks %s", console, got, w)
			}
		}
	}
}
