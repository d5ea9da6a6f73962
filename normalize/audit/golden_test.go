package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/nativetest"
	"github.com/alertgw/alertgw/internal/schematest"
	"github.com/alertgw/alertgw/normalize"
)

var update = flag.Bool("update", false, "rewrite testdata/events/*.jsonl from the current output")

// fixedResolver names a few ids, as a host's NSS would.
type fixedResolver struct{}

func (fixedResolver) UserName(uid uint32) (string, bool) {
	switch uid {
	case 0:
		return "root", true
	case 1000:
		return "alice", true
	}
	return "", false
}

func (fixedResolver) GroupName(gid uint32) (string, bool) {
	if gid == 0 {
		return "root", true
	}
	return "", false
}

type runResult struct {
	events []*normalize.Event
	failed []int // line numbers (0-based) that did not parse
	lost   uint64
}

// runLog feeds a log through the whole pure chain, line by line.
func runLog(t testing.TB, path string, tbl *Table) runResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := NewProcessor(AssemblerOptions{Timeout: time.Hour}, fixedResolver{}, tbl)
	p.Failed = func(raw []byte, err error) { t.Errorf("%s: event not mapped: %v\n%s", path, err, raw) }
	var res runResult
	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan(); i++ {
		res.events, err = p.Line(sc.Bytes(), res.events)
		if err != nil {
			res.failed = append(res.failed, i)
		}
	}
	res.events = p.Close(res.events)
	res.lost = p.Asm.Lost()
	return res
}

func detailObjects(t *testing.T, ev *normalize.Event, key string) []map[string]any {
	t.Helper()
	raw := ev.Details.Get(key)
	if raw == nil {
		return nil
	}
	var one map[string]any
	if json.Unmarshal(raw, &one) == nil {
		return []map[string]any{one}
	}
	var many []map[string]any
	if err := json.Unmarshal(raw, &many); err != nil {
		t.Fatalf("details.%s is neither an object nor an array of objects: %s", key, raw)
	}
	return many
}

// TestCorpusGoldens checks every record of every corpus log against
// go-libaudit's parsed golden output: each record must be found, with the
// same fields and values, under details.<TYPE> of the event of its serial.
func TestCorpusGoldens(t *testing.T) {
	goldens, _ := filepath.Glob("testdata/*.log.golden")
	if len(goldens) == 0 {
		t.Fatal("no goldens in testdata")
	}
	for _, g := range goldens {
		t.Run(filepath.Base(g), func(t *testing.T) {
			var want []*struct {
				Timestamp  time.Time         `json:"@timestamp"`
				RecordType string            `json:"record_type"`
				Sequence   uint32            `json:"sequence"`
				Data       map[string]string `json:"data"`
				Keys       []string          `json:"keys"`
			}
			b, err := os.ReadFile(g)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			res := runLog(t, strings.TrimSuffix(g, ".golden"), NewTable(TableOptions{}))
			bySerial := map[uint32]*normalize.Event{}
			for _, ev := range res.events {
				var serial uint32
				if err := json.Unmarshal(ev.Details.Get("serial"), &serial); err != nil {
					t.Fatalf("event without serial: %v", err)
				}
				if bySerial[serial] != nil {
					t.Errorf("two events for serial %d", serial)
				}
				bySerial[serial] = ev
			}
			for i, w := range want {
				if w == nil {
					if !slices.Contains(res.failed, i) {
						t.Errorf("line %d: golden says unparseable, but it parsed", i+1)
					}
					continue
				}
				ev := bySerial[w.Sequence]
				if ev == nil {
					t.Errorf("line %d: no event for serial %d", i+1, w.Sequence)
					continue
				}
				if !ev.Timestamp.Equal(w.Timestamp) {
					t.Errorf("serial %d: timestamp %v, want %v", w.Sequence, ev.Timestamp, w.Timestamp)
				}
				typ := strings.ToUpper(w.RecordType)
				recs := detailObjects(t, ev, typ)
				found := false
				for _, rec := range recs {
					ok := true
					for k, v := range w.Data {
						if rec[k] != v {
							ok = false
							break
						}
					}
					for k := range rec {
						if _, known := w.Data[k]; !known && k != "key" && !(typ == "PROCTITLE" && k == "argv") {
							ok = false // a field go-libaudit does not have
						}
					}
					if ok && len(w.Keys) > 0 {
						var keys []string
						for _, k := range rec["key"].([]any) {
							keys = append(keys, k.(string))
						}
						ok = slices.Equal(keys, w.Keys)
					}
					found = found || ok
				}
				if !found {
					t.Errorf("line %d: serial %d: no details.%s matches the golden data %v; have %v", i+1, w.Sequence, typ, w.Data, recs)
				}
			}
		})
	}
}

