package format

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The published definitions, as subsets carried in testdata/schemas (see
// the README there for provenance and how they were extracted).

type ecsField struct {
	Type    string   `json:"type"`
	Array   bool     `json:"array"`
	Allowed []string `json:"allowed"`
}

func loadECS(t testing.TB) map[string]ecsField {
	t.Helper()
	var doc struct {
		Tag    string              `json:"tag"`
		Fields map[string]ecsField `json:"fields"`
	}
	readJSON(t, "testdata/schemas/ecs-"+ECSVersion+"-subset.json", &doc)
	if doc.Tag != "v"+ECSVersion {
		t.Fatalf("ECS definitions are %s, the encoder writes %s", doc.Tag, ECSVersion)
	}
	return doc.Fields
}

type ocsfAttr struct {
	Type        string   `json:"type"`
	Array       bool     `json:"array"`
	Object      string   `json:"object"`
	Enum        []string `json:"enum"`
	Requirement string   `json:"requirement"`
}

type ocsfSchema struct {
	Tag     string `json:"tag"`
	Classes map[string]struct {
		ClassUID    int                 `json:"class_uid"`
		CategoryUID int                 `json:"category_uid"`
		Attributes  map[string]ocsfAttr `json:"attributes"`
	} `json:"classes"`
	Objects map[string]map[string]ocsfAttr `json:"objects"`
}

func loadOCSF(t testing.TB) *ocsfSchema {
	t.Helper()
	var s ocsfSchema
	readJSON(t, "testdata/schemas/ocsf-"+OCSFVersion+"-subset.json", &s)
	if s.Tag != OCSFVersion {
		t.Fatalf("OCSF definitions are %s, the encoder writes %s", s.Tag, OCSFVersion)
	}
	return &s
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func decodeDoc(t testing.TB, line []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(line)))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	return doc
}

// ecsCustomRoots are the namespaces outside ECS the ecs format writes on
// purpose, as Filebeat's modules do: each sensor's own fields and alertgw's.
var ecsCustomRoots = []string{"suricata", "snort", "unified2", "nflog", "auditd", "alertgw"}

// TestECSValidatesAgainstDefinitions checks that every field the ecs
// encoder writes for every reference event is an ECS field of the right
// JSON type, arrays only where ECS normalizes to arrays, and enumerated
// values only from ECS's allowed values.
func TestECSValidatesAgainstDefinitions(t *testing.T) {
	fields := loadECS(t)
	for _, ref := range referenceEvents() {
		t.Run(ref.name, func(t *testing.T) {
			doc := decodeDoc(t, ECS{}.AppendEvent(nil, ref.ev))
			for _, p := range validateECS(fields, doc) {
				t.Error(p)
			}
		})
	}
}

func validateECS(fields map[string]ecsField, doc map[string]any) []string {
	var probs []string
	for _, req := range []string{"@timestamp", "ecs.version", "event.kind"} {
		if _, ok := lookupPath(doc, req); !ok {
			probs = append(probs, req+": required by ECS, missing")
		}
	}
	var walk func(prefix string, v any)
	walk = func(path string, v any) {
		root, _, _ := strings.Cut(path, ".")
		if slices.Contains(ecsCustomRoots, root) {
			return
		}
		if f, ok := fields[path]; ok {
			probs = append(probs, checkECSValue(path, f, v)...)
			return
		}
		if parent, _, ok := cutLast(path); ok {
			if f, ok := fields[parent]; ok && f.Type == "object" { // labels.*: keyword values
				if _, isStr := v.(string); !isStr {
					probs = append(probs, fmt.Sprintf("%s: labels hold keywords, got %T", path, v))
				}
				return
			}
		}
		if m, ok := v.(map[string]any); ok {
			for k, sub := range m {
				walk(joinDot(path, k), sub)
			}
			return
		}
		probs = append(probs, path+": not an ECS "+ECSVersion+" field")
	}
	for k, v := range doc {
		walk(k, v)
	}
	sort.Strings(probs)
	return probs
}

