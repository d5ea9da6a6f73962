package format

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
	"go.yaml.in/yaml/v3"

	"github.com/alertgw/alertgw/internal/schematest"
	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/audit"
	"github.com/alertgw/alertgw/normalize/eve"
	"github.com/alertgw/alertgw/normalize/nflog"
	"github.com/alertgw/alertgw/normalize/sigmap"
	"github.com/alertgw/alertgw/normalize/snort"
	"github.com/alertgw/alertgw/normalize/unified2"
)

// realGroup is events a real mapper produced from one sample file: real
// sensor output (or the corpus) decoded by the real mapper, so the formats
// are checked on what the gateway will actually see, not only on the
// hand-made reference events.
type realGroup struct {
	name   string // golden file base name: <source>_<sample>
	events []*normalize.Event
}

// realSources lists, per source, how to get its groups. Each mapper's own
// tests own the samples; this package only reads them.
var realSources = map[string]func(t *testing.T) []realGroup{
	"eve":      eveGroups,
	"snort":    snortGroups,
	"unified2": unified2Groups,
	"nflog":    nflogGroups,
	"auditd":   auditGroups,
}

// noNames resolves no user or group: the audit mapper then keeps the ids.
type noNames struct{}

func (noNames) UserName(uint32) (string, bool)  { return "", false }
func (noNames) GroupName(uint32) (string, bool) { return "", false }

// auditGroups assembles and maps every auditd log of normalize/audit's
// corpus (go-libaudit's test logs).
func auditGroups(t *testing.T) []realGroup {
	logs, _ := filepath.Glob("../../normalize/audit/testdata/*.log")
	if len(logs) == 0 {
		t.Fatal("audit: no logs")
	}
	var groups []realGroup
	for _, path := range logs {
		p := audit.NewProcessor(audit.AssemblerOptions{Timeout: time.Hour}, noNames{}, nil)
		var evs []*normalize.Event
		for _, line := range readLines(t, path) {
			evs, _ = p.Line(line, evs) // unparseable lines: the mapper's own tests
		}
		evs = p.Close(evs)
		g := realGroup{name: "auditd_" + strings.TrimSuffix(filepath.Base(path), ".log")}
		for i, e := range evs {
			completeLikePipeline(e, "auditd", i+1)
			g.events = append(g.events, e)
		}
		groups = append(groups, g)
	}
	return append(groups, aucoalesceGroups(t)...)
}

// aucoalesceGroups maps the events of go-libaudit's aucoalesce test files
// (normalize/audit/testdata/aucoalesce): user-space records (logins,
// sessions, PAM, sshd's crypto records) whose addr= is the event's source,
// and syscalls on sockets.
func aucoalesceGroups(t *testing.T) []realGroup {
	files, _ := filepath.Glob("../../normalize/audit/testdata/aucoalesce/*.yaml")
	if len(files) == 0 {
		t.Fatal("audit: no aucoalesce tests")
	}
	var groups []realGroup
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var tests struct{ Tests map[string]string }
		if err := yaml.Unmarshal(b, &tests); err != nil {
			t.Fatal(err)
		}
		g := realGroup{name: "auditd_" + strings.TrimSuffix(filepath.Base(path), ".yaml")}
		for _, name := range slices.Sorted(maps.Keys(tests.Tests)) {
			p := audit.NewProcessor(audit.AssemblerOptions{Timeout: time.Hour}, noNames{}, nil)
			var evs []*normalize.Event
			for _, line := range strings.Split(strings.TrimSpace(tests.Tests[name]), "\n") {
				evs, _ = p.Line([]byte(line), evs)
			}
			for _, e := range p.Close(evs) {
				completeLikePipeline(e, "auditd", len(g.events)+1)
				g.events = append(g.events, e)
			}
		}
		groups = append(groups, g)
	}
	return groups
}

