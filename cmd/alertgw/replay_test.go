package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// replay sends every alert of a unified2 file (plain and gzip) to the
// configured file output; a truncated file makes the exit code 1.
func TestReplayUnified2ToFileOutput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "events.json")
	cfg := filepath.Join(dir, "alertgw.yaml")
	os.WriteFile(cfg, []byte("dead_letter:\n  path: "+filepath.Join(dir, "dl.json")+"\noutputs:\n  - name: events\n    type: file\n    path: "+out+"\n"), 0o644)
	raw, err := os.ReadFile("../../normalize/unified2/testdata/snort.u2.1795384908")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(raw)
	z.Close()
	files := []string{filepath.Join(dir, "snort.u2.1"), filepath.Join(dir, "snort.u2.2.gz")}
	os.WriteFile(files[0], raw, 0o644)
	os.WriteFile(files[1], gz.Bytes(), 0o644)
	var stderr bytes.Buffer
	if err := runReplay(&stderr, &stderr, replayRun{config: cfg, typ: "unified2", layout: "auto", noProgress: true, files: files}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	f, _ := os.Open(out)
	defer f.Close()
	n, blocked := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev struct{ Action string }
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		n++
		if ev.Action == "blocked" {
			blocked++
		}
	}
	if n != 46 || blocked != 6 {
		t.Errorf("%d events, %d blocked; want 46 and 6\n%s", n, blocked, stderr.String())
	}
	if !bytes.Contains(stderr.Bytes(), []byte("46 events")) {
		t.Errorf("summary: %s", stderr.String())
	}

	os.WriteFile(files[0], raw[:len(raw)-3], 0o644)
	err = runReplay(&stderr, &stderr, replayRun{config: cfg, typ: "unified2", layout: "auto", noProgress: true, files: files[:1]})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Errorf("truncated file: err %v", err)
	}
	if err := runReplay(&stderr, &stderr, replayRun{config: cfg, typ: "pcap", layout: "auto", noProgress: true, files: files[:1]}); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("unknown type: err %v", err)
	}
}

// EVE lines (gzip too) through normalize/eve; a broken line is counted.
func TestReplaySuricata(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "events.json")
	cfg := filepath.Join(dir, "alertgw.yaml")
	os.WriteFile(cfg, []byte("dead_letter:\n  path: \"\"\noutputs:\n  - name: events\n    type: file\n    path: "+out+"\n"), 0o644)
	lines := `{"timestamp":"2026-11-22T10:11:12.123456+0000","event_type":"alert","src_ip":"10.0.0.5","src_port":51514,"dest_ip":"192.0.2.10","dest_port":22,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2001219,"rev":20,"signature":"ET SCAN Potential SSH Scan","category":"Attempted Information Leak","severity":2}}
{"timestamp":"2026-11-22T10:11:13.000000+0000","event_type":"dns","src_ip":"10.0.0.5","dest_ip":"192.0.2.53","proto":"UDP","dns":{"type":"query","rrname":"example.org"}}
{"broken":
`
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write([]byte(lines))
	z.Close()
	p := filepath.Join(dir, "eve.json.gz")
	os.WriteFile(p, gz.Bytes(), 0o644)
	var stderr bytes.Buffer
	err := runReplay(&stderr, &stderr, replayRun{config: cfg, typ: "suricata", layout: "auto", noProgress: true, files: []string{p}})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("want exit 1 for the broken line, got %v\n%s", err, stderr.String())
	}
	b, _ := os.ReadFile(out)
	if n := bytes.Count(b, []byte("\n")); n != 2 || !bytes.Contains(b, []byte(`"signature":{"gid":1,"id":2001219`)) {
		t.Errorf("%d events:\n%s", n, b)
	}
}

// An NFLOG capture (the tcpdump project's tests/nflog.pcap) replayed with
// the labelling rules and Community ID seed of the configuration's nflog
// input: the only one of its type, or the one --input names.
func TestReplayNFLOGCapture(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "events.json")
	cfg := filepath.Join(dir, "alertgw.yaml")
	os.WriteFile(cfg, []byte(`dead_letter: {path: ""}
community_id: {seed: 1}
inputs:
  - name: fw
    type: nflog
    groups: [{group: 20, action: blocked}]
    community_id: {seed: 0}
outputs:
  - name: events
    type: file
    path: `+out+"\n"), 0o644)
	capture := "../../inputs/nflog/testdata/tcpdump_nflog.pcapng"
	var stderr bytes.Buffer
	if err := runReplay(&stderr, &stderr, replayRun{config: cfg, typ: "nflog", layout: "auto", noProgress: true, files: []string{capture}}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !bytes.Contains(stderr.Bytes(), []byte("with the options of input fw")) {
		t.Errorf("stderr: %s", stderr.String())
	}
	b, _ := os.ReadFile(out)
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) != 4 {
		t.Fatalf("%d events:\n%s", len(lines), b)
	}
	for _, l := range lines {
		var ev struct {
			Action      string
			Kind        string
			SrcIP       string `json:"src_ip"`
			CommunityID string `json:"community_id"`
			Firewall    struct{ Group int }
		}
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Kind != "packet" || ev.Action != "blocked" || ev.Firewall.Group != 20 || ev.SrcIP != "74.82.42.42" {
			t.Errorf("event %s", l)
		}
		// The input's own seed (0), not the gateway's (1).
		if want := libraryCommunityID(t, string(l), 0); ev.CommunityID != want {
			t.Errorf("community_id %q, want %q (seed 0)", ev.CommunityID, want)
		}
	}
	os.Remove(out)
	var ee *exitError
	if err := runReplay(&stderr, &stderr, replayRun{config: cfg, typ: "nflog", input: "nope", layout: "auto", noProgress: true, files: []string{capture}}); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("unknown --input: %v", err)
	}
}