func checkECSValue(path string, f ecsField, v any) []string {
	if list, ok := v.([]any); ok {
		if !f.Array {
			return []string{path + ": an array, but ECS does not normalize it to one"}
		}
		var probs []string
		for _, item := range list {
			probs = append(probs, checkECSValue(path, ecsField{Type: f.Type, Allowed: f.Allowed}, item)...)
		}
		return probs
	}
	bad := func(want string) []string {
		return []string{fmt.Sprintf("%s: ECS type %s wants %s, got %T %v", path, f.Type, want, v, v)}
	}
	switch f.Type {
	case "keyword", "constant_keyword", "wildcard", "text", "match_only_text", "ip":
		s, ok := v.(string)
		if !ok {
			return bad("a string")
		}
		if len(f.Allowed) > 0 && !slices.Contains(f.Allowed, s) {
			return []string{fmt.Sprintf("%s: %q is not one of ECS's allowed values %v", path, s, f.Allowed)}
		}
	case "long", "integer", "short", "byte", "unsigned_long":
		n, ok := v.(json.Number)
		if !ok {
			return bad("an integer")
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil && f.Type != "unsigned_long" {
			return bad("an integer")
		}
	case "float", "double", "scaled_float", "half_float":
		if _, ok := v.(json.Number); !ok {
			return bad("a number")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad("a boolean")
		}
	case "date":
		s, ok := v.(string)
		if !ok {
			return bad("an RFC 3339 string")
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return bad("an RFC 3339 string")
		}
	case "geo_point":
		m, ok := v.(map[string]any)
		if !ok {
			return bad(`an object {"lat","lon"}`)
		}
		for _, k := range []string{"lat", "lon"} {
			n, ok := m[k].(json.Number)
			if !ok {
				return bad(`numeric lat and lon`)
			}
			x, _ := n.Float64()
			if math.Abs(x) > 180 {
				return bad("coordinates in range")
			}
		}
		if len(m) != 2 {
			return bad(`only lat and lon`)
		}
	case "object", "flattened":
		if _, ok := v.(map[string]any); !ok {
			return bad("an object")
		}
	default:
		return []string{path + ": the test does not know ECS type " + f.Type}
	}
	return nil
}

// TestOCSFValidatesAgainstDefinitions checks every attribute the ocsf
// encoder writes against the class it claims (class_uid) and the objects
// that class's attributes name, recursively: known attribute, JSON type,
// arrays, enum values of *_id attributes, required attributes present, and
// the class arithmetic (type_uid, category_uid).
func TestOCSFValidatesAgainstDefinitions(t *testing.T) {
	schema := loadOCSF(t)
	for _, ref := range referenceEvents() {
		t.Run(ref.name, func(t *testing.T) {
			doc := decodeDoc(t, OCSF{}.AppendEvent(nil, ref.ev))
			for _, p := range validateOCSF(schema, doc) {
				t.Error(p)
			}
		})
	}
}

func validateOCSF(s *ocsfSchema, doc map[string]any) []string {
	classUID, _ := doc["class_uid"].(json.Number).Int64()
	activity, _ := doc["activity_id"].(json.Number).Int64()
	var className string
	for name, c := range s.Classes {
		if int64(c.ClassUID) == classUID {
			className = name
		}
	}
	if className == "" {
		return []string{fmt.Sprintf("class_uid %d: not a class the definitions carry", classUID)}
	}
	c := s.Classes[className]
	var probs []string
	if got, _ := doc["category_uid"].(json.Number).Int64(); got != int64(c.CategoryUID) {
		probs = append(probs, fmt.Sprintf("category_uid %d, class %s is in category %d", got, className, c.CategoryUID))
	}
	if got, _ := doc["type_uid"].(json.Number).Int64(); got != classUID*100+activity {
		probs = append(probs, fmt.Sprintf("type_uid %d is not class_uid*100+activity_id = %d", got, classUID*100+activity))
	}
	probs = append(probs, checkOCSFObject(s, className, c.Attributes, doc)...)
	if profiles, ok := lookupPath(doc, "metadata.profiles"); ok {
		for _, p := range profiles.([]any) {
			if p != "security_control" && p != "host" {
				probs = append(probs, fmt.Sprintf("metadata.profiles: %v is not a profile the encoder applies", p))
			}
		}
	}
	sort.Strings(probs)
	return probs
}

func checkOCSFObject(s *ocsfSchema, path string, attrs map[string]ocsfAttr, obj map[string]any) []string {
	var probs []string
	for name, a := range attrs {
		if a.Requirement != "required" {
			continue
		}
		if _, ok := obj[name]; !ok {
			probs = append(probs, fmt.Sprintf("%s.%s: required, missing", path, name))
		}
	}
	for k, v := range obj {
		a, ok := attrs[k]
		if !ok {
			probs = append(probs, fmt.Sprintf("%s.%s: not an attribute of %s in OCSF %s", path, k, path, OCSFVersion))
			continue
		}
		probs = append(probs, checkOCSFValue(s, path+"."+k, a, v)...)
	}
	return probs
}

func checkOCSFValue(s *ocsfSchema, path string, a ocsfAttr, v any) []string {
	if list, ok := v.([]any); ok {
		if !a.Array {
			return []string{path + ": an array, OCSF wants one value"}
		}
		var probs []string
		one := a
		one.Array = false
		for i, item := range list {
			probs = append(probs, checkOCSFValue(s, fmt.Sprintf("%s[%d]", path, i), one, item)...)
		}
		return probs
	}
	if a.Array {
		return []string{path + ": OCSF wants an array"}
	}
	bad := func(want string) []string { return []string{fmt.Sprintf("%s: wants %s, got %T %v", path, want, v, v)} }
	switch a.Type {
	case "string":
		if _, ok := v.(string); !ok {
			return bad("a string")
		}
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return bad("an integer")
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			return bad("an integer")
		}
		if len(a.Enum) > 0 && !slices.Contains(a.Enum, string(n)) {
			return []string{fmt.Sprintf("%s: %s is not one of %v", path, n, a.Enum)}
		}
	case "number":
		if _, ok := v.(json.Number); !ok {
			return bad("a number")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad("a boolean")
		}
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return bad("an object")
		}
		if a.Object == "object" { // free-form (unmapped)
			return nil
		}
		attrs, ok := s.Objects[a.Object]
		if !ok {
			return []string{path + ": object " + a.Object + " is not in the carried definitions (add it to extract_ocsf.py)"}
		}
		return checkOCSFObject(s, path, attrs, m)
	case "any":
	default:
		return []string{path + ": the test does not know type " + a.Type}
	}
	return nil
}

