package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/internal/cputime"
	"github.com/alertgw/alertgw/internal/enrich"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/eve"
)

// filebeatNotProduced are the fields of Filebeat's documents the filebeat
// profile does not write, each with why (docs/formats.md lists them).
var filebeatNotProduced = []struct{ pattern, why string }{
	{`^event\.original$`, "the record as received; alertgw keeps its content under suricata.eve.* and the common fields"},
	{`^(input\.type|log\.offset|fileset\.name|service\.type)$`, "Filebeat's own reading (file input, offset, fileset), not the event's"},
	{`^(source|destination)\.(geo|as)\.`, "GeoIP/ASN: alertgw's enrich stage writes them with your MaxMind-format databases (docs/enrich.md); Filebeat's came from its own bundled database"},
	{`^user_agent\.(?:device|name|version|os)`, "user-agent parsing (Filebeat's uap-core regexes): not done; user_agent.original is written"},
	{`^tls\.server\.x509\.`, "the certificate's DN parsed into parts: not done; tls.server.subject and issuer are written whole"},
}

// filebeatAdditions are the fields the profile writes that Filebeat's
// documents do not have: what the plain profile adds to Filebeat's shape.
var filebeatAdditions = []string{
	`^ecs\.version$`, `^event\.(id|created|provider|action)$`, `^observer\.`, `^network\.(iana_number|type)$`, `^rule\.version$`,
}

func matchAny(patterns []string, k string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return regexp.MustCompile(p).MatchString(k) })
}

// flatten writes a document's leaves under dotted keys (Filebeat's
// expected documents are already flat; alertgw's are nested). Arrays stay
// values.
func flatten(prefix string, v any, out map[string]any) {
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flatten(key, x, out)
		}
		return
	}
	out[prefix] = v
}

func decodeNumbers(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}

var timeKeys = map[string]bool{"@timestamp": true, "event.start": true, "event.end": true}

// canon turns a value into the form two documents are compared in: times
// to the millisecond (Elasticsearch's date type; Filebeat truncates),
// addresses parsed (Filebeat keeps Suricata's spelling of IPv6, alertgw
// writes the canonical one; an ip field stores both the same), numbers as
// numbers, arrays of scalars as sorted sets (keyword arrays are not
// ordered), objects in arrays as their canonical JSON.
func canon(key string, v any) string {
	switch x := v.(type) {
	case string:
		if timeKeys[key] {
			if ts, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return ts.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
			}
		}
		if a, err := netip.ParseAddr(x); err == nil {
			return a.String()
		}
		return x
	case json.Number:
		return x.String()
	case []any:
		if len(x) == 1 { // Elasticsearch indexes ["x"] as it indexes "x"
			return canon(key, x[0])
		}
		var parts []string
		for _, e := range x {
			parts = append(parts, canon(key, e))
		}
		slices.Sort(parts)
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		flat := map[string]any{}
		flatten("", x, flat)
		var parts []string
		for k, e := range flat {
			parts = append(parts, k+"="+canon(k, e))
		}
		slices.Sort(parts)
		return "{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprint(v)
}

