package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertgw/alertgw/inputs/replay"
	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/pipeline"
)

// TestReplayProgressBar: on a terminal the bar ends at 100 % on a line of
// its own (also for a gzip file, whose progress counts the uncompressed
// stream), shows events, events/s and bytes, and a log line written while
// it is shown lands on a line of its own, never glued to the bar.
func TestReplayProgressBar(t *testing.T) {
	var out bytes.Buffer
	var read atomic.Int64
	var events atomic.Uint64
	p := newProgress(&out, true, 1000, read.Load, events.Load)
	go p.run(time.Millisecond)
	for i := 1; i <= 9; i++ {
		read.Store(int64(i * 100))
		events.Store(uint64(i * 10))
		time.Sleep(3 * time.Millisecond)
		if i == 5 {
			fmt.Fprintf(p, "{\"level\":\"warn\",\"message\":\"a log line\"}\n")
		}
	}
	// The last 10 % arrives with the end: the bar must not stop at 90 %.
	read.Store(1000)
	events.Store(100)
	p.stop(true)
	s := out.String()
	last := s[strings.LastIndex(s, clearLine)+len(clearLine):]
	if !strings.HasPrefix(last, "replay 100% [========================]") || !strings.HasSuffix(last, "\n") ||
		!strings.Contains(last, "100 events") || !strings.Contains(last, "events/s") || !strings.Contains(last, "1000 B of 1000 B") {
		t.Errorf("last frame %q", last)
	}
	i := strings.Index(s, `{"level"`)
	if i < 0 || !strings.HasSuffix(s[:i], clearLine) {
		t.Errorf("the log line is glued to the bar: %q", s)
	}
	if after := s[i:]; !strings.Contains(after[strings.IndexByte(after, '\n'):], "replay ") {
		t.Error("the bar is not redrawn after the log line")
	}

	// Without a terminal: plain lines, with the share and the rate.
	out.Reset()
	p = newProgress(&out, false, 1000, read.Load, events.Load)
	read.Store(300)
	p.draw(false)
	if got := out.String(); !strings.HasPrefix(got, "replay: 30.0%, 100 events, ") || !strings.Contains(got, "events/s, 300 B of 1000 B, ETA ") {
		t.Errorf("plain progress %q", got)
	}
}

// TestReplayGzipTotal: the progress total of a gzip file is its
// uncompressed size, which is what the reader counts.
func TestReplayGzipTotal(t *testing.T) {
	dir := t.TempDir()
	plain := bytes.Repeat([]byte(`{"event_type":"dns","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"UDP"}`+"\n"), 5000)
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(plain)
	z.Close()
	p := filepath.Join(dir, "eve.json.gz")
	os.WriteFile(p, gz.Bytes(), 0o644)
	if got := replay.TotalSize([]string{p}); got != int64(len(plain)) {
		t.Errorf("TotalSize = %d, want the uncompressed %d (the file is %d)", got, len(plain), gz.Len())
	}
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("dead_letter: {path: \"\"}\noutputs: [{type: file, path: "+filepath.Join(dir, "out.json")+"}]\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if err := runReplay(&stdout, &stderr, replayRun{config: cfg, typ: "suricata", noProgress: true, files: []string{p}}); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if !strings.Contains(stdout.String(), byteSize(int64(len(plain)))) {
		t.Errorf("summary does not count the uncompressed bytes: %s", stdout.String())
	}
}

