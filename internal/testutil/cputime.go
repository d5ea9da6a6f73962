package testutil

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// CPUTimer measures a benchmark's own CPU time: call it before the loop and
// the returned stop after it. The machine these run on is often shared,
// which makes ns/op (wall time) noisy; cpu-ns/op is the benchmark thread's
// CPU time per operation (CLOCK_THREAD_CPUTIME_ID, the loop pinned to its
// thread): it does not count time spent waiting for a core, nor the GC's
// background workers. Where the clock is missing the metric is left out.
func CPUTimer(b *testing.B) (stop func()) {
	runtime.LockOSThread()
	start := threadCPUTime()
	return func() {
		used := threadCPUTime() - start
		runtime.UnlockOSThread()
		if used > 0 {
			b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

func threadCPUTime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
