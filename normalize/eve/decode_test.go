package eve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/nativetest"
	"github.com/alertgw/alertgw/normalize"
)

// alertWith is a minimal alert with one top-level member replaced or added:
// key's value is raw JSON ("" leaves the key out).
func alertWith(key, raw string) string {
	fields := []struct{ k, v string }{
		{"timestamp", `"2026-11-22T10:00:00.000000+0000"`},
		{"flow_id", `42`},
		{"event_type", `"alert"`},
		{"src_ip", `"10.0.0.1"`},
		{"src_port", `1024`},
		{"dest_ip", `"10.0.0.2"`},
		{"dest_port", `80`},
		{"proto", `"TCP"`},
		{"alert", `{"action":"allowed","gid":1,"signature_id":2,"rev":3,"signature":"sig","category":"cat","severity":1}`},
	}
	var b strings.Builder
	b.WriteByte('{')
	found := false
	for _, f := range fields {
		v := f.v
		if f.k == key {
			found = true
			if raw == "" {
				continue
			}
			v = raw
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", f.k, v)
	}
	if !found && raw != "" {
		fmt.Fprintf(&b, ",%q:%s", key, raw)
	}
	b.WriteByte('}')
	return b.String()
}

func mustDecode(t *testing.T, msg string) *normalize.Event {
	t.Helper()
	var ev normalize.Event
	if err := (Decoder{}).Decode([]byte(msg), &ev); err != nil {
		t.Fatalf("Decode(%s): %v", msg, err)
	}
	return &ev
}

// reasonOf decodes msg and returns the failure reason, or "" on success.
func reasonOf(t *testing.T, msg []byte) string {
	t.Helper()
	var ev normalize.Event
	err := (Decoder{}).Decode(msg, &ev)
	if err == nil {
		return ""
	}
	var nerr *normalize.Error
	if !errors.As(err, &nerr) {
		t.Fatalf("error is not a *normalize.Error: %T %v", err, err)
	}
	return nerr.Reason
}

// detail returns details[key] of ev as a string, "" when absent.
func detail(ev *normalize.Event, key string) string { return string(ev.Details.Get(key)) }

func TestProto(t *testing.T) {
	for _, tc := range []struct {
		raw      string
		num      uint8
		hasProto bool
		name     string
	}{
		{`"TCP"`, 6, true, "tcp"},
		{`"tcp"`, 6, true, "tcp"},
		{`"Tcp"`, 6, true, "tcp"},
		{`"UDP"`, 17, true, "udp"},
		{`"ICMP"`, 1, true, "icmp"},
		{`"IGMP"`, 2, true, "igmp"},
		{`"IPv6"`, 41, true, "ipv6"},
		{`"GRE"`, 47, true, "gre"},
		{`"ESP"`, 50, true, "esp"},
		{`"AH"`, 51, true, "ah"},
		{`"IPv6-ICMP"`, 58, true, "ipv6-icmp"}, // Suricata ≥ 7
		{`"IPV6-ICMP"`, 58, true, "ipv6-icmp"}, // /etc/protocols alias (Suricata ≤ 6)
		{`"ipv6-icmp"`, 58, true, "ipv6-icmp"},
		{`"ICMPv6"`, 58, true, "ipv6-icmp"},
		{`"SCTP"`, 132, true, "sctp"},
		{`"UDPLite"`, 136, true, "udplite"},
		{`"253"`, 253, true, "253"}, // Suricata writes unnamed protocols as numbers
		{`"0"`, 0, true, "hopopt"},
		{`"6"`, 6, true, "tcp"},
		{`17`, 17, true, "udp"}, // re-shippers may write a JSON number
		{`"FOO-PROTO"`, 0, false, "FOO-PROTO"},
		{`"3pc"`, 34, true, "3pc"},             // an IANA keyword that starts with a digit
		{`"9-unknown"`, 0, false, "9-unknown"}, // a name, not a number
		{`"\u0054CP"`, 6, true, "tcp"},         // escapes are decoded before the lookup
	} {
		t.Run(tc.raw, func(t *testing.T) {
			ev := mustDecode(t, alertWith("proto", tc.raw))
			if ev.Proto != tc.num || ev.HasProto != tc.hasProto || ev.ProtoName != tc.name {
				t.Errorf("proto %s: got %d/%v/%q, want %d/%v/%q", tc.raw, ev.Proto, ev.HasProto, ev.ProtoName, tc.num, tc.hasProto, tc.name)
			}
			if d := detail(ev, "proto"); d != "" {
				t.Errorf("proto repeated in details: %s", d)
			}
		})
	}
	// Absent and null: no protocol; empty: kept under details.
	for _, raw := range []string{"", "null"} {
		if ev := mustDecode(t, alertWith("proto", raw)); ev.HasProto || ev.ProtoName != "" {
			t.Errorf("proto %q: got %d %q", raw, ev.Proto, ev.ProtoName)
		}
	}
	if ev := mustDecode(t, alertWith("proto", `""`)); ev.HasProto || detail(ev, "proto") != `""` {
		t.Errorf(`proto "": HasProto %v, details %q`, ev.HasProto, detail(ev, "proto"))
	}
	for _, raw := range []string{`"256"`, `"-1"`, `256`, `-6`, `6.0`, `true`, `["TCP"]`, `{}`} {
		if r := reasonOf(t, []byte(alertWith("proto", raw))); r != normalize.ReasonInvalidField {
			t.Errorf("proto %s: reason %q, want invalid_field", raw, r)
		}
	}
}

func TestTimestamp(t *testing.T) {
	want := time.Date(2026, 11, 22, 14, 11, 12, 123456000, time.UTC)
	for _, tc := range []struct {
		raw  string
		want time.Time
	}{
		{`"2026-11-22T10:11:12.123456-0400"`, want}, // Suricata: local time, offset without colon
		{`"2026-11-22T16:11:12.123456+0200"`, want},
		{`"2026-11-22T19:41:12.123456+0530"`, want},
		{`"2026-11-22T14:11:12.123456+0000"`, want},
		{`"2026-11-22T16:11:12.123456+02:00"`, want}, // RFC 3339
		{`"2026-11-22T14:11:12.123456Z"`, want},
		{`"2026-11-22T14:11:12.123456"`, want}, // no offset (old docs): UTC
		{`"2026-11-22 14:11:12.123456"`, want},
		{`"2026-11-22T16:11:12.123456+02"`, want},
		{`"2026-11-22T14:11:12.123456789Z"`, want.Add(789)},
		{`"2026-11-22T14:11:12.1234567891Z"`, want.Add(789)}, // beyond ns: truncated
		{`"2026-11-22T14:11:12Z"`, want.Truncate(time.Second)},
		{`"2026-11-22T14:11:12.1Z"`, want.Truncate(time.Second).Add(100 * time.Millisecond)},
		{`"2026-11-23T00:30:00.000000+1030"`, time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)}, // crosses midnight
		{`"2024-02-29T23:00:00.000000-0100"`, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},    // leap day
		{`"2026-11-22T14:11:12.123456\u002b0000"`, want},                                      // escaped '+'
	} {
		t.Run(tc.raw, func(t *testing.T) {
			ev := mustDecode(t, alertWith("timestamp", tc.raw))
			if !ev.Timestamp.Equal(tc.want) || ev.Timestamp.Location() != time.UTC {
				t.Errorf("got %v, want %v (UTC)", ev.Timestamp, tc.want)
			}
			if d := detail(ev, "timestamp"); d != "" {
				t.Errorf("timestamp repeated in details: %s", d)
			}
		})
	}

	// "ts-error": Suricata could not format the time. The event keeps no
	// source time (the pipeline uses the received time) and says so.
	ev := mustDecode(t, alertWith("timestamp", `"ts-error"`))
	if !ev.Timestamp.IsZero() || detail(ev, "timestamp") != `"ts-error"` {
		t.Errorf("ts-error: timestamp %v, details %q", ev.Timestamp, detail(ev, "timestamp"))
	}
	// Missing or null: no source time either.
	for _, raw := range []string{"", "null"} {
		if ev := mustDecode(t, alertWith("timestamp", raw)); !ev.Timestamp.IsZero() {
			t.Errorf("timestamp %q: got %v", raw, ev.Timestamp)
		}
	}

	for _, raw := range []string{
		`""`, `"yesterday"`, `"2026-13-01T00:00:00Z"`, `"2026-02-30T00:00:00Z"`, `"2026-11-22T24:00:00Z"`,
		`"2026-11-22T10:60:00Z"`, `"2026-11-22T10:00:60Z"`, `"2026-11-22T10:00:00.Z"`, `"2026-11-22T10:00:00+2400"`,
		`"2026-11-22T10:00:00+02:0"`, `"2026-11-22T10:00:00+0"`, `"2026-11-22T10:00:00 +0000"`, `"2026-11-22T10:00:00Zjunk"`,
		`"0000-01-01T00:00:00Z"`, `"0001-01-01T00:00:00+0100"`, `"9999-12-31T23:00:00-0200"`, `"2026/11/22T10:00:00Z"`,
		`1700000000`, `true`, `{}`,
	} {
		if r := reasonOf(t, []byte(alertWith("timestamp", raw))); r != normalize.ReasonInvalidField {
			t.Errorf("timestamp %s: reason %q, want invalid_field", raw, r)
		}
	}
}