// TestReplaySummaryOnOneStream: the summary is plain words, all on stdout
// (no Go map syntax, nothing of it on stderr), with events/s and reasons.
func TestReplaySummaryOnOneStream(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "eve.json")
	os.WriteFile(p, []byte(`{"timestamp":"2026-11-22T10:11:12.123456+0000","event_type":"alert","src_ip":"10.0.0.5","dest_ip":"192.0.2.10","proto":"TCP","alert":{"signature_id":1,"signature":"x"}}
{"broken":
`), 0o644)
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("dead_letter: {path: "+filepath.Join(dir, "dl.json")+"}\noutputs: [{name: events, type: file, path: "+filepath.Join(dir, "out.json")+"}]\n"), 0o644)
	var stdout, stderr bytes.Buffer
	err := runReplay(&stdout, &stderr, replayRun{config: cfg, typ: "suricata", noProgress: true, files: []string{p}})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("err %v, want exit 1 for the broken line", err)
	}
	got := stdout.String()
	for _, want := range []string{"replayed 1 file(s):", "1 events (", "events/s)", "not normalized: 1 (truncated: 1)", "output events: 1 written, 0 dropped"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got+stderr.String(), "map[") || strings.Contains(stderr.String(), "replayed") {
		t.Errorf("summary split or in Go syntax:\nstdout:\n%s\nstderr:\n%s", got, stderr.String())
	}
}

// TestReplayRefusesAnotherProcessFile: an output file another process has
// open for writing (the running gateway's ./data/events.json when replay
// runs without --config) is refused, naming the process; --force writes.
func TestReplayRefusesAnotherProcessFile(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "events.json")
	os.WriteFile(events, nil, 0o644)
	holder := exec.Command("sh", "-c", `exec 3>>"$1"; exec sleep 30`, "sh", events)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	deadline := time.Now().Add(5 * time.Second)
	for len(openForWriting(events)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the holder never opened the file")
		}
		time.Sleep(10 * time.Millisecond)
	}
	p := filepath.Join(dir, "eve.json")
	os.WriteFile(p, []byte(`{"event_type":"dns","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"UDP"}`+"\n"), 0o644)
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("dead_letter: {path: \"\"}\noutputs: [{type: file, path: "+events+"}]\n"), 0o644)
	var stdout, stderr bytes.Buffer
	err := runReplay(&stdout, &stderr, replayRun{config: cfg, typ: "suricata", noProgress: true, files: []string{p}})
	var ee *exitError
	want := fmt.Sprintf("outputs[0].path %s is open for writing by process %d (sleep)", events, holder.Process.Pid)
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), want) {
		t.Errorf("err %v, want exit 2 with %q", err, want)
	}
	if b, _ := os.ReadFile(events); len(b) != 0 {
		t.Error("the refused replay wrote to the file")
	}
	if err := runReplay(&stdout, &stderr, replayRun{config: cfg, typ: "suricata", noProgress: true, force: true, files: []string{p}}); err != nil {
		t.Fatalf("--force: %v", err)
	}
	if n := len(readLines(t, events)); n != 1 {
		t.Errorf("--force wrote %d lines, want 1", n)
	}
}

