package query

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/normalize"
)

func TestParseCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"  *  ", ""},
		{"src_ip:10.0.0.0/8", "src_ip:10.0.0.0/8"},
		{"src_ip:10.1.2.3/8", "src_ip:10.0.0.0/8"},
		{"src_ip:::ffff:10.0.0.1", "src_ip:10.0.0.1"},
		{"src_ip:::ffff:10.0.0.0/104", "src_ip:10.0.0.0/8"},
		{"dest_ip:2001:db8::/32", "dest_ip:2001:db8::/32"},
		{"dest_port:>1024", "dest_port:{1024 TO *}"},
		{"dest_port:>=1024", "dest_port:[1024 TO *}"},
		{"dest_port:<1024", "dest_port:{* TO 1024}"},
		{"dest_port:<=1024", "dest_port:{* TO 1024]"},
		{"dest_port:[1 TO 1024]", "dest_port:[1 TO 1024]"},
		{"dest_port:{1 TO 1024]", "dest_port:{1 TO 1024]"},
		{"dest_port:[1024 TO *]", "dest_port:[1024 TO *}"},
		{"signature.id:2001219 src_ip:10.0.0.0/8", `signature.id:2001219 src_ip:10.0.0.0/8`},
		{"a b OR c", `("a" "b") OR "c"`},
		{"a (b OR c)", `"a" ("b" OR "c")`},
		{"a AND b", `"a" "b"`},
		{"-kind:flow", `-kind:"flow"`},
		{"NOT kind:flow", `-kind:"flow"`},
		{"--kind:flow", `--kind:"flow"`},
		{`signature.name:"ET SCAN Potential SSH Scan"`, `signature.name:"ET SCAN Potential SSH Scan"`},
		{`signature.name:ET*SSH*`, `signature.name:ET*SSH*`},
		{`signature.name:*`, `signature.name:*`},
		{`signature.name:a\*b`, `signature.name:"a*b"`},
		{`signature.name:"a*b"`, `signature.name:"a*b"`},
		{`"SSH Scan"`, `"ssh scan"`},
		{`10.0.0.5`, `"10 0 0 5"`},
		{`ssh*`, `"ssh"*`},
		{`"potential ss"*`, `"potential ss"*`},
		{`10.0.*`, `"10 0"`},
		{`details.http.hostname:example.com`, `details.http.hostname:"example.com"`},
		{`details.http.status:[200 TO 299]`, `details.http.status:[200 TO 299]`},
		{`signature.id:(2001219 OR 2001220)`, `signature.id:2001219 OR signature.id:2001220`},
		{`timestamp:>=2026-11-22`, `timestamp:[2026-11-22T00:00:00Z TO *}`},
		{`timestamp:[2026-11-22T14:00:00+01:00 TO 2026-11-22T15:00:00.5Z}`, `timestamp:[2026-11-22T13:00:00Z TO 2026-11-22T15:00:00.5Z}`},
		{`flow.age:-5`, `flow.age:-5`},
		{`flow.alerted:true`, `flow.alerted:true`},
		{`src_geo.lat:>1.5`, `src_geo.lat:{1.5 TO *}`},
		{`vlan:100`, `vlan:100`},
		{`src_labels:home*`, `src_labels:home*`},
		{`flow_id:1945813227475284123`, `flow_id:1945813227475284123`},
		{`kind:alert -action:allowed OR kind:packet`, `(kind:"alert" -action:"allowed") OR kind:"packet"`},
		{`src_ip:[10.0.0.1 TO 10.0.0.9]`, `src_ip:[10.0.0.1 TO 10.0.0.9]`},
		{"ORACLE", `"oracle"`},
		{"dest_port:80\tkind:alert\n", `dest_port:80 kind:"alert"`},
	} {
		q, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := q.String(); got != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.in, got, tc.want)
			continue
		}
		again, err := Parse(q.String())
		if err != nil || again.String() != q.String() {
			t.Errorf("canonical %q does not parse to itself: %v %v", q.String(), again, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		pos  int
		want string
	}{
		{"sig.id:1", 0, `unknown field "sig.id" (did you mean signature.id?); known fields: action, `},
		{"kind:alert foo:bar", 11, `unknown field "foo"`},
		{"kind:alrt", 5, `kind: "alrt" is not one of alert, flow, packet, anomaly, event, audit, stats`},
		{"dest_port:http", 10, `not a whole number`},
		{"dest_port:-1", 10, `not a whole number ≥ 0`},
		{"dest_port:", 10, "expected a value"},
		{"dest_port: 80", 10, "expected a value"},
		{"src_ip:10.0.0.0/33", 7, "not a CIDR prefix"},
		{"src_ip:10.0.*", 7, "CIDR"},
		{"src_ip:host", 7, "not an IP address"},
		{"signature.name:>a", 15, "comparisons and ranges are for numbers"},
		{"flow_id:>5", 8, "identifier"},
		{"dest_port:[1 TO", 10, "unterminated range"},
		{"dest_port:[1 2]", 13, "a range is [low TO high]"},
		{"dest_port:[a TO 2]", 11, "not a whole number"},
		{"(kind:alert", 0, "unbalanced '('"},
		{"kind:alert)", 10, "unbalanced ')'"},
		{"()", 1, "expected a term before ')'"},
		{"a OR", 2, "OR needs a term on each side"},
		{"OR a", 0, "OR needs a term on each side"},
		{"a AND", 2, "AND needs a term on each side"},
		{"- a", 0, "'-' must stand right before"},
		{"a -", 2, "'-' must stand right before"},
		{`"abc`, 0, "unterminated quoted string"},
		{`kind:"alert`, 5, "unterminated quoted string"},
		{`abc\`, 3, "escapes nothing"},
		{`a*b`, 0, "may only end it"},
		{`...`, 0, "nothing to search for"},
		{`signature.name:""`, 15, "empty value"},
		{`details.:x`, 0, `unknown field "details."`},
		{`details.a..b:x`, 0, `unknown field "details.a..b"`},
		{`details.x:[a TO b]`, 11, "ranges under details take numbers"},
		{`timestamp:yesterday`, 10, "not a time"},
		{`flow.alerted:yes`, 13, "not true or false"},
		{`http://example.com`, 0, `unknown field "http"`},
		{`src_ip:[10.0.0.1 TO *]x`, 22, `unexpected "x"`},
		{strings.Repeat("(", 40) + "a" + strings.Repeat(")", 40), 32, "nested deeper than 32"},
		{strings.Repeat("-", 40) + "a", 32, "nested deeper than 32"},
		{strings.Repeat("a ", 300), 512, "more than 256 terms"},
		{strings.Repeat("a", MaxQueryLen+1), MaxQueryLen, "longer than"},
	} {
		_, err := Parse(tc.in)
		var qe *Error
		if !errors.As(err, &qe) {
			t.Errorf("Parse(%q) = %v, want a *Error", tc.in, err)
			continue
		}
		if qe.Pos != tc.pos || !strings.Contains(qe.Msg, tc.want) {
			t.Errorf("Parse(%q) = %q at %d, want %q at %d", tc.in, qe.Msg, qe.Pos, tc.want, tc.pos)
		}
	}
}

func TestErrorPointer(t *testing.T) {
	_, err := Parse("kind:alert foo:bar")
	got := err.(*Error).Pointer("kind:alert foo:bar")
	want := "kind:alert foo:bar\n           ^"
	if got != want {
		t.Errorf("Pointer =\n%s\nwant\n%s", got, want)
	}
}

func TestLookup(t *testing.T) {
	if f := Lookup("signature.id"); f == nil || f.Type != Uint {
		t.Errorf("signature.id: %+v", f)
	}
	if f := Lookup("details.http.hostname"); f == nil || f.Type != JSON {
		t.Errorf("details.http.hostname: %+v", f)
	}
	for _, bad := range []string{"details", "details.", "nope", "signature"} {
		if Lookup(bad) != nil {
			t.Errorf("Lookup(%q) found a field", bad)
		}
	}
	seen := map[string]bool{}
	for _, f := range Fields() {
		if seen[f.Name] {
			t.Errorf("field %s twice", f.Name)
		}
		seen[f.Name] = true
	}
}

// events used by the matcher tests.
func sampleEvents() []*normalize.Event {
	alerted := true
	uid := uint32(0)
	ts := time.Date(2026, 11, 22, 14, 11, 12, 123456789, time.UTC)
	a := &normalize.Event{
		ID: "7f3a9c0e12d4b6a80000000000000001", Timestamp: ts, Received: ts.Add(time.Millisecond),
		Kind: normalize.KindAlert, Action: normalize.ActionAllowed,
		Source: normalize.Source{Type: "suricata", Input: "suricata", Sensor: "sensor-1"},
		SrcIP:  netip.MustParseAddr("10.0.0.5"), DestIP: netip.MustParseAddr("192.0.2.10"),
		SrcPort: 51514, DestPort: 22, HasPorts: true, Proto: 6, HasProto: true, ProtoName: "tcp",
		CommunityID: "1:Nc4GjAEQw5vzeh33M+8zyfkfahs=", FlowID: 1945813227475284, InIface: "eth0",
		VLAN: []uint16{100, 200}, AppProto: "ssh", Direction: "to_server",
		Signature: &normalize.Signature{GID: 1, ID: 2001219, Rev: 20, Name: "ET SCAN Potential SSH Scan",
			Category: "Attempted Information Leak", Priority: 2},
		Flow:      &normalize.Flow{PktsToServer: 3, PktsToClient: 2, BytesToServer: 180, BytesToClient: 120, Start: ts.Add(-time.Second), Alerted: &alerted},
		SrcLabels: []string{"home_net", "lab"},
		SrcGeo:    &normalize.Geo{CountryISO: "FR", Lat: 48.85, Lon: 2.35, HasLocation: true, ASN: 64500},
		Details: normalize.Details{
			{Key: "tx_id", Value: normalize.RawJSON(`0`)},
			{Key: "http", Value: normalize.RawJSON(`{"hostname":"www.example.com","status":200,"url":"/a\"b","x":{"y":[1,2]},"ok":true,"nul":null,"s200":"200"}`)},
			{Key: "payload", Value: normalize.RawJSON(`"U1NILTIuMC1saWJzc2g="`)},
		},
	}
	f := &normalize.Event{
		ID: "7f3a9c0e12d4b6a80000000000000002", Timestamp: ts.Add(time.Hour), Received: ts.Add(time.Hour),
		Kind: normalize.KindFlow, Action: normalize.ActionUnknown,
		Source: normalize.Source{Type: "suricata", Input: "suricata"},
		SrcIP:  netip.MustParseAddr("2001:db8::1"), DestIP: netip.MustParseAddr("::ffff:203.0.113.7"),
		Proto: 1, HasProto: true, ProtoName: "icmp", ICMPType: 8, HasICMP: true, FlowID: 1945813227475284,
		Flow: &normalize.Flow{PktsToServer: 1, State: "new", Age: -3},
	}
	p := &normalize.Event{
		ID: "7f3a9c0e12d4b6a80000000000000003", Timestamp: ts.Add(2 * time.Hour), Received: ts.Add(2 * time.Hour),
		Kind: normalize.KindPacket, Action: normalize.ActionBlocked,
		Source: normalize.Source{Type: "nflog", Input: "fw", Sensor: "gw"},
		SrcIP:  netip.MustParseAddr("198.51.100.1"), DestIP: netip.MustParseAddr("10.9.8.7"),
		SrcPort: 0, DestPort: 0, HasPorts: true, Proto: 17, HasProto: true, ProtoName: "udp",
		Packet:   &normalize.Packet{Len: 60, TTL: 0, HasTTL: true, TCPFlags: "SA"},
		Firewall: &normalize.Firewall{Group: 5, Prefix: "DROP in: ", UID: &uid},
	}
	return []*normalize.Event{a, f, p}
}

func TestMatcher(t *testing.T) {
	evs := sampleEvents()
	for _, tc := range []struct {
		q    string
		want string // one letter per event: a(lert) f(low) p(acket)
	}{
		{"", "afp"},
		{"kind:alert", "a"},
		{"-kind:alert", "fp"},
		{"kind:alert OR kind:packet", "ap"},
		{"kind:(alert OR packet)", "ap"},
		{"src_ip:10.0.0.0/8", "a"},
		{"ip_v4:1", "!"},
		{"src_ip:10.0.0.5", "a"},
		{"src_ip:2001:db8::/32", "f"},
		{"dest_ip:203.0.113.7", "f"},
		{"dest_ip:203.0.113.0/24", "f"},
		{"dest_ip:::ffff:203.0.113.0/120", "f"},
		{"dest_ip:10.0.0.0/8", "p"},
		{"src_ip:[10.0.0.1 TO 10.0.0.9]", "a"},
		{"src_ip:>10.0.0.5", "p"},
		{"src_ip:>=::", "f"},
		{"src_ip:*", "afp"},
		{"dest_port:22", "a"},
		{"dest_port:0", "p"},
		{"-dest_port:22", "fp"},
		{"dest_port:>1024", ""},
		{"src_port:>1024", "a"},
		{"src_port:[0 TO 0]", "p"},
		{"src_port:{0 TO 51514}", ""},
		{"src_port:{0 TO 51514]", "a"},
		{"dest_port:*", "ap"},
		{"-dest_port:*", "f"},
		{"icmp_type:8", "f"},
		{"proto:6", "a"},
		{"proto_name:udp", "p"},
		{"signature.id:2001219", "a"},
		{"signature.id:>0", "a"},
		{"signature.priority:[1 TO 2]", "a"},
		{`signature.name:"ET SCAN Potential SSH Scan"`, "a"},
		{`signature.name:"ET SCAN"`, ""},
		{`signature.name:ET*`, "a"},
		{`signature.name:*SSH*`, "a"},
		{`signature.name:*Scan`, "a"},
		{`signature.name:*scan`, ""},
		{`signature.name:ET*Potential*Scan`, "a"},
		{`signature.name:ET*Scan*Potential`, ""},
		{`signature.category:*`, "a"},
		{`source.sensor:*`, "ap"},
		{`source.sensor:sensor-1 OR source.sensor:gw`, "ap"},
		{`flow_id:1945813227475284`, "af"},
		{`flow_id:*`, "af"},
		{`vlan:200`, "a"},
		{`vlan:[150 TO 300]`, "a"},
		{`vlan:*`, "a"},
		{`-vlan:100`, "fp"},
		{`src_labels:lab`, "a"},
		{`src_labels:home*`, "a"},
		{`dest_labels:*`, ""},
		{`flow.age:<0`, "f"},
		{`flow.age:*`, "f"},
		{`flow.state:new`, "f"},
		{`flow.alerted:true`, "a"},
		{`flow.alerted:false`, ""},
		{`flow.pkts_toserver:>=1`, "af"},
		{`flow.start:*`, "a"},
		{`flow.start:<2026-11-22T14:11:12Z`, "a"},
		{`timestamp:2026-11-22T14:11:12.123456Z`, "a"},
		{`timestamp:>=2026-11-22T15:00:00Z`, "fp"},
		{`timestamp:[2026-11-22T15:00:00Z TO 2026-11-22T15:11:12.123456Z]`, "f"},
		{`timestamp:[2026-11-22T15:00:00Z TO 2026-11-22T15:11:12.123456Z}`, ""},
		{`packet.ttl:0`, "p"},
		{`packet.tcp_flags:SA`, "p"},
		{`packet.tos:*`, ""},
		{`firewall.uid:0`, "p"},
		{`firewall.gid:*`, ""},
		{`firewall.prefix:"DROP in: "`, "p"},
		{`src_geo.country_iso:FR`, "a"},
		{`src_geo.lat:[48 TO 49]`, "a"},
		{`src_geo.lat:{48.85 TO 49]`, ""},
		{`src_geo.asn:64500`, "a"},
		{`details.tx_id:0`, "a"},
		{`details.http.hostname:www.example.com`, "a"},
		{`details.http.hostname:*.example.com`, "a"},
		{`details.http.status:200`, "a"},
		{`details.http.status:200.0`, "a"},
		{`details.http.status:[100 TO 299]`, "a"},
		{`details.http.status:>200`, ""},
		{`details.http.s200:200`, "a"},
		{`details.http.s200:[0 TO 300]`, ""},
		{`details.http.url:"/a\"b"`, "a"},
		{`details.http.ok:true`, "a"},
		{`details.http.ok:*`, "a"},
		{`details.http.nul:*`, ""},
		{`details.http.x:*`, "a"},
		{`details.http.x.y:*`, "a"},
		{`details.http.x.y:1`, ""},
		{`details.http.missing:*`, ""},
		{`-details.http.hostname:www.example.com`, "fp"},
		{`ssh`, "a"},
		{`SSH`, "a"},
		{`"ssh scan"`, "a"},
		{`"potential ssh"`, "a"},
		{`"ssh potential"`, ""},
		{`"potential ss"*`, "a"},
		{`scan*`, "a"},
		{`10.0.0.5`, "a"},
		{`10.0.0.50`, ""},
		{`"www example"`, "a"},
		{`2001219`, "a"},
		{`libssh`, ""}, // inside the base64 payload: not indexed
		{`drop`, "p"},
		{`-ssh`, "fp"},
		{`ssh kind:alert dest_port:22`, "a"},
		{`(kind:flow OR kind:packet) -source.type:nflog`, "f"},
		{`NOT (kind:flow OR kind:packet)`, "a"},
	} {
		q, err := Parse(tc.q)
		if tc.want == "!" {
			if err == nil {
				t.Errorf("%q parsed", tc.q)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.q, err)
			continue
		}
		m := q.Matcher()
		got := ""
		for i, e := range evs {
			if m.Match(e) {
				got += string("afp"[i])
			}
		}
		if got != tc.want {
			t.Errorf("%q matched %q, want %q", tc.q, got, tc.want)
		}
	}
}

func TestAppendText(t *testing.T) {
	got := string(AppendText(nil, sampleEvents()[0]))
	for _, want := range []string{"alert allowed suricata suricata sensor 1 10 0 0 5 51514 192 0 2 10 22 tcp",
		"1 2001219 20 et scan potential ssh scan attempted information leak", "home net lab", "www example com 200"} {
		if !strings.Contains(got, want) {
			t.Errorf("text %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "u1nilti") {
		t.Errorf("payload indexed: %q", got)
	}
	long := sampleEvents()[1]
	long.Details = normalize.Details{{Key: "x", Value: normalize.RawJSON(`"` + strings.Repeat("word ", 10000) + `"`)}}
	if n := len(AppendText(nil, long)); n > MaxTextBytes {
		t.Errorf("text of %d bytes", n)
	}
	if got := Tokens("Ünïcode_Wörds, ΑΒΓ 12ab"); strings.Join(got, "|") != "ünïcode|wörds|αβγ|12ab" {
		t.Errorf("Tokens = %q", got)
	}
}

func TestMatchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	e := sampleEvents()[0]
	for _, q := range []string{"kind:alert src_ip:10.0.0.0/8 -signature.id:2001220",
		`signature.name:*SSH* dest_port:[1 TO 1024]`, `details.http.status:200 details.http.hostname:*.example.com`,
		`"ssh scan" kind:alert`} {
		m := MustParse(q).Matcher()
		m.Match(e)
		if n := testing.AllocsPerRun(100, func() { m.Match(e) }); n != 0 {
			t.Errorf("%q: %.1f allocations per Match", q, n)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	e := sampleEvents()[0]
	for _, q := range []string{
		"kind:alert src_ip:10.0.0.0/8",
		"kind:alert src_ip:10.0.0.0/8 -signature.id:2001220",
		"signature.id:(2001219 OR 2001220) dest_port:[1 TO 1024]",
		`signature.name:*SSH* -source.sensor:gw`,
		`details.http.hostname:*.example.com`,
		`"ssh scan"`,
	} {
		m := MustParse(q).Matcher()
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Match(e)
			}
		})
	}
}
