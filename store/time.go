package store

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParseAge parses a length of time: a Go duration ("36h", "90m") or a
// whole number of days or weeks ("90d", "2w").
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseUint(n, 10, 32)
			if err != nil || v > 100*365 {
				return 0, fmt.Errorf("invalid age %q: use e.g. 90d, 2w, 36h, 15m", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid age %q: use e.g. 90d, 2w, 36h, 15m", s)
	}
	return d, nil
}

// Age is a config value parsed by ParseAge ("90d").
type Age time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Age) UnmarshalText(b []byte) error {
	d, err := ParseAge(string(b))
	*a = Age(d)
	return err
}

// DocType names the type in the generated docs.
func (Age) DocType() string { return "duration or days" }

func (a Age) String() string {
	d := time.Duration(a)
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// ParseTime reads a time as the search command takes it: RFC 3339
// (2026-11-22T14:00:00Z, or without zone as UTC, or a date), or relative
// to now: "15m", "24h", "7d" mean that long before now, "now" is now.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return now, nil
	}
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	if d, err := ParseAge(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q: use RFC 3339 (2026-11-22T14:00:00Z), a date (2026-11-22) or a time before now (15m, 24h, 7d)", s)
}

// SortGroups orders groups largest count first, then most recently seen,
// then by key, so that every backend returns the same order.
func SortGroups(gs []Group) {
	slices.SortFunc(gs, func(a, b Group) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := b.Last.Compare(a.Last); c != 0 {
			return c
		}
		return CompareKeys(a.Key, b.Key)
	})
}

// CompareKeys orders group keys: nil first, then by value.
func CompareKeys(a, b []any) int {
	for i := range min(len(a), len(b)) {
		if c := compareValue(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func compareValue(a, b any) int {
	if a == nil || b == nil {
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			return -1
		}
		return 1
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case uint64:
		if y, ok := b.(uint64); ok {
			return cmp.Compare(x, y)
		}
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			return cmp.Compare(boolInt(x), boolInt(y))
		}
	case json.RawMessage:
		if y, ok := b.(json.RawMessage); ok {
			return strings.Compare(string(x), string(y))
		}
	}
	return strings.Compare(fmt.Sprintf("%T", a), fmt.Sprintf("%T", b))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
