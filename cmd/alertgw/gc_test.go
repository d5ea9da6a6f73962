package main

import "testing"

func TestMemoryLimitFor(t *testing.T) {
	tests := []struct {
		live uint64
		want int64
	}{
		{0, defaultMemoryLimit},
		{20 << 20, defaultMemoryLimit}, // the usual live heap: the default limit
		{60 << 20, defaultMemoryLimit}, // exactly half the default
		{100 << 20, 200 << 20},         // a filling queue: GOGC=100's goal
		{3 << 30, 6 << 30},             // a full 100,000-event queue and more
		{1 << 63, 1 << 62},             // absurd values do not overflow
	}
	for _, tt := range tests {
		if got := memoryLimitFor(tt.live); got != tt.want {
			t.Errorf("memoryLimitFor(%d) = %d, want %d", tt.live, got, tt.want)
		}
	}
}
