package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
)

// Varied returns hand-made events that exercise what the generated mix
// lacks: IPv6 and IPv4-mapped addresses, packets, firewall fields, geo,
// labels, observers, odd details, text with accents. Timestamps are spread
// over [from, to).
func Varied(from, to time.Time) []*normalize.Event {
	alerted := true
	uid := uint32(0)
	step := to.Sub(from) / 8
	at := func(i int) time.Time {
		return from.Add(time.Duration(i)*step + step/2).UTC().Truncate(time.Microsecond)
	}
	evs := []*normalize.Event{
		{Kind: normalize.KindAlert, Action: normalize.ActionBlocked,
			SrcIP: netip.MustParseAddr("2001:db8::1"), DestIP: netip.MustParseAddr("2001:db8:ffff::2"),
			SrcPort: 443, DestPort: 61000, HasPorts: true, Proto: 6, HasProto: true, ProtoName: "tcp",
			FlowID: 18446744073709551615, CommunityID: "1:ipv6flow", AppProto: "tls",
			Signature: &normalize.Signature{GID: 1, ID: 2100498, Rev: 7, Name: "GPL ATTACK_RESPONSE id check returned root", Category: "Potentially Bad Traffic", Priority: 2},
			Flow:      &normalize.Flow{PktsToServer: 5, Alerted: &alerted},
			SrcGeo:    &normalize.Geo{CountryISO: "FR", CountryName: "France", Lat: 48.85, Lon: 2.35, HasLocation: true, ASN: 64500, ASOrg: "Exemple Réseau"},
			SrcLabels: []string{"home_net", "lab"}, NetDirection: "outbound",
			Details: normalize.Details{{Key: "tls", Value: normalize.RawJSON(`{"sni":"www.exämple.org","version":"TLS 1.3"}`)},
				{Key: "weird", Value: normalize.RawJSON(`{"n":-1.5e3,"s":"200","b":false,"z":null,"a":[1,"two"],"q":"it's \"quoted\""}`)}}},
		{Kind: normalize.KindFlow, Action: normalize.ActionUnknown,
			SrcIP: netip.MustParseAddr("::ffff:203.0.113.7"), DestIP: netip.MustParseAddr("10.200.0.1"),
			Proto: 1, HasProto: true, ProtoName: "icmp", ICMPType: 8, HasICMP: true, FlowID: 42, CommunityID: "1:icmpflow",
			Flow: &normalize.Flow{PktsToServer: 1, State: "new", Age: -3}},
		{Kind: normalize.KindPacket, Action: normalize.ActionBlocked,
			SrcIP: netip.MustParseAddr("198.51.100.1"), DestIP: netip.MustParseAddr("10.9.8.7"),
			HasPorts: true, Proto: 17, HasProto: true, ProtoName: "udp",
			Packet:   &normalize.Packet{Len: 60, HasTTL: true, TCPFlags: "SA", TOS: 4},
			Firewall: &normalize.Firewall{Group: 5, Prefix: "DROP in: ", UID: &uid},
			Observer: &normalize.Observer{Site: "paris", Node: "node-1"}},
		{Kind: normalize.KindAudit, Action: normalize.ActionUnknown,
			Details: normalize.Details{{Key: "syscall", Value: normalize.RawJSON(`"execve"`)}, {Key: "exe", Value: normalize.RawJSON(`"/usr/bin/curl"`)}}},
		{Kind: normalize.KindAnomaly, Action: normalize.ActionUnknown, SrcIP: netip.MustParseAddr("10.0.0.5"),
			Details: normalize.Details{{Key: "anomaly", Value: normalize.RawJSON(`{"type":"stream","event":"PKT_INVALID_ACK","code":6}`)}}},
	}
	for i, e := range evs {
		e.ID = fmt.Sprintf("ffffffffffffffff%016x", i+1)
		e.Timestamp = at(i)
		e.Received = e.Timestamp.Add(time.Millisecond)
		e.Source = normalize.Source{Type: "test", Input: "varied", Sensor: "sensor-v"}
	}
	return evs
}