// nflogGroups decodes every NFLOG message of the netlink capture made from
// a real kernel (normalize/nflog/testdata), labelled as that package's
// corpus test does (group 5 allowed, "*-DROP *" prefixes blocked).
func nflogGroups(t *testing.T) []realGroup {
	lab, err := nflog.NewLabeler(map[uint16]normalize.Action{5: normalize.ActionAllowed, 6: normalize.ActionUnknown},
		[]nflog.PrefixRule{{Glob: "*-DROP *", Action: normalize.ActionBlocked}})
	if err != nil {
		t.Fatal(err)
	}
	d := nflog.NewDecoder(lab, nflog.IfaceMap{1: "lo"})
	f, err := os.Open("../../normalize/nflog/testdata/nflog-netlink_generated_linktype253.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	g := realGroup{name: "nflog_netlink-capture"}
	for {
		dg, _, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for rest := dg; len(rest) > 0; {
			msg, typ, next, err := nflog.NextMessage(rest)
			if err != nil {
				t.Fatal(err)
			}
			rest = next
			if typ != nflog.MsgPacket {
				continue
			}
			var a nflog.Attrs
			if err := nflog.ParseMessage(msg, &a); err != nil {
				t.Fatal(err)
			}
			rec := new(nflog.Record)
			d.Decode(&a, time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC), rec)
			completeLikePipeline(&rec.Event, "nflog", len(g.events)+1)
			g.events = append(g.events, &rec.Event)
		}
	}
	if len(g.events) == 0 {
		t.Fatal("nflog: no messages")
	}
	return []realGroup{g}
}

// snortGroups decodes every Alertpkt datagram captured from real Snort 2,
// Snort 3 and Barnyard2 runs (normalize/snort/testdata), one group per run.
func snortGroups(t *testing.T) []realGroup {
	class, err := os.Open("../../normalize/snort/testdata/classification.config")
	if err != nil {
		t.Fatal(err)
	}
	defer class.Close()
	var tables sigmap.Tables
	if err := tables.ParseClassification(class); err != nil {
		t.Fatal(err)
	}
	sigs := sigmap.FromTables(&tables)
	d := &snort.Decoder{Sigs: sigs}
	dirs, _ := filepath.Glob("../../normalize/snort/testdata/*")
	var groups []realGroup
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "unsock-*.bin.gz"))
		if len(files) == 0 {
			continue
		}
		g := realGroup{name: "snort_" + filepath.Base(dir)}
		for i, f := range files {
			e := new(normalize.Event)
			if err := d.Decode(testutil.ReadGz(t, f), e); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			completeLikePipeline(e, "snort", i+1)
			g.events = append(g.events, e)
		}
		groups = append(groups, g)
	}
	if len(groups) == 0 {
		t.Fatal("snort: no captured datagrams")
	}
	return groups
}

// unified2Groups reads the unified2 files (Snort 2.9 spool and the public
// corpus), aggregates and maps every alert. The 4703-alert legacy file is
// cut to its first 20 alerts to keep the goldens small.
func unified2Groups(t *testing.T) []realGroup {
	var groups []realGroup
	for _, name := range []string{"snort.u2.1795384908", "py-idstools_merged.log", "py-idstools_multi-record-event.log",
		"py-idstools_ipv6-alert.unified2", "djcas9-unified2_unified2-legacy.log.gz"} {
		path := filepath.Join("../../normalize/unified2/testdata", name)
		var data []byte
		if strings.HasSuffix(name, ".gz") {
			data = testutil.ReadGz(t, path)
		} else {
			var err error
			if data, err = os.ReadFile(path); err != nil {
				t.Fatal(err)
			}
		}
		rd := unified2.NewReader(bytes.NewReader(data), 0)
		var agg unified2.Aggregator
		var alerts []*unified2.Alert
		for len(alerts) < 20 {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			a, err := agg.Add(rec)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if a != nil {
				alerts = append(alerts, a)
			}
		}
		if a := agg.Flush(); a != nil && len(alerts) < 20 {
			alerts = append(alerts, a)
		}
		g := realGroup{name: "unified2_" + strings.TrimSuffix(name, ".gz")}
		for i, a := range alerts {
			e := new(normalize.Event)
			(&unified2.Mapper{}).Map(a, e)
			completeLikePipeline(e, "unified2", i+1)
			g.events = append(g.events, e)
		}
		groups = append(groups, g)
	}
	return groups
}

