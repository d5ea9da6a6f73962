// Package archtest holds the test of the one-way import rule of
// docs/architecture.md: it fails when a package imports against it.
package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/alertgw/alertgw"

// cliOnly are the helpers only the CLI and the pipeline wiring use.
var cliOnly = []string{"internal/admin", "internal/enrich", "internal/loadgen", "internal/privdrop", "internal/docgen"}

// testHelpers are the packages made for tests (and the benchmark
// programs under bench/).
var testHelpers = []string{"internal/testutil", "internal/nativetest", "internal/schematest", "internal/snortgold",
	"internal/pgtest", "internal/cputime", "store/storetest"}

// rule forbids imports from the packages From matches to those To
// matches. Test files are held to it too unless ProdOnly.
type rule struct {
	Why      string
	From, To func(pkg string) bool
	ProdOnly bool
}

func under(prefixes ...string) func(string) bool {
	return func(pkg string) bool {
		for _, p := range prefixes {
			if pkg == p || strings.HasPrefix(pkg, p+"/") {
				return true
			}
		}
		return false
	}
}

func not(f func(string) bool) func(string) bool { return func(p string) bool { return !f(p) } }

func anyPkg(string) bool { return true }

var rules = []rule{
	{Why: "normalize is pure: it imports only normalize/... (its tests also the test helpers)",
		From: under("normalize"), To: func(p string) bool { return !under("normalize")(p) && !under(testHelpers...)(p) }},
	{Why: "normalize's production code imports no test helper",
		From: under("normalize"), To: under(testHelpers...), ProdOnly: true},
	{Why: "config and stats are leaves", From: under("config", "stats"), To: anyPkg},
	{Why: "inputs never import outputs or the pipeline", From: under("inputs"), To: under("outputs", "pipeline"), ProdOnly: true},
	{Why: "outputs never import inputs or the pipeline", From: under("outputs"), To: under("inputs", "pipeline"), ProdOnly: true},
	{Why: "the pipeline knows the contracts (and what they are made of), never a plugin (plugins are wired in cmd/alertgw)",
		From: under("pipeline"), To: func(p string) bool {
			return under("inputs", "outputs")(p) && !contract[p]
		}, ProdOnly: true},
	{Why: "nothing imports a command", From: not(under("cmd")), To: under("cmd")},
	{Why: "the CLI's helpers are the CLI's",
		From: func(p string) bool {
			return under("normalize", "config", "stats", "inputs", "outputs", "pipeline", "query", "store", "console")(p) && !under(testHelpers...)(p)
		},
		To: under(cliOnly...), ProdOnly: true},
	{Why: "production code imports no test helper (the benchmark programs under bench/ may)", From: not(under(append([]string{"bench"}, testHelpers...)...)),
		To: under(testHelpers...), ProdOnly: true},
	{Why: "the query language is below the plugins (it may use the event encoders)", From: under("query"),
		To: func(p string) bool {
			return under("inputs", "outputs", "pipeline", "config", "store", "console")(p) && p != "outputs/format"
		}},
	{Why: "the store answers questions in the query language about events: it knows no plugin, pipeline, configuration or console (a test may write through an output)",
		From: under("store"), To: func(p string) bool {
			return under("inputs", "outputs", "pipeline", "config", "console")(p) && p != "outputs/format"
		}, ProdOnly: true},
	{Why: "the store's contract (package store) knows no backend", From: func(p string) bool { return p == "store" },
		To: under("store/sqlite", "store/postgres", "store/api")},
	{Why: "the console reads a store.Reader: no backend, plugin or pipeline (cmd/alertgw wires them); it may use the event encoders (ECS and OCSF export)",
		From: under("console"), To: func(p string) bool {
			return under("inputs", "outputs", "pipeline", "store/sqlite", "store/postgres")(p) && p != "outputs/format"
		}, ProdOnly: true},
	{Why: "only the CLI starts the console", From: not(under("console", "cmd")), To: under("console")},
}

// contract is the plugin contracts (inputs, outputs and the encoders) and
// the module packages their production code imports (inputs/journal: a
// Batch carries its journal position): what the pipeline may import.
var contract = map[string]bool{"inputs": true, "outputs": true, "outputs/format": true}

// edge is one import of a module package by a Go file.
type edge struct {
	file, from, to string
	test           bool
}

// TestImportRules parses the imports of every Go file of the module and
// checks them against rules.
func TestImportRules(t *testing.T) {
	root := filepath.Join("..", "..")
	files := 0
	var edges []edge
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "bin", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		from := filepath.ToSlash(rel)
		isTest := strings.HasSuffix(path, "_test.go")
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			to, ok := strings.CutPrefix(p, module+"/")
			if !ok || to == from {
				continue
			}
			edges = append(edges, edge{strings.TrimPrefix(path, root+string(os.PathSeparator)), from, to, isTest})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 200 || len(edges) < 300 {
		t.Fatalf("read only %d files, %d imports", files, len(edges))
	}
	for _, e := range edges {
		if !e.test && (e.from == "inputs" || e.from == "outputs") {
			contract[e.to] = true
		}
	}
	for _, e := range edges {
		for _, r := range rules {
			if (r.ProdOnly && e.test) || !r.From(e.from) || !r.To(e.to) {
				continue
			}
			t.Errorf("%s imports %s: %s (docs/architecture.md)", e.file, e.to, r.Why)
		}
	}
	t.Logf("%d files, %d imports of module packages", files, len(edges))
}

// TestRulesCatch makes sure the rules catch what they are for.
func TestRulesCatch(t *testing.T) {
	for _, c := range []struct {
		from, to string
		test     bool
		bad      bool
	}{
		{"normalize/eve", "outputs/format", true, true},
		{"normalize/eve", "internal/nativetest", true, false},
		{"normalize/eve", "internal/nativetest", false, true},
		{"normalize/snort", "normalize/sigmap", false, false},
		{"normalize/sigmap", "inputs/sigfiles", false, true},
		{"inputs/snort", "outputs", false, true},
		{"inputs/snort", "pipeline", true, false},
		{"outputs/file", "inputs", false, true},
		{"pipeline", "outputs/kafka", false, true},
		{"pipeline", "outputs/format", false, false},
		{"pipeline", "pipeline/diskbuf", false, false},
		{"config", "normalize", false, true},
		{"internal/admin", "cmd/alertgw", false, true},
		{"inputs/unixsock", "internal/admin", false, true},
		{"cmd/alertgw", "internal/admin", false, false},
		{"outputs/store", "store/sqlite", false, false},
		{"store/sqlite", "outputs/store", false, true},
		{"store/postgres", "outputs/postgres", true, false},
		{"store/postgres", "outputs/postgres", false, true},
		{"store", "store/sqlite", false, true},
		{"store/storetest", "internal/loadgen", false, false},
		{"bench/storebench", "store/storetest", false, false},
		{"store/sqlite", "internal/pgtest", false, true},
		{"console", "store", false, false},
		{"console", "store/sqlite", false, true},
		{"console", "store/sqlite", true, false},
		{"console", "pipeline", false, true},
		{"outputs/store", "console", false, true},
		{"query", "store", false, true},
	} {
		bad := false
		for _, r := range rules {
			if (!r.ProdOnly || !c.test) && r.From(c.from) && r.To(c.to) {
				bad = true
			}
		}
		if bad != c.bad {
			t.Errorf("%s -> %s (test %v): forbidden=%v, want %v", c.from, c.to, c.test, bad, c.bad)
		}
	}
}
