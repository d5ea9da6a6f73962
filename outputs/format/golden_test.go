package format

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alertgw/alertgw/internal/rawjson"
	"github.com/alertgw/alertgw/internal/schematest"
)

var update = flag.Bool("update", false, "rewrite golden files and docs/formats.md from the current code")

// TestGolden encodes every reference event in every registered format and
// compares with testdata/golden/<event>.<format>.json (indented for review;
// the encoder's own output is one compact line).
func TestGolden(t *testing.T) {
	for _, name := range Names() {
		enc, _ := Lookup(name)
		for _, ref := range referenceEvents() {
			t.Run(name+"/"+ref.name, func(t *testing.T) {
				line := enc.AppendEvent(nil, ref.ev)
				if !json.Valid(line) {
					t.Fatalf("invalid JSON: %s", line)
				}
				if bytes.IndexByte(line, '\n') >= 0 {
					t.Fatalf("output has a newline: %s", line)
				}
				assertNoDuplicateKeys(t, line)
				if name == "native" {
					// the enrichment fields included: docs/schema/event-v1.json
					schematest.Validate(t, line)
				}
				var pretty bytes.Buffer
				if err := json.Indent(&pretty, line, "", "  "); err != nil {
					t.Fatal(err)
				}
				pretty.WriteByte('\n')
				path := filepath.Join("testdata", "golden", ref.name+"."+name+".json")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./outputs/format -run TestGolden -update)", err)
				}
				if !bytes.Equal(pretty.Bytes(), want) {
					t.Errorf("%s differs from the encoder's output:\n%s", path, pretty.Bytes())
				}
			})
		}
	}
}

// assertNoDuplicateKeys fails when any object in doc repeats a key: JSON
// decoders disagree on which one wins, so an encoder must never write one.
func assertNoDuplicateKeys(t *testing.T, doc []byte) {
	t.Helper()
	for _, k := range duplicateKeys(doc) {
		t.Errorf("duplicate key %q in %s", k, doc)
	}
}

// assertNoNewDuplicateKeys allows in doc only the duplicate keys the
// native encoding of the same event has: those are the source's own (a
// sensor record that repeats a key, kept verbatim in details), not ones
// the encoder made.
func assertNoNewDuplicateKeys(t *testing.T, doc, native []byte) {
	t.Helper()
	allowed := map[string]int{}
	for _, k := range duplicateKeys(native) {
		allowed[k]++
	}
	for _, k := range duplicateKeys(doc) {
		if allowed[k] == 0 {
			t.Errorf("duplicate key %q in %s", k, doc)
		}
		allowed[k]--
	}
}

// duplicateKeys lists every key that repeats within its object (keys
// compared once their escapes are decoded, as a JSON decoder compares
// them). doc must be valid JSON: check it first.
func duplicateKeys(doc []byte) []string {
	var dups []string
	var walk func(v []byte, depth int)
	walk = func(v []byte, depth int) {
		if depth > 10000 {
			return
		}
		switch rawjson.Kind(v) {
		case '{':
			var seen []string
			var big map[string]bool // for the objects with many keys (stats)
			for it := rawjson.Members(v); ; {
				k, val, ok := it.Next()
				if !ok {
					break
				}
				name := string(rawjson.Unquote(k, nil))
				switch {
				case big != nil:
					if big[name] {
						dups = append(dups, name)
					}
					big[name] = true
				case slices.Contains(seen, name):
					dups = append(dups, name)
				default:
					if seen = append(seen, name); len(seen) > 32 {
						big = map[string]bool{}
						for _, s := range seen {
							big[s] = true
						}
					}
				}
				walk(val, depth+1)
			}
		case '[':
			for it := rawjson.Elements(v); ; {
				val, ok := it.Next()
				if !ok {
					break
				}
				walk(val, depth+1)
			}
		}
	}
	walk(bytes.TrimSpace(doc), 0)
	return dups
}

func TestDuplicateKeys(t *testing.T) {
	for doc, want := range map[string]string{
		`{"a":1,"b":{"a":2,"c":[{"d":1,"d":2}]},"\u0061":3}`: "d,a",
		`{"a":{"x":1},"b":{"x":1}}`:                          "",
		`[{"k":1,"k":2,"k":3}]`:                              "k,k",
	} {
		if got := strings.Join(duplicateKeys([]byte(doc)), ","); got != want {
			t.Errorf("%s: %q, want %q", doc, got, want)
		}
	}
	var many strings.Builder
	many.WriteString(`{"x":0`)
	for i := range 40 {
		fmt.Fprintf(&many, `,"k%d":%d`, i, i)
	}
	many.WriteString(`,"x":1,"k39":2}`)
	if got := strings.Join(duplicateKeys([]byte(many.String())), ","); got != "x,k39" {
		t.Errorf("40 keys: %q", got)
	}
}
