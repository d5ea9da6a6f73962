package format

import (
	"runtime"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/cputime"
)

// BenchmarkEncode measures each encoder on each reference event, appending
// into a reused buffer as the pipeline does.
func BenchmarkEncode(b *testing.B) {
	for _, name := range Names() {
		enc, _ := Lookup(name)
		for _, ref := range referenceEvents() {
			b.Run(name+"/"+ref.name, func(b *testing.B) {
				buf := make([]byte, 0, 4096)
				b.ReportAllocs()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				cpu0 := cputime.Thread()
				for b.Loop() {
					buf = enc.AppendEvent(buf[:0], ref.ev)
				}
				reportCPU(b, cpu0)
				b.SetBytes(int64(len(buf)))
			})
		}
	}
}

// reportCPU adds cpu-ns/op: the thread CPU time per operation since cpu0
// (the benchmark loop runs on one locked OS thread).
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu0 == 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(cputime.Thread()-cpu0)/float64(b.N), "cpu-ns/op")
}