// Queries are the queries every backend must answer like the in-memory
// matcher. They cover every operator on every kind of field.
var Queries = []string{
	"", "kind:alert", "-kind:alert", "kind:alert OR kind:packet", "kind:(flow OR audit)",
	"src_ip:10.0.0.0/8", "src_ip:10.1.0.0/16", "-src_ip:10.0.0.0/8", "src_ip:10.0.0.5", "src_ip:*", "-src_ip:*",
	"dest_ip:192.0.2.0/25", "src_ip:2001:db8::/32", "src_ip:203.0.113.7", "dest_ip:10.200.0.1",
	"src_ip:[10.0.0.0 TO 10.127.255.255]", "src_ip:>10.200.0.0", "dest_ip:>=2001:db8::",
	"dest_port:>1024", "dest_port:[1 TO 1024]", "dest_port:{53 TO 443]", "-dest_port:*", "src_port:*", "dest_port:53",
	"signature.id:2001219", "signature.id:(2001219 OR 2024897)", "signature.name:ET*", "signature.name:*Scan",
	`signature.name:"ET SCAN Potential SSH Scan"`, "signature.category:*Traffic", "signature.priority:<=2",
	"signature.gid:1 signature.rev:>4", "-signature.id:*",
	"action:blocked", "proto:17", "proto_name:udp", "app_proto:tls", "-app_proto:*", "icmp_type:8",
	"vlan:101", "vlan:[102 TO 103]", "-vlan:100",
	"flow_id:*", "flow_id:42", "flow_id:18446744073709551615", "community_id:1\\:icmpflow",
	"flow.state:closed", "flow.pkts_toserver:>400", "flow.age:[10 TO 60]", "flow.age:<0", "flow.alerted:false", "flow.alerted:true",
	"flow.start:*", "flow.end:*",
	"source.sensor:sensor-1", "source.sensor:sensor-*", "source.input:varied",
	"details.http.hostname:updates.example.com", "details.http.hostname:*.example.com", "details.http.status:200",
	"details.http.length:>25000", "details.dns.rcode:NOERROR", "details.dns.tx_id:3", "details.ip_v:4", "details.tx_id:0",
	"details.dns.qr:true", "details.http.status:*", "-details.http:*", "details.ntp.precision:<0",
	"details.weird.n:-1500", "details.weird.n:[-2000 TO 0]", "details.weird.s:200", "details.weird.b:false", "details.weird.z:*",
	`details.weird.q:"it's \"quoted\""`, "details.tls.sni:www.exämple.org", "details.syscall:execve", "details.anomaly.code:6",
	"ssh", `"ssh scan"`, `"potential ss"*`, "updates", "198.51.100.7", `"example com"`, "ntp -kind:flow", "example* kind:alert",
	"exämple", "réseau", "curl",
	"(kind:alert dest_port:80) OR (kind:flow proto:17)", "NOT (kind:alert OR kind:flow)", "-(src_ip:10.0.0.0/8 kind:alert)",
	"src_labels:home*", "src_labels:lab", "src_geo.country_iso:FR", "src_geo.lat:>48", "src_geo.asn:64500", "network_direction:outbound",
	"packet.ttl:0", "packet.tos:4", "packet.tcp_flags:SA", "firewall.uid:0", "firewall.prefix:DROP*", "observer.site:paris",
	// Values that would break SQL if they were not parameters.
	`signature.name:"x' OR 1=1 --"`, `details.a:"'; DROP TABLE events; --"`, `"robert'); drop table events; --"`,
}

// Run checks that rd, which holds exactly evs (encoded as lines), answers
// every request like the in-memory matcher over evs. [from, to) covers
// every event.
func Run(t *testing.T, rd store.Reader, evs []*normalize.Event, lines [][]byte, from, to time.Time) {
	t.Helper()
	RunQueries(t, rd, evs, lines, from, to, Queries)
}