// encodeAll encodes events as the pipeline would hand them to outputs:
// with an id and a received time (fixed here, so that goldens are stable).
func encodeAll(evs []*normalize.Event) []byte {
	var b []byte
	for i, ev := range evs {
		e := *ev
		e.ID = fmt.Sprintf("%032x", i+1)
		e.Received = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
		b = nativetest.Append(b, &e)
		b = append(b, '\n')
	}
	return b
}

// TestEventGoldens pins alertgw's own output for every corpus log
// (go test -update rewrites it; review the diff).
func TestEventGoldens(t *testing.T) {
	logs, _ := filepath.Glob("testdata/*.log")
	for _, l := range logs {
		t.Run(filepath.Base(l), func(t *testing.T) {
			res := runLog(t, l, NewTable(TableOptions{}))
			got := encodeAll(res.events)
			for _, line := range bytes.Split(bytes.TrimSpace(got), []byte("\n")) {
				schematest.Validate(t, line)
			}
			path := filepath.Join("testdata", "events", strings.TrimSuffix(filepath.Base(l), ".log")+".jsonl")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update once)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s:\n got: %s\nwant: %s", path, got, want)
			}
		})
	}
}

// TestReassembly: the same records in another order give the same events;
// a hole in the serials is counted.
func TestReassembly(t *testing.T) {
	normal := runLog(t, "testdata/go-libaudit_normal.log", nil)
	ooo := runLog(t, "testdata/go-libaudit_out_of_order.log", nil)
	lost := runLog(t, "testdata/go-libaudit_lost_messages.log", nil)
	if len(normal.events) != 5 {
		t.Fatalf("normal.log: %d events, want 5", len(normal.events))
	}
	if got, want := string(encodeAll(ooo.events)), string(encodeAll(normal.events)); got != want {
		t.Errorf("out-of-order records give other events:\n got: %s\nwant: %s", got, want)
	}
	if normal.lost != 0 || ooo.lost != 0 {
		t.Errorf("lost = %d, %d; want 0 for contiguous serials", normal.lost, ooo.lost)
	}
	// lost_messages.log renumbers serial 58 to 49: 50…58 are missing.
	if lost.lost != 9 {
		t.Errorf("lost_messages.log: lost = %d, want 9", lost.lost)
	}
	if len(lost.events) != 5 {
		t.Errorf("lost_messages.log: %d events, want 5", len(lost.events))
	}
}

// TestSummary: with Mapper.Summary, go-libaudit's aucoalesce summary is added.
func TestSummary(t *testing.T) {
	p := NewProcessor(AssemblerOptions{}, nil, nil)
	p.Mapper.Summary = true
	var evs []*normalize.Event
	for _, l := range readLogLines(t, "testdata/go-libaudit_normal.log") {
		evs, _ = p.Line([]byte(l), evs)
	}
	evs = p.Close(evs)
	if len(evs) != 5 {
		t.Fatalf("%d events", len(evs))
	}
	if got, want := string(evs[1].Details.Get("summary")), `{"actor":{"primary":"1000","secondary":"1000"},"action":"executed","object":{"type":"file","primary":"/usr/bin/grep"},"how":"/usr/bin/grep"}`; got != want {
		t.Errorf("summary %s, want %s", got, want)
	}
}

func readLogLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}
