package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/eve"
)

// filebeatShapes are EVE records in the shapes the filebeat profile
// rearranges, beyond Filebeat's own test logs: proxy and plain http with
// ports, queries and odd extensions; tls with ja3/ja3s and a trailing-dot
// SNI; dns queries, answers one per record and grouped (Suricata 7);
// fileinfo; stats, ssh, smb; rule metadata with dates in both spellings,
// invalid dates, several file names, keys that clash with the alert's own
// and escaped strings.
var filebeatShapes = []string{
	`{"timestamp":"2024-03-01T10:00:00.000001+0000","flow_id":1,"in_iface":"eth0","event_type":"http","src_ip":"10.0.0.1","src_port":40000,"dest_ip":"10.0.0.2","dest_port":3128,"proto":"TCP","tx_id":1,"http":{"hostname":"example.org","http_port":8081,"url":"http://example.org:8080/a/B.TXT?x=1&y=%41","http_user_agent":"Mozilla/5.0","http_content_type":"text/plain","http_method":"POST","protocol":"HTTP/1.1","status":404,"length":12,"http_refer":"http://example.org/"}}`,
	`{"timestamp":"2024-03-01T10:00:00.000002+0000","flow_id":2,"event_type":"http","src_ip":"10.0.0.1","src_port":40001,"dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP","http":{"hostname":"h\u00e9.example","url":"/p%20q/r.tar.GZ","status":200,"length":0}}`,
	`{"timestamp":"2024-03-01T10:00:00.000003+0000","flow_id":3,"event_type":"http","src_ip":"10.0.0.1","src_port":40002,"dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP","http":{"url":"/index.php?a=b#frag","http_method":"GET","status":302}}`,
	`{"timestamp":"2024-03-01T10:00:00.000004+0000","flow_id":4,"event_type":"http","src_ip":"10.0.0.1","src_port":40003,"dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP","http":{"url":"//double/slash.Html","status":200.5,"length":"12"}}`,
	`{"timestamp":"2024-03-01T10:00:00.000005+0000","flow_id":5,"event_type":"http","src_ip":"10.0.0.1","src_port":40004,"dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP","http":{"hostname":"a.example","url":"http://[::1]:99/x","http_method":"CONNECT"}}`,
	`{"timestamp":"2024-03-01T10:00:00.000006+0000","flow_id":6,"event_type":"tls","src_ip":"10.0.0.1","src_port":40005,"dest_ip":"10.0.0.3","dest_port":443,"proto":"TCP","tls":{"subject":"CN=a.example","issuerdn":"CN=CA","serial":"01","fingerprint":"ab:cd:ef:01","sni":"a.example.","version":"TLS 1.3","notbefore":"2024-01-01T00:00:00","notafter":"2025-01-01T00:00:00.5","ja3":{},"ja3s":{"hash":"0123abcd","string":"771,4865,"}}}`,
	`{"timestamp":"2024-03-01T10:00:00.000007+0000","flow_id":7,"event_type":"tls","src_ip":"10.0.0.1","src_port":40006,"dest_ip":"10.0.0.3","dest_port":443,"proto":"TCP","tls":{"sni":".","version":"UNDETERMINED","notbefore":"garbage","ja3":{"hash":"x","string":"y"},"ja3s":{}}}`,
	`{"timestamp":"2024-03-01T10:00:00.000008+0000","flow_id":8,"event_type":"dns","src_ip":"10.0.0.1","src_port":40007,"dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP","dns":{"type":"query","id":42,"rrname":"q.example","rrtype":"AAAA","tx_id":0}}`,
	`{"timestamp":"2024-03-01T10:00:00.000009+0000","flow_id":9,"event_type":"dns","src_ip":"10.0.0.53","src_port":53,"dest_ip":"10.0.0.1","dest_port":40007,"proto":"UDP","dns":{"version":2,"type":"answer","id":42,"flags":"8180","qr":true,"rd":true,"ra":true,"rrname":"q.example","rrtype":"AAAA","rcode":"NOERROR","answers":[{"rrname":"q.example","rrtype":"CNAME","ttl":60,"rdata":"r.example"},{"rrname":"r.example","rrtype":"AAAA","ttl":60,"rdata":"2001:db8::1"},{"rrname":"r.example","rrtype":"A","ttl":60,"rdata":"10.0.0.1"},"odd"],"grouped":{"AAAA":["2001:db8::1"]}}}`,
	`{"timestamp":"2024-03-01T10:00:00.000010+0000","flow_id":10,"event_type":"dns","src_ip":"10.0.0.53","src_port":53,"dest_ip":"10.0.0.1","dest_port":40008,"proto":"UDP","dns":{"type":"answer","id":43,"rrname":"n.example","rrtype":"A","rcode":"NXDOMAIN","rdata":null}}`,
	`{"timestamp":"2024-03-01T10:00:00.000011+0000","flow_id":11,"event_type":"fileinfo","src_ip":"10.0.0.2","src_port":80,"dest_ip":"10.0.0.1","dest_port":40001,"proto":"TCP","http":{"hostname":"example.org","url":"/f.exe"},"app_proto":"http","fileinfo":{"filename":"/f.exe","magic":"PE32","gaps":false,"state":"CLOSED","md5":"00","stored":false,"size":1024,"tx_id":0}}`,
	`{"timestamp":"2024-03-01T10:00:00.000012+0000","event_type":"stats","stats":{"uptime":10,"capture":{"kernel_packets":5,"kernel_drops":0},"decoder":{"pkts":5}}}`,
	`{"timestamp":"2024-03-01T10:00:00.000013+0000","flow_id":13,"event_type":"ssh","src_ip":"10.0.0.1","src_port":40009,"dest_ip":"10.0.0.4","dest_port":22,"proto":"TCP","ssh":{"client":{"proto_version":"2.0","software_version":"OpenSSH_9"},"server":{"proto_version":"2.0","software_version":"OpenSSH_8"}}}`,
	`{"timestamp":"2024-03-01T10:00:00.000014+0000","flow_id":14,"event_type":"smb","src_ip":"10.0.0.1","src_port":40010,"dest_ip":"10.0.0.5","dest_port":445,"proto":"TCP","smb":{"id":1,"dialect":"3.11","command":"SMB2_COMMAND_NEGOTIATE","status":"STATUS_SUCCESS"}}`,
	`{"timestamp":"2024-03-01T10:00:00.000015+0000","flow_id":15,"in_iface":"eth1","event_type":"alert","src_ip":"10.0.0.9","src_port":1,"dest_ip":"10.0.0.10","dest_port":2,"proto":"TCP","alert":{"action":"blocked","gid":1,"signature_id":7,"rev":3,"signature":"S","category":"C","severity":1,"metadata":{"created_at":["2020_02_29","2019-01-01"],"xff":["meta"],"updated_at":["2021-02-29"],"filename":["b.rules","a.rules"],"mitre_attack":[],"gid":["99"],"affected_product":["Windows_XP_Vista_7_8_10_Server_32_64_Bit","Any"],"tag":["caf\u00e9","\ud800x","plain"],"numbers":[1,"one",2],"odd":"not a list","signature":["meta"]},"xff":"1.2.3.4","rule":"alert tcp any any -> any any (sid:7;)"},"flow":{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":60,"bytes_toclient":0,"start":"2024-03-01T09:59:59.000000+0000"},"app_proto":"failed"}`,
	`{"timestamp":"2024-03-01T10:00:00.000016+0000","flow_id":16,"event_type":"flow","src_ip":"10.0.0.1","src_port":40011,"dest_ip":"10.0.0.6","dest_port":80,"proto":"TCP","app_proto":"http","flow":{"pkts_toserver":3,"pkts_toclient":2,"bytes_toserver":200,"bytes_toclient":300,"start":"2024-03-01T09:59:00.000000+0000","end":"2024-03-01T09:59:30.000000+0000","age":30,"state":"closed","reason":"timeout","alerted":true,"bypass":"local"},"tcp":{"tcp_flags":"1b","syn":true}}`,
	`{"timestamp":"2024-03-01T10:00:00.000017+0000","flow_id":17,"event_type":"alert","src_ip":"::ffff:10.0.0.1","src_port":3,"dest_ip":"10.0.0.2","dest_port":4,"proto":"UDP","alert":{"gid":1,"signature_id":8,"rev":1,"signature":"T","category":"","severity":3},"http":{"hostname":"x.example","url":"/"},"tls":{"sni":"y.example"},"files":[{"filename":"a"}]}`,
}

