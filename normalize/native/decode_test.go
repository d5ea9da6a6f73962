package native

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/cputime"
	"github.com/alertgw/alertgw/internal/nativetest"
	"github.com/alertgw/alertgw/internal/schematest"
	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/eve"
)

// fullEvent sets every field the native format carries.
func fullEvent() *normalize.Event {
	alerted, uid, gid := false, uint32(1000), uint32(0)
	ts := time.Date(2026, 11, 22, 10, 11, 12, 123456000, time.UTC)
	e := &normalize.Event{
		ID: "0123456789abcdef0123456789abcdef", Timestamp: ts, Received: ts.Add(time.Millisecond),
		Kind: normalize.KindAlert, Action: normalize.ActionBlocked,
		Source: normalize.Source{Type: "suricata", Input: "eve", Sensor: "s-1"},
		SrcMAC: "00:11:22:33:44:55", DestMAC: "66:77:88:99:aa:bb", CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
		FlowID: 1<<63 + 5, InIface: "eth0", VLAN: []uint16{100, 4095}, AppProto: "ssh", Direction: "to_server",
		ICMPType: 3, ICMPCode: 1, HasICMP: true,
		Signature: &normalize.Signature{GID: 1, ID: 2001219, Rev: 20, Name: `ET SCAN "quoted" \ name ☃`, Category: "Attempted Information Leak", Priority: 2},
		Flow: &normalize.Flow{PktsToServer: 3, PktsToClient: 2, BytesToServer: 1<<64 - 1, BytesToClient: 120,
			Start: ts, End: ts.Add(time.Second), Age: 1, State: "closed", Reason: "timeout", Alerted: &alerted},
		Packet:    &normalize.Packet{Len: 60, TTL: 0, HasTTL: true, TOS: 16, IPID: 4321, TCPFlags: "S", TCPWindow: 16384, TCPSeq: 1, TCPAck: 2},
		Firewall:  &normalize.Firewall{Group: 2, Prefix: "drop in", Mark: 7, InIface: "eth0", OutIface: "eth1", UID: &uid, GID: &gid},
		SrcGeo:    &normalize.Geo{CountryISO: "NL", CountryName: "Netherlands", CityName: "Amsterdam", Lat: 52.37, Lon: 4.89, HasLocation: true, ASN: 1136, ASOrg: "KPN"},
		DestGeo:   &normalize.Geo{CountryISO: "US", Lat: 0, Lon: 0, HasLocation: true},
		SrcLabels: []string{"home_net", "dmz"}, DestLabels: []string{"external"}, NetDirection: normalize.DirectionOutbound,
		Observer: &normalize.Observer{Site: "ams", Environment: "prod", Cluster: "c1", Namespace: "ids", Pod: "gw-0", Node: "n1"},
	}
	e.SetAddrs(netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("2001:db8::1"), 0, 22, true)
	e.SetProto(6)
	e.Details.Set("ssh", normalize.RawJSON(`{"client":{"software_version":"libssh"}}`))
	e.Details.Set("we\"ird\nkey", normalize.RawJSON(`[1,"two",null,true,{"a":-1.5e3}]`))
	return e
}

func encode(e *normalize.Event) []byte { return nativetest.Line(e) }

// roundTrip checks that a native line decodes into an event that encodes
// back to the same line.
func roundTrip(t *testing.T, line []byte) *normalize.Event {
	t.Helper()
	var ev normalize.Event
	if err := (Decoder{}).Decode(line, &ev); err != nil {
		t.Fatalf("decode %s: %v", line, err)
	}
	if back := encode(&ev); !bytes.Equal(back, line) {
		t.Fatalf("round trip differs:\n got %s\nwant %s", back, line)
	}
	return &ev
}

// The shared every-field event (reduction objects included) round-trips too.
func TestRoundTripSharedFullEvent(t *testing.T) {
	e := testutil.FullEvent()
	line := encode(e)
	ev := roundTrip(t, line)
	if ev.Aggregate == nil || ev.Transaction == nil || len(ev.Transaction.Records) != 2 || ev.Transaction.Records[1].Firewall == nil {
		t.Errorf("reduction objects not decoded: %+v %+v", ev.Aggregate, ev.Transaction)
	}
	if d := ev.Details.Get("aggregate"); d != nil {
		t.Error("aggregate kept under details instead of decoded")
	}
}

