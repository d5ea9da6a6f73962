package main

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
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
var configKey = regexp.MustCompile(`(?m)^(inputs|outputs|stages|pipeline|dead_letter|admin|run_as|console):`)

// TestDocumentedConfigs keeps the documentation honest: every alertgw
// configuration shipped in examples/, every plugin's sample.yaml, and every
// YAML example in README.md, docs/ and the plugin folders' README.md that
// configures inputs or outputs, passes the same checks as `alertgw
// validate` (a snippet may show only inputs or only outputs).
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
	for _, p := range registeredPlugins() {
		samples = append(samples, sample{p.dir + "/sample.yaml", string(p.sample)})
	}
	docs := []string{filepath.Join(root, "README.md")}
	for _, dir := range []string{"docs", "inputs", "outputs"} {
		filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(path, ".md") && !strings.Contains(path, "testdata") {
				docs = append(docs, path)
			}
			return err
		})
	}
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

// registered is one registered plugin as the docs tests see it.
type registered struct {
	kind   string // "input" or "output"
	typ    string
	dir    string // its folder, relative to the module root
	sample []byte
}

// registeredPlugins lists every registered plugin with its folder: the
// package that defines its options struct.
func registeredPlugins() []registered {
	var out []registered
	dir := func(opts any) string {
		return strings.TrimPrefix(reflect.TypeOf(opts).Elem().PkgPath(), "github.com/alertgw/alertgw/")
	}
	for _, typ := range slices.Sorted(maps.Keys(inputPlugins)) {
		p := inputPlugins[typ]
		out = append(out, registered{"input", typ, dir(p.Options()), p.Sample})
	}
	for _, typ := range slices.Sorted(maps.Keys(outputPlugins)) {
		p := outputPlugins[typ]
		out = append(out, registered{"output", typ, dir(p.Options()), p.Sample})
	}
	return out
}

// TestPluginFolders checks that every plugin lives in inputs/<dir> or
// outputs/<dir> with its README.md and sample.yaml, that the embedded sample
// is that file, and that it is one working block of the plugin's type.
func TestPluginFolders(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, p := range registeredPlugins() {
		if !strings.HasPrefix(p.dir, p.kind+"s/") || strings.Count(p.dir, "/") != 1 {
			t.Errorf("%s %s lives in %s, not %ss/<name>", p.kind, p.typ, p.dir, p.kind)
		}
		if _, err := os.Stat(filepath.Join(root, p.dir, "README.md")); err != nil {
			t.Errorf("%s %s: %v", p.kind, p.typ, err)
		}
		b, err := os.ReadFile(filepath.Join(root, p.dir, "sample.yaml"))
		if err != nil || !bytes.Equal(b, p.sample) || len(b) == 0 {
			t.Errorf("%s %s: sample.yaml missing or not the embedded sample (%v)", p.kind, p.typ, err)
			continue
		}
		path := filepath.Join(t.TempDir(), "sample.yaml")
		os.WriteFile(path, b, 0o600)
		f, ins, outs, probs, err := loadConfig(path)
		if err != nil {
			t.Errorf("%s/sample.yaml: %v", p.dir, err)
			continue
		}
		blocks := append(f.Inputs, f.Outputs...)
		if len(blocks) != 1 || blocks[0].Type != p.typ || len(ins)+len(outs) != 1 {
			t.Errorf("%s/sample.yaml: want one %s block of type %s", p.dir, p.kind, p.typ)
		}
		for _, pr := range probs {
			if pr.Path != "inputs" && pr.Path != "outputs" {
				t.Errorf("%s/sample.yaml: %s", p.dir, pr)
			}
		}
	}
}

// mdLink is a relative link in a Markdown page: [text](target#anchor).
var mdLink = regexp.MustCompile(`\]\(([^)#\s]+)(#[^)\s]*)?\)`)

// TestDocLinks checks that every relative link of every Markdown page of
// the repository points at a file or folder that exists (pages moved: the
// plugin folders).
func TestDocLinks(t *testing.T) {
	root := filepath.Join("..", "..")
	n := 0
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".md") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllSubmatch(b, -1) {
			target := string(m[1])
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			n++
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), target)); err != nil {
				t.Errorf("%s: broken link %s", path, target)
			}
		}
		return nil
	})
	if n < 50 {
		t.Errorf("found only %d links", n)
	}
}
