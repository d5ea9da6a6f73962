package main

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// alertgw plugins lists every registered type with its summary.
func TestPluginsCommand(t *testing.T) {
	var b bytes.Buffer
	writePlugins(&b)
	out := b.String()
	for _, typ := range append(slices.Collect(maps.Keys(inputPlugins)), slices.Collect(maps.Keys(outputPlugins))...) {
		if !strings.Contains(out, "  "+typ+" ") {
			t.Errorf("%s missing:\n%s", typ, out)
		}
	}
	if !strings.Contains(out, inputPlugins["suricata"].Summary) || !strings.Contains(out, outputPlugins["file"].Summary) {
		t.Errorf("summaries missing:\n%s", out)
	}
}

// alertgw config sample: one type gives its sample.yaml as it is; several
// merge into one configuration that validates with every block.
func TestConfigSample(t *testing.T) {
	one, err := configSample([]string{"file"})
	if err != nil || !bytes.Equal(one, outputPlugins["file"].Sample) {
		t.Fatalf("one type: %v\n%s", err, one)
	}
	all := append(slices.Sorted(maps.Keys(inputPlugins)), slices.Sorted(maps.Keys(outputPlugins))...)
	merged, err := configSample(append(all, "file")) // a repeated type is given once
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "alertgw.yaml")
	os.WriteFile(path, merged, 0o600)
	f, ins, outs, probs, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != len(inputPlugins) || len(outs) != len(outputPlugins) || len(f.Inputs)+len(f.Outputs) != len(all) {
		t.Errorf("%d inputs, %d outputs from:\n%s", len(ins), len(outs), merged)
	}
	for _, p := range probs {
		t.Errorf("merged sample: %s", p)
	}
	if _, err := configSample([]string{"nope"}); err == nil || !strings.Contains(err.Error(), "unknown type") {
		t.Errorf("unknown type: %v", err)
	}
}
