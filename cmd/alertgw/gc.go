package main

import (
	"os"
	"runtime/debug"
)

// Garbage collector defaults for `alertgw run`, applied only when the
// GOGC / GOMEMLIMIT environment variables are not set (they always win).
//
// Why: the gateway's live heap is small (≈ 20 MB at full rate: batches in
// flight and the output queue), while it allocates ≈ 1 KB per event
// (messages, events, encoded lines). With Go's default GOGC=100 it collects
// every ≈ 20 MB allocated, and every cycle also scans ≈ 7 MB of pointer-
// holding globals (gopacket's layer tables), whatever the heap: GC was
// ≈ 15-25 % of the CPU in the end-to-end benchmark. GOGC=400 collects about
// four times less often (measured: 3.1-3.4 → 2.7-2.9 CPU seconds per 500,000
// events, docs/performance/e2e.md); the soft memory limit keeps the peak heap
// (≈ 5 × live without it) within the RSS budget: when the heap nears the
// limit the collector runs earlier, as with a smaller GOGC.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 120 << 20
)

// tuneGC applies the defaults above where the environment sets nothing.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