func TestRoundTripEveryField(t *testing.T) {
	line := encode(fullEvent())
	schematest.Validate(t, line)
	ev := roundTrip(t, line)
	if ev.ID != "0123456789abcdef0123456789abcdef" || ev.Source.Sensor != "s-1" || !ev.Received.Equal(fullEvent().Received) {
		t.Errorf("id, sensor or received not kept: %+v", ev)
	}
	if ev.Packet.TTL != 0 || !ev.Packet.HasTTL || ev.Firewall.GID == nil || *ev.Firewall.GID != 0 || ev.Flow.Alerted == nil {
		t.Errorf("zero values with presence flags lost: %+v %+v %+v", ev.Packet, ev.Firewall, ev.Flow)
	}
}

// TestRoundTripEVECorpus: every EVE record of the EVE decoder's testdata,
// normalized and written natively, decodes back to the same line.
func TestRoundTripEVECorpus(t *testing.T) {
	files, _ := filepath.Glob("../eve/testdata/*.json")
	if len(files) == 0 {
		t.Fatal("no EVE testdata")
	}
	n := 0
	for _, f := range files {
		for i, line := range lines(t, f) {
			var ev normalize.Event
			if err := (eve.Decoder{}).Decode(line, &ev); err != nil {
				continue // the corpus has broken records on purpose
			}
			ev.ID, ev.Received = fmt.Sprintf("%032x", i), time.Unix(1700000000, 0).UTC()
			ev.Source.Input, ev.Source.Sensor = "eve", "sensor"
			if ev.Timestamp.IsZero() {
				ev.Timestamp = ev.Received
			}
			if ev.Action == "" {
				ev.Action = normalize.ActionUnknown
			}
			roundTrip(t, encode(&ev))
			n++
		}
	}
	if n < 20 {
		t.Fatalf("only %d records round-tripped", n)
	}
}

func lines(t testing.TB, path string) [][]byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			out = append(out, bytes.Clone(sc.Bytes()))
		}
	}
	return out
}

func TestPrettyPrintedAndUnknownMembers(t *testing.T) {
	msg := `{ "schema" : 1, "id":"a", "timestamp":"2026-01-02T03:04:05.5+01:00", "received":"2026-01-02T02:04:06Z",
	  "kind":"event", "action":"unknown", "source":{"type":"vector"},
	  "new_member": { "x" : [ 1, 2 ] },
	  "details": { "note" : "a b", "obj" : { "k" : true } } }`
	var ev normalize.Event
	if err := (Decoder{}).Decode([]byte(msg), &ev); err != nil {
		t.Fatal(err)
	}
	want := normalize.Details{{Key: "new_member", Value: normalize.RawJSON(`{"x":[1,2]}`)},
		{Key: "note", Value: normalize.RawJSON(`"a b"`)}, {Key: "obj", Value: normalize.RawJSON(`{"k":true}`)}}
	if fmt.Sprint(ev.Details) != fmt.Sprint(want) {
		t.Errorf("details %s, want %s", ev.Details, want)
	}
	if ev.Timestamp != time.Date(2026, 1, 2, 2, 4, 5, 5e8, time.UTC) {
		t.Errorf("timestamp %v", ev.Timestamp)
	}
}

