package file_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/file"
	"github.com/alertgw/alertgw/outputs/stdout"
)

// TestDocumentedConfigs decodes every file and stdout output block in the
// docs' YAML examples and in examples/alertgw/, so the documentation cannot
// drift from the options.
func TestDocumentedConfigs(t *testing.T) {
	root := filepath.Join("..", "..")
	plugins := map[string]outputs.Plugin{file.Plugin.Type: file.Plugin, stdout.Plugin.Type: stdout.Plugin}
	var configs []string
	yamlBlock := regexp.MustCompile("(?s)```yaml\n(outputs:.*?)```")
	for _, doc := range []string{"docs/outputs/file.md", "docs/outputs/stdout.md"} {
		raw, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		blocks := yamlBlock.FindAllSubmatch(raw, -1)
		if len(blocks) == 0 {
			t.Errorf("%s: no yaml example starting with outputs:", doc)
		}
		for _, m := range blocks {
			p := filepath.Join(t.TempDir(), "doc.yaml")
			if err := os.WriteFile(p, m[1], 0o600); err != nil {
				t.Fatal(err)
			}
			configs = append(configs, p)
		}
	}
	examples, _ := filepath.Glob(filepath.Join(root, "examples", "alertgw", "*.yaml"))
	configs = append(configs, examples...)
	checked := 0
	for _, path := range configs {
		f, _, err := config.Load(path, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, b := range f.Outputs {
			p, ok := plugins[b.Type]
			if !ok {
				continue
			}
			if probs := config.DecodeBlock(b, outputs.DefaultCommon(), p.Options()); len(probs) > 0 {
				t.Errorf("%s: %v", path, probs.Err())
			}
			checked++
		}
	}
	if checked < 4 {
		t.Errorf("checked %d output blocks, want the docs' and examples' (at least 4)", checked)
	}
}
