package main

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Garbage collector defaults for `alertgw run`, applied only when the
// GOGC / GOMEMLIMIT environment variables are not set (they always win).
//
// Why: the gateway's live heap is small (≈ 20 MB at full rate: batches in
// flight and the output queue), while it allocates ≈ 4 KB per EVE event
// (the datagram, the event and what it points to, the encoded line;
// `run --memprofile`). With Go's default GOGC=100 it collects every
// ≈ 20 MB allocated, and every cycle also scans ≈ 5 MB of pointer-holding
// globals (gopacket's layer tables), whatever the heap: GC was ≈ 15-25 %
// of the CPU in the end-to-end benchmark. (google/gopacket filled every
// entry of those tables with pointers; its maintained fork,
// github.com/gopacket/gopacket, which alertgw now uses, leaves unused
// entries nil: that halved the marking work of a cycle,
// docs/performance/ladder.md.) GOGC=400 collects about four times less
// often (measured: 3.1-3.4 → 2.6-2.9 CPU seconds per 500,000 events,
// docs/performance/e2e.md); the soft memory limit keeps the peak heap
// (≈ 5 × live without it) within the RSS budget: when the heap nears the
// limit the collector runs earlier, as with a smaller GOGC.
//
// A fixed limit would make the collector run back to back when the live
// heap itself grows past it (an output stalls and its queue fills), so the
// limit follows the live heap: never below twice the live heap, which is
// GOGC=100's goal. The heap goal is thus min(5 × live, max(120 MiB,
// 2 × live)): never more collections than Go's default.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 120 << 20
	limitCheckEvery    = time.Second
)

// tuneGC applies the defaults above where the environment sets nothing.
// The returned function stops following the live heap.
func tuneGC() (stop func()) {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return func() {}
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	done := make(chan struct{})
	go followLiveHeap(done)
	return func() { close(done) }
}

// memoryLimitFor is the soft memory limit for a live heap of live bytes.
func memoryLimitFor(live uint64) int64 {
	return max(defaultMemoryLimit, 2*int64(min(live, 1<<61)))
}

// followLiveHeap raises (and lowers again) the memory limit with the live
// heap, see above.
func followLiveHeap(done <-chan struct{}) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	tick := time.NewTicker(limitCheckEvery)
	defer tick.Stop()
	limit := int64(defaultMemoryLimit)
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return // metric unknown to this runtime: keep the fixed limit
		}
		if l := memoryLimitFor(sample[0].Value.Uint64()); l != limit {
			debug.SetMemoryLimit(l)
			limit = l
		}
	}
}