func TestRefused(t *testing.T) {
	base := `"schema":1,"id":"a","timestamp":"2026-01-02T03:04:05Z","received":"2026-01-02T03:04:05Z","kind":"alert","action":"allowed","source":{"type":"suricata"}`
	cases := []struct {
		msg, reason, text string
	}{
		{``, normalize.ReasonInvalidJSON, "empty"},
		{`[]`, normalize.ReasonNotObject, ""},
		{`{` + base, normalize.ReasonTruncated, ""},
		{`{` + base + `}{}`, normalize.ReasonInvalidJSON, "after"},
		{`{` + strings.Replace(base, `"schema":1`, `"schema":2`, 1) + `}`, normalize.ReasonUnsupported, "schema 2"},
		{`{` + strings.Replace(base, `"id":"a",`, ``, 1) + `}`, normalize.ReasonMissingField, "id"},
		{`{` + base + `,"id":"b"}`, normalize.ReasonInvalidField, "repeated"},
		{`{` + strings.Replace(base, `"alert"`, `"alarm"`, 1) + `}`, normalize.ReasonInvalidField, "kind"},
		{`{` + base + `,"src_port":65536}`, normalize.ReasonInvalidField, "src_port"},
		{`{` + base + `,"src_port":-1}`, normalize.ReasonInvalidField, "src_port"},
		{`{` + base + `,"src_port":"1"}`, normalize.ReasonInvalidField, "src_port"},
		{`{` + base + `,"proto":1.5}`, normalize.ReasonInvalidField, "proto"},
		{`{` + base + `,"flow_id":18446744073709551616}`, normalize.ReasonInvalidField, "flow_id"},
		{`{` + base + `,"src_ip":"10.0.0.256"}`, normalize.ReasonInvalidField, "src_ip"},
		{`{` + base + `,"vlan":[4096]}`, normalize.ReasonInvalidField, "vlan"},
		{`{` + base + `,"signature":{"id":1,"extra":2}}`, normalize.ReasonInvalidField, "signature.extra"},
		{`{` + base + `,"flow":{"alerted":1}}`, normalize.ReasonInvalidField, "flow.alerted"},
		{`{` + base + `,"src_geo":{"lat":1}}`, normalize.ReasonInvalidField, "lat and lon"},
		{`{` + base + `,"details":{"a":1,"a":2}}`, normalize.ReasonInvalidField, "repeated"},
		{`{` + base + `,"x":1,"details":{"x":2}}`, normalize.ReasonInvalidField, "repeated"},
		{`{` + strings.Replace(base, `{"type":"suricata"}`, `{"type":""}`, 1) + `}`, normalize.ReasonMissingField, "source.type"},
		{"{" + base + ",\"details\":{\"a\":\"\xff\"}}", normalize.ReasonInvalidUTF8, ""},
		{`{` + base + `,"timestamp2":"x"` + strings.Repeat(" ", MaxMessageSize) + `}`, normalize.ReasonTooLarge, ""},
	}
	for _, c := range cases {
		name := c.msg
		if len(name) > 60 {
			name = name[len(name)-60:]
		}
		t.Run(name, func(t *testing.T) {
			var ev normalize.Event
			err := (Decoder{}).Decode([]byte(c.msg), &ev)
			var nerr *normalize.Error
			if !errors.As(err, &nerr) || nerr.Reason != c.reason || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("got %v; want reason %s containing %q", err, c.reason, c.text)
			}
			if ev.ID != "" {
				t.Error("a refused message left a partial event")
			}
		})
	}
}

func TestLooks(t *testing.T) {
	for msg, want := range map[string]bool{
		`{"schema":1}`: true, " {\n \"schema\" : 1}": true, `{"timestamp":"x","event_type":"alert"}`: false,
		`{"event_type":"alert","schema":1}`: false, ``: false, `[`: false,
	} {
		if got := Looks([]byte(msg)); got != want {
			t.Errorf("Looks(%q) = %v", msg, got)
		}
	}
}

func TestCompact(t *testing.T) {
	for v, want := range map[string]bool{
		`"a b"`: true, `{"a":"x y","b":[1,2]}`: true, `{"a": 1}`: false, "[1,\n2]": false,
		`"q\" x"`: true, `["\\", 1, 2]`: false, `["\\",1]`: true,
	} {
		if got := compact([]byte(v)); got != want {
			t.Errorf("compact(%s) = %v", v, got)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	files, _ := filepath.Glob("../eve/testdata/*.json")
	var recs [][]byte
	for _, f := range files {
		for i, line := range lines(b, f) {
			var ev normalize.Event
			if (eve.Decoder{}).Decode(line, &ev) != nil {
				continue
			}
			ev.ID, ev.Received = fmt.Sprintf("%032x", i), time.Unix(1700000000, 0).UTC()
			ev.Source.Input, ev.Source.Sensor = "eve", "sensor"
			if ev.Timestamp.IsZero() {
				ev.Timestamp = ev.Received
			}
			if ev.Action == "" {
				ev.Action = normalize.ActionUnknown
			}
			recs = append(recs, encode(&ev))
		}
	}
	size := 0
	for _, r := range recs {
		size += len(r)
	}
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	var ev normalize.Event
	i := 0
	start := cputime.Process()
	for b.Loop() {
		if err := (Decoder{}).Decode(recs[i%len(recs)], &ev); err != nil {
			b.Fatal(err)
		}
		i++
	}
	cputime.Per(b, start, b.N, "event")
}