func TestVLAN(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want []uint16
	}{
		{`61`, []uint16{61}}, // Suricata ≤ 4.1: a plain integer for one tag
		{`[61]`, []uint16{61}},
		{`[100,200]`, []uint16{100, 200}}, // QinQ
		{`[ 1 , 2 , 3 ]`, []uint16{1, 2, 3}},
		{`[0,4095]`, []uint16{0, 4095}},
		{`[1,2,3,4,5]`, []uint16{1, 2, 3, 4, 5}}, // more than the usual 3
		{`null`, nil},
	} {
		ev := mustDecode(t, alertWith("vlan", tc.raw))
		if !reflect.DeepEqual(ev.VLAN, tc.want) {
			t.Errorf("vlan %s: got %v, want %v", tc.raw, ev.VLAN, tc.want)
		}
		if d := detail(ev, "vlan"); d != "" {
			t.Errorf("vlan %s repeated in details: %s", tc.raw, d)
		}
	}
	if ev := mustDecode(t, alertWith("vlan", `[]`)); ev.VLAN != nil || detail(ev, "vlan") != `[]` {
		t.Errorf("vlan []: got %v, details %q", ev.VLAN, detail(ev, "vlan"))
	}
	for _, raw := range []string{`4096`, `-1`, `1.5`, `"100"`, `[100,"200"]`, `[[1]]`, `[null]`, `{}`, `true`} {
		if r := reasonOf(t, []byte(alertWith("vlan", raw))); r != normalize.ReasonInvalidField {
			t.Errorf("vlan %s: reason %q, want invalid_field", raw, r)
		}
	}
}

func TestFlowID(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want uint64
	}{
		{`1`, 1},
		{`9007199254740993`, 1<<53 + 1}, // not representable in float64
		{`1945813227475284`, 1945813227475284},
		{`18446744073709551615`, 1<<64 - 1},
	} {
		if ev := mustDecode(t, alertWith("flow_id", tc.raw)); ev.FlowID != tc.want {
			t.Errorf("flow_id %s: got %d", tc.raw, ev.FlowID)
		}
	}
	// The native encoding writes it exactly too.
	ev := mustDecode(t, alertWith("flow_id", `9007199254740993`))
	if out := nativetest.Line(ev); !bytes.Contains(out, []byte(`"flow_id":9007199254740993,`)) {
		t.Errorf("flow_id not exact in %s", out)
	}
	// parent_id has no common field: kept verbatim, so exact as well.
	ev = mustDecode(t, alertWith("parent_id", `18446744073709551615`))
	if d := detail(ev, "parent_id"); d != `18446744073709551615` {
		t.Errorf("parent_id: details %q", d)
	}
	if ev := mustDecode(t, alertWith("flow_id", `0`)); ev.FlowID != 0 || detail(ev, "flow_id") != `0` {
		t.Errorf("flow_id 0: got %d, details %q", ev.FlowID, detail(ev, "flow_id"))
	}
	for _, raw := range []string{`18446744073709551616`, `99999999999999999999999999`, `-1`, `1.0`, `1e3`, `"42"`, `true`} {
		if r := reasonOf(t, []byte(alertWith("flow_id", raw))); r != normalize.ReasonInvalidField {
			t.Errorf("flow_id %s: reason %q, want invalid_field", raw, r)
		}
	}
}