// filebeatLines are the EVE records the profile is checked on: Filebeat's
// test logs, the EVE mapper's samples and filebeatShapes.
func filebeatLines(t testing.TB) [][]byte {
	t.Helper()
	var lines [][]byte
	for _, name := range []string{"testdata/filebeat/eve-metadata.log", "testdata/filebeat/eve-small-excerpt.log"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, bytes.Split(bytes.TrimSpace(b), []byte("\n"))...)
	}
	samples, _ := filepath.Glob("../../normalize/eve/testdata/*.json")
	if len(samples) == 0 {
		t.Fatal("no EVE samples")
	}
	for _, s := range samples {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines = append(lines, l)
			}
		}
	}
	for _, s := range filebeatShapes {
		lines = append(lines, []byte(s))
	}
	return lines
}

// sameDocument compares two decoded documents and returns the path of the
// first difference, or "". A null and an empty list are the same (the
// reference wrote an empty string list as null; Elasticsearch indexes
// neither).
func sameDocument(path string, a, b any) string {
	empty := func(v any) bool {
		l, ok := v.([]any)
		return v == nil || ok && len(l) == 0
	}
	if empty(a) && empty(b) {
		return ""
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return path
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if _, ok := y[k]; !ok {
				return path + "." + k + " (only in the new document)"
			}
			if d := sameDocument(path+"."+k, x[k], y[k]); d != "" {
				return d
			}
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				return path + "." + k + " (only in the reference)"
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return path
		}
		for i := range x {
			if d := sameDocument(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if a != b {
		return path
	}
	return ""
}

// checkFilebeat encodes e with the filebeat profile and checks that the
// line is one valid JSON object (no newline, no key the encoder repeated)
// holding what the reference encoder writes, value for value.
func checkFilebeat(t *testing.T, name string, e *normalize.Event) {
	t.Helper()
	got := ECSFilebeat{}.AppendEvent([]byte("prefix"), e)
	if !bytes.HasPrefix(got, []byte("prefix")) {
		t.Fatalf("%s: the encoder overwrote the buffer", name)
	}
	got = got[len("prefix"):]
	if !json.Valid(got) || !utf8.Valid(got) || bytes.IndexByte(got, '\n') >= 0 {
		t.Fatalf("%s: not one valid JSON line: %q", name, got)
	}
	assertNoNewDuplicateKeys(t, got, Native{}.AppendEvent(nil, e))
	want := filebeatReference(e)
	if d := sameDocument("", decodeNumbersAny(t, want), decodeNumbersAny(t, got)); d != "" {
		t.Fatalf("%s: differs from the reference at %s\n got  %s\n want %s", name, d, got, want)
	}
}

func decodeNumbersAny(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

// The append-style encoder writes what the map-and-marshal reference
// wrote, on every EVE sample, every shape above and every reference event.
func TestFilebeatMatchesReference(t *testing.T) {
	en := filebeatEnricher(t)
	n := 0
	for i, line := range filebeatLines(t) {
		var e normalize.Event
		if err := (eve.Decoder{}).Decode(line, &e); err != nil {
			continue // the mapper's own tests cover errors
		}
		completeLikePipeline(&e, "eve", i+1)
		en.Enrich(&e)
		checkFilebeat(t, fmt.Sprintf("line %d %s", i, line), &e)
		n++
	}
	for _, r := range referenceEvents() {
		checkFilebeat(t, r.name, r.ev)
		n++
	}
	if n < 60 {
		t.Errorf("only %d events compared", n)
	}
}

// FuzzFilebeat runs hostile EVE records through the EVE decoder and the
// filebeat profile: whatever the decoder accepts must come out as one
// valid JSON object equal to the reference encoder's.
func FuzzFilebeat(f *testing.F) {
	for _, l := range filebeatLines(f) {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var e normalize.Event
		if err := (eve.Decoder{}).Decode(line, &e); err != nil {
			return
		}
		completeLikePipeline(&e, "eve", 1)
		checkFilebeat(t, "fuzzed record", &e)
	})
}

// FuzzFilebeatDetails puts arbitrary JSON values (deep, odd, escaped,
// repeated keys) where the profile looks inside Details: the alert object
// and its metadata, http, tls, dns, fileinfo, event_type and one other key.
// Values that are not the compact, valid UTF-8 JSON every decoder hands on
// (normalize.RawJSON) are skipped.
func FuzzFilebeatDetails(f *testing.F) {
	f.Add(`{"metadata":{"created_at":["2019_06_01"],"a":["b","a"],"mitre_attack":["t1"],"filename":["x"]},"xff":"1.2.3.4"}`,
		`{"hostname":"h","url":"http://u:1/p.X?q","status":200,"length":3,"http_port":8,"x":[1,{"y":null}]}`,
		`{"sni":"s.","version":"TLS 1.2","fingerprint":"aa:bb","notbefore":"2020-01-01T00:00:00","ja3":{},"ja3s":{"hash":"h"}}`,
		`{"type":"answer","id":1,"rrtype":"A","rdata":"1.2.3.4","answers":[{"rrtype":"AAAA","rdata":"::1","ttl":5}]}`,
		`{"filename":"/f","size":10,"magic":"m"}`, `"http"`, "ssh", `{"client":{"v":1}}`, uint8(0))
	f.Add(`{"metadata":{"gid":[1],"\u0067id":["x"],"signature":"s"},"gid":2}`, `{"status":1e3,"length":-1.5,"\u0075rl":"/a"}`,
		`{"sni":{},"version":"TLS ","ja3s":[]}`, `{"type":"query","rrname":"\ud800","rrtype":"\"A\""}`,
		`[]`, `null`, "in_iface", `[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]`, uint8(1))
	f.Add(`{"rev":9,"signature":"own","metadata":[]}`, `{}`, `{}`, `{"type":"answer","answers":{}}`, `{}`, `1`, "", `""`, uint8(2))
	base := referenceEvents()[0].ev // a Suricata alert
	kinds := []normalize.Kind{normalize.KindAlert, normalize.KindEvent, normalize.KindFlow}
	f.Fuzz(func(t *testing.T, alert, http, tls, dns, fileinfo, eventType, otherKey, other string, kind uint8) {
		e := *base
		e.Details = nil
		for _, kv := range [][2]string{{"alert", alert}, {"http", http}, {"tls", tls}, {"dns", dns},
			{"fileinfo", fileinfo}, {"event_type", eventType}, {otherKey, other}} {
			if e.Details.Get(kv[0]) != nil || !utf8.ValidString(kv[1]) || !json.Valid([]byte(kv[1])) {
				continue
			}
			var c bytes.Buffer
			if json.Compact(&c, []byte(kv[1])) != nil {
				continue
			}
			e.Details = append(e.Details, normalize.Field{Key: kv[0], Value: normalize.RawJSON(c.Bytes())})
		}
		e.Kind = kinds[int(kind)%len(kinds)]
		checkFilebeat(t, string(e.Kind), &e)
	})
}

// An alert with rule metadata is written without allocating.
func TestFilebeatAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	line, err := os.ReadFile("testdata/filebeat/eve-metadata.log")
	if err != nil {
		t.Fatal(err)
	}
	var e normalize.Event
	if err := (eve.Decoder{}).Decode(bytes.TrimSpace(line), &e); err != nil {
		t.Fatal(err)
	}
	completeLikePipeline(&e, "eve", 1)
	buf := make([]byte, 0, 8192)
	if n := testing.AllocsPerRun(100, func() { buf = ECSFilebeat{}.AppendEvent(buf[:0], &e) }); n != 0 {
		t.Errorf("%v allocations per event", n)
	}
}

// parseRequestURL splits the URLs it takes in place exactly as url.Parse
// would.
func TestParseRequestURL(t *testing.T) {
	for _, raw := range []string{"/", "/a/b.c", "/a?b", "/a?", "/a?b?c", "/a?%zz", "/a b", "/é", "/a%20b", "/a#f",
		"//h/p", "http://h:1/p?q", "/a\x7f", "/a\tb", "a/b", "", "?q", "/a?b#c", "/%", "/\xff"} {
		compareRequestURL(t, raw)
	}
}

func compareRequestURL(t *testing.T, raw string) {
	t.Helper()
	got, ok := parseRequestURL(raw)
	p, err := url.Parse(raw)
	if ok != (err == nil) {
		t.Fatalf("%q: parsed %v, url.Parse: %v", raw, ok, err)
	}
	if err != nil {
		return
	}
	want := requestURL{scheme: p.Scheme, path: p.Path, query: p.RawQuery}
	if p.Host != "" {
		want.host, want.hasHost = p.Hostname(), true
		if ps := p.Port(); ps != "" {
			var n int
			fmt.Sscan(ps, &n)
			want.port, want.hasPort = int64(n), true
		}
	}
	if got != want {
		t.Fatalf("%q: %+v, url.Parse %+v", raw, got, want)
	}
}

func FuzzParseRequestURL(f *testing.F) {
	for _, s := range []string{"/a?b", "/a%20b", "http://h:8/x", "/a#b", "//x"} {
		f.Add(s)
	}
	f.Fuzz(compareRequestURL)
}

// metaDate accepts exactly the dates time.Parse accepts.
func TestMetaDate(t *testing.T) {
	check := func(s string) {
		var d [10]byte
		ok := metaDate(s, &d)
		ts, err := time.Parse("2006-01-02", strings.ReplaceAll(s, "_", "-"))
		if ok != (err == nil) {
			t.Fatalf("%q: metaDate %v, time.Parse %v", s, ok, err)
		}
		if ok && string(d[:])+"T00:00:00.000Z" != ts.UTC().Format("2006-01-02T15:04:05.000Z") {
			t.Fatalf("%q: %s", s, d)
		}
	}
	for _, s := range []string{"2019-06-01", "2019_06_01", "2020-02-29", "2021-02-29", "2019-13-01", "2019-00-10",
		"2019-01-00", "2019-04-31", "0000-01-01", "9999-12-31", "2019-6-01", "2019-06-1", "201a-06-01", "2019/06/01",
		"2019-06-01x", "", "+019-06-01", "2019-06_01"} {
		check(s)
	}
	// Every day of a leap and a common year, and the days just beyond.
	for _, y := range []int{1900, 2000, 2023, 2024} {
		for m := 1; m <= 12; m++ {
			for d := 0; d <= 32; d++ {
				check(fmt.Sprintf("%04d-%02d-%02d", y, m, d))
			}
		}
	}
}