// RunQueries is Run with a choice of queries (a backend's variant that
// only changes how events are laid out need not repeat them all).
func RunQueries(t *testing.T, rd store.Reader, evs []*normalize.Event, lines [][]byte, from, to time.Time, queries []string) {
	t.Helper()
	ctx := context.Background()
	byID := map[string][]byte{}
	for i, e := range evs {
		byID[e.ID] = lines[i]
	}
	windows := [][2]time.Time{{from, to}, {from.Add(to.Sub(from) / 3), from.Add(to.Sub(from) * 2 / 3)}}
	for _, qs := range queries {
		q, err := query.Parse(qs)
		if err != nil {
			t.Fatalf("query %q: %v", qs, err)
		}
		m := q.Matcher()
		for _, w := range windows {
			var want []*normalize.Event
			for _, e := range evs {
				if m.Match(e) && !e.Timestamp.Before(w[0]) && e.Timestamp.Before(w[1]) {
					want = append(want, e)
				}
			}
			sortNewestFirst(want)
			f := store.Filter{Query: q, From: w[0], To: w[1]}
			res, err := rd.Events(ctx, store.EventsRequest{Filter: f, Limit: store.MaxLimit})
			if err != nil {
				t.Errorf("%q: %v", qs, err)
				continue
			}
			if got, exp := ids(res.Events), eventIDs(want); !slices.Equal(got, exp) {
				t.Errorf("%q over %s..%s: got %d events, want %d\n got %v\nwant %v", qs, w[0].Format(time.TimeOnly), w[1].Format(time.TimeOnly),
					len(got), len(exp), head(got), head(exp))
				continue
			}
			for _, e := range res.Events {
				if !bytes.Equal(e.JSON, byID[e.ID]) {
					t.Errorf("%q: event %s is not stored as encoded:\n got %s\nwant %s", qs, e.ID, e.JSON, byID[e.ID])
					break
				}
			}
			if res.Truncated || res.TimedOut {
				t.Errorf("%q: truncated %v, timed out %v", qs, res.Truncated, res.TimedOut)
			}
		}
	}
	checkPaging(t, rd, evs, from, to)
	checkGroups(t, rd, evs, from, to)
	checkHistogram(t, rd, evs, from, to)
	checkTransaction(t, rd, evs, from, to)
	checkEvent(t, rd, evs)
}

func sortNewestFirst(evs []*normalize.Event) {
	slices.SortFunc(evs, func(a, b *normalize.Event) int {
		if c := b.Timestamp.UnixMicro() - a.Timestamp.UnixMicro(); c != 0 {
			if c > 0 {
				return 1
			}
			return -1
		}
		return strings.Compare(b.ID, a.ID)
	})
}