func TestAddresses(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`"10.0.0.1"`, "10.0.0.1"},
		{`"255.255.255.255"`, "255.255.255.255"},
		{`"2001:0db8:0000:0000:0000:0000:0000:0001"`, "2001:db8::1"}, // Suricata's default: expanded
		{`"2001:db8::1"`, "2001:db8::1"},                             // ipv6-compress: yes
		{`"fe80:0000:0000:0000:0211:22ff:fe33:4455"`, "fe80::211:22ff:fe33:4455"},
		{`"::ffff:192.0.2.1"`, "::ffff:192.0.2.1"},
	} {
		ev := mustDecode(t, alertWith("src_ip", tc.raw))
		if ev.SrcIP != netip.MustParseAddr(tc.want) {
			t.Errorf("src_ip %s: got %v", tc.raw, ev.SrcIP)
		}
	}
	for _, raw := range []string{`"10.0.0"`, `"10.0.0.256"`, `"010.0.0.1"`, `"10.0.0.1 "`, `"fe80::1%eth0"`, `"2001:db8::g"`, `""`, `167772161`, `["10.0.0.1"]`} {
		if r := reasonOf(t, []byte(alertWith("dest_ip", raw))); r != normalize.ReasonInvalidField {
			t.Errorf("dest_ip %s: reason %q, want invalid_field", raw, r)
		}
	}
}

func TestPortsAndICMP(t *testing.T) {
	ev := mustDecode(t, alertWith("", ""))
	if !ev.HasPorts || ev.SrcPort != 1024 || ev.DestPort != 80 {
		t.Errorf("ports: %v %d %d", ev.HasPorts, ev.SrcPort, ev.DestPort)
	}
	ev = mustDecode(t, alertWith("src_port", `0`))
	if !ev.HasPorts || ev.SrcPort != 0 {
		t.Errorf("port 0: %v %d", ev.HasPorts, ev.SrcPort)
	}
	// A lone port cannot be written as a pair: it is kept as it was.
	ev = mustDecode(t, alertWith("dest_port", ""))
	if ev.HasPorts || detail(ev, "src_port") != "1024" {
		t.Errorf("lone src_port: HasPorts %v, details %q", ev.HasPorts, detail(ev, "src_port"))
	}
	for _, raw := range []string{`65536`, `-1`, `80.0`, `"80"`} {
		if r := reasonOf(t, []byte(alertWith("src_port", raw))); r != normalize.ReasonInvalidField {
			t.Errorf("src_port %s: reason %q", raw, r)
		}
	}

	msg := `{"event_type":"alert","src_ip":"2001:db8::1","dest_ip":"2001:db8::2","proto":"IPv6-ICMP","icmp_type":128,"icmp_code":0,"alert":{"signature_id":1}}`
	ev = mustDecode(t, msg)
	if !ev.HasICMP || ev.ICMPType != 128 || ev.ICMPCode != 0 || ev.HasPorts {
		t.Errorf("icmp: %v %d %d ports %v", ev.HasICMP, ev.ICMPType, ev.ICMPCode, ev.HasPorts)
	}
	ev = mustDecode(t, strings.Replace(msg, `"icmp_code":0,`, ``, 1))
	if ev.HasICMP || detail(ev, "icmp_type") != "128" {
		t.Errorf("lone icmp_type: HasICMP %v, details %q", ev.HasICMP, detail(ev, "icmp_type"))
	}
	if r := reasonOf(t, []byte(strings.Replace(msg, `"icmp_type":128`, `"icmp_type":256`, 1))); r != normalize.ReasonInvalidField {
		t.Errorf("icmp_type 256: reason %q", r)
	}
}

func TestKinds(t *testing.T) {
	for _, tc := range []struct {
		eventType string
		kind      normalize.Kind
		keepsType bool // details.event_type present
	}{
		{"alert", normalize.KindAlert, false},
		{"drop", normalize.KindPacket, false},
		{"flow", normalize.KindFlow, false},
		{"netflow", normalize.KindFlow, true}, // flow and netflow share a kind
		{"anomaly", normalize.KindAnomaly, false},
		{"dns", normalize.KindEvent, true},
		{"http", normalize.KindEvent, true},
		{"tls", normalize.KindEvent, true},
		{"fileinfo", normalize.KindEvent, true},
		{"ssh", normalize.KindEvent, true},
		{"smtp", normalize.KindEvent, true},
		{"stats", normalize.KindEvent, true},
		{"some_future_type", normalize.KindEvent, true},
	} {
		t.Run(tc.eventType, func(t *testing.T) {
			obj := `{"x":1,"nested":{"y":[1,2]}}`
			msg := fmt.Sprintf(`{"timestamp":"2026-11-22T10:00:00.000000+0000","event_type":%q,%q:%s}`, tc.eventType, tc.eventType, obj)
			ev := mustDecode(t, msg)
			if ev.Kind != tc.kind {
				t.Errorf("kind %q, want %q", ev.Kind, tc.kind)
			}
			if got := detail(ev, "event_type") != ""; got != tc.keepsType {
				t.Errorf("details.event_type present: %v, want %v", got, tc.keepsType)
			}
			if ev.Source.Type != "suricata" {
				t.Errorf("source.type %q", ev.Source.Type)
			}
			if tc.kind == normalize.KindEvent || tc.kind == normalize.KindAnomaly {
				// The type's own object is kept whole.
				if d := detail(ev, tc.eventType); d != obj {
					t.Errorf("details.%s = %s, want %s", tc.eventType, d, obj)
				}
			}
		})
	}
}

