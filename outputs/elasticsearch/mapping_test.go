package elasticsearch

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"path"
	"sort"
	"strings"
	"time"
)

// The fake cluster's mappings, as Elasticsearch keeps them: an index
// created by a document takes the mappings of the index template whose
// pattern matches its name; fields the mappings do not name are mapped on
// first sight (dynamic mapping, dynamic_templates first); a value that
// does not fit its field's type is refused with mapper_parsing_exception.

type indexTemplate struct {
	Patterns []string `json:"index_patterns"`
	Priority int      `json:"priority"`
	Template struct {
		Mappings *mapping `json:"mappings"`
	} `json:"template"`
	DataStream *struct{}      `json:"data_stream"`
	Meta       map[string]any `json:"_meta"`
}

type mapping struct {
	Type             string              `json:"type,omitempty"`
	Properties       map[string]*mapping `json:"properties,omitempty"`
	Dynamic          any                 `json:"dynamic,omitempty"`
	DynamicTemplates []map[string]struct {
		MatchMappingType string   `json:"match_mapping_type"`
		Mapping          *mapping `json:"mapping"`
	} `json:"dynamic_templates,omitempty"`
	IgnoreAbove int `json:"ignore_above,omitempty"`
}

// esTypes are the field types the fake knows (those alertgw's templates may
// use, on Elasticsearch 8 and OpenSearch 2 alike).
var esTypes = map[string]bool{"keyword": true, "text": true, "long": true, "integer": true, "short": true, "byte": true,
	"unsigned_long": true, "float": true, "double": true, "boolean": true, "date": true, "ip": true, "geo_point": true,
	"object": true, "nested": true}

