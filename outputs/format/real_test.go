package format

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/schematest"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/eve"
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
	"eve": eveGroups,
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
					schematest.Validate(t, Native{}.AppendEvent(nil, e))
					ecsLine, ocsfLine := ECS{}.AppendEvent(nil, e), OCSF{}.AppendEvent(nil, e)
					assertNoDuplicateKeys(t, ecsLine)
					assertNoDuplicateKeys(t, ocsfLine)
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
