package stats

import (
	"sync"
	"testing"
)

func TestObserveLatency(t *testing.T) {
	var o Output
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				o.ObserveLatency(int64(g*1000 + i))
			}
		})
	}
	wg.Wait()
	o.ObserveLatency(-5) // a clock step back counts as zero
	if o.LatencyCount.Load() != 4001 || o.LatencyMaxNs.Load() != 3999 {
		t.Fatalf("count %d, max %d", o.LatencyCount.Load(), o.LatencyMaxNs.Load())
	}
	if want := uint64(3999 * 4000 / 2); o.LatencySumNs.Load() != want {
		t.Fatalf("sum %d, want %d", o.LatencySumNs.Load(), want)
	}
}
