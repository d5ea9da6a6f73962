package elasticsearch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

var update = flag.Bool("update", false, "regenerate templates/*.json from the ECS field definitions and the native JSON Schema")

// esType is the Elasticsearch type for an ECS type, limited to what
// Elasticsearch 8 and OpenSearch 2 both know.
func esType(ecs string) map[string]any {
	switch ecs {
	case "keyword", "wildcard", "constant_keyword":
		return map[string]any{"type": "keyword", "ignore_above": 1024}
	case "match_only_text", "text":
		return map[string]any{"type": "text"}
	case "scaled_float", "half_float":
		return map[string]any{"type": "float"}
	case "flattened", "object":
		return map[string]any{"type": "object"}
	}
	return map[string]any{"type": ecs}
}

// setPath puts leaf at a dotted path of nested "properties".
func setPath(props map[string]any, field string, leaf map[string]any) {
	parts := strings.Split(field, ".")
	for _, p := range parts[:len(parts)-1] {
		child, _ := props[p].(map[string]any)
		if child == nil {
			child = map[string]any{}
			props[p] = child
		}
		sub, _ := child["properties"].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
			child["properties"] = sub
		}
		props = sub
	}
	last := parts[len(parts)-1]
	if existing, ok := props[last].(map[string]any); ok && existing["properties"] != nil {
		return // an object with fields of its own: keep them
	}
	props[last] = leaf
}

// stringsAsKeyword maps strings the template does not name (the sensors'
// own fields: suricata.eve.*, details.*) as keyword, not text.
var stringsAsKeyword = []any{map[string]any{"strings_as_keyword": map[string]any{
	"match_mapping_type": "string",
	"mapping":            map[string]any{"type": "keyword", "ignore_above": 1024},
}}}

func generateECS(t *testing.T) []byte {
	b, err := os.ReadFile(filepath.Join("..", "format", "testdata", "schemas", "ecs-"+format.ECSVersion+"-subset.json"))
	if err != nil {
		t.Fatal(err)
	}
	var defs struct {
		Fields map[string]struct{ Type string } `json:"fields"`
	}
	if err := json.Unmarshal(b, &defs); err != nil {
		t.Fatal(err)
	}
	props := map[string]any{}
	names := make([]string, 0, len(defs.Fields))
	for n := range defs.Fields {
		names = append(names, n)
	}
	sort.Strings(names) // parents before children
	for _, n := range names {
		setPath(props, n, esType(defs.Fields[n].Type))
	}
	// alertgw's own namespace: network labels from the enrich stage, and
	// the reduction stages' aggregate and transaction objects, written as
	// in the native schema.
	setPath(props, "alertgw.source.networks", esType("keyword"))
	setPath(props, "alertgw.destination.networks", esType("keyword"))
	schema, typeOf := nativeSchema(t)
	nativeProps := schema["properties"].(map[string]any)
	alertgw := props["alertgw"].(map[string]any)["properties"].(map[string]any)
	for _, k := range []string{"aggregate", "transaction"} {
		alertgw[k] = typeOf(nativeProps[k].(map[string]any))
	}
	return marshalMappings(t, props)
}

// nativeSchema loads docs/schema/event-v1.json and returns it with a
// function that maps one of its nodes to an Elasticsearch mapping.
func nativeSchema(t *testing.T) (map[string]any, func(node map[string]any) map[string]any) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "schema", "event-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	var typeOf func(node map[string]any) map[string]any
	typeOf = func(node map[string]any) map[string]any {
		if ref, ok := node["$ref"].(string); ok {
			switch strings.TrimPrefix(ref, "#/$defs/") {
			case "time":
				return map[string]any{"type": "date"}
			case "ip":
				return map[string]any{"type": "ip"}
			case "uint8", "uint16", "uint32", "uint64":
				return map[string]any{"type": "long"}
			}
			// A JSON pointer into the schema (#/$defs/geo, #/properties/action).
			var target any = schema
			for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
				target = target.(map[string]any)[part]
			}
			return typeOf(target.(map[string]any))
		}
		switch node["type"] {
		case "object":
			p, ok := node["properties"].(map[string]any)
			if !ok {
				return map[string]any{"type": "object"} // details: the sensor's own keys
			}
			props := map[string]any{}
			for k, v := range p {
				props[k] = typeOf(v.(map[string]any))
			}
			return map[string]any{"properties": props}
		case "array":
			items, ok := node["items"].(map[string]any)
			if !ok {
				return map[string]any{"type": "object"}
			}
			return typeOf(items)
		case "integer":
			return map[string]any{"type": "long"}
		case "number":
			return map[string]any{"type": "float"}
		case "boolean":
			return map[string]any{"type": "boolean"}
		case "string":
			return esType("keyword")
		}
		if _, ok := node["const"].(float64); ok {
			return map[string]any{"type": "long"}
		}
		return esType("keyword") // enums of strings
	}
	return schema, typeOf
}

