package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/alertgw/alertgw/normalize"
)

func fullEvent() *normalize.Event {
	alerted, uid := true, uint32(1000)
	ts := time.Date(2026, 11, 22, 10, 11, 12, 123456789, time.FixedZone("x", 3600))
	e := &normalize.Event{
		ID: "0123456789abcdef0123456789abcdef", Timestamp: ts, Received: ts.Add(time.Millisecond),
		Kind: normalize.KindAlert, Action: normalize.ActionBlocked,
		Source: normalize.Source{Type: "suricata", Input: "eve", Sensor: "s-1"},
		SrcMAC: "00:11:22:33:44:55", DestMAC: "66:77:88:99:aa:bb", CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
		FlowID: 1<<63 + 5, InIface: "eth0", VLAN: []uint16{100, 200}, AppProto: "ssh", Direction: "to_server",
		Signature: &normalize.Signature{GID: 1, ID: 2001219, Rev: 20, Name: `ET SCAN "quoted" \ name`, Category: "Attempted Information Leak", Priority: 2},
		Flow:      &normalize.Flow{PktsToServer: 3, PktsToClient: 2, BytesToServer: 180, BytesToClient: 120, Start: ts, End: ts.Add(time.Second), Age: 1, State: "closed", Reason: "timeout", Alerted: &alerted},
		Packet:    &normalize.Packet{Len: 60, TTL: 64, HasTTL: true, TOS: 16, IPID: 4321, TCPFlags: "S", TCPWindow: 16384, TCPSeq: 1, TCPAck: 2},
		Firewall:  &normalize.Firewall{Group: 2, Prefix: "drop in", Mark: 7, InIface: "eth0", OutIface: "eth1", UID: &uid, GID: &uid},
	}
	e.SetAddrs(netip.MustParseAddr("::ffff:10.0.0.5"), netip.MustParseAddr("2001:db8::1"), 51514, 22, true)
	e.SetProto(6)
	e.Details.Set("ssh", normalize.RawJSON(`{"client":{"software_version":"libssh"}}`))
	e.Details.Set("we\"ird\nkey", normalize.RawJSON(`1`))
	return e
}

func TestNativeEncodesEveryField(t *testing.T) {
	line := Native{}.AppendEvent(nil, fullEvent())
	var got map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("invalid JSON %s: %v", line, err)
	}
	checks := map[string]any{
		"schema": "1", "timestamp": "2026-11-22T09:11:12.123456Z", "received": "2026-11-22T09:11:12.124456Z",
		"src_ip": "10.0.0.5", "dest_ip": "2001:db8::1", "src_port": "51514", "proto": "6", "proto_name": "tcp",
		"flow_id": "9223372036854775813", "kind": "alert", "action": "blocked",
	}
	for k, want := range checks {
		if g, ok := got[k]; !ok || fmt.Sprint(g) != want {
			t.Errorf("%s = %v, want %v", k, g, want)
		}
	}
	for _, k := range []string{"source", "signature", "flow", "packet", "firewall", "details", "vlan", "community_id"} {
		if got[k] == nil {
			t.Errorf("%s missing", k)
		}
	}
	if got["details"].(map[string]any)["we\"ird\nkey"] == nil {
		t.Error("details key not escaped and kept")
	}
}

func TestNativeOmitsAbsentFields(t *testing.T) {
	line := string(Native{}.AppendEvent(nil, &normalize.Event{Kind: normalize.KindEvent, Action: normalize.ActionUnknown}))
	want := `{"schema":1,"kind":"event","action":"unknown","source":{}}`
	if line != want {
		t.Errorf("got  %s\nwant %s", line, want)
	}
}

func TestNativeInvalidUTF8(t *testing.T) {
	e := &normalize.Event{Kind: normalize.KindAlert, Signature: &normalize.Signature{Name: "bad \xff byte"}}
	line := Native{}.AppendEvent(nil, e)
	if !json.Valid(line) {
		t.Fatalf("invalid JSON: %q", line)
	}
}

func TestNativeNoAllocs(t *testing.T) {
	e := fullEvent()
	buf := make([]byte, 0, 4096)
	if a := testing.AllocsPerRun(100, func() { buf = Native{}.AppendEvent(buf[:0], e) }); a != 0 {
		t.Errorf("AppendEvent allocates %.0f times into a big enough buffer", a)
	}
}

func BenchmarkNative(b *testing.B) {
	e := fullEvent()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = Native{}.AppendEvent(buf[:0], e)
	}
	b.SetBytes(int64(len(buf)))
}
