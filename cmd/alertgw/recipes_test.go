package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRecipes applies the settings of docs/recipes.md that concern
// alertgw's lines to real ones (the gateway's output on the EVE corpus):
// Splunk's TIME_PREFIX/TIME_FORMAT/MAX_TIMESTAMP_LOOKAHEAD find and parse
// each event's own time, LINE_BREAKER splits exactly at events, Logstash's
// date filter field holds ISO 8601, Filebeat's timestamp layout parses it.
func TestRecipes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "recipes.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	lines := nativeLines(t)

	// Splunk.
	setting := func(key string) string {
		m := regexp.MustCompile(`(?m)^` + key + ` = (.*)$`).FindStringSubmatch(doc)
		if m == nil {
			t.Fatalf("recipes.md: no %s", key)
		}
		return m[1]
	}
	prefix, layout := setting("TIME_PREFIX"), strptimeToGo(t, setting("TIME_FORMAT"))
	lookahead, _ := strconv.Atoi(setting("MAX_TIMESTAMP_LOOKAHEAD"))
	if setting("LINE_BREAKER") != `([\r\n]+)` || setting("SHOULD_LINEMERGE") != "false" || setting("TRUNCATE") != "0" || setting("KV_MODE") != "json" {
		t.Error("the Splunk props.conf changed: check it against alertgw's lines")
	}
	for i, l := range lines {
		want := topTime(t, l, "timestamp")
		at := strings.Index(l, prefix)
		if at < 0 {
			t.Fatalf("line %d: no %s", i, prefix)
		}
		rest := l[at+len(prefix):]
		rest = rest[:min(lookahead, len(rest))]
		got, err := time.Parse(layout, rest[:strings.IndexByte(rest, '"')])
		if err != nil || !got.Equal(want) {
			t.Errorf("line %d: Splunk would take %q (%v) as the time, want %s", i, rest, err, want)
		}
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d has a raw line break", i)
		}
	}

	// Logstash: date { match => ["timestamp", "ISO8601"] }.
	if !strings.Contains(doc, `match => ["timestamp", "ISO8601"]`) {
		t.Error("the Logstash date filter changed")
	}
	for i, l := range lines {
		if _, err := time.Parse(time.RFC3339Nano, topString(t, l, "timestamp")); err != nil {
			t.Errorf("line %d: timestamp is not ISO 8601: %v", i, err)
		}
	}

	// Filebeat: the timestamp processor's layout and test value.
	m := regexp.MustCompile(`(?s)layouts:\s*\n\s*- '([^']+)'\s*\n\s*test:\s*\n\s*- '([^']+)'`).FindStringSubmatch(doc)
	if m == nil {
		t.Fatal("recipes.md: no Filebeat timestamp layout")
	}
	if _, err := time.Parse(m[1], m[2]); err != nil {
		t.Errorf("Filebeat's own test value does not parse: %v", err)
	}
	for i, l := range lines {
		got, err := time.Parse(m[1], topString(t, l, "timestamp"))
		if err != nil || !got.Equal(topTime(t, l, "timestamp")) {
			t.Errorf("line %d: Filebeat's layout %q: %v", i, m[1], err)
		}
	}
}

// nativeLines are the gateway's native output on the EVE corpus (the e2e
// golden file: ids and receive times blanked, event times as written) and
// the native golden event of every sensor.
func nativeLines(t *testing.T) []string {
	f, err := os.Open(filepath.Join("testdata", "e2e", "golden.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	// And every sensor's event in the format package's golden files
	// (pretty-printed there: compacted as the file output writes them).
	files, _ := filepath.Glob(filepath.Join("..", "..", "outputs", "format", "testdata", "golden", "*.native.json"))
	for _, g := range files {
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			t.Fatal(err)
		}
		out = append(out, c.String())
	}
	if len(out) < 20 {
		t.Fatalf("only %d lines", len(out))
	}
	return out
}

func topString(t *testing.T, line, key string) string {
	var v map[string]any
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		t.Fatal(err)
	}
	s, _ := v[key].(string)
	return s
}

func topTime(t *testing.T, line, key string) time.Time {
	ts, err := time.Parse(time.RFC3339Nano, topString(t, line, key))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return ts
}

// strptimeToGo converts the strptime directives Splunk's TIME_FORMAT uses
// here into a Go layout.
func strptimeToGo(t *testing.T, f string) string {
	r := strings.NewReplacer("%Y", "2006", "%m", "01", "%d", "02", "%H", "15", "%M", "04", "%S", "05", "%6N", "000000", "%3N", "000")
	out := r.Replace(f)
	if strings.Contains(out, "%") {
		t.Fatalf("TIME_FORMAT %q has a directive this test does not know", f)
	}
	return out
}