func generateNative(t *testing.T) []byte {
	schema, typeOf := nativeSchema(t)
	return marshalMappings(t, typeOf(schema)["properties"].(map[string]any))
}

func marshalMappings(t *testing.T, props map[string]any) []byte {
	b, err := json.MarshalIndent(map[string]any{"dynamic_templates": stringsAsKeyword, "properties": props}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestTemplatesUpToDate: the shipped mappings are what the ECS release's
// definitions and the native JSON Schema say (-update rewrites them).
func TestTemplatesUpToDate(t *testing.T) {
	for name, gen := range map[string]func(*testing.T) []byte{"ecs": generateECS, "native": generateNative} {
		want := gen(t)
		path := filepath.Join("templates", name+".json")
		if *update {
			os.WriteFile(path, want, 0o644)
		}
		if got := mappingsFor(name); !bytes.Equal(got, want) {
			t.Errorf("%s differs from what its definitions generate: go test ./outputs/elasticsearch -run TestTemplatesUpToDate -update", path)
		}
	}
}

// goldenDocs returns the documents alertgw writes in a format for every
// sensor (the format package's golden files), by file: a file is one
// sensor's stream, indexed into one index.
func goldenDocs(t *testing.T, formatName string) [][]string {
	dir := filepath.Join("..", "format", "testdata", "golden")
	var files [][]string
	n := 0
	one, _ := filepath.Glob(filepath.Join(dir, "*."+formatName+".json"))
	for _, f := range one {
		b, _ := os.ReadFile(f)
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		c, _ := json.Marshal(v)
		files = append(files, []string{string(c)})
		n++
	}
	many, _ := filepath.Glob(filepath.Join(dir, "real", "*."+formatName+".jsonl"))
	for _, f := range many {
		fh, _ := os.Open(f)
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 4<<20)
		var docs []string
		for sc.Scan() {
			docs = append(docs, sc.Text())
			n++
		}
		fh.Close()
		files = append(files, docs)
	}
	if n < 5 {
		t.Fatalf("%s: only %d golden documents", formatName, n)
	}
	return files
}

// mapped: the template types p or a field above it (geo_point's lat/lon).
func mapped(typed map[string]bool, p string) bool {
	for {
		if typed[p] {
			return true
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

// leafPaths lists the dotted paths of a document's values.
func leafPaths(v any, at string, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			leafPaths(c, strings.TrimPrefix(at+"."+k, "."), out)
		}
	case []any:
		for _, c := range x {
			leafPaths(c, at, out)
		}
	default:
		out[at] = true
	}
}

// TestTemplateMapsWhatAlertgwWrites puts each shipped template into the
// fake cluster and indexes every golden document of its format (every
// sensor, the real auditd/NFLOG/Snort captures included): none is refused,
// and every field outside the sensors' own namespaces is mapped by the
// template itself (typed as ECS or the native schema says), not guessed by
// dynamic mapping.
func TestTemplateMapsWhatAlertgwWrites(t *testing.T) {
	// Sensor namespaces: the sensor's own fields, mapped dynamically
	// (strings as keyword).
	free := map[string][]string{
		"ecs":    {"suricata.", "snort.", "unified2.", "nflog.", "auditd.", "labels.", "alertgw.transaction.records.details."},
		"native": {"details.", "transaction.records.details."},
	}
	for _, fmtName := range []string{"ecs", "native"} {
		f := newFakeES()
		srv := httptest.NewServer(f)
		body, err := templateBody("alertgw-{kind}-{date:2006.01.02}", false, fmtName, mappingsFor(fmtName))
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("PUT", "/_index_template/alertgw-"+fmtName, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("%s: template refused: %d %s", fmtName, rec.Code, rec.Body)
		}
		srv.Close()
		tmplPaths := map[string]bool{}
		var walk func(m *mapping, at string)
		walk = func(m *mapping, at string) {
			if m.Type != "" && m.Type != "object" {
				tmplPaths[at] = true
			}
			for k, c := range m.Properties {
				walk(c, strings.TrimPrefix(at+"."+k, "."))
			}
		}
		walk(f.templates["alertgw-"+fmtName].Template.Mappings, "")
		files := goldenDocs(t, fmtName)
		for fi, docs := range files {
			index := fmt.Sprintf("alertgw-stream-%d", fi)
			for i, doc := range docs {
				f.mu.Lock()
				err := f.mappingError(index, doc)
				f.mu.Unlock()
				if err != "" {
					t.Errorf("%s document %d of stream %d refused: %s\n%s", fmtName, i, fi, err, doc)
				}
				var v any
				json.Unmarshal([]byte(doc), &v)
				paths := map[string]bool{}
				leafPaths(v, "", paths)
				for p := range paths {
					if !mapped(tmplPaths, p) && !slices.ContainsFunc(free[fmtName], func(ns string) bool { return strings.HasPrefix(p, ns) }) {
						t.Errorf("%s: field %s is not in the template (it would be mapped by guess)", fmtName, p)
					}
				}
			}
		}
		for field, want := range map[string]map[string]string{
			"ecs":    {"@timestamp": "date", "source.ip": "ip", "destination.port": "long", "event.kind": "keyword", "source.geo.location": "geo_point", "network.community_id": "keyword"},
			"native": {"timestamp": "date", "src_ip": "ip", "dest_port": "long", "kind": "keyword", "signature.id": "long", "flow.alerted": "boolean"},
		}[fmtName] {
			got := ""
			for fi := range files {
				if got = f.typeAt(fmt.Sprintf("alertgw-stream-%d", fi), field); got != "" {
					break
				}
			}
			if got != want {
				t.Errorf("%s: %s mapped as %q, want %q", fmtName, field, got, want)
			}
		}
	}
}

// TestTemplateInstalledBeforeDocuments: with template: install (the
// default) the output puts its format's template before its first _bulk,
// so the index gets typed fields; with skip, Elasticsearch guesses (an IP
// address becomes text).
func TestTemplateInstalledBeforeDocuments(t *testing.T) {
	for _, tc := range []struct {
		template, srcIP string
		order           []string
	}{
		{TemplateInstall, "ip", []string{"template alertgw-ecs", "bulk", "bulk"}},
		{TemplateSkip, "text", []string{"bulk", "bulk"}},
	} {
		f := newFakeES()
		srv := httptest.NewServer(f)
		o := Plugin.Options().(*Options)
		o.URLs, o.Template = []string{srv.URL}, tc.template
		w, err := New(outputs.Env{Name: "es", Log: zerolog.Nop(), Stats: &stats.Output{}, Encoder: format.ECS{}}, o)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			b := batch(0, 10)
			for _, e := range b.Events {
				e.SrcIP = mustAddr("203.0.113.5")
				e.DestIP = mustAddr("10.0.0.1")
			}
			if err := w.Write(context.Background(), b); err != nil {
				t.Fatalf("%s: %v", tc.template, err)
			}
		}
		srv.Close()
		if !slices.Equal(f.order, tc.order) {
			t.Errorf("template %s: requests %v, want %v", tc.template, f.order, tc.order)
		}
		if got := f.typeAt("alertgw-alert-2026.11.22", "source.ip"); got != tc.srcIP {
			t.Errorf("template %s: source.ip mapped as %q, want %q", tc.template, got, tc.srcIP)
		}
	}
}

// TestTemplateRefused: a cluster that refuses the template (the API key
// lacks manage_index_templates) gets no document: the write fails, to be
// retried (the output shows as failing, with the hint), and succeeds once
// the template goes in.
func TestTemplateRefused(t *testing.T) {
	f := newFakeES()
	f.templateStatus = 403
	srv := httptest.NewServer(f)
	defer srv.Close()
	w := newOutput(t, srv.URL, func(o *Options) { o.Template = TemplateInstall })
	err := w.Write(context.Background(), batch(0, 5))
	if err == nil || outputs.IsPermanent(err) || !strings.Contains(err.Error(), "manage_index_templates") {
		t.Fatalf("err = %v, want a retryable error naming the privilege", err)
	}
	var pe *outputs.PartialError
	if errors.As(err, &pe) || len(f.docs) != 0 {
		t.Fatalf("documents indexed before the template: %d", len(f.docs))
	}
	f.mu.Lock()
	f.templateStatus = 0
	f.mu.Unlock()
	if err := w.Write(context.Background(), batch(0, 5)); err != nil {
		t.Fatal(err)
	}
	if len(f.docs) != 5 || f.templates["alertgw-native"] == nil {
		t.Errorf("%d documents, templates %v", len(f.docs), f.templates)
	}
}

// TestTemplateBody: the index pattern follows the index option, data
// streams are declared, the ECS version and template version are recorded.
func TestTemplateBody(t *testing.T) {
	b, err := templateBody("logs-alertgw-{kind}", true, "ecs", mappingsFor("ecs"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Patterns   []string       `json:"index_patterns"`
		DataStream map[string]any `json:"data_stream"`
		Meta       map[string]any `json:"_meta"`
	}
	json.Unmarshal(b, &got)
	if !slices.Equal(got.Patterns, []string{"logs-alertgw-*"}) || got.DataStream == nil || got.Meta["ecs_version"] != format.ECSVersion {
		t.Errorf("%s", b)
	}
	if n := templateName("logs-alertgw-{kind}", "ecs"); n != "logs-alertgw-ecs" {
		t.Errorf("name %s", n)
	}
	if mappingsFor("ocsf") != nil {
		t.Error("no template is shipped for ocsf")
	}
}
