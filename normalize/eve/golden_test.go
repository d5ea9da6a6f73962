package eve

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/nativetest"
	"github.com/alertgw/alertgw/internal/schematest"
	"github.com/alertgw/alertgw/normalize"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden from the current output")

// received is the gateway time every golden event gets.
var received = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// complete does what the pipeline does after Decode (pipeline.complete),
// with constants for what changes between runs: id and received time.
func complete(e *normalize.Event, n int) {
	e.ID = fmt.Sprintf("%032x", n)
	e.Received = received
	if e.Timestamp.IsZero() {
		e.Timestamp = e.Received
	}
	e.Source.Input = "suricata"
	e.Source.Sensor = "test-sensor"
	if e.CommunityID == "" {
		e.CommunityID = normalize.CommunityID(e)
	}
}

// sampleLines returns the non-blank lines of a testdata file.
func sampleLines(t testing.TB, path string) [][]byte {
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

// TestGolden decodes every sample in testdata/*.json and compares the
// native encoding of each line with testdata/golden/<sample>.golden. A
// line that cannot be decoded is written as "# error <reason>: <message>".
// Every event line is validated against docs/schema/event-v1.json.
func TestGolden(t *testing.T) {
	samples, err := filepath.Glob("testdata/*.json")
	if err != nil || len(samples) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, sample := range samples {
		name := strings.TrimSuffix(filepath.Base(sample), ".json")
		t.Run(name, func(t *testing.T) {
			var got bytes.Buffer
			for i, line := range sampleLines(t, sample) {
				var ev normalize.Event
				if err := (Decoder{}).Decode(line, &ev); err != nil {
					var nerr *normalize.Error
					if !errors.As(err, &nerr) {
						t.Fatalf("line %d: error is not a *normalize.Error: %v", i+1, err)
					}
					fmt.Fprintf(&got, "# error %v\n", err)
					continue
				}
				complete(&ev, i+1)
				out := nativetest.Line(&ev)
				schematest.Validate(t, out)
				got.Write(out)
				got.WriteByte('\n')
			}
			golden := filepath.Join("testdata", "golden", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
				for i := 0; i < max(len(gl), len(wl)); i++ {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Errorf("%s line %d differs:\n got: %s\nwant: %s", golden, i+1, g, w)
					}
				}
			}
		})
	}
}
