package audit

import "testing"

func TestSerialGaps(t *testing.T) {
	cases := []struct {
		name       string
		serials    []uint32
		lost, rsts uint64
	}{
		{"contiguous", []uint32{5, 6, 7, 8}, 0, 0},
		{"completed out of order", []uint32{5, 7, 6, 9, 8}, 0, 0},
		{"one missing", []uint32{5, 6, 8}, 1, 0},
		{"late beyond the window counts", append([]uint32{1}, seq(3, 3+gapWindow+10)...), 1, 0},
		{"big gap (reconnect)", []uint32{100, 10000, 10001}, 9899, 0},
		{"wrap around 2^32", []uint32{0xfffffffe, 0xffffffff, 0, 1}, 0, 0},
		{"restart goes backwards", []uint32{1000000, 1000001, 5, 6}, 0, 1},
		{"another boot's log", []uint32{5, 6, 90000000, 90000001}, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := NewAssembler(AssemblerOptions{})
			for _, s := range c.serials {
				a.saw(s)
			}
			a.settle()
			if got := a.Lost(); got != c.lost {
				t.Errorf("lost %d, want %d", got, c.lost)
			}
			if got := a.Resets(); got != c.rsts {
				t.Errorf("resets %d, want %d", got, c.rsts)
			}
		})
	}
}

func seq(from, to uint32) []uint32 {
	var out []uint32
	for s := from; s < to; s++ {
		out = append(out, s)
	}
	return out
}