// TestReplayAuditd: audit.log files (plain and gzip) replay through the
// auditd input's assembler: one event per audit event.
func TestReplayAuditd(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(filepath.Join("..", "..", "inputs", "auditd", "testdata", "go-libaudit_normal.log"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(raw)
	z.Close()
	files := []string{filepath.Join(dir, "audit.log.1.gz"), filepath.Join(dir, "audit.log")}
	os.WriteFile(files[0], gz.Bytes(), 0o644)
	os.WriteFile(files[1], raw, 0o644)
	counts := map[string]int{}
	for _, f := range files {
		out := filepath.Join(dir, filepath.Base(f)+".events.json")
		cfg := filepath.Join(dir, "c.yaml")
		os.WriteFile(cfg, []byte("dead_letter: {path: \"\"}\noutputs: [{type: file, path: "+out+"}]\n"), 0o644)
		var stdout, stderr bytes.Buffer
		if err := runReplay(&stdout, &stderr, replayRun{config: cfg, typ: "auditd", noProgress: true, files: []string{f}}); err != nil {
			t.Fatalf("%v\n%s", err, stdout.String())
		}
		lines := readLines(t, out)
		for _, l := range lines {
			var ev struct {
				Kind   string
				Source struct{ Type string }
			}
			json.Unmarshal([]byte(l), &ev)
			if ev.Kind != "audit" || ev.Source.Type != "auditd" {
				t.Fatalf("event %s", l)
			}
		}
		counts[f] = len(lines)
	}
	if counts[files[0]] < 2 || counts[files[0]] != counts[files[1]] {
		t.Errorf("events per file %v: want the same number, gzip or not", counts)
	}
}

// TestReplayDeadLetter re-ingests a dead-letter file after a fix: each raw
// message goes to the decoder of the type that failed it; what still fails
// is dead-lettered again (to the configuration's own file); events refused
// by an output and types without a message decoder are counted as skipped.
func TestReplayDeadLetter(t *testing.T) {
	dir := t.TempDir()
	dlPath := filepath.Join(dir, "old-deadletter.json")
	dl, err := pipeline.OpenDeadLetter(dlPath, 0)
	if err != nil {
		t.Fatal(err)
	}
	eve := []byte(`{"timestamp":"2026-11-22T10:11:12.123456+0000","event_type":"alert","src_ip":"10.0.0.5","src_port":1,"dest_ip":"192.0.2.10","dest_port":2,"proto":"TCP","alert":{"signature_id":7,"signature":"fixed since"}}`)
	dl.Write("eve", "suricata", "invalid_json", errors.New("a decoder bug, since fixed"), eve)
	dl.Write("eve", "suricata", "invalid_json", errors.New("really broken"), []byte(`{"broken":`))
	snortDgram := testutil.ReadGz(t, filepath.Join("..", "..", "inputs", "snort", "testdata", "unsock-0001.bin.gz"))
	dl.Write("snort3", "snort", "unsupported", errors.New("old"), snortDgram)
	dl.Write("u2", "unified2", "malformed", errors.New("x"), []byte{0, 0, 0, 7})
	dl.WriteEvent("search", "elasticsearch", "mapper_parsing_exception", errors.New("x"), []byte(`{"schema":1}`))
	if err := dl.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "events.json")
	newDL := filepath.Join(dir, "deadletter.json")
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("dead_letter: {path: "+newDL+"}\noutputs: [{type: file, path: "+out+"}]\n"), 0o644)
	var stdout, stderr bytes.Buffer
	err = runReplay(&stdout, &stderr, replayRun{config: cfg, typ: "deadletter", noProgress: true, files: []string{dlPath}})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("err %v, want exit 1 (one still broken, two skipped)\n%s", err, stdout.String())
	}
	types := map[string]int{}
	for _, l := range readLines(t, out) {
		var src struct {
			Source struct{ Type, Input string }
		}
		json.Unmarshal([]byte(l), &src)
		if src.Source.Input != "deadletter" {
			t.Errorf("source.input %q", src.Source.Input)
		}
		types[src.Source.Type]++
	}
	if types["suricata"] != 1 || types["snort"] < 1 {
		t.Errorf("replayed events by type %v, want the fixed EVE record and the Snort datagram", types)
	}
	again := readLines(t, newDL)
	if len(again) != 1 || !strings.Contains(again[0], `"input":"eve","type":"suricata"`) {
		t.Errorf("dead-lettered again: %v", again)
	}
	for _, want := range []string{"not normalized: 1 (truncated: 1)", "skipped: 2 (no_decoder_unified2: 1, refused_by_output: 1)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}

	// The configuration's dead-letter file may not be the one replayed.
	os.WriteFile(cfg, []byte("dead_letter: {path: "+dlPath+"}\noutputs: [{type: file, path: "+out+"}]\n"), 0o644)
	err = runReplay(&stdout, &stderr, replayRun{config: cfg, typ: "deadletter", noProgress: true, files: []string{dlPath}})
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "is one of the files replayed") {
		t.Errorf("replaying into itself: %v", err)
	}
}
