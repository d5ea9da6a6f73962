package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnrichSectionDecoded checks that the top-level enrich: section is
// decoded by the enrich package's options, with problems at their key
// paths, and that a good section adds none.
func TestEnrichSectionDecoded(t *testing.T) {
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "alertgw.yaml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write(`
enrich:
  networks:
    home_net: [10.0.0.0/8, bogus]
  internal: [home_net, nope]
  observer: {kubernetes: maybe, sitee: x}
`)
	_, _, _, probs, err := loadConfig(bad)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range probs {
		if strings.HasPrefix(p.Path, "enrich") {
			got = append(got, p.Path)
		}
	}
	for _, want := range []string{"enrich.networks.home_net[1]", "enrich.internal[1]", "enrich.observer.kubernetes", "enrich.observer.sitee"} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("no problem at %s; enrich problems: %v", want, got)
		}
	}

	good := write(`
enrich:
  networks:
    home_net: [10.0.0.0/8, "fd00::/8"]
    dmz: [203.0.113.0/24]
  internal: [home_net]
  observer: {site: fra1, environment: prod}
`)
	_, _, _, probs, err = loadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		if strings.HasPrefix(p.Path, "enrich") {
			t.Errorf("good section: %v", p)
		}
	}
}

// TestEnrichDocsAndExamplesDecode keeps docs/enrich.md's first YAML block
// and the example configuration valid as the options change.
func TestEnrichDocsAndExamplesDecode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/enrich.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/enrich.md has no yaml block")
	}
	docCfg := filepath.Join(t.TempDir(), "doc.yaml")
	if err := os.WriteFile(docCfg, []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{docCfg, "../../examples/alertgw/ecs-ocsf-enrich.yaml"} {
		f, _, _, probs, err := loadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Enrich == nil {
			t.Errorf("%s: no enrich section decoded", path)
		}
		for _, p := range probs {
			if strings.HasPrefix(p.Path, "enrich") {
				t.Errorf("%s: %v", path, p)
			}
		}
	}
}
