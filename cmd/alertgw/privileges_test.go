package main

import (
	"slices"
	"testing"

	"kernel.org/pub/linux/libs/security/libcap/cap"

	"github.com/alertgw/alertgw/config"
)

// TestKeptCapabilities: run_as keeps only what an input still needs after
// the drop.
func TestKeptCapabilities(t *testing.T) {
	block := func(typ string, opts map[string]any) config.Block {
		return config.Block{Type: typ, Options: opts}
	}
	tests := []struct {
		name   string
		inputs []config.Block
		want   []cap.Value
	}{
		{"none", []config.Block{block("suricata", nil)}, nil},
		{"nflog", []config.Block{block("nflog", nil), block("nflog", nil)}, []cap.Value{cap.NET_ADMIN}},
		{"reader_nice below 0", []config.Block{block("suricata", map[string]any{"reader_nice": -15})}, []cap.Value{cap.SYS_NICE}},
		{"reader_nice above 0", []config.Block{block("snort", map[string]any{"reader_nice": 5})}, nil},
		{"reader_nice from the environment (a string)", []config.Block{block("suricata", map[string]any{"reader_nice": "-5"})}, []cap.Value{cap.SYS_NICE}},
		{"both", []config.Block{block("suricata", map[string]any{"reader_nice": -1}), block("nflog", nil)}, []cap.Value{cap.SYS_NICE, cap.NET_ADMIN}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keptCapabilities(tt.inputs); !slices.Equal(got, tt.want) {
				t.Errorf("kept %v, want %v", got, tt.want)
			}
		})
	}
}
