package aggregate

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/cputime"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/pipeline/ack"
)

// sigSrcDst is the default key: signature, source and destination.
func sigSrcDst(dst []byte, e *normalize.Event) []byte {
	if s := e.Signature; s != nil {
		dst = binary.LittleEndian.AppendUint32(dst, s.GID)
		dst = binary.LittleEndian.AppendUint32(dst, s.ID)
	}
	dst, _ = e.SrcIP.AppendBinary(dst)
	dst = append(dst, 0)
	dst, _ = e.DestIP.AppendBinary(dst)
	return dst
}

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func alert(id string, sid uint32, src string, at time.Duration) *normalize.Event {
	return &normalize.Event{ID: id, Kind: normalize.KindAlert, Timestamp: t0.Add(at),
		SrcIP: netip.MustParseAddr(src), DestIP: netip.MustParseAddr("192.0.2.1"),
		Signature: &normalize.Signature{GID: 1, ID: sid, Name: "ET TEST"},
		Details:   normalize.Details{{Key: "payload", Value: normalize.RawJSON(`"abc"`)}}}
}

func cfg(emit string) Config {
	return Config{KeyFields: []string{"signature.id", "src_ip", "dest_ip"}, Window: time.Minute,
		MaxGroups: 1000, MaxBytes: 1 << 20, Emit: emit}
}

func TestSummaryStandsForEveryEventOfTheWindow(t *testing.T) {
	a := New(cfg(EmitSummary), sigSrcDst, nil)
	var out []Out
	for i := range 5 {
		out = a.Add(alert(fmt.Sprint("e", i), 2001219, "10.0.0.1", time.Duration(i)*time.Second), nil, t0, out)
	}
	out = a.Add(alert("other", 2001219, "10.0.0.2", 0), nil, t0, out)
	if len(out) != 0 {
		t.Fatalf("emitted %d events before the window closed", len(out))
	}
	if out = a.Expire(t0.Add(59*time.Second), out); len(out) != 0 {
		t.Fatalf("emitted %d events a second early", len(out))
	}
	out = a.Expire(t0.Add(time.Minute), out)
	if len(out) != 2 {
		t.Fatalf("emitted %d summaries, want 2", len(out))
	}
	s := out[0].Event
	if s.Aggregate == nil || s.Aggregate.Count != 5 || s.ID != "e0-agg" || s.Aggregate.ClosedBy != ClosedWindow {
		t.Fatalf("summary: %+v %+v", s, s.Aggregate)
	}
	if !s.Aggregate.FirstSeen.Equal(t0) || !s.Aggregate.LastSeen.Equal(t0.Add(4*time.Second)) {
		t.Errorf("first/last seen %v %v", s.Aggregate.FirstSeen, s.Aggregate.LastSeen)
	}
	if s.Signature == nil || s.Signature.ID != 2001219 || string(s.Details.Get("payload")) != `"abc"` {
		t.Errorf("summary lost the first event's fields: %+v", s)
	}
	if out[1].Event.Aggregate.Count != 1 {
		t.Errorf("a lone event's summary counts %d", out[1].Event.Aggregate.Count)
	}
	if c := a.st; c.In.Load() != 6 || c.Folded.Load() != 6 || c.Emitted.Load() != 2 || c.Passed.Load() != 0 {
		t.Errorf("counters in %d folded %d emitted %d passed %d", c.In.Load(), c.Folded.Load(), c.Emitted.Load(), c.Passed.Load())
	}
	if n, b := a.Open(); n != 0 || b != 0 {
		t.Errorf("after expiry: %d groups, %d bytes", n, b)
	}
}

func TestFirstAndSummary(t *testing.T) {
	a := New(cfg(EmitFirstAndSummary), sigSrcDst, nil)
	first := alert("e0", 1, "10.0.0.1", 0)
	out := a.Add(first, nil, t0, nil)
	if len(out) != 1 || out[0].Event != first {
		t.Fatalf("the first event was not sent at once: %v", out)
	}
	out = a.Add(alert("e1", 1, "10.0.0.1", time.Second), nil, t0, nil)
	out = a.Add(alert("e2", 1, "10.0.0.1", 2*time.Second), nil, t0, out)
	lone := a.Add(alert("lone", 2, "10.0.0.1", 0), nil, t0, nil)
	if len(out) != 0 || len(lone) != 1 {
		t.Fatalf("emitted %d and %d", len(out), len(lone))
	}
	out = a.Expire(t0.Add(time.Minute), nil)
	if len(out) != 1 {
		t.Fatalf("want one summary (the lone event needs none), got %d", len(out))
	}
	ag := out[0].Event.Aggregate
	if ag.Count != 3 || !ag.FirstSent {
		t.Errorf("summary %+v", ag)
	}
	if c := a.st; c.Passed.Load() != 2 || c.Folded.Load() != 2 || c.Emitted.Load() != 1 || c.Closed.Get(ClosedWindow) != 2 {
		t.Errorf("counters passed %d folded %d emitted %d closed %v", c.Passed.Load(), c.Folded.Load(), c.Emitted.Load(), c.Closed.Snapshot())
	}
}