func lookupPath(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func joinDot(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func cutLast(path string) (string, string, bool) {
	i := strings.LastIndexByte(path, '.')
	if i < 0 {
		return "", "", false
	}
	return path[:i], path[i+1:], true
}

// TestValidatorsCatchMistakes feeds the validators documents with the
// mistakes they exist to catch, so that a passing validation means something.
func TestValidatorsCatchMistakes(t *testing.T) {
	fields := loadECS(t)
	ecsCases := map[string]string{
		"unknown field":      `{"@timestamp":"2026-01-01T00:00:00Z","ecs":{"version":"8.17.0"},"event":{"kind":"alert"},"source":{"labels":["x"]}}`,
		"wrong type":         `{"@timestamp":"2026-01-01T00:00:00Z","ecs":{"version":"8.17.0"},"event":{"kind":"alert"},"network":{"iana_number":6}}`,
		"not allowed value":  `{"@timestamp":"2026-01-01T00:00:00Z","ecs":{"version":"8.17.0"},"event":{"kind":"alarm"}}`,
		"array not expected": `{"@timestamp":"2026-01-01T00:00:00Z","ecs":{"version":"8.17.0"},"event":{"kind":"alert","action":["a"]}}`,
		"missing timestamp":  `{"ecs":{"version":"8.17.0"},"event":{"kind":"alert"}}`,
		"bad geo point":      `{"@timestamp":"2026-01-01T00:00:00Z","ecs":{"version":"8.17.0"},"event":{"kind":"alert"},"source":{"geo":{"location":[1,2]}}}`,
	}
	for name, doc := range ecsCases {
		if probs := validateECS(fields, decodeDoc(t, []byte(doc))); len(probs) == 0 {
			t.Errorf("ECS %s: not caught", name)
		}
	}
	schema := loadOCSF(t)
	good := string(OCSF{}.AppendEvent(nil, referenceEvents()[0].ev))
	ocsfCases := map[string]string{
		"unknown attribute":  strings.Replace(good, `"is_alert":true`, `"is_alert":true,"src_endpoint":{"ip":"1.2.3.4"}`, 1),
		"bad enum":           strings.Replace(good, `"action_id":2`, `"action_id":7`, 1),
		"wrong type":         strings.Replace(good, `"protocol_num":6`, `"protocol_num":"6"`, 1),
		"type_uid mismatch":  strings.Replace(good, `"type_uid":200401`, `"type_uid":200402`, 1),
		"missing required":   strings.Replace(good, `"type_id":1,"type":"Rule",`, ``, 1),
		"nested unknown key": strings.Replace(good, `"community_uid"`, `"community_id"`, 1),
	}
	for name, doc := range ocsfCases {
		if doc == good {
			t.Fatalf("OCSF %s: the mutation did not apply", name)
		}
		if probs := validateOCSF(schema, decodeDoc(t, []byte(doc))); len(probs) == 0 {
			t.Errorf("OCSF %s: not caught", name)
		}
	}
}