func TestAction(t *testing.T) {
	const sig = `"gid":1,"signature_id":2,"rev":3,"signature":"s","category":"c","severity":2`
	for _, tc := range []struct {
		name      string
		msg       string
		want      normalize.Action
		alertKept string // details.alert, when the alert's action did not decide
	}{
		{"alert allowed", `{"event_type":"alert","alert":{"action":"allowed",` + sig + `}}`, normalize.ActionAllowed, ""},
		{"alert blocked", `{"event_type":"alert","alert":{"action":"blocked",` + sig + `}}`, normalize.ActionBlocked, ""},
		{"alert without action", `{"event_type":"alert","alert":{` + sig + `}}`, normalize.ActionUnknown, ""},
		{"alert unknown action", `{"event_type":"alert","alert":{"action":"rejected",` + sig + `}}`, normalize.ActionUnknown, `{"action":"rejected"}`},
		{"verdict drop overrides allowed", `{"event_type":"alert","alert":{"action":"allowed",` + sig + `},"verdict":{"action":"drop","reject-target":"to_client","reject":["tcp-reset"]}}`, normalize.ActionBlocked, `{"action":"allowed"}`},
		{"verdict before alert", `{"event_type":"alert","verdict":{"action":"drop"},"alert":{"action":"allowed",` + sig + `,"metadata":{"a":["b"]}}}`, normalize.ActionBlocked, `{"action":"allowed","metadata":{"a":["b"]}}`},
		{"verdict alert", `{"event_type":"alert","alert":{"action":"blocked",` + sig + `},"verdict":{"action":"alert"}}`, normalize.ActionAllowed, `{"action":"blocked"}`},
		{"verdict pass", `{"event_type":"alert","alert":{` + sig + `},"verdict":{"action":"pass"}}`, normalize.ActionAllowed, ""},
		{"verdict accept", `{"event_type":"alert","alert":{` + sig + `},"verdict":{"action":"accept"}}`, normalize.ActionAllowed, ""},
		{"verdict unknown falls back to alert", `{"event_type":"alert","alert":{"action":"blocked",` + sig + `},"verdict":{"action":"maybe"}}`, normalize.ActionBlocked, ""},
		{"drop is blocked", `{"event_type":"drop","drop":{"len":40}}`, normalize.ActionBlocked, ""},
		{"drop with alert allowed", `{"event_type":"drop","drop":{"len":40},"alert":{"action":"allowed",` + sig + `}}`, normalize.ActionBlocked, `{"action":"allowed"}`},
		{"flow action drop", `{"event_type":"flow","flow":{"pkts_toserver":1,"action":"drop"}}`, normalize.ActionBlocked, ""},
		{"flow action pass", `{"event_type":"flow","flow":{"pkts_toserver":1,"action":"pass"}}`, normalize.ActionAllowed, ""},
		{"flow without action", `{"event_type":"flow","flow":{"pkts_toserver":1}}`, normalize.ActionUnknown, ""},
		{"netflow", `{"event_type":"netflow","netflow":{"pkts":1}}`, normalize.ActionUnknown, ""},
		{"anomaly", `{"event_type":"anomaly","anomaly":{"type":"decode"}}`, normalize.ActionUnknown, ""},
		{"dns", `{"event_type":"dns","dns":{"type":"query"}}`, normalize.ActionUnknown, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := mustDecode(t, tc.msg)
			if ev.Action != tc.want {
				t.Errorf("action %q, want %q", ev.Action, tc.want)
			}
			if got := detail(ev, "alert"); got != tc.alertKept {
				t.Errorf("details.alert = %q, want %q", got, tc.alertKept)
			}
			if bytes.Contains([]byte(tc.msg), []byte(`"verdict"`)) && detail(ev, "verdict") == "" {
				t.Errorf("verdict not kept")
			}
		})
	}
	// flow.action decides flow records only; elsewhere it is kept.
	ev := mustDecode(t, `{"event_type":"alert","alert":{"signature_id":1},"flow":{"pkts_toserver":1,"action":"drop"}}`)
	if ev.Action != normalize.ActionUnknown || detail(ev, "flow") != `{"action":"drop"}` {
		t.Errorf("flow.action in an alert: action %q, details.flow %q", ev.Action, detail(ev, "flow"))
	}
	ev = mustDecode(t, `{"event_type":"flow","flow":{"action":"reject","bypass":"local"}}`)
	if ev.Action != normalize.ActionUnknown || detail(ev, "flow") != `{"action":"reject","bypass":"local"}` {
		t.Errorf("unknown flow.action: action %q, details.flow %q", ev.Action, detail(ev, "flow"))
	}
}

func TestAlertFields(t *testing.T) {
	ev := mustDecode(t, alertWith("alert", `{"action":"blocked","gid":1,"signature_id":2001219,"rev":20,"signature":"ET SCAN \"x\"","category":"Attempted Information Leak","severity":2,"metadata":{"created_at":["2010_07_30"]},"references":["url,example.com"],"rule":"alert ip any any -> any any (sid:1;)","xff":"1.2.3.4","source":{"ip":"10.0.0.1"},"target":{"ip":"10.0.0.2"},"engine":"fw"}`))
	want := normalize.Signature{GID: 1, ID: 2001219, Rev: 20, Name: `ET SCAN "x"`, Category: "Attempted Information Leak", Priority: 2}
	if ev.Signature == nil || *ev.Signature != want {
		t.Fatalf("signature %+v, want %+v", ev.Signature, want)
	}
	if d := detail(ev, "alert"); d != `{"metadata":{"created_at":["2010_07_30"]},"references":["url,example.com"],"rule":"alert ip any any -> any any (sid:1;)","xff":"1.2.3.4","source":{"ip":"10.0.0.1"},"target":{"ip":"10.0.0.2"},"engine":"fw"}` {
		t.Errorf("details.alert = %s", d)
	}
	// Values the native format leaves out when empty or 0 are kept.
	ev = mustDecode(t, alertWith("alert", `{"action":"allowed","gid":1,"signature_id":2,"rev":3,"signature":"","category":"","severity":0}`))
	if d := detail(ev, "alert"); d != `{"signature":"","category":"","severity":0}` {
		t.Errorf("details.alert = %s", d)
	}
	if r := reasonOf(t, []byte(alertWith("alert", ""))); r != normalize.ReasonMissingField {
		t.Errorf("alert record without alert: reason %q", r)
	}
	for _, raw := range []string{`{"gid":4294967296}`, `{"signature_id":-1}`, `{"rev":"3"}`, `{"signature":5}`, `{"severity":1.5}`, `{"action":true}`, `[]`, `"x"`, `{"gid":1,"gid":2}`, `{"metadata":1,"metadata":2}`} {
		if r := reasonOf(t, []byte(alertWith("alert", raw))); r != normalize.ReasonInvalidField {
			t.Errorf("alert %s: reason %q, want invalid_field", raw, r)
		}
	}
}

