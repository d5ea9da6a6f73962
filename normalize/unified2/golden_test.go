package unified2

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/alertgw/alertgw/internal/snortgold"
	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
)

// readAll reads a whole unified2 stream into aggregated alerts.
func readAll(t testing.TB, r io.Reader) []*Alert {
	t.Helper()
	rd := NewReader(r, 0)
	var g Aggregator
	var out []*Alert
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		a, err := g.Add(rec)
		if err != nil {
			t.Fatal(err)
		}
		if a != nil {
			out = append(out, a)
		}
	}
	if a := g.Flush(); a != nil {
		out = append(out, a)
	}
	return out
}

func openFile(t testing.TB, name string) io.Reader {
	t.Helper()
	if strings.HasSuffix(name, ".gz") {
		return bytes.NewReader(testutil.ReadGz(t, filepath.Join("testdata", name)))
	}
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

var spewField = regexp.MustCompile(`([a-z_ ]+): (\S+)`)

// spewEvents parses u2spewfoo's "(Event)" / "(IPv6 Event)" blocks into
// field maps, in file order.
func spewEvents(t *testing.T) []map[string]string {
	b, err := os.ReadFile("testdata/u2spewfoo.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []map[string]string
	for i := 0; i < len(lines); i++ {
		if lines[i] != "(Event)" && lines[i] != "(IPv6 Event)" {
			continue
		}
		m := map[string]string{}
		for _, l := range lines[i+1 : i+5] {
			for _, f := range spewField.FindAllStringSubmatch(l, -1) {
				m[strings.TrimSpace(f[1])] = f[2]
			}
		}
		out = append(out, m)
	}
	return out
}

// sidMsgFromFast writes a v2 sid-msg.map built from alert.fast, so that the
// golden test also runs the v2 parser and the name lookup.
func sidMsgFromFast(t *testing.T, fast []string) string {
	var b strings.Builder
	b.WriteString("#v2\n")
	seen := map[string]bool{}
	for _, l := range fast {
		tr := snortgold.ParseFast(t, l)
		k := fmt.Sprint(tr.GID, tr.SID)
		if seen[k] {
			continue
		}
		seen[k] = true
		fmt.Fprintf(&b, "%d || %d || %d || %s || %d || %s || url,example.org\n", tr.GID, tr.SID, tr.Rev, "", 0, tr.Msg)
	}
	p := filepath.Join(t.TempDir(), "sid-msg.map")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The Snort 2.9.20 unified2 file of the snort-real run: every event record
// field against u2spewfoo, every normalized field against alert.fast and
// alert.csv (line N = event N), and the action against "[Drop]".
func TestGoldenSnort29(t *testing.T) {
	fast := snortgold.ReadLines(t, "testdata/alert.fast")
	csv := snortgold.ReadLines(t, "testdata/alert.csv")
	// Barnyard2 read this very file: its csv shows the packet that the
	// unified2 record holds (Snort's own csv may show the rebuilt stream
	// packet instead: event 4). It prints 0.0.0.0 for IPv6, so Snort's
	// csv stays the reference there.
	by2 := snortgold.ReadLines(t, "testdata/by2-alert.csv")
	spew := spewEvents(t)
	sigs := snortgold.Sigs(t, "../snort/testdata/classification.config", sidMsgFromFast(t, fast))
	alerts := readAll(t, openFile(t, "snort.u2.1795384908"))
	if len(alerts) != len(fast) || len(spew) != len(fast) {
		t.Fatalf("%d alerts, %d u2spewfoo events, %d fast lines", len(alerts), len(spew), len(fast))
	}
	m := &Mapper{Sigs: sigs}
	for i, a := range alerts {
		name := fmt.Sprintf("event %d", i+1)
		e, s := &a.Event, spew[i]
		for k, got := range map[string]string{
			"sensor id": fmt.Sprint(e.SensorID), "event id": fmt.Sprint(e.EventID), "event second": fmt.Sprint(e.Second),
			"event microsecond": fmt.Sprint(e.Microsecond), "sig id": fmt.Sprint(e.SID), "gen id": fmt.Sprint(e.GID),
			"revision": fmt.Sprint(e.Rev), "classification": fmt.Sprint(e.Class), "priority": fmt.Sprint(e.Priority),
			"ip source": e.Src.String(), "ip destination": e.Dst.String(), "src port": fmt.Sprint(e.SPortIType),
			"dest port": fmt.Sprint(e.DPortICode), "protocol": fmt.Sprint(e.Proto), "impact_flag": fmt.Sprint(e.ImpactFlag),
			"blocked": fmt.Sprint(e.Blocked),
		} {
			if s[k] != got {
				t.Errorf("%s: %s = %s, u2spewfoo says %s", name, k, got, s[k])
			}
		}
		if len(a.Packets) != 1 || a.Packets[0].LinkType != 1 {
			t.Fatalf("%s: %d packets", name, len(a.Packets))
		}
		var ev normalize.Event
		m.Map(a, &ev)
		tr := snortgold.ParseFast(t, fast[i])
		snortgold.AddCSV(t, &tr, csv[i])
		if !strings.Contains(by2[i], ",0.0.0.0,") {
			src, dst, sport, dport := tr.Src, tr.Dst, tr.Sport, tr.Dport
			snortgold.AddCSV(t, &tr, by2[i])
			tr.Src, tr.Dst, tr.Sport, tr.Dport = src, dst, sport, dport
		}
		if tr.Class == "" {
			// Decoder events: Snort's fast output prints no classification
			// for class 25, which its config lacks; ours resolves nothing.
			tr.Class = ev.Signature.Category
		}
		snortgold.Check(t, name, &ev, tr)
		want := normalize.ActionAllowed
		if tr.Drop {
			want = normalize.ActionBlocked
		}
		if ev.Action != want {
			t.Errorf("%s: action %s, want %s", name, ev.Action, want)
		}
		if ev.Kind != normalize.KindAlert || ev.Source.Type != "unified2" {
			t.Errorf("%s: kind %s source %s", name, ev.Kind, ev.Source.Type)
		}
	}
}

// py-idstools and go-unified2 test files: structure as their READMEs and
// tests state it.
func TestCorpusFiles(t *testing.T) {
	for _, tc := range []struct {
		file                   string
		alerts, packets, extra int
		typ                    uint32
	}{
		{"py-idstools_merged.log", 6, 6, 0, TypeIDSEventVLAN},
		{"py-idstools_multi-record-event.log", 1, 15, 1, TypeIDSEventVLAN},
		{"py-idstools_ipv6-alert.unified2", 1, 1, 0, TypeIDSEventIPv6VLN},
		{"djcas9-unified2_unified2-legacy.log.gz", 4703, 4704, 0, TypeIDSEvent},
	} {
		alerts := readAll(t, openFile(t, tc.file))
		var pk, ex int
		for _, a := range alerts {
			if a.Event.Type != tc.typ {
				t.Errorf("%s: event type %d, want %d", tc.file, a.Event.Type, tc.typ)
				break
			}
			pk += len(a.Packets) + len(a.Tagged)
			ex += len(a.Extra)
		}
		if len(alerts) != tc.alerts || pk != tc.packets || ex != tc.extra {
			t.Errorf("%s: %d alerts %d packets %d extra, want %d %d %d", tc.file, len(alerts), pk, ex, tc.alerts, tc.packets, tc.extra)
		}
	}
}

func TestMultiRecordEvent(t *testing.T) {
	alerts := readAll(t, openFile(t, "py-idstools_multi-record-event.log"))
	var ev normalize.Event
	(&Mapper{}).Map(alerts[0], &ev)
	snortgold.ValidateSchema(t, &ev)
	x := ev.Details.Get("extra_data")
	if !bytes.HasPrefix(x, []byte(`{"jsnorm_data":"`)) {
		t.Errorf("extra_data = %.80s", x)
	}
	if string(ev.Details.Get("packets")) != "15" {
		t.Errorf("packets = %s", ev.Details.Get("packets"))
	}
}

func TestIPv6Alert(t *testing.T) {
	alerts := readAll(t, openFile(t, "py-idstools_ipv6-alert.unified2"))
	var ev normalize.Event
	(&Mapper{}).Map(alerts[0], &ev)
	snortgold.ValidateSchema(t, &ev)
	if !ev.SrcIP.Is6() || ev.Proto != 58 || !ev.HasICMP || ev.HasPorts {
		t.Errorf("ipv6 alert: %v proto %d icmp %v ports %v", ev.SrcIP, ev.Proto, ev.HasICMP, ev.HasPorts)
	}
}

// The djcas9 legacy file resolved with its own sid-msg.map (excerpt) and
// classification.config.
func TestLegacyWithMaps(t *testing.T) {
	sigs := snortgold.Sigs(t, "testdata/djcas9-unified2_seeds_classification.config", "testdata/djcas9-unified2_seeds_sid-msg.map.excerpt")
	alerts := readAll(t, openFile(t, "djcas9-unified2_unified2-legacy.log.gz"))
	m := &Mapper{Sigs: sigs}
	named := 0
	for _, a := range alerts {
		var ev normalize.Event
		m.Map(a, &ev)
		snortgold.ValidateSchema(t, &ev)
		if ev.Signature.Name != "" {
			named++
		}
		if ev.Action != normalize.ActionAllowed {
			t.Fatalf("legacy file is never blocked, got %s", ev.Action)
		}
		if a.Event.SID == 402 {
			if ev.Signature.Name != "ICMP Destination Unreachable Port Unreachable" || ev.Proto != 1 || !ev.HasICMP {
				t.Errorf("sid 402: %+v proto %d", ev.Signature, ev.Proto)
			}
		}
	}
	if named != len(alerts) {
		t.Errorf("%d of %d alerts named", named, len(alerts))
	}
}

// Truncated files give clean errors: io.ErrUnexpectedEOF, offset in the text.
func TestShortReads(t *testing.T) {
	for _, f := range []string{"go-unified2_short-read-on-header.log", "go-unified2_short-read-on-body.log"} {
		rd := NewReader(openFile(t, f), 0)
		_, err := rd.Next()
		if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "offset 0") {
			t.Errorf("%s: err %v", f, err)
		}
		if rd.Offset() != 0 {
			t.Errorf("%s: offset advanced to %d on a short read", f, rd.Offset())
		}
	}
}

// A hostile length is refused before any allocation.
func TestHostileLength(t *testing.T) {
	b := []byte{0, 0, 0, 2, 0xff, 0xff, 0xff, 0xf0}
	rd := NewReader(bytes.NewReader(b), 100)
	_, err := rd.Next()
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Offset != 100 {
		t.Fatalf("err %v", err)
	}
	allocs := testing.AllocsPerRun(10, func() {
		rd := NewReader(bytes.NewReader(b), 0)
		rd.Next()
	})
	if allocs > 3 {
		t.Errorf("%v allocations for a hostile header", allocs)
	}
}

func TestSplit(t *testing.T) {
	b, _ := os.ReadFile("testdata/py-idstools_merged.log")
	n := 0
	if err := Split(b, func(r Record) error { n++; return nil }); err != nil || n != 12 {
		t.Fatalf("split: %d records, %v", n, err)
	}
	if err := Split(b[:len(b)-1], func(Record) error { return nil }); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated datagram: %v", err)
	}
}

func TestActionOf(t *testing.T) {
	for _, tc := range []struct {
		e    Event
		want normalize.Action
	}{
		{Event{Type: 7}, normalize.ActionAllowed},
		{Event{Type: 7, Blocked: 1}, normalize.ActionBlocked},
		{Event{Type: 7, Blocked: 2}, normalize.ActionAllowed},
		{Event{Type: 7, Blocked: 3}, normalize.ActionAllowed},
		{Event{Type: 7, ImpactFlag: 0x20}, normalize.ActionBlocked}, // Suricata drop
		{Event{Type: 72, Blocked: 9}, normalize.ActionUnknown},
		{Event{Type: 114, Action: Action3Drop, Status: Status3Allow}, normalize.ActionBlocked},
		{Event{Type: 114, Action: Action3Reset, Status: Status3Force}, normalize.ActionBlocked},
		{Event{Type: 114, Action: Action3Drop, Status: Status3Would}, normalize.ActionAllowed},
		{Event{Type: 114, Action: Action3Block, Status: Status3Cant}, normalize.ActionAllowed},
		{Event{Type: 114}, normalize.ActionAllowed},
		{Event{Type: 114, Action: 7}, normalize.ActionUnknown},
	} {
		if got := ActionOf(&tc.e); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.e, got, tc.want)
		}
	}
}

var _ = strconv.Itoa

// A packet with no event open (a tagged packet, or a file starting with
// one) becomes an event of kind "event" that keeps the packet.
func TestStandalonePacket(t *testing.T) {
	b, _ := os.ReadFile("testdata/snort.u2.1795384908")
	var recs []Record
	Split(b, func(r Record) error { recs = append(recs, r); return nil })
	var g Aggregator
	a, err := g.Add(recs[1]) // the first packet, without its event
	if err != nil || a == nil || a.HasEvent() {
		t.Fatalf("standalone packet: %v %v", a, err)
	}
	var ev normalize.Event
	(&Mapper{}).Map(a, &ev)
	snortgold.ValidateSchema(t, &ev)
	if ev.Kind != normalize.KindEvent || string(ev.Details.Get("unified2")) != `"tagged_packet"` || ev.Proto != 1 {
		t.Errorf("%s %s %d", ev.Kind, ev.Details.Get("unified2"), ev.Proto)
	}
}
