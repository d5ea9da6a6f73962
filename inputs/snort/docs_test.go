package snort

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/alertgw/alertgw/config"
)

// Every snort block in the doc's YAML examples and in examples/alertgw/
// decodes and validates.
func TestDocumentedConfigs(t *testing.T) {
	root := filepath.Join("..", "..")
	var configs []string
	raw, err := os.ReadFile(filepath.Join(root, "docs/inputs/snort.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("(?s)```yaml\n(inputs:.*?)```").FindAllSubmatch(raw, -1) {
		p := filepath.Join(t.TempDir(), "doc.yaml")
		os.WriteFile(p, m[1], 0o600)
		configs = append(configs, p)
	}
	examples, _ := filepath.Glob(filepath.Join(root, "examples", "alertgw", "*.yaml"))
	configs = append(configs, examples...)
	checked := 0
	for _, path := range configs {
		f, _, err := config.Load(path, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, b := range f.Inputs {
			if b.Type != Plugin.Type {
				continue
			}
			o := Plugin.Options().(*Options)
			if probs := config.DecodeBlock(b, o); len(probs) > 0 {
				t.Errorf("%s: %v", path, probs.Err())
			}
			checked++
		}
	}
	if checked < 4 {
		t.Errorf("checked %d snort blocks, want the doc's and the examples' (4)", checked)
	}
}