func (f *fakeES) putTemplate(w http.ResponseWriter, r *http.Request, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.order = append(f.order, "template "+name)
	if r.Method != http.MethodPut || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, `{"error":"bad request"}`, 400)
		return
	}
	if f.templateStatus != 0 {
		http.Error(w, fmt.Sprintf(`{"error":{"type":"security_exception","reason":"action [indices:admin/index_template/put] is unauthorized"},"status":%d}`, f.templateStatus), f.templateStatus)
		return
	}
	body, _ := readAll(r)
	var t indexTemplate
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&t); err != nil {
		http.Error(w, `{"error":{"type":"x_content_parse_exception","reason":"`+err.Error()+`"},"status":400}`, 400)
		return
	}
	if len(t.Patterns) == 0 || t.Template.Mappings == nil {
		http.Error(w, `{"error":{"type":"action_request_validation_exception","reason":"index patterns are missing"},"status":400}`, 400)
		return
	}
	if err := checkTypes(t.Template.Mappings, ""); err != "" {
		http.Error(w, `{"error":{"type":"mapper_parsing_exception","reason":"`+err+`"},"status":400}`, 400)
		return
	}
	f.templates[name] = &t
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"acknowledged":true}`)
}

func checkTypes(m *mapping, at string) string {
	if m.Type != "" && !esTypes[m.Type] {
		return fmt.Sprintf("No handler for type [%s] declared on field [%s]", m.Type, at)
	}
	for k, c := range m.Properties {
		if err := checkTypes(c, strings.TrimPrefix(at+"."+k, ".")); err != "" {
			return err
		}
	}
	return ""
}

// mappingOf returns the mappings of index, creating them from the matching
// template (the highest priority) on first use. Called with f.mu held.
func (f *fakeES) mappingOf(index string) *mapping {
	if m := f.indexMappings[index]; m != nil {
		return m
	}
	m := &mapping{Properties: map[string]*mapping{}}
	best := -1
	for _, t := range f.templates {
		for _, p := range t.Patterns {
			if ok, _ := path.Match(p, index); ok && t.Priority > best {
				best = t.Priority
				b, _ := json.Marshal(t.Template.Mappings)
				m = &mapping{}
				json.Unmarshal(b, m)
			}
		}
	}
	if m.Properties == nil {
		m.Properties = map[string]*mapping{}
	}
	f.indexMappings[index] = m
	return m
}

// mappingError indexes doc's fields into index's mappings and returns
// Elasticsearch's reason when a value does not fit. Called with f.mu held.
func (f *fakeES) mappingError(index, doc string) string {
	var v map[string]any
	d := json.NewDecoder(strings.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return ""
	}
	root := f.mappingOf(index)
	return mapObject(root, root, v, "")
}

func mapObject(root, m *mapping, obj map[string]any, at string) string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := strings.TrimPrefix(at+"."+k, ".")
		if err := mapValue(root, m, k, field, obj[k]); err != "" {
			return err
		}
	}
	return ""
}

func mapValue(root, parent *mapping, key, field string, v any) string {
	if arr, ok := v.([]any); ok {
		for _, x := range arr {
			if err := mapValue(root, parent, key, field, x); err != "" {
				return err
			}
		}
		return ""
	}
	if v == nil {
		return ""
	}
	m := parent.Properties[key]
	if m == nil {
		if parent.Dynamic == false || parent.Dynamic == "false" {
			return ""
		}
		m = dynamicMapping(root, v)
		if parent.Properties == nil {
			parent.Properties = map[string]*mapping{}
		}
		parent.Properties[key] = m
	}
	obj, isObj := v.(map[string]any)
	switch {
	case m.Type == "" || m.Type == "object" || m.Type == "nested":
		if !isObj {
			return fmt.Sprintf("object mapping for [%s] tried to parse field [%s] as object, but found a concrete value", field, field)
		}
		if m.Properties == nil {
			m.Properties = map[string]*mapping{}
		}
		return mapObject(root, m, obj, field)
	case m.Type == "geo_point":
		if isObj {
			if _, ok := obj["lat"]; ok {
				if _, ok := obj["lon"]; ok {
					return ""
				}
			}
		}
		if s, ok := v.(string); ok && strings.Contains(s, ",") {
			return ""
		}
		return fmt.Sprintf("failed to parse field [%s] of type [geo_point]", field)
	case isObj:
		return fmt.Sprintf("failed to parse field [%s] of type [%s]: tried to parse field as object, but found a concrete value", field, m.Type)
	}
	if !fits(m.Type, v) {
		return fmt.Sprintf("failed to parse field [%s] of type [%s]: value [%v]", field, m.Type, v)
	}
	return ""
}

// dynamicMapping is what Elasticsearch maps an unknown field to: the
// first matching dynamic template, else by the JSON type.
func dynamicMapping(root *mapping, v any) *mapping {
	kind := "object"
	switch x := v.(type) {
	case string:
		kind = "string"
	case bool:
		kind = "boolean"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			kind = "long"
		} else {
			kind = "double"
		}
	}
	for _, dt := range root.DynamicTemplates {
		for _, t := range dt {
			if t.MatchMappingType == kind || t.MatchMappingType == "*" {
				c := *t.Mapping
				return &c
			}
		}
	}
	switch kind {
	case "string":
		if _, err := time.Parse(time.RFC3339Nano, v.(string)); err == nil {
			return &mapping{Type: "date"} // date_detection
		}
		return &mapping{Type: "text"}
	case "double":
		return &mapping{Type: "float"}
	case "object":
		return &mapping{Type: "object"}
	}
	return &mapping{Type: kind}
}

// fits tells whether a JSON value can be indexed as an Elasticsearch type
// (with its default coercion of numeric strings).
func fits(typ string, v any) bool {
	s, isStr := v.(string)
	n, isNum := v.(json.Number)
	switch typ {
	case "keyword", "text":
		return true
	case "ip":
		_, err := netip.ParseAddr(s)
		return isStr && err == nil
	case "date":
		if isNum {
			return true // epoch milliseconds
		}
		_, err := time.Parse(time.RFC3339Nano, s)
		return isStr && err == nil
	case "boolean":
		b, isBool := v.(bool)
		_ = b
		return isBool || s == "true" || s == "false"
	case "long", "integer", "short", "byte", "unsigned_long":
		if isStr {
			n = json.Number(s)
		} else if !isNum {
			return false
		}
		f, err := n.Float64()
		if err != nil || f != math.Trunc(f) {
			return false
		}
		return typ != "long" || (f >= math.MinInt64 && f <= math.MaxInt64)
	case "float", "double":
		if isStr {
			n = json.Number(s)
		} else if !isNum {
			return false
		}
		_, err := n.Float64()
		return err == nil
	}
	return false
}

// typeAt returns the mapped type of a dotted field in index ("" when
// unmapped). Called without f.mu.
func (f *fakeES) typeAt(index, field string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.indexMappings[index]
	for _, part := range strings.Split(field, ".") {
		if m == nil {
			return ""
		}
		m = m.Properties[part]
	}
	if m == nil {
		return ""
	}
	if m.Type == "" {
		return "object"
	}
	return m.Type
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
