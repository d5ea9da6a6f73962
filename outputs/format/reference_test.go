package format

import (
	"net/netip"
	"time"

	"github.com/alertgw/alertgw/normalize"
)

// referenceEvent is one hand-made normalized event per source and kind, as
// the mappers produce them (field for field what normalize/<source> fills),
// plus enrichment on some. Golden files, schema validation and the
// docs/formats.md table are all built from these.
type referenceEvent struct {
	name string
	ev   *normalize.Event
}

func ptr[T any](v T) *T { return &v }

func referenceEvents() []referenceEvent {
	ts := time.Date(2026, 11, 22, 10, 11, 12, 123456000, time.UTC)
	rcv := ts.Add(6545 * time.Microsecond)
	addr := netip.MustParseAddr
	observer := &normalize.Observer{Site: "fra1", Environment: "prod", Cluster: "edge", Namespace: "security", Pod: "alertgw-7d9f-x2x4q", Node: "node-3"}
	geoDE := &normalize.Geo{CountryISO: "DE", CountryName: "Germany", CityName: "Frankfurt am Main", Lat: 50.1188, Lon: 8.6843, HasLocation: true, ASN: 64500, ASOrg: "Example Transit GmbH"}
	geoUS := &normalize.Geo{CountryISO: "US", CountryName: "United States", ASN: 64501, ASOrg: "Example Hosting"}

	suricataAlert := &normalize.Event{
		ID: "0123456789abcdef0000000000000001", Timestamp: ts, Received: rcv,
		Kind: normalize.KindAlert, Action: normalize.ActionBlocked,
		Source: normalize.Source{Type: "suricata", Input: "suricata", Sensor: "sensor-1"},
		SrcIP:  addr("203.0.113.5"), DestIP: addr("10.0.0.10"),
		SrcMAC: "00:11:22:aa:bb:cc", DestMAC: "00:11:22:dd:ee:ff",
		FlowID: 1234567890123456789, InIface: "eth0", VLAN: []uint16{100, 200},
		AppProto: "ssh", Direction: "to_server",
		CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
		Signature: &normalize.Signature{GID: 1, ID: 2001219, Rev: 20, Name: "ET SCAN Potential SSH Scan",
			Category: "Attempted Information Leak", Priority: 2},
		Flow: &normalize.Flow{PktsToServer: 3, PktsToClient: 2, BytesToServer: 180, BytesToClient: 120,
			Start: ts.Add(-2 * time.Second)},
		Details: normalize.Details{
			{Key: "alert", Value: normalize.RawJSON(`{"metadata":{"signature_severity":["Major"]}}`)},
			{Key: "ssh", Value: normalize.RawJSON(`{"client":{"software_version":"libssh"}}`)},
		},
		SrcGeo: geoDE, SrcLabels: []string{"internet"}, DestLabels: []string{"home_net", "dmz"},
		NetDirection: normalize.DirectionInbound, Observer: observer,
	}
	suricataAlert.SetAddrs(suricataAlert.SrcIP, suricataAlert.DestIP, 51514, 22, true)
	suricataAlert.SetProto(6)

	suricataFlow := &normalize.Event{
		ID: "0123456789abcdef0000000000000002", Timestamp: ts, Received: rcv,
		Kind: normalize.KindFlow, Action: normalize.ActionAllowed,
		Source: normalize.Source{Type: "suricata", Input: "suricata", Sensor: "sensor-1"},
		FlowID: 1234567890123456790, InIface: "eth0", AppProto: "dns",
		CommunityID: "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
		Flow: &normalize.Flow{PktsToServer: 1, PktsToClient: 1, BytesToServer: 74, BytesToClient: 90,
			Start: ts.Add(-30 * time.Second), End: ts.Add(-29 * time.Second), Age: 1, State: "established",
			Reason: "timeout", Alerted: ptr(false)},
		Details: normalize.Details{
			{Key: "flow", Value: normalize.RawJSON(`{"bypass":"local"}`)},
			{Key: "tcp", Value: normalize.RawJSON(`{"tcp_flags":"1b"}`)},
		},
		DestGeo: geoUS, SrcLabels: []string{"home_net"}, NetDirection: normalize.DirectionOutbound,
	}
	suricataFlow.SetAddrs(addr("192.168.1.52"), addr("8.8.8.8"), 54585, 53, true)
	suricataFlow.SetProto(17)

	suricataAnomaly := &normalize.Event{
		ID: "0123456789abcdef0000000000000003", Timestamp: ts, Received: rcv,
		Kind: normalize.KindAnomaly, Action: normalize.ActionUnknown,
		Source:  normalize.Source{Type: "suricata", Input: "suricata", Sensor: "sensor-1"},
		InIface: "eth0", CommunityID: "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
		Details: normalize.Details{
			{Key: "anomaly", Value: normalize.RawJSON(`{"type":"decode","event":"ipv4.opt_unknown"}`)},
		},
	}
	suricataAnomaly.SetAddrs(addr("10.1.12.1"), addr("10.1.12.2"), 0, 0, false)
	suricataAnomaly.SetProto(46)

	suricataDNS := &normalize.Event{
		ID: "0123456789abcdef0000000000000004", Timestamp: ts, Received: rcv,
		Kind: normalize.KindEvent, Action: normalize.ActionUnknown,
		Source: normalize.Source{Type: "suricata", Input: "suricata", Sensor: "sensor-1"},
		FlowID: 99, AppProto: "dns", CommunityID: "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
		Details: normalize.Details{
			{Key: "event_type", Value: normalize.RawJSON(`"dns"`)},
			{Key: "dns", Value: normalize.RawJSON(`{"type":"query","id":16000,"rrname":"example.com","rrtype":"A"}`)},
		},
	}
	suricataDNS.SetAddrs(addr("2001:db8::1"), addr("2001:db8::53"), 40000, 53, true)
	suricataDNS.SetProto(17)

	snortAlert := &normalize.Event{
		ID: "0123456789abcdef0000000000000005", Timestamp: ts, Received: rcv,
		Kind: normalize.KindAlert, Action: normalize.ActionUnknown,
		Source: normalize.Source{Type: "snort", Input: "snort", Sensor: "sensor-2"},
		SrcMAC: "00:0c:29:01:02:03", DestMAC: "00:0c:29:04:05:06",
		CommunityID: "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
		ICMPType:    8, ICMPCode: 0, HasICMP: true,
		Signature: &normalize.Signature{GID: 1, ID: 384, Rev: 8, Name: "PROTOCOL-ICMP PING"},
		Packet:    &normalize.Packet{Len: 84, TTL: 64, HasTTL: true, IPID: 4242},
		Details:   normalize.Details{{Key: "event_id", Value: normalize.RawJSON(`17`)}},
	}
	snortAlert.SetAddrs(addr("192.168.0.89"), addr("192.168.0.1"), 0, 0, false)
	snortAlert.SetProto(1)

	unified2Alert := &normalize.Event{
		ID: "0123456789abcdef0000000000000006", Timestamp: ts, Received: rcv,
		Kind: normalize.KindAlert, Action: normalize.ActionBlocked,
		Source:      normalize.Source{Type: "unified2", Input: "spool", Sensor: "sensor-3"},
		CommunityID: "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", VLAN: []uint16{7},
		Signature: &normalize.Signature{GID: 1, ID: 2100498, Rev: 7, Name: "GPL ATTACK_RESPONSE id check returned root",
			Category: "Potentially Bad Traffic", Priority: 1},
		Packet: &normalize.Packet{Len: 60, TTL: 103, HasTTL: true, TCPFlags: "PA", TCPWindow: 16384, TCPSeq: 1000, TCPAck: 2000},
		DestGeo: &normalize.Geo{CountryISO: "US", CountryName: "United States", CityName: "Mountain View",
			Lat: 37.4056, Lon: -122.0775, HasLocation: true, ASN: 15169, ASOrg: "GOOGLE"},
		Details: normalize.Details{
			{Key: "sensor_id", Value: normalize.RawJSON(`0`)},
			{Key: "event_id", Value: normalize.RawJSON(`4`)},
			{Key: "impact_flag", Value: normalize.RawJSON(`32`)},
		},
	}
	unified2Alert.SetAddrs(addr("2001:470:e5bf:dead:4957:2174:e82c:4887"), addr("2607:f8b0:400c:c03::1a"), 63943, 25, true)
	unified2Alert.SetProto(6)

	nflogPacket := &normalize.Event{
		ID: "0123456789abcdef0000000000000007", Timestamp: ts, Received: rcv,
		Kind: normalize.KindPacket, Action: normalize.ActionBlocked,
		Source:      normalize.Source{Type: "nflog", Input: "nflog", Sensor: "fw-1"},
		SrcMAC:      "02:42:ac:11:00:02",
		CommunityID: "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
		Packet:      &normalize.Packet{Len: 60, TTL: 64, HasTTL: true, TOS: 16, IPID: 54321, TCPFlags: "S", TCPWindow: 65495, TCPSeq: 123456},
		Firewall: &normalize.Firewall{Group: 3, Prefix: "Input IPv4 Default DROP", Mark: 42, InIface: "eth0", OutIface: "eth1",
			UID: ptr(uint32(1000)), GID: ptr(uint32(1000))},
		Details:    normalize.Details{{Key: "hook", Value: normalize.RawJSON(`"input"`)}},
		SrcGeo:     geoUS,
		DestLabels: []string{"home_net"}, NetDirection: normalize.DirectionInbound, Observer: observer,
	}
	nflogPacket.SetAddrs(addr("198.51.100.7"), addr("192.168.170.56"), 40123, 9999, true)
	nflogPacket.SetProto(6)

	nflogAllowed := &normalize.Event{
		ID: "0123456789abcdef0000000000000008", Timestamp: ts, Received: rcv,
		Kind: normalize.KindPacket, Action: normalize.ActionAllowed,
		Source:      normalize.Source{Type: "nflog", Input: "nflog", Sensor: "fw-1"},
		CommunityID: "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
		ICMPType:    135, ICMPCode: 0, HasICMP: true,
		Packet:    &normalize.Packet{Len: 72, TTL: 255, HasTTL: true},
		Firewall:  &normalize.Firewall{Group: 2, Prefix: "icmp6", InIface: "lo"},
		SrcLabels: []string{"home_net"}, DestLabels: []string{"home_net"}, NetDirection: normalize.DirectionInternal,
	}
	nflogAllowed.SetAddrs(addr("fe80::200:86ff:fe05:80da"), addr("fe80::260:97ff:fe07:69ea"), 0, 0, false)
	nflogAllowed.SetProto(58)

	audit := &normalize.Event{
		ID: "0123456789abcdef0000000000000009", Timestamp: ts, Received: rcv,
		Kind: normalize.KindAudit, Action: normalize.ActionUnknown,
		Source: normalize.Source{Type: "auditd", Input: "audit", Sensor: "host-1"},
		Details: normalize.Details{
			{Key: "sequence", Value: normalize.RawJSON(`1203`)},
			{Key: "syscall", Value: normalize.RawJSON(`{"syscall":"connect","exit":0,"exe":"/usr/bin/curl"}`)},
		},
		Observer: &normalize.Observer{Site: "fra1"},
	}

	// What the reduction stages make (pipeline/aggregate, pipeline/transaction).
	summary := *suricataAlert
	summary.ID += "-agg"
	summary.Aggregate = &normalize.Aggregate{Count: 42, FirstSeen: ts, LastSeen: ts.Add(58 * time.Second),
		Key: []string{"signature.gid", "signature.id", "src_ip", "dest_ip"}, ClosedBy: "window", FirstSent: true}
	transaction := &normalize.Event{
		ID: "0123456789abcdef0000000000000010-tx", Timestamp: ts, Received: rcv,
		Kind: normalize.KindTransaction, Action: normalize.ActionBlocked,
		Source: normalize.Source{Type: "suricata", Input: "suricata", Sensor: "sensor-1"},
		FlowID: 1234567890123456789, InIface: "eth0", AppProto: "http",
		CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
		Signature: &normalize.Signature{GID: 1, ID: 2100498, Rev: 7, Name: "GPL ATTACK_RESPONSE id check returned root",
			Category: "Potentially Bad Traffic", Priority: 2},
		Flow: &normalize.Flow{PktsToServer: 6, PktsToClient: 4, BytesToServer: 412, BytesToClient: 628,
			Start: ts.Add(-time.Second), End: ts.Add(time.Second), Age: 2, State: "closed", Reason: "timeout", Alerted: ptr(true)},
		Transaction: &normalize.Transaction{Complete: true, ClosedBy: "flow", Events: 5, Sources: []string{"nflog", "suricata"},
			Alerts: []normalize.TxAlert{{ID: "0123456789abcdef0000000000000011", Timestamp: ts, Action: normalize.ActionAllowed,
				Signature: normalize.Signature{GID: 1, ID: 2100498, Rev: 7, Name: "GPL ATTACK_RESPONSE id check returned root",
					Category: "Potentially Bad Traffic", Priority: 2}}},
			Records: []normalize.TxRecord{
				{ID: "0123456789abcdef0000000000000012", Timestamp: ts.Add(-time.Second), Kind: normalize.KindPacket, Type: "packet",
					SourceType: "nflog", Action: normalize.ActionBlocked, Firewall: &normalize.Firewall{Group: 11, Prefix: "drop-out"}},
				{ID: "0123456789abcdef0000000000000013", Timestamp: ts, Kind: normalize.KindEvent, Type: "http",
					SourceType: "suricata", Action: normalize.ActionUnknown,
					Details: normalize.Details{{Key: "http", Value: normalize.RawJSON(`{"hostname":"testmyids.com","url":"/"}`)}}},
			}},
	}
	transaction.SetAddrs(addr("10.0.0.5"), addr("192.0.2.10"), 51514, 80, true)
	transaction.SetProto(6)

	return []referenceEvent{
		{"suricata-alert", suricataAlert},
		{"suricata-flow", suricataFlow},
		{"suricata-anomaly", suricataAnomaly},
		{"suricata-event", suricataDNS},
		{"snort-alert", snortAlert},
		{"unified2-alert", unified2Alert},
		{"nflog-packet-blocked", nflogPacket},
		{"nflog-packet-allowed", nflogAllowed},
		{"auditd-audit", audit},
		{"suricata-alert-summary", &summary},
		{"transaction", transaction},
	}
}