// eveGroups decodes every line of normalize/eve's samples.
func eveGroups(t *testing.T) []realGroup {
	samples, err := filepath.Glob("../../normalize/eve/testdata/*.json")
	if err != nil || len(samples) == 0 {
		t.Fatalf("eve: no samples: %v", err)
	}
	var groups []realGroup
	for _, sample := range samples {
		g := realGroup{name: "eve_" + strings.TrimSuffix(filepath.Base(sample), ".json")}
		for i, line := range readLines(t, sample) {
			e := new(normalize.Event)
			if err := (eve.Decoder{}).Decode(line, e); err != nil {
				continue // the mapper's own tests cover errors
			}
			completeLikePipeline(e, "eve", i+1)
			g.events = append(g.events, e)
		}
		groups = append(groups, g)
	}
	return groups
}

// TestRealEvents runs every real mapper's events through the formats. For
// ecs and ocsf each event is validated against the published definitions,
// checked against the mapping table of docs/formats.md, and compared with
// testdata/golden/real/<group>.<format>.jsonl; the native line is validated
// against docs/schema/event-v1.json.
func TestRealEvents(t *testing.T) {
	fields, schema := loadECS(t), loadOCSF(t)
	for _, source := range slices.Sorted(maps.Keys(realSources)) {
		for _, g := range realSources[source](t) {
			t.Run(g.name, func(t *testing.T) {
				var out = map[string]*bytes.Buffer{"ecs": {}, "ocsf": {}}
				for i, e := range g.events {
					name := fmt.Sprintf("%s event %d", g.name, i+1)
					nativeLine := Native{}.AppendEvent(nil, e)
					schematest.Validate(t, nativeLine)
					ecsLine, ocsfLine := ECS{}.AppendEvent(nil, e), OCSF{}.AppendEvent(nil, e)
					assertNoNewDuplicateKeys(t, ecsLine, nativeLine)
					assertNoNewDuplicateKeys(t, ocsfLine, nativeLine)
					for _, p := range validateECS(fields, decodeDoc(t, ecsLine)) {
						t.Errorf("%s: ECS: %s", name, p)
					}
					for _, p := range validateOCSF(schema, decodeDoc(t, ocsfLine)) {
						t.Errorf("%s: OCSF: %s", name, p)
					}
					ns := strings.Join(sensorOf(e).namespace, ".")
					for _, p := range mappingProblems(name, ns, encodeAll(t, e), nil) {
						t.Error(p)
					}
					out["ecs"].Write(append(ecsLine, '\n'))
					out["ocsf"].Write(append(ocsfLine, '\n'))
				}
				for format, got := range out {
					compareGolden(t, filepath.Join("testdata", "golden", "real", g.name+"."+format+".jsonl"), got.Bytes())
				}
			})
		}
	}
}

// completeLikePipeline fills what pipeline.complete does, with constants
// for what changes between runs.
func completeLikePipeline(e *normalize.Event, input string, n int) {
	e.ID = fmt.Sprintf("%032x", n)
	e.Received = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	if e.Timestamp.IsZero() {
		e.Timestamp = e.Received
	}
	e.Source.Input = input
	e.Source.Sensor = "test-sensor"
	if e.CommunityID == "" {
		e.CommunityID = normalize.CommunityID(e)
	}
	if e.Action == "" {
		e.Action = normalize.ActionUnknown
	}
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./outputs/format -update)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("%s line %d differs:\n got: %s\nwant: %s", path, i+1, g, w)
			}
		}
	}
}
