package format

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/schematest"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/eve"
)

// realSource is one source's mapper run over its own test samples: real
// sensor output (or the corpus) decoded by the real mapper, so the formats
// are checked on what the gateway will actually see, not only on the
// hand-made reference events.
type realSource struct {
	name    string
	samples string // glob, relative to this package
	decode  func(line []byte, e *normalize.Event) error
}

var realSources = []realSource{
	{"eve", "../../normalize/eve/testdata/*.json", eve.Decoder{}.Decode},
}

// TestRealEvents decodes every sample line of every source, completes it
// as the pipeline does, and for the ecs and ocsf formats: validates it
// against the published definitions, checks it against the mapping table
// of docs/formats.md, and compares it with the golden file
// testdata/golden/real/<source>_<sample>.<format>.jsonl. The native line is
// validated against docs/schema/event-v1.json.
func TestRealEvents(t *testing.T) {
	fields, schema := loadECS(t), loadOCSF(t)
	for _, src := range realSources {
		samples, err := filepath.Glob(src.samples)
		if err != nil || len(samples) == 0 {
			t.Fatalf("%s: no samples under %s", src.name, src.samples)
		}
		for _, sample := range samples {
			base := src.name + "_" + strings.TrimSuffix(filepath.Base(sample), filepath.Ext(sample))
			t.Run(base, func(t *testing.T) {
				var out = map[string]*bytes.Buffer{"ecs": {}, "ocsf": {}}
				for i, line := range readLines(t, sample) {
					var e normalize.Event
					if err := src.decode(line, &e); err != nil {
						continue // the mapper's own tests cover errors
					}
					completeLikePipeline(&e, src.name, i+1)
					name := fmt.Sprintf("%s line %d", filepath.Base(sample), i+1)
					schematest.Validate(t, Native{}.AppendEvent(nil, &e))
					ecsLine, ocsfLine := ECS{}.AppendEvent(nil, &e), OCSF{}.AppendEvent(nil, &e)
					assertNoDuplicateKeys(t, ecsLine)
					assertNoDuplicateKeys(t, ocsfLine)
					for _, p := range validateECS(fields, decodeDoc(t, ecsLine)) {
						t.Errorf("%s: ECS: %s", name, p)
					}
					for _, p := range validateOCSF(schema, decodeDoc(t, ocsfLine)) {
						t.Errorf("%s: OCSF: %s", name, p)
					}
					ns := strings.Join(sensorOf(&e).namespace, ".")
					for _, p := range mappingProblems(name, ns, encodeAll(t, &e), nil) {
						t.Error(p)
					}
					out["ecs"].Write(append(ecsLine, '\n'))
					out["ocsf"].Write(append(ocsfLine, '\n'))
				}
				for format, got := range out {
					compareGolden(t, filepath.Join("testdata", "golden", "real", base+"."+format+".jsonl"), got.Bytes())
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
