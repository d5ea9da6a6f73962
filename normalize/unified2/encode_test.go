package unified2

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/alertgw/alertgw/internal/snortgold"
	"github.com/alertgw/alertgw/normalize"
)

// Every record of the Snort 2.9.20 file, decoded and encoded again, is
// byte-identical.
func TestEncodeRoundTripSnortFile(t *testing.T) {
	data, err := os.ReadFile("testdata/snort.u2.1795384908")
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	Split(data, func(r Record) error {
		switch {
		case IsEvent(r.Type):
			var e Event
			if err := DecodeEvent(r.Type, r.Body, &e); err != nil {
				t.Fatal(err)
			}
			body, err := AppendEventBody(nil, &e)
			if err != nil {
				t.Fatal(err)
			}
			out = AppendRecord(out, r.Type, body)
		case r.Type == TypePacket:
			var p Packet
			DecodePacket(r.Type, r.Body, &p)
			out = AppendRecord(out, r.Type, AppendPacketBody(nil, &p))
		default:
			out = AppendRecord(out, r.Type, r.Body)
		}
		return nil
	})
	if !bytes.Equal(out, data) {
		t.Error("re-encoded file differs")
	}
}

// Snort 3's type 114 (no public sample exists): gid before sid, IPv4
// stored IPv4-mapped, HTTP fields, status/action; plus extra data and a
// Suricata-style legacy drop.
func TestEvent3AndExtraData(t *testing.T) {
	e := Event{Type: TypeEvent3, SensorID: 1, EventID: 77, Second: 1795384450, Microsecond: 5, GID: 1, SID: 2000, Rev: 3,
		Class: 2, Priority: 1, Src: netip.MustParseAddr("::ffff:10.0.0.1"), Dst: netip.MustParseAddr("::ffff:10.0.0.2"),
		SPortIType: 4444, DPortICode: 80, VLAN: 12, IPVer: 0x44, Proto: 6, Status: Status3Allow, Action: Action3Drop,
		AppName: []byte("HTTP"), HTTPMethod: []byte("GET"), HTTPUserAgent: []byte("curl/8"), HTTPRequestSize: 10}
	body, _ := AppendEventBody(nil, &e)
	if len(body) != event3Len {
		t.Fatalf("body %d bytes", len(body))
	}
	var file []byte
	file = AppendRecord(file, TypeEvent3, body)
	x := ExtraData{SensorID: 1, EventID: 77, EventSecond: 1795384450, InfoType: 9, Data: []byte("/index.php?a=\"b\"")}
	file = AppendRecord(file, TypeExtraData, AppendExtraDataBody(nil, &x))
	x2 := ExtraData{SensorID: 1, EventID: 77, EventSecond: 1795384450, InfoType: 1, Data: []byte{192, 0, 2, 9}}
	file = AppendRecord(file, TypeExtraData, AppendExtraDataBody(nil, &x2))
	// A Suricata legacy IPv6 event with packet_action 0x20 (dropped).
	s := Event{Type: TypeIDSEventIPv6, EventID: 78, Second: 1795384451, SID: 2, GID: 1, Src: netip.MustParseAddr("fd00::1"),
		Dst: netip.MustParseAddr("fd00::2"), SPortIType: 128, Proto: 58, ImpactFlag: 0x20}
	body, _ = AppendEventBody(nil, &s)
	file = AppendRecord(file, TypeIDSEventIPv6, body)

	var g Aggregator
	var alerts []*Alert
	Split(file, func(r Record) error {
		a, err := g.Add(r)
		if err != nil {
			t.Fatal(err)
		}
		if a != nil {
			alerts = append(alerts, a)
		}
		return nil
	})
	alerts = append(alerts, g.Flush())
	if len(alerts) != 2 || len(alerts[0].Extra) != 2 {
		t.Fatalf("%d alerts", len(alerts))
	}
	m := &Mapper{}
	var ev normalize.Event
	m.Map(alerts[0], &ev)
	snortgold.ValidateSchema(t, &ev)
	if ev.SrcIP.String() != "10.0.0.1" || ev.Signature.GID != 1 || ev.Signature.ID != 2000 || ev.SrcPort != 4444 ||
		ev.Action != normalize.ActionBlocked || ev.AppProto != "HTTP" || ev.VLAN[0] != 12 {
		t.Errorf("type 114: %v %+v %d %s %s %v", ev.SrcIP, ev.Signature, ev.SrcPort, ev.Action, ev.AppProto, ev.VLAN)
	}
	if got := string(ev.Details.Get("extra_data")); got != `{"http_uri":"/index.php?a=\"b\"","xff_ipv4":"192.0.2.9"}` {
		t.Errorf("extra_data %s", got)
	}
	if string(ev.Details.Get("http_user_agent")) != `"curl/8"` {
		t.Errorf("user agent %s", ev.Details.Get("http_user_agent"))
	}
	ev = normalize.Event{}
	m.Map(alerts[1], &ev)
	snortgold.ValidateSchema(t, &ev)
	if ev.Action != normalize.ActionBlocked || ev.Proto != 58 || ev.ICMPType != 128 || ev.HasPorts {
		t.Errorf("suricata drop: %s proto %d icmp %d", ev.Action, ev.Proto, ev.ICMPType)
	}
}

// TestVLANIDBeyond12Bits: an event record's vlan_id is a 12-bit 802.1Q id
// (Snort writes VTH_VLAN); a larger value is not put in vlan, where the
// schema would refuse it, but kept under details.vlan_id.
func TestVLANIDBeyond12Bits(t *testing.T) {
	for _, tc := range []struct {
		id       uint16
		wantVLAN []uint16
		detail   string
	}{
		{12, []uint16{12}, ""},
		{4095, []uint16{4095}, ""},
		{4096, nil, "4096"},
		{0xffff, nil, "65535"},
	} {
		t.Run(fmt.Sprint(tc.id), func(t *testing.T) {
			e := Event{Type: TypeIDSEventVLAN, EventID: 1, Second: 1795384450, GID: 1, SID: 2, Src: netip.MustParseAddr("10.0.0.1"),
				Dst: netip.MustParseAddr("10.0.0.2"), SPortIType: 1, DPortICode: 2, Proto: 6, VLAN: tc.id}
			body, _ := AppendEventBody(nil, &e)
			var g Aggregator
			var a *Alert
			if err := Split(AppendRecord(nil, TypeIDSEventVLAN, body), func(r Record) error {
				_, err := g.Add(r)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if a = g.Flush(); a == nil {
				t.Fatal("no alert")
			}
			var ev normalize.Event
			(&Mapper{}).Map(a, &ev)
			snortgold.ValidateSchema(t, &ev)
			if !slices.Equal(ev.VLAN, tc.wantVLAN) || string(ev.Details.Get("vlan_id")) != tc.detail {
				t.Errorf("vlan %v, details.vlan_id %q; want %v, %q", ev.VLAN, ev.Details.Get("vlan_id"), tc.wantVLAN, tc.detail)
			}
		})
	}
}
