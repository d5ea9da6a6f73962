package transaction

import (
	"bufio"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/cputime"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/eve"
	"github.com/alertgw/alertgw/pipeline/ack"
)

var now = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func cfg() Config {
	return Config{IdleTimeout: time.Minute, MaxAge: 10 * time.Minute, MaxOpen: 1000, MaxBytes: 64 << 20,
		MaxRecords: 100, JoinCommunityID: true}
}

func decode(t testing.TB, line string) *normalize.Event {
	t.Helper()
	e := new(normalize.Event)
	if err := (eve.Decoder{}).Decode([]byte(line), e); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	e.Source = normalize.Source{Type: "suricata", Input: "eve", Sensor: "s1"}
	if e.Action == "" {
		e.Action = normalize.ActionUnknown
	}
	return e
}

// oneFlow is what Suricata writes for one HTTP connection that fired a
// rule, in its order: alert and http while the flow lives, fileinfo, then
// the flow record when the flow times out.
var oneFlow = []string{
	`{"timestamp":"2026-12-04T10:00:01.000100+0000","flow_id":1234567890123456,"event_type":"alert","src_ip":"10.0.0.5","src_port":51514,"dest_ip":"192.0.2.10","dest_port":80,"proto":"TCP","community_id":"1:abc=","alert":{"action":"allowed","gid":1,"signature_id":2100498,"rev":7,"signature":"GPL ATTACK_RESPONSE id check returned root","category":"Potentially Bad Traffic","severity":2},"app_proto":"http"}`,
	`{"timestamp":"2026-12-04T10:00:01.000200+0000","flow_id":1234567890123456,"event_type":"http","src_ip":"10.0.0.5","src_port":51514,"dest_ip":"192.0.2.10","dest_port":80,"proto":"TCP","community_id":"1:abc=","tx_id":0,"http":{"hostname":"testmyids.com","url":"/","http_user_agent":"curl/7.58.0","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":39}}`,
	`{"timestamp":"2026-12-04T10:00:01.000300+0000","flow_id":1234567890123456,"event_type":"fileinfo","src_ip":"192.0.2.10","src_port":80,"dest_ip":"10.0.0.5","dest_port":51514,"proto":"TCP","community_id":"1:abc=","http":{"hostname":"testmyids.com","url":"/"},"app_proto":"http","fileinfo":{"filename":"/","state":"CLOSED","stored":false,"size":39,"tx_id":0}}`,
	`{"timestamp":"2026-12-04T10:01:05.000000+0000","flow_id":1234567890123456,"event_type":"flow","src_ip":"10.0.0.5","src_port":51514,"dest_ip":"192.0.2.10","dest_port":80,"proto":"TCP","community_id":"1:abc=","app_proto":"http","flow":{"pkts_toserver":6,"pkts_toclient":4,"bytes_toserver":412,"bytes_toclient":628,"start":"2026-12-04T10:00:00.990000+0000","end":"2026-12-04T10:00:01.100000+0000","age":0,"state":"closed","reason":"timeout","alerted":true}}`,
}

func TestFlowRecordCompletesTheTransaction(t *testing.T) {
	j := New(cfg(), nil)
	var out []Out
	for _, l := range oneFlow {
		out = j.Add(decode(t, l), nil, now, out)
	}
	if len(out) != 1 {
		t.Fatalf("emitted %d events, want 1 transaction", len(out))
	}
	e := out[0].Event
	tr := e.Transaction
	if e.Kind != normalize.KindTransaction || tr == nil || !tr.Complete || tr.ClosedBy != ClosedFlow {
		t.Fatalf("not a complete transaction: %+v %+v", e, tr)
	}
	if tr.Events != 4 || len(tr.Alerts) != 1 || len(tr.Records) != 2 {
		t.Fatalf("events %d alerts %d records %d", tr.Events, len(tr.Alerts), len(tr.Records))
	}
	if tr.Alerts[0].Signature.ID != 2100498 || e.Signature == nil || e.Signature.ID != 2100498 {
		t.Errorf("alert signature: %+v / %+v", tr.Alerts[0], e.Signature)
	}
	if tr.Records[0].Type != "http" || tr.Records[1].Type != "fileinfo" {
		t.Errorf("record types %q %q", tr.Records[0].Type, tr.Records[1].Type)
	}
	if got := string(tr.Records[0].Details.Get("http")); got == "" || tr.Records[0].Details.Get("event_type") != nil {
		t.Errorf("http record details: %q (event_type must be said by type only)", got)
	}
	if e.Flow == nil || e.Flow.BytesToClient != 628 || e.FlowID != 1234567890123456 || e.DestPort != 80 {
		t.Errorf("flow counters and tuple from the flow record: %+v %+v", e, e.Flow)
	}
	if want := time.Date(2026, 12, 4, 10, 0, 1, 100000, time.UTC); !e.Timestamp.Equal(want) {
		t.Errorf("timestamp %v, want the earliest record's %v", e.Timestamp, want)
	}
	if e.Action != normalize.ActionAllowed {
		t.Errorf("action %q", e.Action)
	}
	if n, b := j.Open(); n != 0 || b != 0 {
		t.Errorf("after closing: %d open, %d bytes", n, b)
	}
}

