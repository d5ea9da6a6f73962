package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/alertgw/alertgw/inputs/sigfiles"
	"github.com/alertgw/alertgw/inputs/unixsock"
	"github.com/alertgw/alertgw/internal/docgen"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/pipeline"
)

// writeDocs makes TestGeneratedDocs write the pages instead of comparing
// them: `make docs`.
var writeDocs = flag.Bool("write-docs", false, "write the generated documentation (make docs)")

// fragments are the sets of keys several plugins share, each documented
// once on its own page.
func fragments() map[reflect.Type]*docgen.Fragment {
	return map[reflect.Type]*docgen.Fragment{
		reflect.TypeFor[unixsock.Options](): {Name: "the shared Unix socket options", Page: "inputs/unixsock/README.md"},
		reflect.TypeFor[sigfiles.Files]():   {Name: "the signature-map files", Page: "inputs/sigfiles/README.md"},
		reflect.TypeFor[outputs.TLS]():      {Name: "the TLS client options", Page: "docs/tls.md"},
	}
}

// fragmentDefaults return a fragment's options with their defaults.
var fragmentDefaults = map[reflect.Type]func() any{
	reflect.TypeFor[unixsock.Options](): func() any { o := unixsock.DefaultOptions(); return &o },
	reflect.TypeFor[sigfiles.Files]():   func() any { return &sigfiles.Files{} },
	reflect.TypeFor[outputs.TLS]():      func() any { return &outputs.TLS{} },
}

// generatedPages returns every page the generator writes, by path relative
// to the module root, with its new content.
func generatedPages(t *testing.T, root string) map[string][]byte {
	t.Helper()
	g := docgen.New(root, fragments())
	pages := map[string][]byte{}
	block := func(page, content string) {
		old, err := os.ReadFile(filepath.Join(root, page))
		if err != nil {
			t.Fatal(err)
		}
		b, err := docgen.Replace(old, content)
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		pages[page] = b
	}
	for _, p := range registeredPlugins() {
		var opts any
		common := ""
		if p.kind == "input" {
			opts = inputPlugins[p.typ].Options()
			common = "Every input block also has `name` (default: the type), `type` and `community_id` " +
				"(its own Community ID seed): [docs/configuration.md](" + relPath(p.dir, "docs/configuration.md") + ")."
		} else {
			opts = outputPlugins[p.typ].Options()
			common = "Every output block also has `name` (default: the type), `type`, the delivery keys `format`, " +
				"`buffer.*`, `batch.*`, `retry.*` ([docs/delivery.md](" + relPath(p.dir, "docs/delivery.md") + ")) " +
				"and the routing keys `from`, `filter`, `aggregate` ([docs/pipeline.md](" + relPath(p.dir, "docs/pipeline.md") + "))."
		}
		keys, err := g.Keys(opts)
		if err != nil {
			t.Fatalf("%s %s: %v", p.kind, p.typ, err)
		}
		page := p.dir + "/README.md"
		block(page, docgen.PluginBlock(p.sample, keys, page, common))
	}
	for typ, fr := range fragments() {
		keys, err := g.Keys(fragmentDefaults[typ]())
		if err != nil {
			t.Fatal(err)
		}
		block(fr.Page, docgen.Table(keys, fr.Page))
	}
	keys, err := g.Keys(pipeline.DefaultDelivery())
	if err != nil {
		t.Fatal(err)
	}
	block("docs/delivery.md", docgen.Table(keys, "docs/delivery.md"))
	block("docs/plugins.md", pluginIndex())
	return pages
}

func relPath(dir, target string) string {
	return strings.Repeat("../", strings.Count(dir, "/")+1) + target
}

// TestGeneratedDocs fails when a generated block of a page differs from
// what the generator writes from the code (run `make docs`), or when a
// plugin's sample.yaml leaves out one of its keys (set or commented out).
func TestGeneratedDocs(t *testing.T) {
	root := filepath.Join("..", "..")
	for page, want := range generatedPages(t, root) {
		path := filepath.Join(root, page)
		got, _ := os.ReadFile(path)
		if bytes.Equal(got, want) {
			continue
		}
		if *writeDocs {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", page)
			continue
		}
		t.Errorf("%s differs from what `make docs` writes: run make docs", page)
	}
	g := docgen.New(root, fragments())
	shared := []any{pipeline.DefaultDelivery()}
	for _, def := range fragmentDefaults {
		shared = append(shared, def())
	}
	for _, opts := range shared {
		keys, err := g.Keys(opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if k.Doc == "" {
				t.Errorf("%T: key %s has no doc comment", opts, k.Path)
			}
		}
	}
	for _, p := range registeredPlugins() {
		var opts any
		if p.kind == "input" {
			opts = inputPlugins[p.typ].Options()
		} else {
			opts = outputPlugins[p.typ].Options()
		}
		keys, err := g.Keys(opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if k.Fragment == nil && k.Doc == "" {
				t.Errorf("%s %s: key %s has no doc comment on its options field", p.kind, p.typ, k.Path)
			}
		}
		missing, err := docgen.MissingKeys(p.sample, p.kind+"s", keys)
		if err != nil {
			t.Errorf("%s/sample.yaml: %v", p.dir, err)
		}
		for _, k := range missing {
			t.Errorf("%s/sample.yaml does not mention %s (set it or leave it commented out with its default)", p.dir, k)
		}
	}
}

// pluginIndex is docs/plugins.md's table of every type.
func pluginIndex() string {
	var b strings.Builder
	b.WriteString("## Inputs\n\n| type | what it reads | `alertgw replay` |\n|---|---|---|\n")
	for _, p := range registeredPlugins() {
		if p.kind != "input" {
			continue
		}
		replay := ""
		if inputPlugins[p.typ].Files != nil {
			replay = "yes"
		}
		fmt.Fprintf(&b, "| [`%s`](../%s/README.md) | %s | %s |\n", p.typ, p.dir, inputPlugins[p.typ].Summary, replay)
	}
	b.WriteString("\n## Outputs\n\n| type | what it writes |\n|---|---|\n")
	for _, p := range registeredPlugins() {
		if p.kind == "output" {
			fmt.Fprintf(&b, "| [`%s`](../%s/README.md) | %s |\n", p.typ, p.dir, outputPlugins[p.typ].Summary)
		}
	}
	return b.String()
}