func ids(evs []store.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func eventIDs(evs []*normalize.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func head(s []string) []string {
	if len(s) > 6 {
		return append(s[:6:6], "…")
	}
	return s
}

func checkPaging(t *testing.T, rd store.Reader, evs []*normalize.Event, from, to time.Time) {
	t.Helper()
	q := query.MustParse("-kind:audit")
	var want []*normalize.Event
	for _, e := range evs {
		if e.Kind != normalize.KindAudit {
			want = append(want, e)
		}
	}
	sortNewestFirst(want)
	var got []string
	after := ""
	for page := 0; ; page++ {
		res, err := rd.Events(context.Background(), store.EventsRequest{Filter: store.Filter{Query: q, From: from, To: to}, Limit: 7, After: after})
		if err != nil {
			t.Fatalf("paging: %v", err)
		}
		got = append(got, ids(res.Events)...)
		if res.Next == "" {
			if res.Truncated {
				t.Errorf("paging: truncated page without a cursor")
			}
			break
		}
		if len(res.Events) != 7 || !res.Truncated {
			t.Errorf("paging: page %d has %d events, truncated %v", page, len(res.Events), res.Truncated)
		}
		after = res.Next
		if page > len(want) {
			t.Fatal("paging does not end")
		}
	}
	if !slices.Equal(got, eventIDs(want)) {
		t.Errorf("paging: %d events in pages, want %d", len(got), len(want))
	}
}

// groupBys are the group-by requests checked.
var groupBys = []struct {
	by []string
	q  string
}{
	{[]string{"signature.id", "src_ip", "dest_ip"}, "kind:alert"},
	// What the SQLite store answers from its rollups (per-minute counts by
	// kind, action, sensor, input; per-hour alerts by the inbox key).
	{[]string{"signature.id", "signature.name", "signature.priority", "action", "source.sensor", "src_ip", "dest_ip"}, "kind:alert -action:blocked"},
	{[]string{"src_ip"}, "kind:alert src_ip:10.0.0.0/8 -signature.id:2001219"},
	{[]string{"dest_ip", "signature.gid"}, "kind:alert (signature.priority:<=2 OR source.sensor:sensor-*)"},
	{[]string{"signature.id", "signature.name"}, "kind:alert -action:allowed"},
	{[]string{"source.sensor", "action"}, "-kind:flow"},
	{[]string{"source.input", "kind"}, "action:(allowed OR blocked)"},
	{[]string{"kind"}, ""},
	{[]string{"src_ip"}, ""},
	{[]string{"dest_port", "proto"}, "-kind:audit"},
	{[]string{"signature.name", "action"}, ""},
	{[]string{"flow_id"}, "kind:flow"},
	{[]string{"details.http.hostname"}, "kind:alert"},
	{[]string{"details.dns.rcode", "source.sensor"}, ""},
	{[]string{"flow.state", "flow.alerted"}, ""},
	{[]string{"flow.age"}, "kind:flow"},
	{[]string{"src_geo.lat", "src_geo.country_iso"}, ""},
	{[]string{"details.weird.n"}, ""},
}

func checkGroups(t *testing.T, rd store.Reader, evs []*normalize.Event, from, to time.Time) {
	t.Helper()
	for _, w := range edgeWindows(from, to) {
		checkGroupsIn(t, rd, evs, w[0], w[1])
	}
	if _, err := rd.Groups(context.Background(), store.GroupsRequest{Filter: store.Filter{From: from, To: to}, By: []string{"timestamp"}}); err == nil {
		t.Error("group by timestamp: no error")
	}
}

// edgeWindows are the windows groupings and histograms are checked over:
// the whole range, and one whose ends fall inside minutes and hours (a
// backend that counts whole buckets ahead must read the edges exactly).
func edgeWindows(from, to time.Time) [][2]time.Time {
	return [][2]time.Time{{from, to}, {from.Add(7*time.Minute + 13*time.Second), to.Add(-(11*time.Minute + 29*time.Second))}}
}

func checkGroupsIn(t *testing.T, rd store.Reader, evs []*normalize.Event, from, to time.Time) {
	t.Helper()
	for _, gb := range groupBys {
		q := query.MustParse(gb.q)
		m := q.Matcher()
		fields := make([]*query.Field, len(gb.by))
		for i, b := range gb.by {
			fields[i] = query.Lookup(b)
		}
		groups := map[string]*store.Group{}
		var total int64
		for _, e := range evs {
			if !m.Match(e) || e.Timestamp.Before(from) || !e.Timestamp.Before(to) {
				continue
			}
			key := make([]any, len(fields))
			for i, f := range fields {
				key[i] = groupValue(f.Value(e))
			}
			ks := fmt.Sprintf("%#v", key)
			g := groups[ks]
			if g == nil {
				g = &store.Group{Key: key, First: e.Timestamp.UTC().Truncate(time.Microsecond), Last: e.Timestamp.UTC().Truncate(time.Microsecond)}
				groups[ks] = g
			}
			g.Count++
			total++
			ts := e.Timestamp.UTC().Truncate(time.Microsecond)
			if ts.Before(g.First) {
				g.First = ts
			}
			if ts.After(g.Last) {
				g.Last = ts
			}
		}
		var want []store.Group
		for _, g := range groups {
			want = append(want, *g)
		}
		store.SortGroups(want)
		limit := 20
		truncated := len(want) > limit
		if truncated {
			want = want[:limit]
		}
		res, err := rd.Groups(context.Background(), store.GroupsRequest{Filter: store.Filter{Query: q, From: from, To: to}, By: gb.by, Limit: limit})
		if err != nil {
			t.Errorf("group by %v %q over %s..%s: %v", gb.by, gb.q, from.Format(time.TimeOnly), to.Format(time.TimeOnly), err)
			continue
		}
		if res.Total != total || res.Truncated != truncated {
			t.Errorf("group by %v %q over %s..%s: total %d truncated %v, want %d %v", gb.by, gb.q, from.Format(time.TimeOnly), to.Format(time.TimeOnly), res.Total, res.Truncated, total, truncated)
		}
		if g, w := groupsText(res.Groups), groupsText(want); g != w {
			t.Errorf("group by %v %q over %s..%s:\n got %s\nwant %s", gb.by, gb.q, from.Format(time.TimeOnly), to.Format(time.TimeOnly), g, w)
		}
	}
}

// groupValue turns query.Field.Value into what store.Group keys hold.
func groupValue(v any) any {
	if b, ok := v.([]byte); ok {
		return json.RawMessage(b)
	}
	return v
}

func groupsText(gs []store.Group) string {
	var b strings.Builder
	for _, g := range gs {
		fmt.Fprintf(&b, "\n  %s %d %s %s", keyText(g.Key), g.Count, g.First.Format(time.RFC3339Nano), g.Last.Format(time.RFC3339Nano))
	}
	return b.String()
}

func keyText(key []any) string {
	parts := make([]string, len(key))
	for i, v := range key {
		switch x := v.(type) {
		case json.RawMessage:
			parts[i] = "json:" + string(x)
		default:
			parts[i] = fmt.Sprintf("%T:%v", v, v)
		}
	}
	return strings.Join(parts, "|")
}

func checkHistogram(t *testing.T, rd store.Reader, evs []*normalize.Event, from, to time.Time) {
	t.Helper()
	for _, w := range edgeWindows(from, to) {
		for _, qs := range []string{"-kind:flow", "kind:alert action:blocked", "kind:alert signature.id:2001219", "source.sensor:sensor-*"} {
			for _, iv := range []time.Duration{0, 10 * time.Minute, time.Hour} {
				checkHistogramOf(t, rd, evs, qs, w[0], w[1], iv)
			}
		}
	}
}

func checkHistogramOf(t *testing.T, rd store.Reader, evs []*normalize.Event, qs string, from, to time.Time, iv time.Duration) {
	t.Helper()
	q := query.MustParse(qs)
	m := q.Matcher()
	res, err := rd.Histogram(context.Background(), store.HistogramRequest{Filter: store.Filter{Query: q, From: from, To: to}, Interval: iv})
	if err != nil {
		t.Fatalf("histogram: %v", err)
	}
	want, _ := store.Buckets(from, to, iv)
	for _, e := range evs {
		if !m.Match(e) || e.Timestamp.Before(from) || !e.Timestamp.Before(to) {
			continue
		}
		b := store.BucketStart(e.Timestamp, res.Interval)
		for i := range want {
			if want[i].Start.Equal(b) {
				want[i].Count++
			}
		}
	}
	if iv != 0 && res.Interval != iv {
		t.Errorf("histogram interval %s, want %s", res.Interval, iv)
	}
	if fmt.Sprint(res.Buckets) != fmt.Sprint(want) {
		t.Errorf("histogram %q %s over %s..%s:\n got %v\nwant %v", qs, iv, from.Format(time.TimeOnly), to.Format(time.TimeOnly), res.Buckets, want)
	}
}

func checkTransaction(t *testing.T, rd store.Reader, evs []*normalize.Event, from, to time.Time) {
	t.Helper()
	var probes []*normalize.Event
	for _, e := range []*normalize.Event{evs[0], evs[len(evs)/2], evs[len(evs)-4], evs[len(evs)-5]} {
		if e.FlowID != 0 || e.CommunityID != "" {
			probes = append(probes, e)
		}
	}
	for _, probe := range probes {
		var want []*normalize.Event
		for _, e := range evs {
			if probe.FlowID != 0 && e.FlowID == probe.FlowID || probe.CommunityID != "" && e.CommunityID == probe.CommunityID {
				want = append(want, e)
			}
		}
		sortNewestFirst(want)
		slices.Reverse(want)
		res, err := rd.Transaction(context.Background(), store.TransactionRequest{Filter: store.Filter{From: from, To: to},
			FlowID: probe.FlowID, CommunityID: probe.CommunityID})
		if err != nil {
			t.Fatalf("transaction: %v", err)
		}
		if !slices.Equal(ids(res.Events), eventIDs(want)) {
			t.Errorf("transaction of %s: got %v, want %v", probe.ID, ids(res.Events), eventIDs(want))
		}
	}
	if _, err := rd.Transaction(context.Background(), store.TransactionRequest{Filter: store.Filter{From: from, To: to}}); err == nil {
		t.Error("transaction without flow_id or community_id: no error")
	}
}

func checkEvent(t *testing.T, rd store.Reader, evs []*normalize.Event) {
	t.Helper()
	for _, e := range []*normalize.Event{evs[0], evs[len(evs)-1]} {
		got, err := rd.Event(context.Background(), e.ID)
		if err != nil || got.ID != e.ID || !got.Time.Equal(e.Timestamp.Truncate(time.Microsecond)) {
			t.Errorf("event %s: %+v %v", e.ID, got, err)
		}
	}
	if _, err := rd.Event(context.Background(), "nope"); err != store.ErrNotFound {
		t.Errorf("event nope: %v, want ErrNotFound", err)
	}
}