func TestFlowFields(t *testing.T) {
	ev := mustDecode(t, `{"event_type":"flow","flow":{"pkts_toserver":18446744073709551615,"pkts_toclient":2,"bytes_toserver":3,"bytes_toclient":4,"start":"2026-11-22T10:00:00.000000+0100","end":"2026-11-22T10:00:05.500000+0100","age":5,"state":"closed","reason":"timeout","alerted":true,"bypassed":{"pkts_toserver":1},"bypass":"capture","wrong_thread":false}}`)
	alerted := true
	want := normalize.Flow{PktsToServer: 1<<64 - 1, PktsToClient: 2, BytesToServer: 3, BytesToClient: 4,
		Start: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 22, 9, 0, 5, 500000000, time.UTC),
		Age: 5, State: "closed", Reason: "timeout", Alerted: &alerted}
	if ev.Flow == nil || !reflect.DeepEqual(*ev.Flow, want) {
		t.Errorf("flow %+v, want %+v", ev.Flow, want)
	}
	if d := detail(ev, "flow"); d != `{"bypassed":{"pkts_toserver":1},"bypass":"capture","wrong_thread":false}` {
		t.Errorf("details.flow = %s", d)
	}
	// A finished flow's age 0 is written by the native format; without an
	// end (alert flow summaries) it is kept instead.
	ev = mustDecode(t, `{"event_type":"flow","flow":{"start":"2026-11-22T10:00:00.000000+0000","end":"2026-11-22T10:00:00.000000+0000","age":0}}`)
	if detail(ev, "flow") != "" || !bytes.Contains(nativetest.Line(ev), []byte(`"age":0`)) {
		t.Errorf("finished flow, age 0: details.flow %q", detail(ev, "flow"))
	}
	ev = mustDecode(t, `{"event_type":"flow","flow":{"age":0}}`)
	if detail(ev, "flow") != `{"age":0}` {
		t.Errorf("age 0 without end: details.flow %q", detail(ev, "flow"))
	}
	ev = mustDecode(t, `{"event_type":"flow","flow":{"start":"ts-error","state":""}}`)
	if detail(ev, "flow") != `{"start":"ts-error","state":""}` || !ev.Flow.Start.IsZero() {
		t.Errorf("ts-error start: details.flow %q", detail(ev, "flow"))
	}
	for _, raw := range []string{`{"pkts_toserver":-1}`, `{"bytes_toclient":1e2}`, `{"start":"now"}`, `{"age":"5"}`, `{"alerted":"yes"}`, `{"state":1}`, `{"age":9223372036854775808}`, `{"age":1,"age":2}`, `[1]`} {
		if r := reasonOf(t, []byte(`{"event_type":"flow","flow":`+raw+`}`)); r != normalize.ReasonInvalidField {
			t.Errorf("flow %s: reason %q, want invalid_field", raw, r)
		}
	}
	if ev := mustDecode(t, `{"event_type":"flow","flow":{"age":-3}}`); ev.Flow.Age != -3 {
		t.Errorf("negative age: %d", ev.Flow.Age)
	}
}

func TestNetflow(t *testing.T) {
	ev := mustDecode(t, `{"event_type":"netflow","src_ip":"9.9.9.9","dest_ip":"10.0.0.1","proto":"UDP","src_port":53,"dest_port":5300,"netflow":{"pkts":3,"bytes":300,"start":"2026-11-22T10:00:00.000000+0000","end":"2026-11-22T10:00:01.000000+0000","age":1,"min_ttl":57,"max_ttl":60,"tx_cnt":1}}`)
	// Unidirectional: what went from src to dest, in the *_toserver counters.
	f := ev.Flow
	if f == nil || f.PktsToServer != 3 || f.BytesToServer != 300 || f.PktsToClient != 0 || f.BytesToClient != 0 || f.Age != 1 {
		t.Fatalf("netflow %+v", f)
	}
	if detail(ev, "netflow") != `{"min_ttl":57,"max_ttl":60,"tx_cnt":1}` || detail(ev, "event_type") != `"netflow"` {
		t.Errorf("details %s", ev.Details)
	}
	// flow{} and netflow{} in one record: the first fills Flow, the second
	// is kept whole.
	ev = mustDecode(t, `{"event_type":"netflow","netflow":{"pkts":3},"flow":{"pkts_toserver":9}}`)
	if ev.Flow.PktsToServer != 3 || detail(ev, "flow") != `{"pkts_toserver":9}` {
		t.Errorf("netflow then flow: %+v, details.flow %q", ev.Flow, detail(ev, "flow"))
	}
	ev = mustDecode(t, `{"event_type":"flow","flow":{"pkts_toserver":9},"netflow":{"pkts":3}}`)
	if ev.Flow.PktsToServer != 9 || detail(ev, "netflow") != `{"pkts":3}` {
		t.Errorf("flow then netflow: %+v, details.netflow %q", ev.Flow, detail(ev, "netflow"))
	}
}