// filebeatEnricher labels networks as Filebeat's add_network_direction
// does with internal_networks: private.
func filebeatEnricher(t *testing.T) *enrich.Enricher {
	t.Helper()
	o := enrich.DefaultOptions()
	o.Networks = map[string][]string{"private": {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"}}
	en, err := enrich.New(o, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return en
}

// Filebeat's own expected documents for its Suricata module's test logs
// (elastic/beats x-pack/filebeat/module/suricata/eve/test: eve-metadata,
// an alert with rule metadata, and an excerpt of eve-small: dns, tls, flow,
// http through a proxy): each line goes through alertgw's EVE decoder and
// the ecs format's filebeat profile, and every field of Filebeat's
// document must come out with Filebeat's value, or be one the profile
// documents as not written (filebeatNotProduced, with the reason); every
// field alertgw writes beyond Filebeat's must be a documented addition.
func TestFilebeatExpectedDocuments(t *testing.T) {
	en, fields := filebeatEnricher(t), loadECS(t)
	checked, skipped := 0, map[string]int{}
	for _, base := range []string{"eve-metadata.log", "eve-small-excerpt.log"} {
		log, err := os.ReadFile(filepath.Join("testdata", "filebeat", base))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join("testdata", "filebeat", base+"-expected.json"))
		if err != nil {
			t.Fatal(err)
		}
		var docs []json.RawMessage
		if err := json.Unmarshal(raw, &docs); err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(string(log), "\n")
		for i, d := range docs {
			want := decodeNumbers(t, d)
			line := strings.TrimSuffix(lines[i], "\n")
			if want["event.original"] != line {
				t.Fatalf("%s document %d: event.original is not line %d of the log", base, i, i+1)
			}
			var e normalize.Event
			if err := (eve.Decoder{}).Decode([]byte(line), &e); err != nil {
				t.Fatal(err)
			}
			completeLikePipeline(&e, "eve", i+1)
			en.Enrich(&e)
			line2 := ECSFilebeat{}.AppendEvent(nil, &e)
			got := map[string]any{}
			flatten("", decodeNumbers(t, line2), got)
			name := fmt.Sprintf("%s document %d (%s)", base, i, want["suricata.eve.event_type"])
			for _, p := range validateECS(fields, decodeDoc(t, line2)) {
				t.Errorf("%s: ECS %s: %s", name, ECSVersion, p)
			}
			for k, wv := range want {
				if i := slices.IndexFunc(filebeatNotProduced, func(n struct{ pattern, why string }) bool {
					return regexp.MustCompile(n.pattern).MatchString(k)
				}); i >= 0 {
					skipped[filebeatNotProduced[i].pattern]++
					continue
				}
				gv, ok := got[k]
				if !ok {
					t.Errorf("%s: %s = %v missing", name, k, wv)
					continue
				}
				if canon(k, gv) != canon(k, wv) {
					t.Errorf("%s: %s = %s, Filebeat %s", name, k, canon(k, gv), canon(k, wv))
				}
				checked++
			}
			for k := range got {
				if _, ok := want[k]; !ok && !matchAny(filebeatAdditions, k) {
					t.Errorf("%s: %s = %v is neither in Filebeat's document nor a documented addition", name, k, got[k])
				}
			}
		}
	}
	if checked < 150 {
		t.Errorf("only %d fields compared", checked)
	}
	t.Logf("%d fields equal to Filebeat's; not written, by reason: %v", checked, skipped)
}

// TestFilebeatProfileDoc keeps docs/formats.md's table of what the filebeat
// profile writes differently from the plain one in step with the encoders:
// every field either profile writes for the Filebeat test records (alert,
// dns, tls, flow, http), with the profile that writes it and whether the
// values differ. -update rewrites it.
func TestFilebeatProfileDoc(t *testing.T) {
	en := filebeatEnricher(t)
	type row struct{ plain, filebeat, onlyPlain, onlyFilebeat, differ bool }
	rows := map[string]*row{}
	at := func(k string) *row {
		r := rows[docKey(k)]
		if r == nil {
			r = &row{}
			rows[docKey(k)] = r
		}
		return r
	}
	for _, base := range []string{"eve-metadata.log", "eve-small-excerpt.log"} {
		log, err := os.ReadFile(filepath.Join("testdata", "filebeat", base))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
			var e normalize.Event
			if err := (eve.Decoder{}).Decode([]byte(line), &e); err != nil {
				t.Fatal(err)
			}
			completeLikePipeline(&e, "eve", i+1)
			en.Enrich(&e)
			plain, fb := map[string]any{}, map[string]any{}
			flatten("", decodeNumbers(t, ECS{}.AppendEvent(nil, &e)), plain)
			flatten("", decodeNumbers(t, ECSFilebeat{}.AppendEvent(nil, &e)), fb)
			for k, v := range plain {
				r := at(k)
				r.plain = true
				if w, ok := fb[k]; !ok {
					r.onlyPlain = true
				} else if canon(k, v) != canon(k, w) {
					r.differ = true
				}
			}
			for k := range fb {
				r := at(k)
				r.filebeat = true
				if _, ok := plain[k]; !ok {
					r.onlyFilebeat = true
				}
			}
		}
	}
	var b strings.Builder
	b.WriteString("| field | plain `ecs` | `ecs_compat: filebeat` | difference |\n|---|---|---|---|\n")
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	mark := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "—"
	}
	for _, k := range keys {
		r := rows[k]
		var what []string
		if r.onlyPlain {
			what = append(what, "plain only")
		}
		if r.onlyFilebeat {
			what = append(what, "filebeat only")
		}
		if r.differ {
			what = append(what, "values differ")
		}
		if len(what) == 0 {
			continue // the same in both: not a difference
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k, mark(r.plain), mark(r.filebeat), strings.Join(what, ", "))
	}
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	want := replaceBetween(t, doc, "filebeat", b.String())
	if *update {
		if err := os.WriteFile(docPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(doc, want) {
		t.Errorf("%s is out of date with the filebeat profile: run go test ./outputs/format -run TestFilebeatProfileDoc -update", filepath.Clean(docPath))
	}
}

// docKey folds the per-record parts of a key (flattened alert metadata,
// the app-layer objects kept under suricata.eve) into one row.
func docKey(k string) string {
	for _, p := range []string{"suricata.eve.alert.", "suricata.eve.dns.", "suricata.eve.tls.", "suricata.eve.http.",
		"suricata.eve.flow.", "dns.answers"} {
		if strings.HasPrefix(k, p) {
			switch p {
			case "suricata.eve.alert.":
				switch strings.TrimPrefix(k, p) {
				case "gid", "signature_id", "rev", "signature", "category", "severity", "action":
					return k
				}
				return p + "<metadata key>"
			case "dns.answers":
				return k
			}
			return p + "*"
		}
	}
	return k
}

// The profile is chosen with the format; it exists for ecs only.
func TestLookupProfile(t *testing.T) {
	for _, c := range []struct {
		format, compat string
		want           Encoder
		ok             bool
	}{
		{"ecs", "", ECS{}, true},
		{"ecs", "filebeat", ECSFilebeat{}, true},
		{"native", "filebeat", nil, false},
		{"ecs", "logstash", nil, false},
		{"ocsf", "", OCSF{}, true},
	} {
		enc, err := LookupProfile(c.format, c.compat)
		if (err == nil) != c.ok || (c.ok && enc != c.want) {
			t.Errorf("%s/%s: %v %v", c.format, c.compat, enc, err)
		}
	}
}

// BenchmarkECSProfiles compares the plain ecs profile with the filebeat
// one on Filebeat's alert with rule metadata (eve-metadata.log), in CPU
// time (cpu-ns/op) as well as wall time:
//
//	go test -run '^$' -bench BenchmarkECSProfiles -benchtime 20000x -cpu 1 ./outputs/format/
func BenchmarkECSProfiles(b *testing.B) {
	line, err := os.ReadFile(filepath.Join("testdata", "filebeat", "eve-metadata.log"))
	if err != nil {
		b.Fatal(err)
	}
	var e normalize.Event
	if err := (eve.Decoder{}).Decode(bytes.TrimSpace(line), &e); err != nil {
		b.Fatal(err)
	}
	completeLikePipeline(&e, "eve", 1)
	for _, enc := range []Encoder{ECS{}, ECSFilebeat{}} {
		b.Run(enc.Name(), func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 8192)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := cputime.Thread()
			for b.Loop() {
				buf = enc.AppendEvent(buf[:0], &e)
			}
			reportCPU(b, cpu0)
			b.SetBytes(int64(len(buf)))
		})
	}
}
