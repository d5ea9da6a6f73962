package docgen

import (
	"strings"
	"testing"
)

// The generator reads a real options struct: keys in declaration order,
// nested objects dotted, types, defaults and doc comments.
func TestKeysOfTestOptions(t *testing.T) {
	g := New("../..", nil)
	keys, err := g.Keys(&testOptions{Name: "x", Limit: 3 << 20, Every: 90_000_000_000, Inner: testInner{On: true}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Key{}
	var order []string
	for _, k := range keys {
		got[k.Path] = k
		order = append(order, k.Path)
	}
	if strings.Join(order, " ") != "name limit every inner inner.on list list[].n" {
		t.Fatalf("keys %v", order)
	}
	for path, want := range map[string]Key{
		"name":     {Type: "string", Default: "x", Doc: "what it is called."},
		"limit":    {Type: "size", Default: "3MiB", Doc: "the most it takes."},
		"every":    {Type: "duration", Default: "1m30s", Doc: "how often."},
		"inner.on": {Type: "boolean", Default: "true", Doc: "turns it on."},
		"list[].n": {Type: "integer", Default: "0", Doc: "a number."},
		"list":     {Type: "list of objects", Doc: "has several."},
	} {
		k := got[path]
		if k.Type != want.Type || k.Default != want.Default || k.Doc != want.Doc {
			t.Errorf("%s: %+v, want %+v", path, k, want)
		}
	}
}

func TestReplace(t *testing.T) {
	page := []byte("# T\n\nprose\n\n<!-- BEGIN GENERATED old text -->\nold\n<!-- END GENERATED -->\n\nmore\n")
	out, err := Replace(page, "new\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# T\n\nprose\n\n" + BeginMarker + "\n\nnew\n\n" + EndMarker + "\n\nmore\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	again, _ := Replace(out, "new\n")
	if string(again) != want {
		t.Error("Replace is not idempotent")
	}
	appended, _ := Replace([]byte("# T\n"), "b\n")
	if !strings.HasSuffix(string(appended), EndMarker+"\n") {
		t.Errorf("no markers: %s", appended)
	}
	if _, err := Replace([]byte(EndMarker+"\n<!-- BEGIN GENERATED -->"), "x"); err == nil {
		t.Error("markers out of order: want an error")
	}
	if _, err := Replace(append(out, out...), "x"); err == nil {
		t.Error("two blocks: want an error")
	}
}

func TestMissingKeys(t *testing.T) {
	sample := []byte("inputs:\n  - type: t\n    name: x\n    # limit: 1MiB\n    ## prose: not a key\n    # inner:\n    #   on: true\n")
	keys := []Key{{Path: "name"}, {Path: "limit"}, {Path: "every"}, {Path: "inner"}, {Path: "inner.on"}, {Path: "list[].n"}, {Path: "prose"}}
	missing, err := MissingKeys(sample, "inputs", keys)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(missing, " ") != "every prose" {
		t.Errorf("missing %v", missing)
	}
}

func TestRel(t *testing.T) {
	for _, c := range [][3]string{
		{"inputs/snort/README.md", "inputs/unixsock/README.md", "../unixsock/README.md"},
		{"outputs/kafka/README.md", "docs/tls.md", "../../docs/tls.md"},
		{"docs/delivery.md", "docs/tls.md", "tls.md"},
		{"README.md", "docs/tls.md", "docs/tls.md"},
	} {
		if got := rel(c[0], c[1]); got != c[2] {
			t.Errorf("rel(%s, %s) = %s, want %s", c[0], c[1], got, c[2])
		}
	}
}
