package store

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"now":                       now,
		"15m":                       now.Add(-15 * time.Minute),
		"24h":                       now.Add(-24 * time.Hour),
		"7d":                        now.AddDate(0, 0, -7),
		"2w":                        now.AddDate(0, 0, -14),
		"2026-11-20":                time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		"2026-11-20T10:00:00+02:00": time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC),
		"2026-11-20T10:00:00":       time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "-5m", "7x", "99999999d"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}

func TestBucketFor(t *testing.T) {
	for w, want := range map[time.Duration]time.Duration{
		15 * time.Minute:    5 * time.Second,
		time.Hour:           30 * time.Second,
		24 * time.Hour:      10 * time.Minute,
		7 * 24 * time.Hour:  time.Hour,
		90 * 24 * time.Hour: 12 * time.Hour,
	} {
		if got := BucketFor(w); got != want {
			t.Errorf("BucketFor(%s) = %s, want %s", w, got, want)
		}
	}
}

// FuzzParams: what a URL or a command line hands the store's parsers never
// panics, and what parses prints back.
func FuzzParams(f *testing.F) {
	for _, s := range []string{"15m", "7d", "2026-11-20", "1732000000000000.abc", "now", "9999999999999999999d", "1.", ".x"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		ParseTime(s, now)
		ParseAge(s)
		if c, err := ParseCursor(s); err == nil {
			if again, err := ParseCursor(c.String()); err != nil || again != c {
				t.Fatalf("cursor %q → %v → %v %v", s, c, again, err)
			}
		}
	})
}
