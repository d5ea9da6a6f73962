package format

import (
	"math/rand/v2"
	"testing"
	"time"
)

// AppendTime writes TimeLayout by hand; it must match AppendFormat exactly.
func TestAppendTimeMatchesLayout(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("east", 5*3600+1800), time.FixedZone("west", -7*3600)}
	times := []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 22, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 1000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), // beyond four digits: the fallback
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		times = append(times, time.Unix(r.Int64N(253402300800), r.Int64N(1e9)))
	}
	for _, tm := range times {
		for _, z := range zones {
			in := tm.In(z)
			want := `"` + in.UTC().Format(TimeLayout) + `"`
			if got := string(AppendTime(nil, in)); got != want {
				t.Fatalf("AppendTime(%v) = %s, want %s", in, got, want)
			}
		}
	}
}