func TestCapsCloseEarlyAndNeverLoseCounts(t *testing.T) {
	c := cfg(EmitSummary)
	c.MaxCount = 3
	c.MaxGroups = 2
	a := New(c, sigSrcDst, nil)
	var out []Out
	for i := range 7 { // 3 + 3 hit the cap, 1 stays open
		out = a.Add(alert(fmt.Sprint(i), 1, "10.0.0.1", 0), nil, t0, out)
	}
	if len(out) != 2 || out[0].Event.Aggregate.ClosedBy != ClosedMaxCount {
		t.Fatalf("count cap: %d summaries", len(out))
	}
	// A scan: a new source every event. The table holds two groups.
	out = out[:0]
	for i := range 10 {
		out = a.Add(alert("s", 1, fmt.Sprintf("10.1.0.%d", i), 0), nil, t0, out)
	}
	if n, _ := a.Open(); n != 2 {
		t.Fatalf("%d groups open, cap 2", n)
	}
	out = a.Flush(out)
	var total uint64
	for _, o := range out {
		total += o.Event.Aggregate.Count
	}
	if total != 11 { // the one left from the count test + 10 scan events
		t.Errorf("summaries stand for %d events, want 11", total)
	}
	if got := a.st; got.Folded.Load() != 17 || got.Closed.Get(ClosedMaxGroups) != 9 || got.Closed.Get(ClosedFlush) != 2 {
		t.Errorf("folded %d closed %v", got.Folded.Load(), got.Closed.Snapshot())
	}
}

func TestMemoryCap(t *testing.T) {
	c := cfg(EmitSummary)
	c.MaxGroups = 1 << 20
	c.MaxBytes = 64 << 10
	a := New(c, sigSrcDst, nil)
	var out []Out
	for i := range 10_000 {
		out = a.Add(alert("x", 1, netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String(), 0), nil, t0, out[:0])
		if _, b := a.Open(); b > c.MaxBytes+2048 {
			t.Fatalf("%d bytes held, cap %d", b, c.MaxBytes)
		}
	}
	if a.st.Closed.Get(ClosedMaxBytes) == 0 {
		t.Fatal("the memory cap never closed a group")
	}
}

func TestTicketsReleasedOnlyWithTheSummary(t *testing.T) {
	a := New(cfg(EmitFirstAndSummary), sigSrcDst, nil)
	acked := map[string]bool{}
	batch := func(name string) *ack.Ticket { return ack.New(func() { acked[name] = true }) }
	b1, b2 := batch("b1"), batch("b2")
	out := a.Add(alert("e0", 1, "10.0.0.1", 0), b1, t0, nil)
	out = a.Add(alert("e1", 1, "10.0.0.1", 0), b1, t0, out)
	sum := a.Add(alert("e2", 1, "10.0.0.1", 0), b2, t0, nil)
	b1.Release() // the batches' own holds: the pipeline is done with them
	b2.Release()
	if len(sum) != 0 || acked["b1"] || acked["b2"] {
		t.Fatal("acknowledged while events wait in a group")
	}
	ack.ReleaseAll(out[0].Tickets) // the first event is delivered
	if acked["b1"] {
		t.Fatal("b1 acknowledged while e1 waits in the group")
	}
	sum = a.Expire(t0.Add(time.Hour), nil)
	ack.ReleaseAll(sum[0].Tickets)
	if !acked["b1"] || !acked["b2"] {
		t.Fatalf("not acknowledged after the summary was delivered: %v", acked)
	}
}

func TestCheck(t *testing.T) {
	good := cfg(EmitSummary)
	good.Check(func(k, m string) { t.Fatalf("%s: %s", k, m) })
	for name, mut := range map[string]func(*Config){
		"no window":     func(c *Config) { c.Window = 0 },
		"huge window":   func(c *Config) { c.Window = 48 * time.Hour },
		"count cap 1":   func(c *Config) { c.MaxCount = 1 },
		"no groups":     func(c *Config) { c.MaxGroups = 0 },
		"tiny memory":   func(c *Config) { c.MaxBytes = 100 },
		"bad emit":      func(c *Config) { c.Emit = "all" },
		"no key fields": func(c *Config) { c.KeyFields = nil },
	} {
		c := good
		mut(&c)
		bad := false
		c.Check(func(string, string) { bad = true })
		if !bad {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestKeyOfDefault(t *testing.T) {
	key, err := KeyOf(DefaultKey)
	if err != nil {
		t.Fatal(err)
	}
	a := New(cfg(EmitSummary), key, nil)
	var out []Out
	for _, src := range []string{"10.0.0.1", "10.0.0.1", "10.0.0.2"} {
		out = a.Add(alert("x", 7, src, 0), nil, t0, out)
	}
	_ = a.Add(alert("x", 8, "10.0.0.1", 0), nil, t0, out)
	if n, _ := a.Open(); n != 3 {
		t.Fatalf("%d groups, want 3 (two sources for sid 7, one for sid 8)", n)
	}
	if _, err := KeyOf([]string{"signature.idd"}); err == nil {
		t.Error("unknown field accepted")
	}
}

// BenchmarkAddRepeated folds alerts of 256 keys (16 signatures × 16
// sources) over and over, closing windows as the clock moves. Run with
// -cpu 1: cpu-ns/event is the process CPU time, garbage collection included.
func BenchmarkAddRepeated(b *testing.B) {
	key, err := KeyOf(DefaultKey)
	if err != nil {
		b.Fatal(err)
	}
	a := New(Config{KeyFields: DefaultKey, Window: time.Minute, MaxGroups: 100_000, MaxBytes: 1 << 30, Emit: EmitSummary}, key, nil)
	evs := make([]*normalize.Event, 256)
	for i := range evs {
		evs[i] = alert("x", uint32(i%16), fmt.Sprintf("10.0.%d.%d", i/16, i%16), 0)
	}
	now := t0
	var out []Out
	b.ReportAllocs()
	start := cputime.Process()
	n := 0
	for i := 0; b.Loop(); i++ {
		out = a.Add(evs[i&255], nil, now, out[:0])
		if i&4095 == 0 {
			now = now.Add(time.Second)
			out = a.Expire(now, out)
		}
		n++
	}
	cputime.Per(b, start, n, "event")
}
