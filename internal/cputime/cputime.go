// Package cputime measures CPU time for benchmarks. On a machine shared
// with other work, wall-clock rates measure how long a benchmark waited for
// a core; CPU time measures what it cost.
package cputime

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Process is the CPU time (user + system) of the whole process so far:
// garbage collection included, whichever threads it ran on.
func Process() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Thread is the CPU time of the calling OS thread (lock it with
// runtime.LockOSThread first).
func Thread() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// Per reports the process CPU time spent since start per unit (events,
// records …) as the metric "cpu-ns/<unit>", and the rate one core would
// sustain as "<unit>s/cpu-s". Run the benchmark with -cpu 1 so that the
// process time is the benchmark's own.
func Per(b *testing.B, start time.Duration, n int, unit string) {
	b.Helper()
	spent := Process() - start
	if n <= 0 || spent <= 0 {
		return
	}
	per := float64(spent.Nanoseconds()) / float64(n)
	b.ReportMetric(per, "cpu-ns/"+unit)
	b.ReportMetric(1e9/per, unit+"s/cpu-s")
}
