package format_test

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/schematest"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
)

// everyField sets every field the native encoder can write.
func everyField() *normalize.Event {
	alerted, uid, gid := false, uint32(0), uint32(100)
	ts := time.Date(2026, 11, 22, 10, 11, 12, 123456789, time.FixedZone("x", -4*3600))
	e := &normalize.Event{
		ID: "0123456789abcdef0123456789abcdef", Timestamp: ts, Received: ts.Add(time.Millisecond),
		Kind: normalize.KindPacket, Action: normalize.ActionBlocked,
		Source:   normalize.Source{Type: "nflog", Input: "fw", Sensor: "s-1"},
		ICMPType: 3, ICMPCode: 1, HasICMP: true,
		SrcMAC: "00:11:22:33:44:55", DestMAC: "66:77:88:99:aa:bb", CommunityID: "1:abc=",
		FlowID: 1<<64 - 1, InIface: "eth0", VLAN: []uint16{100, 4095}, AppProto: "dns", Direction: "to_client",
		Signature: &normalize.Signature{GID: 1, ID: 2, Rev: 3, Name: "n", Category: "c", Priority: 1},
		Flow:      &normalize.Flow{PktsToServer: 1, PktsToClient: 2, BytesToServer: 3, BytesToClient: 4, Start: ts, End: ts, State: "new", Reason: "timeout", Alerted: &alerted},
		Packet:    &normalize.Packet{Len: 60, TTL: 0, HasTTL: true, TOS: 1, IPID: 2, TCPFlags: "FSRPAUEC", TCPWindow: 3, TCPSeq: 4, TCPAck: 5},
		Firewall:  &normalize.Firewall{Group: 65535, Prefix: "p", Mark: 1, InIface: "a", OutIface: "b", UID: &uid, GID: &gid},
		Details:   normalize.Details{{Key: "k", Value: normalize.RawJSON(`{"a":[1,null]}`)}},
		// enrichment (package enrich)
		SrcGeo:  &normalize.Geo{CountryISO: "GB", CountryName: "United Kingdom", CityName: "London", Lat: 51.5, Lon: -0.09, HasLocation: true, ASN: 20712, ASOrg: "AAISP"},
		DestGeo: &normalize.Geo{CountryISO: "US", ASN: 15169}, SrcLabels: []string{"dmz", "home_net"}, DestLabels: []string{"home_net"},
		NetDirection: normalize.DirectionInternal,
		Observer:     &normalize.Observer{Site: "s", Environment: "e", Cluster: "c", Namespace: "n", Pod: "p", Node: "o"},
		// reduction stages (pipeline/aggregate, pipeline/transaction)
		Aggregate: &normalize.Aggregate{Count: 3, FirstSeen: ts, LastSeen: ts, Key: []string{"signature.id"}, ClosedBy: "window", FirstSent: true},
		Transaction: &normalize.Transaction{Complete: true, ClosedBy: "flow", Events: 3, Omitted: 1, Sources: []string{"suricata"},
			Alerts: []normalize.TxAlert{{ID: "a", Timestamp: ts, Action: normalize.ActionAllowed, Signature: normalize.Signature{GID: 1, ID: 2, Rev: 3, Name: "n"}}},
			Records: []normalize.TxRecord{{ID: "r", Timestamp: ts, Kind: normalize.KindPacket, Type: "packet", SourceType: "nflog",
				Action: normalize.ActionBlocked, Firewall: &normalize.Firewall{Group: 1}, Details: normalize.Details{{Key: "k", Value: normalize.RawJSON(`1`)}}}}},
	}
	e.SetAddrs(netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("2001:db8::1"), 0, 65535, true)
	e.SetProto(17)
	return e
}

// TestSchemaMatchesNativeExactly: the schema accepts an event with every
// field set (and, being closed with additionalProperties false, would
// refuse a field the encoder writes but the schema lacks), and every
// property the schema defines is one the encoder writes.
func TestSchemaMatchesNativeExactly(t *testing.T) {
	line := format.Native{}.AppendEvent(nil, everyField())
	schematest.Validate(t, line)

	var got map[string]any
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(schematest.SchemaFile)))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	for name, prop := range schema.Properties {
		v, ok := got[name]
		if !ok {
			t.Errorf("schema property %q is never written by the native encoder", name)
			continue
		}
		if name == "details" {
			continue // free-form
		}
		obj, _ := v.(map[string]any)
		for sub := range prop.Properties {
			if _, ok := obj[sub]; !ok {
				t.Errorf("schema property %s.%s is never written by the native encoder", name, sub)
			}
		}
	}
	for name := range got {
		if _, ok := schema.Properties[name]; !ok {
			t.Errorf("native field %q missing from the schema", name)
		}
	}
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	t.Logf("fields checked: %v", keys)
}
