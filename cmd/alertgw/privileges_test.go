package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// With run_as and an input's reader_nice below 0, the gateway keeps
// CAP_SYS_NICE and nothing else (every thread), starts, delivers, and its
// socket reader runs at that nice value: the promise of
// inputs/suricata/README.md, tested as written.
func TestE2ERunAsKeepsSysNiceForReaderNice(t *testing.T) {
	needRoot(t)
	dir := shortDir(t)
	if err := os.Chmod(dir, 0o755); err != nil { // the unprivileged gateway must reach its files
		t.Fatal(err)
	}
	sockDir := ownedDir(t, filepath.Join(dir, "run"), 0o755, nobodyID, nobodyID)
	outDir := ownedDir(t, filepath.Join(dir, "out"), 0o755, nobodyID, nobodyID)
	sock := filepath.Join(sockDir, "s.sock")
	cfg := suricataConfig(t, dir, sock, outDir, fmt.Sprintf("run_as: {user: %q}", fmt.Sprint(nobodyID)))
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const nice = -6
	withNice := strings.Replace(string(b), "socket_type: dgram}", fmt.Sprintf("socket_type: dgram, reader_nice: %d}", nice), 1)
	if withNice == string(b) {
		t.Fatal("the test's config has no datagram input to give reader_nice")
	}
	if err := os.WriteFile(cfg, []byte(withNice), 0o644); err != nil {
		t.Fatal(err)
	}
	g := startDroppedGateway(t, dir, sock, outDir, cfg)

	const sysNice = "0000000000800000" // bit 23, CAP_SYS_NICE
	want := map[string]string{"CapPrm:": sysNice, "CapEff:": sysNice, "CapBnd:": sysNice, "CapAmb:": "0000000000000000", "Uid:": "65534 65534 65534 65534"}
	for _, l := range procStatus(t, g.cmd.Process.Pid) {
		key, val, _ := strings.Cut(l, " ")
		if w, ok := want[key]; ok && val != w {
			t.Errorf("thread status %q, want %s %s", l, key, w)
		}
	}
	stats, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", g.cmd.Process.Pid))
	reniced := 0
	for _, p := range stats {
		st, err := os.ReadFile(p)
		if err != nil {
			continue // a thread that just ended
		}
		fields := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
		if n, err := strconv.Atoi(fields[16]); err == nil && n == nice {
			reniced++
		}
	}
	if reniced != 1 {
		t.Errorf("%d threads of the gateway at nice %d, want 1 (the socket reader's)", reniced, nice)
	}
}