func TestCommunityIDJoinsFirewallPacketsAcrossSources(t *testing.T) {
	j := New(cfg(), nil)
	uid := uint32(0)
	pkt := &normalize.Event{ID: "pkt", Kind: normalize.KindPacket, Action: normalize.ActionBlocked,
		Timestamp: time.Date(2026, 12, 4, 10, 0, 0, 995000000, time.UTC), CommunityID: "1:abc=",
		Source: normalize.Source{Type: "nflog", Sensor: "s1"},
		SrcIP:  netip.MustParseAddr("10.0.0.5"), DestIP: netip.MustParseAddr("192.0.2.10"),
		Firewall: &normalize.Firewall{Group: 11, Prefix: "drop-out", UID: &uid}}
	var out []Out
	out = j.Add(pkt, nil, now, out) // the firewall logs first
	for _, l := range oneFlow {
		out = j.Add(decode(t, l), nil, now, out)
	}
	if len(out) != 1 {
		t.Fatalf("emitted %d, want 1", len(out))
	}
	tr := out[0].Event.Transaction
	if tr.Events != 5 || len(tr.Sources) != 2 || tr.Sources[0] != "nflog" {
		t.Fatalf("events %d sources %v", tr.Events, tr.Sources)
	}
	if r := tr.Records[0]; r.Kind != normalize.KindPacket || r.Firewall == nil || r.Firewall.Prefix != "drop-out" {
		t.Errorf("packet record: %+v", r)
	}
	if out[0].Event.Action != normalize.ActionBlocked {
		t.Errorf("a blocked packet makes the transaction blocked; got %q", out[0].Event.Action)
	}
	if !out[0].Event.Timestamp.Equal(pkt.Timestamp) {
		t.Errorf("timestamp %v", out[0].Event.Timestamp)
	}
}

func TestNothingToJoinOnPassesThrough(t *testing.T) {
	j := New(cfg(), nil)
	e := &normalize.Event{ID: "audit", Kind: normalize.KindAudit}
	out := j.Add(e, nil, now, nil)
	if len(out) != 1 || out[0].Event != e {
		t.Fatalf("got %v", out)
	}
	if c := j.st; c.Passed.Load() != 1 || c.Folded.Load() != 0 {
		t.Errorf("passed %d folded %d", c.Passed.Load(), c.Folded.Load())
	}
}

func TestTimeoutsEmitPartial(t *testing.T) {
	j := New(cfg(), nil)
	out := j.Add(decode(t, oneFlow[0]), nil, now, nil)
	out = j.Add(decode(t, oneFlow[1]), nil, now.Add(30*time.Second), out)
	if out = j.Expire(now.Add(89*time.Second), out); len(out) != 0 {
		t.Fatal("closed before idle_timeout after its last record")
	}
	out = j.Expire(now.Add(90*time.Second), out)
	if len(out) != 1 || out[0].Event.Transaction.Complete || out[0].Event.Transaction.ClosedBy != ClosedIdle {
		t.Fatalf("idle: %+v", out)
	}
	// A chatty flow that never ends is cut at max_age.
	var o2 []Out
	for i := range 12 {
		o2 = j.Add(decode(t, oneFlow[1]), nil, now.Add(time.Duration(i)*time.Minute), o2)
		o2 = j.Expire(now.Add(time.Duration(i)*time.Minute), o2)
	}
	if len(o2) != 1 || o2[0].Event.Transaction.ClosedBy != ClosedMaxAge {
		t.Fatalf("max_age: %d emitted", len(o2))
	}
}

