// Package testutil holds test scaffolding that several packages share:
// events with every field set, recording emitters and outputs, inputs that
// emit on cue. Test-only: nothing in the gateway imports it.
package testutil

import (
	"net/netip"
	"time"

	"github.com/alertgw/alertgw/normalize"
)

// FullEvent returns an event with every field of normalize.Event set (its
// test in internal/eventcodec keeps it so), so that a round trip through a
// codec or an encoder that drops a field shows up.
func FullEvent() *normalize.Event {
	yes := true
	uid, gid := uint32(1000), uint32(0)
	e := &normalize.Event{
		ID:        "0123456789abcdef0000000000000001",
		Timestamp: time.Date(2026, 11, 22, 10, 11, 12, 123456789, time.UTC),
		Received:  time.Date(2026, 11, 22, 10, 11, 13, 5, time.UTC),
		Kind:      normalize.KindAlert,
		Action:    normalize.ActionBlocked,
		Source:    normalize.Source{Type: "suricata", Input: "eve", Sensor: "sensor-1"},
		SrcIP:     netip.MustParseAddr("10.0.0.1"),
		DestIP:    netip.MustParseAddr("fe80::1%eth0"),
		SrcPort:   1234, DestPort: 443, HasPorts: true,
		Proto: 6, HasProto: true, ProtoName: "tcp",
		ICMPType: 3, ICMPCode: 1, HasICMP: true,
		SrcMAC: "00:11:22:33:44:55", DestMAC: "66:77:88:99:aa:bb",
		CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
		FlowID:      1<<63 + 12345,
		InIface:     "eth0",
		VLAN:        []uint16{10, 4094},
		AppProto:    "tls",
		Direction:   "to_server",
		Signature:   &normalize.Signature{GID: 1, ID: 2024001, Rev: 3, Name: "ET TEST \"quoted\" ✓", Category: "Misc", Priority: 2},
		Flow: &normalize.Flow{PktsToServer: 1, PktsToClient: 2, BytesToServer: 3, BytesToClient: 4,
			Start: time.Date(2026, 1, 1, 0, 0, 0, 1, time.UTC), End: time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC),
			Age: -1, State: "closed", Reason: "timeout", Alerted: &yes},
		Packet:   &normalize.Packet{Len: 60, TTL: 64, HasTTL: true, TOS: 16, IPID: 7, TCPFlags: "SA", TCPWindow: 65535, TCPSeq: 1, TCPAck: 2},
		Firewall: &normalize.Firewall{Group: 5, Prefix: "drop: ", Mark: 9, InIface: "eth0", OutIface: "eth1", UID: &uid, GID: &gid},
		Details: normalize.Details{
			{Key: "tls", Value: normalize.RawJSON(`{"sni":"example.org"}`)},
			{Key: "weird \"key\"", Value: normalize.RawJSON(`[1,2,3]`)},
		},
		SrcGeo: &normalize.Geo{CountryISO: "GB", CountryName: "United Kingdom", CityName: "London",
			Lat: 51.5142, Lon: -0.0931, HasLocation: true, ASN: 20712, ASOrg: "Andrews & Arnold Ltd"},
		DestGeo: &normalize.Geo{CountryISO: "US", CountryName: "United States", CityName: "Mountain View",
			Lat: 37.4, Lon: -122.07, HasLocation: true, ASN: 15169, ASOrg: "GOOGLE"},
		SrcLabels:    []string{"dmz", "home_net"},
		DestLabels:   []string{"home_net"},
		NetDirection: normalize.DirectionInternal,
		Observer:     &normalize.Observer{Site: "fra1", Environment: "prod", Cluster: "edge", Namespace: "sec", Pod: "agw-0", Node: "n3"},
		Aggregate: &normalize.Aggregate{Count: 42, FirstSeen: time.Date(2026, 11, 22, 10, 0, 0, 1, time.UTC),
			LastSeen: time.Date(2026, 11, 22, 10, 0, 59, 0, time.UTC), Key: []string{"signature.id", "src_ip"},
			ClosedBy: "window", FirstSent: true},
		Transaction: &normalize.Transaction{Complete: true, ClosedBy: "flow", Events: 4, Omitted: 1,
			Sources: []string{"suricata", "nflog"},
			Alerts: []normalize.TxAlert{{ID: "a1", Timestamp: time.Date(2026, 11, 22, 10, 0, 1, 0, time.UTC),
				Action: normalize.ActionAllowed, Signature: normalize.Signature{GID: 1, ID: 2, Rev: 3, Name: "n", Category: "c", Priority: 1}}},
			Records: []normalize.TxRecord{
				{ID: "r1", Timestamp: time.Date(2026, 11, 22, 10, 0, 2, 0, time.UTC), Kind: normalize.KindEvent, Type: "http",
					SourceType: "suricata", Action: normalize.ActionUnknown,
					Details: normalize.Details{{Key: "http", Value: normalize.RawJSON(`{"hostname":"x"}`)}}},
				{ID: "r2", Kind: normalize.KindPacket, Type: "packet", SourceType: "nflog", Action: normalize.ActionBlocked,
					Firewall: &normalize.Firewall{Group: 11, Prefix: "drop", UID: &uid}},
			}},
	}
	return e
}

// Filler is a details field of about n bytes ("payload_printable":
// "xxx…"), to make events of a given size.
func Filler(n int) normalize.Field {
	v := make([]byte, 0, n+2)
	v = append(v, '"')
	for range max(n, 1) {
		v = append(v, 'x')
	}
	return normalize.Field{Key: "payload_printable", Value: append(v, '"')}
}