func TestDropFields(t *testing.T) {
	for _, tc := range []struct {
		name, drop string
		want       normalize.Packet
		kept       string
	}{
		{"ipv4 tcp syn", `{"len":60,"tos":8,"ttl":49,"ipid":54321,"tcpseq":2789012345,"tcpack":7,"tcpwin":64240,"syn":true,"ack":false,"psh":false,"rst":false,"urg":false,"fin":false,"tcpres":0,"tcpurgp":0,"reason":"rules"}`,
			normalize.Packet{Len: 60, TTL: 49, HasTTL: true, TOS: 8, IPID: 54321, TCPFlags: "S", TCPWindow: 64240, TCPSeq: 2789012345, TCPAck: 7},
			`{"tcpres":0,"tcpurgp":0,"reason":"rules"}`},
		{"all flags", `{"len":40,"ttl":0,"syn":true,"ack":true,"psh":true,"rst":true,"urg":true,"fin":true}`,
			normalize.Packet{Len: 40, HasTTL: true, TCPFlags: "FSRPAU"}, ``},
		{"ipv6 udp", `{"len":76,"tc":0,"hoplimit":64,"flowlbl":12345,"udplen":36,"reason":"rules"}`,
			normalize.Packet{Len: 76, TTL: 64, HasTTL: true},
			`{"tc":0,"flowlbl":12345,"udplen":36,"reason":"rules"}`},
		{"icmp", `{"len":84,"tos":0,"ttl":64,"ipid":0,"icmp_id":4242,"icmp_seq":1}`,
			normalize.Packet{Len: 84, TTL: 64, HasTTL: true},
			`{"tos":0,"ipid":0,"icmp_id":4242,"icmp_seq":1}`},
		{"no flags set", `{"len":40,"tcpwin":0,"syn":false,"ack":false}`,
			normalize.Packet{Len: 40},
			`{"tcpwin":0,"syn":false,"ack":false}`},
		{"ttl and hoplimit", `{"len":1,"ttl":5,"hoplimit":6}`,
			normalize.Packet{Len: 1, TTL: 5, HasTTL: true}, `{"hoplimit":6}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := mustDecode(t, `{"event_type":"drop","drop":`+tc.drop+`}`)
			if ev.Kind != normalize.KindPacket || ev.Action != normalize.ActionBlocked || ev.Packet == nil || *ev.Packet != tc.want {
				t.Errorf("kind %q action %q packet %+v, want %+v", ev.Kind, ev.Action, ev.Packet, tc.want)
			}
			if d := detail(ev, "drop"); d != tc.kept {
				t.Errorf("details.drop = %s, want %s", d, tc.kept)
			}
		})
	}
	for _, raw := range []string{`{"len":-1}`, `{"ttl":256}`, `{"tos":300}`, `{"syn":1}`, `{"tcpseq":4294967296}`, `{"syn":true,"syn":false}`, `3`} {
		if r := reasonOf(t, []byte(`{"event_type":"drop","drop":`+raw+`}`)); r != normalize.ReasonInvalidField {
			t.Errorf("drop %s: reason %q, want invalid_field", raw, r)
		}
	}
}

func TestEtherAndStrings(t *testing.T) {
	ev := mustDecode(t, alertWith("ether", `{"src_mac":"00:1b:21:3c:4d:5e","dest_mac":"52:54:00:12:34:56","ether_type":2048}`))
	if ev.SrcMAC != "00:1b:21:3c:4d:5e" || ev.DestMAC != "52:54:00:12:34:56" || detail(ev, "ether") != `{"ether_type":2048}` {
		t.Errorf("ether: %q %q details %q", ev.SrcMAC, ev.DestMAC, detail(ev, "ether"))
	}
	ev = mustDecode(t, alertWith("ether", `{"src_macs":["00:1b:21:3c:4d:5e"],"dest_macs":[]}`))
	if ev.SrcMAC != "" || detail(ev, "ether") != `{"src_macs":["00:1b:21:3c:4d:5e"],"dest_macs":[]}` {
		t.Errorf("flow ether: details %q", detail(ev, "ether"))
	}
	msg := `{"event_type":"alert","alert":{"signature_id":1},"in_iface":"eth\u0030","app_proto":"http","direction":"to_client","community_id":"1:abc=","host":"h"}`
	ev = mustDecode(t, msg)
	if ev.InIface != "eth0" || ev.AppProto != "http" || ev.Direction != "to_client" || ev.CommunityID != "1:abc=" || detail(ev, "host") != `"h"` {
		t.Errorf("strings: %q %q %q %q", ev.InIface, ev.AppProto, ev.Direction, ev.CommunityID)
	}
	ev = mustDecode(t, strings.Replace(msg, `"eth\u0030"`, `""`, 1))
	if ev.InIface != "" || detail(ev, "in_iface") != `""` {
		t.Errorf("empty in_iface: details %q", detail(ev, "in_iface"))
	}
	for _, key := range []string{"in_iface", "app_proto", "direction", "community_id"} {
		if r := reasonOf(t, []byte(alertWith(key, `1`))); r != normalize.ReasonInvalidField {
			t.Errorf("%s 1: reason %q", key, r)
		}
	}
	if r := reasonOf(t, []byte(alertWith("ether", `"00:11"`))); r != normalize.ReasonInvalidField {
		t.Errorf("ether string: reason %q", r)
	}
}

func TestDetails(t *testing.T) {
	// Whitespace inside kept values is removed; strings are untouched.
	ev := mustDecode(t, "{ \"event_type\" : \"dns\" ,\n \"dns\" : { \"rrname\" : \"a b\" , \"answers\" : [ 1 , { } , [ ] ] } ,\t\"tx_id\":0 }\r\n")
	if d := detail(ev, "dns"); d != `{"rrname":"a b","answers":[1,{},[]]}` {
		t.Errorf("details.dns = %s", d)
	}
	if d := detail(ev, "tx_id"); d != `0` {
		t.Errorf("details.tx_id = %s", d)
	}
	// Keys with escapes are decoded; source order is kept; nulls of keys
	// with no common field are kept, nulls of mapped keys mean absent.
	ev = mustDecode(t, `{"z":null,"event_type":"dns","a\u00e9":"x","src_ip":null,"m":{"k":null}}`)
	var keys []string
	for _, f := range ev.Details {
		keys = append(keys, f.Key)
	}
	if want := []string{"z", "event_type", "aé", "m"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("details keys %q, want %q", keys, want)
	}
	if ev.SrcIP.IsValid() || detail(ev, "z") != "null" || detail(ev, "m") != `{"k":null}` {
		t.Errorf("nulls: src_ip %v, details %s", ev.SrcIP, ev.Details)
	}
	// A partial object re-encoded: the raw key spelling and compact values.
	ev = mustDecode(t, `{"event_type":"alert","alert":{ "signature_id" : 1 , "meta\u0064ata" : { "a" : [ "b" ] } }}`)
	if d := detail(ev, "alert"); d != `{"meta\u0064ata":{"a":["b"]}}` {
		t.Errorf("details.alert = %s", d)
	}
	out := nativetest.Line(ev)
	if !json.Valid(out) || bytes.ContainsAny(out, "\n\r\t") {
		t.Errorf("native encoding %s", out)
	}
}

func TestDuplicateKeys(t *testing.T) {
	many := func(n int, extra string) string {
		var b strings.Builder
		b.WriteString(`{"event_type":"dns"`)
		for i := range n {
			fmt.Fprintf(&b, `,"k%d":%d`, i, i)
		}
		b.WriteString(extra + "}")
		return b.String()
	}
	// A repeated key with another value is ambiguous: refused.
	for _, tc := range []struct {
		name, msg string
	}{
		{"mapped", `{"event_type":"dns","event_type":"http"}`},
		{"mapped null", `{"event_type":"dns","src_ip":null,"src_ip":"1.2.3.4"}`},
		{"mapped object", `{"event_type":"alert","alert":{"rev":1},"alert":{"rev":2}}`},
		{"kept", `{"event_type":"dns","dns":{},"dns":[]}`},
		{"kept, escaped", `{"event_type":"dns","dns":{},"d\u006es":{"a":1}}`},
		{"kept, many keys", many(100, `,"k7":1`)},
		{"in a partial object", `{"event_type":"alert","alert":{"metadata":{},"metadata":{"a":1}}}`},
		{"mapped in a partial object", `{"event_type":"alert","alert":{"rev":1,"rev":2}}`},
		{"in ether", `{"event_type":"dns","ether":{"src_mac":"a","src_mac":"b"}}`},
	} {
		if r := reasonOf(t, []byte(tc.msg)); r != normalize.ReasonInvalidField {
			t.Errorf("%s: reason %q, want invalid_field", tc.name, r)
		}
	}
	// The same key with the same value again says nothing new (Suricata 6
	// wrote some keys twice, its bug #4106): the repeat is dropped.
	for _, tc := range []struct{ name, msg, want string }{
		{"mapped", `{"event_type":"dns","event_type":"dns","dns":{}}`, `{"event_type":"dns","dns":{}}`},
		{"mapped object", `{"event_type":"alert","alert":{"rev":1,"x":2},"alert":{"rev":1,"x":2}}`, `{"event_type":"alert","alert":{"rev":1,"x":2}}`},
		{"kept", `{"event_type":"dns","dns":{"a":1},"dns":{"a":1}}`, `{"event_type":"dns","dns":{"a":1}}`},
		{"kept, escaped", `{"event_type":"dns","dns":{},"d\u006es":{}}`, `{"event_type":"dns","dns":{}}`},
		{"kept, many keys", many(100, `,"k7":7`), many(100, "")},
		{"in a partial object", `{"event_type":"alert","alert":{"metadata":{},"metadata":{}}}`, `{"event_type":"alert","alert":{"metadata":{}}}`},
		{"mapped in a partial object", `{"event_type":"alert","alert":{"rev":1,"rev":1}}`, `{"event_type":"alert","alert":{"rev":1}}`},
		{"drop flags", `{"event_type":"drop","drop":{"ttl":5,"ttl":5,"syn":true,"syn":true}}`, `{"event_type":"drop","drop":{"ttl":5,"syn":true}}`},
	} {
		got, want := mustDecode(t, tc.msg), mustDecode(t, tc.want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v\nwant %+v", tc.name, got, want)
		}
	}
	if r := reasonOf(t, []byte(many(100, ""))); r != "" {
		t.Errorf("100 distinct keys: %q", r)
	}
	// Repeats inside objects kept whole are passed through untouched.
	if ev := mustDecode(t, `{"event_type":"dns","dns":{"a":1,"a":2}}`); detail(ev, "dns") != `{"a":1,"a":2}` {
		t.Errorf("details.dns = %s", detail(ev, "dns"))
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, msg, reason string
	}{
		{"empty", "", normalize.ReasonInvalidJSON},
		{"blank", " \n", normalize.ReasonInvalidJSON},
		{"array", `[{"event_type":"alert"}]`, normalize.ReasonNotObject},
		{"string", `"alert"`, normalize.ReasonNotObject},
		{"number", "42\n", normalize.ReasonNotObject},
		{"null", `null`, normalize.ReasonNotObject},
		{"two objects", `{"event_type":"dns"}{"event_type":"dns"}`, normalize.ReasonInvalidJSON},
		{"trailing garbage", `{"event_type":"dns"} x`, normalize.ReasonInvalidJSON},
		{"trailing comma", `{"event_type":"dns",}`, normalize.ReasonInvalidJSON},
		{"single quotes", `{'event_type':'dns'}`, normalize.ReasonInvalidJSON},
		{"bare word", `{"event_type":dns}`, normalize.ReasonInvalidJSON},
		{"missing colon", `{"event_type" "dns"}`, normalize.ReasonInvalidJSON},
		{"missing comma", `{"event_type":"dns" "a":1}`, normalize.ReasonInvalidJSON},
		{"bad escape", `{"event_type":"d\qns"}`, normalize.ReasonInvalidJSON},
		{"bad unicode escape", `{"event_type":"\u12G4"}`, normalize.ReasonInvalidJSON},
		{"raw newline in string", "{\"event_type\":\"d\nns\"}", normalize.ReasonInvalidJSON},
		{"raw tab in string", "{\"event_type\":\"d\tns\"}", normalize.ReasonInvalidJSON},
		{"leading zero", `{"event_type":"dns","a":01}`, normalize.ReasonInvalidJSON},
		{"plus number", `{"event_type":"dns","a":+1}`, normalize.ReasonInvalidJSON},
		{"bad fraction", `{"event_type":"dns","a":1.}`, normalize.ReasonInvalidJSON},
		{"bad exponent", `{"event_type":"dns","a":1e}`, normalize.ReasonInvalidJSON},
		{"NaN", `{"event_type":"dns","a":NaN}`, normalize.ReasonInvalidJSON},
		{"bad literal", `{"event_type":"dns","a":tru}`, normalize.ReasonInvalidJSON},
		{"mismatched brackets", `{"event_type":"dns","a":[1}}`, normalize.ReasonInvalidJSON},
		{"truncated object", `{"event_type":"dns","dns":{"a":1`, normalize.ReasonTruncated},
		{"truncated string", `{"event_type":"dns","dns":"ab`, normalize.ReasonTruncated},
		{"truncated key", `{"event_ty`, normalize.ReasonTruncated},
		{"truncated literal", `{"event_type":"dns","a":tr`, normalize.ReasonTruncated},
		{"truncated number", `{"event_type":"dns","a":-`, normalize.ReasonTruncated},
		{"truncated escape", `{"event_type":"dns","a":"\u12`, normalize.ReasonTruncated},
		{"only brace", `{`, normalize.ReasonTruncated},
		{"cut inside a UTF-8 sequence", "{\"event_type\":\"dns\",\"a\":\"caf\xc3", normalize.ReasonTruncated},
		{"invalid UTF-8", "{\"event_type\":\"dns\",\"a\":\"\xff\"}", normalize.ReasonInvalidUTF8},
		{"overlong UTF-8", "{\"event_type\":\"dns\",\"a\":\"\xc0\xaf\"}", normalize.ReasonInvalidUTF8},
		{"UTF-16 surrogate in UTF-8", "{\"event_type\":\"dns\",\"a\":\"\xed\xa0\x80\"}", normalize.ReasonInvalidUTF8},
		{"no event_type", `{"timestamp":"2026-11-22T10:00:00.000000+0000","dns":{}}`, normalize.ReasonMissingField},
		{"null event_type", `{"event_type":null}`, normalize.ReasonMissingField},
		{"empty event_type", `{"event_type":""}`, normalize.ReasonInvalidField},
		{"event_type number", `{"event_type":1}`, normalize.ReasonInvalidField},
		{"empty object", `{}`, normalize.ReasonMissingField},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := reasonOf(t, []byte(tc.msg)); r != tc.reason {
				t.Errorf("reason %q, want %q", r, tc.reason)
			}
		})
	}
	var ev normalize.Event
	err := (Decoder{}).Decode(make([]byte, MaxMessageSize+1), &ev)
	var nerr *normalize.Error
	if !errors.As(err, &nerr) || nerr.Reason != normalize.ReasonTooLarge {
		t.Errorf("oversized message: %v", err)
	}
}

// Hostile input costs time linear in its size and no stack.
func TestHostileInput(t *testing.T) {
	deep := func(n int) string {
		return `{"event_type":"dns","dns":` + strings.Repeat("[", n) + strings.Repeat("]", n) + "}"
	}
	if r := reasonOf(t, []byte(deep(maxDepth-1))); r != "" {
		t.Errorf("nesting %d: %q", maxDepth, r)
	}
	if r := reasonOf(t, []byte(deep(maxDepth))); r != normalize.ReasonTooLarge {
		t.Errorf("nesting %d: %q, want too_large", maxDepth+1, r)
	}
	if r := reasonOf(t, []byte(`{"event_type":"dns","dns":`+strings.Repeat(`{"a":`, 1_000_000))); r != normalize.ReasonTooLarge {
		t.Errorf("a million open objects: %q", r)
	}
	if r := reasonOf(t, []byte(strings.Repeat("[", 1_000_000))); r != normalize.ReasonTooLarge {
		t.Errorf("a million open arrays: %q", r)
	}
	// Huge numbers are kept verbatim where they have no common field, and
	// refused where they must fit one.
	huge := strings.Repeat("9", 100_000)
	if ev := mustDecode(t, `{"event_type":"dns","n":`+huge+`e999999}`); len(detail(ev, "n")) != len(huge)+7 {
		t.Errorf("huge number not kept")
	}
	if r := reasonOf(t, []byte(alertWith("flow_id", huge))); r != normalize.ReasonInvalidField {
		t.Errorf("huge flow_id: %q", r)
	}
	// Many keys, and many repeated keys.
	var b strings.Builder
	b.WriteString(`{"event_type":"dns"`)
	for i := range 50_000 {
		fmt.Fprintf(&b, `,"key%d":[%d]`, i, i)
	}
	b.WriteString("}")
	if ev := mustDecode(t, b.String()); len(ev.Details) != 50_001 {
		t.Errorf("50000 keys: %d details", len(ev.Details))
	}
	if ev := mustDecode(t, `{"event_type":"dns"`+strings.Repeat(`,"a":1`, 100_000)+"}"); len(ev.Details) != 2 {
		t.Errorf("100000 identical repeats: %d details", len(ev.Details))
	}
	b.Reset()
	b.WriteString(`{"event_type":"dns"`)
	for i := range 50_000 {
		fmt.Fprintf(&b, `,"key%d":%d,"key%d":%d`, i, i, i, i+1)
	}
	if r := reasonOf(t, []byte(b.String()+"}")); r != normalize.ReasonInvalidField {
		t.Errorf("repeats with other values: %q", r)
	}
	if ev := mustDecode(t, `{"event_type":"dns","s":"`+strings.Repeat(`\"\u00e9x`, 100_000)+`"}`); len(detail(ev, "s")) != 900_002 {
		t.Errorf("long escaped string: %d", len(detail(ev, "s")))
	}
}

// Key order carries no meaning: any permutation gives the same event
// (Details follow the source's order, so they are compared as sets).
func TestKeyOrder(t *testing.T) {
	members := []string{
		`"timestamp":"2026-11-22T10:11:12.123456-0400"`, `"flow_id":9007199254740993`, `"event_type":"alert"`,
		`"vlan":[1,2]`, `"src_ip":"2001:0db8:0000:0000:0000:0000:0000:0001"`, `"src_port":1`, `"dest_ip":"2001:db8::2"`,
		`"dest_port":2`, `"proto":"TCP"`, `"alert":{"action":"allowed","signature_id":1,"metadata":{"a":["b"]}}`,
		`"verdict":{"action":"drop"}`, `"flow":{"pkts_toserver":1,"start":"2026-11-22T10:11:11.000000-0400"}`,
		`"host":"h"`, `"in_iface":"eth0"`,
	}
	ref := mustDecode(t, "{"+strings.Join(members, ",")+"}")
	for i := range members {
		rot := append(append([]string{}, members[i:]...), members[:i]...)
		for _, order := range [][]string{rot, reversed(rot)} {
			ev := mustDecode(t, "{"+strings.Join(order, ",")+"}")
			a, b := *ev, *ref
			ad, bd := detailsMap(a.Details), detailsMap(b.Details)
			a.Details, b.Details = nil, nil
			if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(ad, bd) {
				t.Fatalf("order %v:\n got %+v %v\nwant %+v %v", order, a, ad, b, bd)
			}
		}
	}
}

func reversed(s []string) []string {
	r := make([]string, len(s))
	for i, v := range s {
		r[len(s)-1-i] = v
	}
	return r
}

func detailsMap(d normalize.Details) map[string]string {
	m := map[string]string{}
	for _, f := range d {
		m[f.Key] = string(f.Value)
	}
	return m
}

// Decode overwrites the event and never writes to the message.
func TestDecodeResetsEventAndKeepsMessage(t *testing.T) {
	var ev normalize.Event
	full := []byte(alertWith("vlan", `[5]`))
	if err := (Decoder{}).Decode(full, &ev); err != nil {
		t.Fatal(err)
	}
	msg := []byte(`{"event_type":"dns","dns":{"a":1}}`)
	orig := bytes.Clone(msg)
	if err := (Decoder{}).Decode(msg, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Signature != nil || ev.VLAN != nil || ev.SrcIP.IsValid() || ev.Kind != normalize.KindEvent {
		t.Errorf("stale fields: %+v", ev)
	}
	if !bytes.Equal(msg, orig) {
		t.Errorf("message changed")
	}
}
