package outputs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/elasticsearch"
	"github.com/alertgw/alertgw/outputs/graphite"
	"github.com/alertgw/alertgw/outputs/http"
	"github.com/alertgw/alertgw/outputs/kafka"
	"github.com/alertgw/alertgw/outputs/postgres"
	"github.com/alertgw/alertgw/outputs/splunkhec"
	"github.com/alertgw/alertgw/outputs/syslog"
	"github.com/alertgw/alertgw/outputs/unix"
)

// TestDocumentedConfigs decodes and validates every output block in the
// delivery and writer pages' YAML examples and in examples/alertgw/, so the
// documentation cannot drift from the options.
func TestDocumentedConfigs(t *testing.T) {
	root := filepath.Join("..")
	plugins := map[string]outputs.Plugin{}
	for _, p := range []outputs.Plugin{elasticsearch.Plugin, graphite.Plugin, http.Plugin, kafka.Plugin,
		postgres.Plugin, splunkhec.Plugin, syslog.Plugin, unix.Plugin} {
		plugins[p.Type] = p
	}
	yamlBlock := regexp.MustCompile("(?s)```yaml\n(outputs:.*?)```")
	var configs []string
	for _, doc := range []string{"delivery", "kafka", "postgres", "elasticsearch", "splunk_hec", "http", "syslog", "unix", "graphite"} {
		raw, err := os.ReadFile(filepath.Join(root, "docs", "outputs", doc+".md"))
		if err != nil {
			t.Fatal(err)
		}
		blocks := yamlBlock.FindAllSubmatch(raw, -1)
		if len(blocks) == 0 {
			t.Errorf("%s.md: no yaml example starting with outputs:", doc)
		}
		for i, m := range blocks {
			p := filepath.Join(t.TempDir(), doc+"-"+string(rune('a'+i))+".yaml")
			if err := os.WriteFile(p, m[1], 0o600); err != nil {
				t.Fatal(err)
			}
			configs = append(configs, p)
		}
	}
	examples, _ := filepath.Glob(filepath.Join(root, "examples", "alertgw", "*.yaml"))
	configs = append(configs, examples...)
	checked := map[string]int{}
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
			checked[b.Type]++
		}
	}
	t.Logf("checked %v", checked)
	for typ := range plugins {
		if checked[typ] == 0 {
			t.Errorf("no documented example of output %s was checked", typ)
		}
	}
}