func TestCapsUnderAFlood(t *testing.T) {
	c := cfg()
	c.MaxOpen = 1000
	c.MaxBytes = 1 << 20
	c.MaxRecords = 3
	j := New(c, nil)
	var emitted, inTx uint64
	var out []Out
	for i := range 100_000 { // a scan: a new flow every record
		e := decode(t, oneFlow[1])
		e.FlowID = uint64(i + 1)
		e.CommunityID = ""
		out = j.Add(e, nil, now, out[:0])
		for _, o := range out {
			emitted++
			inTx += o.Event.Transaction.Events
		}
		if n, b := j.Open(); n > c.MaxOpen || b > c.MaxBytes {
			t.Fatalf("%d open (cap %d), %d bytes (cap %d)", n, c.MaxOpen, b, c.MaxBytes)
		}
	}
	out = j.Flush(out[:0])
	for _, o := range out {
		emitted++
		inTx += o.Event.Transaction.Events
	}
	if inTx != 100_000 || emitted != 100_000 {
		t.Fatalf("transactions stand for %d records in %d events, want 100000", inTx, emitted)
	}
	// One long flow: records past max_records are counted, not kept.
	for range 10 {
		out = j.Add(decode(t, oneFlow[1]), nil, now, out[:0])
	}
	out = j.Flush(out[:0])
	if tr := out[0].Event.Transaction; tr.Events != 10 || len(tr.Records) != 3 || tr.Omitted != 7 {
		t.Fatalf("events %d records %d omitted %d", tr.Events, len(tr.Records), tr.Omitted)
	}
}

func TestTicketsHeldUntilTheTransactionIsDelivered(t *testing.T) {
	j := New(cfg(), nil)
	acked := 0
	tk := ack.New(func() { acked++ })
	var out []Out
	for _, l := range oneFlow[:3] {
		out = j.Add(decode(t, l), tk, now, out)
	}
	tk.Release()
	if acked != 0 || len(out) != 0 {
		t.Fatal("acknowledged while the transaction is open")
	}
	out = j.Add(decode(t, oneFlow[3]), nil, now, out)
	ack.ReleaseAll(out[0].Tickets)
	if acked != 1 {
		t.Fatalf("acknowledged %d times", acked)
	}
}

// TestRealEVE runs the corpus sample through: every record is accounted
// for, and the flow and netflow records of flow 929669869939483 meet.
func TestRealEVE(t *testing.T) {
	f, err := os.Open("testdata/tenzir_eve-excerpt-first6.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	j := New(cfg(), nil)
	var out []Out
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = j.Add(decode(t, sc.Text()), nil, now, out)
		n++
	}
	out = j.Flush(out)
	var total uint64
	for _, o := range out {
		total += o.Event.Transaction.Events
	}
	if total != uint64(n) {
		t.Fatalf("%d records in, transactions stand for %d", n, total)
	}
	if got := j.st.Closed.Get(ClosedFlow); got != 1 {
		t.Errorf("closed by a flow record: %d, want 1 (%v)", got, j.st.Closed.Snapshot())
	}
}

