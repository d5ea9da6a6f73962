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
