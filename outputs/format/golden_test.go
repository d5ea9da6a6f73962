package format

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

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

// duplicateKeys lists every key that repeats within its object.
func duplicateKeys(doc []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(doc))
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // next token in an object is a key
	}
	var stack []*frame
	var dups []string
	for {
		tok, err := dec.Token()
		if err != nil {
			return dups
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k := tok.(string)
			if top.keys[k] {
				dups = append(dups, k)
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		if top != nil && top.obj {
			top.key = true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, key: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}
