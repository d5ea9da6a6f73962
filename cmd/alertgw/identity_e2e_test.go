package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/testutil"
	u2 "github.com/alertgw/alertgw/normalize/unified2"
)

// inputTotals is the "input totals" line the gateway logs at shutdown.
type inputTotals struct {
	Input      string            `json:"input"`
	Received   uint64            `json:"received"`
	Normalized uint64            `json:"normalized"`
	Merged     uint64            `json:"merged"`
	Failed     map[string]uint64 `json:"failed"`
	Dropped    map[string]uint64 `json:"dropped"`
}

func sum(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

// Every message each input type received ends up normalized, merged into
// another message's event, failed or dropped, exactly once (issue 14, item
// 9): received = normalized + merged + failed + dropped, where merged is 0
// for every input but those that assemble events from several messages
// (unified2, auditd). The real binary gets good and hostile input on
// every input type it can be fed without a kernel facility (nflog's
// identity is checked by its kernel tests, overruns included): valid
// records, garbage, empty and newline-only datagrams (which used to be
// counted as received and nothing else), too-large datagrams and lines,
// unified2 packet-only datagrams that fold into the open event.
func TestE2EAccountingIdentity(t *testing.T) {
	dir := shortDir(t)
	spool := filepath.Join(dir, "spool")
	if err := os.Mkdir(spool, 0o750); err != nil {
		t.Fatal(err)
	}
	u2file, err := os.ReadFile("testdata/identity/snort.u2.1795384908")
	if err != nil {
		t.Fatal(err)
	}
	audit, err := os.ReadFile("testdata/identity/go-libaudit_normal.log")
	if err != nil {
		t.Fatal(err)
	}
	auditLog := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(auditLog, append(audit, "this is not an audit record\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := func(name string) string { return filepath.Join(dir, name) }
	events := filepath.Join(dir, "events.json")
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`sensor: e2e
log: {level: info, format: json}
admin: {listen: ""}
dead_letter: {path: %[1]s/dead.json}
inputs:
  - {name: eve-dgram, type: suricata, socket: %[1]s/eve.sock, socket_type: dgram, max_message_size: 1KiB}
  - {name: eve-stream, type: suricata, socket: %[1]s/evs.sock, socket_type: stream, max_line_size: 1KiB}
  - {name: snort, type: snort, socket: %[1]s/snort.sock}
  - {name: u2-socket, type: unified2, mode: socket, socket: %[1]s/u2.sock, idle_flush: 100ms}
  - {name: u2-spool, type: unified2, directory: %[1]s/spool, prefix: snort.u2, poll_interval: 20ms, idle_flush: 100ms}
  - {name: audit, type: auditd, source: file, files: [%[1]s/audit.log]}
  - {name: stats, type: stats, interval: 1s}
outputs:
  - {name: events, type: file, path: %[2]s}
`, dir, events)), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gateway{dir: dir, sock: sock("u2.sock"), events: events, log: filepath.Join(dir, "gateway.log")}
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfg)
	g.start(t, sock("u2.sock"))

	// suricata, datagrams: valid records, garbage, empty, newline-only,
	// larger than max_message_size.
	var small [][]byte
	for _, r := range inputRecords(t) {
		if len(r) < 1000 {
			small = append(small, r)
		}
	}
	dgrams := [][]byte{[]byte("not json\n"), {}, []byte("\n"), []byte("\r\n"), bytes.Repeat([]byte("x"), 2000)}
	for _, r := range small {
		dgrams = append(dgrams, append(r[:len(r):len(r)], '\n'))
	}
	sendDatagrams(t, sock("eve.sock"), dgrams)

	// suricata, stream: valid lines, blank lines (separators, not
	// messages), garbage, an over-long line, a last line without newline.
	var stream bytes.Buffer
	for _, r := range small {
		stream.Write(r)
		stream.WriteString("\n\n\r\n")
	}
	stream.WriteString("garbage\n" + strings.Repeat("y", 3000) + "\n" + string(small[0]))
	c, err := net.Dial("unix", sock("evs.sock"))
	if err != nil {
		t.Fatal(err)
	}
	c.Write(stream.Bytes())
	c.Close()

	// snort: a real datagram, one of a size no layout has, an empty one.
	sendDatagrams(t, sock("snort.sock"), [][]byte{testutil.ReadGz(t, "testdata/identity/snort-2.9.20-unsock-0001.bin.gz"), make([]byte, 100), {}})

	// unified2 over a socket: an event, then its packet alone (folds into
	// the open event), an event and its packet together, a torn record,
	// an empty datagram.
	var recs [][]byte
	if err := u2.Split(u2file, func(r u2.Record) error {
		recs = append(recs, u2file[r.Offset:r.End()])
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sendDatagrams(t, sock("u2.sock"), [][]byte{recs[0], recs[1], append(append([]byte{}, recs[2]...), recs[3]...), recs[4][:30], {}})

	// unified2 spool: the whole file.
	if err := os.WriteFile(filepath.Join(spool, "snort.u2.1795384908"), u2file, 0o644); err != nil {
		t.Fatal(err)
	}

	// Let everything through (and a stats event or two), then stop.
	time.Sleep(1500 * time.Millisecond)
	waitFileStable(t, events)
	g.stop(t)

	totals := map[string]inputTotals{}
	f, err := os.Open(g.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Message string `json:"message"`
			inputTotals
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "input totals" {
			totals[line.Input] = line.inputTotals
		}
	}
	for _, name := range []string{"eve-dgram", "eve-stream", "snort", "u2-socket", "u2-spool", "audit", "stats"} {
		tt, ok := totals[name]
		if !ok {
			t.Errorf("%s: no input totals logged", name)
			continue
		}
		accounted := tt.Normalized + tt.Merged + sum(tt.Failed) + sum(tt.Dropped)
		if tt.Received == 0 || tt.Received != accounted {
			t.Errorf("%s: received %d ≠ normalized %d + merged %d + failed %d %v + dropped %d %v",
				name, tt.Received, tt.Normalized, tt.Merged, sum(tt.Failed), tt.Failed, sum(tt.Dropped), tt.Dropped)
		}
	}
	// What each input was given shows in the right place.
	checks := []struct {
		name, what string
		got, want  uint64
	}{
		{"eve-dgram", "dropped{empty}", totals["eve-dgram"].Dropped["empty"], 3},
		{"eve-dgram", "failed{truncated}", totals["eve-dgram"].Failed["truncated"], 1},
		{"eve-dgram", "normalized", totals["eve-dgram"].Normalized, uint64(len(small))},
		{"eve-stream", "failed{too_large}", totals["eve-stream"].Failed["too_large"], 1},
		{"eve-stream", "normalized", totals["eve-stream"].Normalized, uint64(len(small) + 1)},
		{"snort", "dropped{empty}", totals["snort"].Dropped["empty"], 1},
		{"snort", "normalized", totals["snort"].Normalized, 1},
		{"u2-socket", "dropped{empty}", totals["u2-socket"].Dropped["empty"], 1},
		{"u2-socket", "merged (packet-only datagram, packet beside its event)", totals["u2-socket"].Merged, 2},
		{"u2-socket", "normalized", totals["u2-socket"].Normalized, 2},
		{"audit", "merged", totals["audit"].Merged, 12},
		{"audit", "normalized", totals["audit"].Normalized, 5},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %s = %d, want %d", c.name, c.what, c.got, c.want)
		}
	}
	if tt := totals["u2-spool"]; tt.Merged == 0 || tt.Normalized == 0 {
		t.Errorf("u2-spool: normalized %d merged %d, want both (events and their packets)", tt.Normalized, tt.Merged)
	}
}

// waitFileStable waits until path stops growing for half a second.
func waitFileStable(t *testing.T, path string) {
	t.Helper()
	var last int64 = -1
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		fi, err := os.Stat(path)
		if err == nil && fi.Size() == last {
			return
		}
		if err == nil {
			last = fi.Size()
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s kept growing", path)
}
