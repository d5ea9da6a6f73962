package main

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// yamlBlock is a fenced YAML example in a Markdown page.
var yamlBlock = regexp.MustCompile("(?s)```ya?ml\n(.*?)```")

// envRef finds a ${VAR} reference without a default.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// configKey finds a top-level key of an alertgw configuration.
var configKey = regexp.MustCompile(`(?m)^(inputs|outputs|pipeline|dead_letter|admin|run_as):`)

// TestDocumentedConfigs keeps the documentation honest: every alertgw
// configuration shipped in examples/, and every YAML example in README.md
// and docs/ that configures inputs or outputs, passes the same checks as
// `alertgw validate` (a snippet may show only inputs or only outputs).
func TestDocumentedConfigs(t *testing.T) {
	root := filepath.Join("..", "..")
	type sample struct{ name, yaml string }
	var samples []sample
	filepath.WalkDir(filepath.Join(root, "examples"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if configKey.Match(b) && !strings.Contains(string(b), "apiVersion:") && !strings.Contains(string(b), "eve-log:") {
			samples = append(samples, sample{path, string(b)})
		}
		return nil
	})
	docs := []string{filepath.Join(root, "README.md")}
	filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".md") {
			docs = append(docs, path)
		}
		return err
	})
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range yamlBlock.FindAllSubmatch(b, -1) {
			if configKey.Match(m[1]) && !strings.Contains(string(m[1]), "eve-log:") {
				samples = append(samples, sample{doc + "#" + string(rune('a'+i)), string(m[1])})
			}
		}
	}
	if len(samples) < 20 {
		t.Fatalf("found only %d configuration samples", len(samples))
	}
	// Examples take secrets from the environment (${ES_API_KEY}): give
	// each variable they reference a value, as the reader would.
	for _, s := range samples {
		for _, m := range envRef.FindAllStringSubmatch(s.yaml, -1) {
			if _, set := os.LookupEnv(m[1]); !set {
				t.Setenv(m[1], "example-"+strings.ToLower(m[1]))
			}
		}
	}
	dir := t.TempDir()
	seen := map[string]bool{}
	for i, s := range samples {
		path := filepath.Join(dir, filepath.Base(s.name)+string(rune('a'+i%26))+".yaml")
		if err := os.WriteFile(path, []byte(s.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		f, _, _, probs, err := loadConfig(path)
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		for _, b := range append(f.Inputs, f.Outputs...) {
			seen[b.Type] = true
		}
		for _, p := range probs {
			switch {
			case p.Path == "inputs" || p.Path == "outputs": // a snippet showing one side only
			case strings.HasSuffix(p.Path, "socket_group") && strings.Contains(p.Msg, "unknown group"):
				// names a group of the reader's machine (suricata, snort)
			default:
				t.Errorf("%s: %s", s.name, p)
			}
		}
	}
	for _, typ := range append(slices.Collect(maps.Keys(inputPlugins)), slices.Collect(maps.Keys(outputPlugins))...) {
		if !seen[typ] {
			t.Errorf("type %s has no example in docs/ or examples/", typ)
		}
	}
	t.Logf("checked %d configuration samples", len(samples))
}