func TestCheck(t *testing.T) {
	cfg().Check(func(k, m string) { t.Fatalf("%s: %s", k, m) })
	for name, mut := range map[string]func(*Config){
		"no idle":     func(c *Config) { c.IdleTimeout = 0 },
		"age < idle":  func(c *Config) { c.MaxAge = time.Second },
		"no open":     func(c *Config) { c.MaxOpen = 0 },
		"tiny memory": func(c *Config) { c.MaxBytes = 10 },
		"no records":  func(c *Config) { c.MaxRecords = 0 },
	} {
		c := cfg()
		mut(&c)
		bad := false
		c.Check(func(string, string) { bad = true })
		if !bad {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkJoin joins flows of four records (alert, http, fileinfo, flow)
// as Suricata writes them, each flow closed by its flow record: at once
// (flow_grace 0) or after the default 2 s grace, the clock moving 1 ms a
// flow. Run with -cpu 1: cpu-ns/record is the process CPU time, garbage
// collection included.
func BenchmarkJoin(b *testing.B) {
	for _, grace := range []time.Duration{0, 2 * time.Second} {
		b.Run("grace="+grace.String(), func(b *testing.B) {
			j := New(Config{IdleTimeout: time.Minute, MaxAge: time.Hour, MaxOpen: 1 << 20, MaxBytes: 1 << 30,
				MaxRecords: 100, FlowGrace: grace}, nil)
			evs := make([]*normalize.Event, len(oneFlow))
			for i, l := range oneFlow {
				evs[i] = decode(b, l)
			}
			var out []Out
			b.ReportAllocs()
			start := cputime.Process()
			n := 0
			clock := now
			for i := 0; b.Loop(); i++ {
				e := evs[i%4]
				e.FlowID = uint64(i/4 + 1)
				out = j.Add(e, nil, clock, out[:0])
				if i%4 == 3 {
					clock = clock.Add(time.Millisecond)
					out = j.Expire(clock, out)
				}
				n++
			}
			cputime.Per(b, start, n, "record")
		})
	}
}

// BenchmarkOpenFlows opens a million transactions (one alert each, as a
// scan would) and reports the heap they hold beside the memory cap.
func BenchmarkOpenFlows(b *testing.B) {
	const flows = 1_000_000
	cfg := Config{IdleTimeout: time.Hour, MaxAge: 2 * time.Hour, MaxOpen: flows, MaxBytes: 2 << 30, MaxRecords: 100}
	alert := decode(b, oneFlow[0])
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		j := New(cfg, nil)
		for i := range flows {
			alert.FlowID = uint64(i + 1)
			j.Add(alert, nil, now, nil)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		open, held := j.Open()
		b.ReportMetric(float64(open), "open")
		b.ReportMetric(float64(held)/(1<<20), "MiB-accounted")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-heap")
		b.ReportMetric(float64(rssBytes(b))/(1<<20), "MiB-RSS")
		b.ReportMetric(float64(cfg.MaxBytes)/(1<<20), "MiB-cap")
		runtime.KeepAlive(j)
	}
}

// TestRealSuricata7 joins what a real Suricata 7 wrote for two HTTP flows:
// the flow record comes before the flow's netflow records, so without a
// grace they would make a second, partial transaction.
func TestRealSuricata7(t *testing.T) {
	var lines []string
	for _, f := range []string{"testdata/suricata7_testmyids_eve.json", "testdata/suricata7_http-ipv6_eve.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(strings.TrimSpace(string(b)), "\n")...)
	}
	for _, c := range []struct {
		grace            time.Duration
		complete, others int
	}{{time.Second, 2, 0}, {0, 2, 2}} {
		cfg := cfg()
		cfg.FlowGrace = c.grace
		j := New(cfg, nil)
		var out []Out
		for _, l := range lines {
			out = j.Add(decode(t, l), nil, now, out)
		}
		out = j.Expire(now.Add(c.grace), out)
		out = j.Flush(out)
		complete, others := 0, 0
		var events uint64
		for _, o := range out {
			tr := o.Event.Transaction
			events += tr.Events
			if tr.Complete {
				complete++
			} else {
				others++
			}
		}
		if complete != c.complete || others != c.others || events != uint64(len(lines)) {
			t.Errorf("grace %s: %d complete, %d partial, standing for %d of %d records", c.grace, complete, others, events, len(lines))
		}
		first := out[0].Event
		if c.grace > 0 {
			tr := first.Transaction
			if tr.Events != 6 || len(tr.Alerts) != 1 || len(tr.Records) != 4 || first.Flow == nil || first.Flow.PktsToServer == 0 {
				t.Errorf("testmyids flow: events %d alerts %d records %d flow %+v", tr.Events, len(tr.Alerts), len(tr.Records), first.Flow)
			}
			if tr.Alerts[0].Signature.ID != 2100498 || first.CommunityID != "1:KOQot0l7+Doe6zvlqxvArK5IMdg=" {
				t.Errorf("alert %+v community id %q", tr.Alerts[0], first.CommunityID)
			}
		}
	}
}

// rssBytes is the resident set of the whole test process (VmRSS): what the
// open flows cost the machine, the benchmark's own data included.
func rssBytes(b *testing.B) int64 {
	b.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if kib, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kib), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
