package main

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestSuricataExamples keeps examples/suricata/ working: the alertgw
// configurations validate, and the eve-log snippets name the socket type
// and the packaged socket path (absolute: see TestRealSuricataWithExample).
func TestSuricataExamples(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "suricata")
	cfgs, _ := filepath.Glob(filepath.Join(dir, "alertgw-*.yaml"))
	if len(cfgs) < 2 {
		t.Fatalf("found %d alertgw configurations in %s", len(cfgs), dir)
	}
	for _, c := range cfgs {
		_, ins, _, probs, err := loadConfig(c)
		if err != nil || len(probs) > 0 || len(ins) != 1 {
			t.Errorf("%s: %v %v (%d inputs)", c, err, probs, len(ins))
		}
	}
	for file, filetype := range map[string]string{"eve-unix-dgram.yaml": "unix_dgram", "eve-unix-stream.yaml": "unix_stream"} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Outputs []map[string]struct {
				Filetype string `yaml:"filetype"`
				Filename string `yaml:"filename"`
			} `yaml:"outputs"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(doc.Outputs) != 1 {
			t.Fatalf("%s: %d outputs", file, len(doc.Outputs))
		}
		eve := doc.Outputs[0]["eve-log"]
		if eve.Filetype != filetype || eve.Filename != "/run/alertgw/suricata.sock" {
			t.Errorf("%s: filetype %q filename %q", file, eve.Filetype, eve.Filename)
		}
	}
}
