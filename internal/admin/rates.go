package admin

import (
	"sync"
	"time"

	"github.com/alertgw/alertgw/stats"
)

// rateWindow is the span rates are averaged over.
const rateWindow = 10 * time.Second

// Rates remembers the counters once a second for rateWindow, so that
// /status can say how fast each input receives and each output writes now,
// not since start.
type Rates struct {
	mu      sync.Mutex
	samples []rateSample // oldest first
}

type rateSample struct {
	at     time.Time
	counts map[string]uint64
}

func inputKey(name string) string  { return "in/" + name }
func outputKey(name string) string { return "out/" + name }

// Record takes a sample of reg at now and forgets samples older than the
// window.
func (r *Rates) Record(reg *stats.Registry, now time.Time) {
	counts := map[string]uint64{}
	for _, in := range reg.Inputs() {
		counts[inputKey(in.Name)] = in.Received.Load()
	}
	for _, out := range reg.Outputs() {
		counts[outputKey(out.Name)] = out.Written.Load()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, rateSample{at: now, counts: counts})
	for len(r.samples) > 1 && now.Sub(r.samples[1].at) >= rateWindow {
		r.samples = r.samples[1:]
	}
}

// rate is the per-second rate of the counter key, from the oldest sample
// in the window to cur at now.
func (r *Rates) rate(key string, cur uint64, now time.Time) float64 {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.samples {
		prev, ok := s.counts[key]
		if !ok {
			continue
		}
		dt := now.Sub(s.at).Seconds()
		if dt < 0.5 || cur < prev {
			return 0
		}
		return float64(cur-prev) / dt
	}
	return 0
}
