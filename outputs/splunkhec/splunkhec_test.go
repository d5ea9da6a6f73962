package splunkhec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

// fakeHEC behaves as Splunk's collector: token check, one JSON object per
// event, stops at the first invalid event, busy (503) on request, acks
// after a few polls.
type fakeHEC struct {
	mu       sync.Mutex
	events   []map[string]any
	busy     int // answer 503 to this many requests
	ackAfter int // polls before an ack turns true
	polls    int
	nextAck  int64
	channel  string
	requests int
}

func (f *fakeHEC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if r.Header.Get("Authorization") != "Splunk 00000000-1111-2222-3333-444444444444" {
		w.WriteHeader(403)
		io.WriteString(w, `{"text":"Invalid token","code":4}`)
		return
	}
	f.channel = r.Header.Get("X-Splunk-Request-Channel")
	switch r.URL.Path {
	case "/services/collector/ack":
		f.polls++
		var req struct{ Acks []int64 }
		json.NewDecoder(r.Body).Decode(&req)
		fmt.Fprintf(w, `{"acks":{"%d":%t}}`, req.Acks[0], f.polls > f.ackAfter)
		return
	case "/services/collector/event":
	default:
		w.WriteHeader(404)
		return
	}
	if f.busy > 0 {
		f.busy--
		w.WriteHeader(503)
		io.WriteString(w, `{"text":"Server is busy","code":9}`)
		return
	}
	body, _ := io.ReadAll(r.Body)
	dec := json.NewDecoder(bytes.NewReader(body))
	var got []map[string]any
	for i := 0; dec.More(); i++ {
		var ev map[string]any
		if err := dec.Decode(&ev); err != nil || ev["event"] == nil {
			f.events = append(f.events, got...) // those before were indexed
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"text":"Invalid data format","code":6,"invalid-event-number":%d}`, i)
			return
		}
		if d, _ := ev["event"].(map[string]any)["details"].(map[string]any); d != nil && d["poison"] != nil {
			f.events = append(f.events, got...)
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"text":"Invalid data format","code":6,"invalid-event-number":%d}`, i)
			return
		}
		got = append(got, ev)
	}
	f.events = append(f.events, got...)
	f.nextAck++
	fmt.Fprintf(w, `{"text":"Success","code":0,"ackId":%d}`, f.nextAck)
}

func event(i int) *normalize.Event {
	return &normalize.Event{ID: fmt.Sprintf("id-%d", i), Kind: normalize.KindAlert,
		Timestamp: time.Date(2026, 11, 22, 10, 0, 0, 5000, time.UTC),
		Source:    normalize.Source{Type: "suricata", Input: "eve", Sensor: "sensor-1"}}
}

func batch(n int) *outputs.Batch {
	var evs []*normalize.Event
	for i := range n {
		evs = append(evs, event(i))
	}
	return &outputs.Batch{Events: evs}
}

func newOutput(t *testing.T, url string, mod func(*Options)) *Output {
	o := Plugin.Options().(*Options)
	o.URL, o.Token, o.Index = url, "00000000-1111-2222-3333-444444444444", "ids"
	o.AckPoll = 10 * time.Millisecond
	if mod != nil {
		mod(o)
	}
	if p := o.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	w, err := New(outputs.Env{Name: "hec", Log: zerolog.Nop(), Stats: &stats.Output{}, Encoder: format.Native{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestEnvelope(t *testing.T) {
	f := &fakeHEC{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	if err := newOutput(t, srv.URL, nil).Write(context.Background(), batch(3)); err != nil {
		t.Fatal(err)
	}
	if len(f.events) != 3 {
		t.Fatalf("%d events indexed", len(f.events))
	}
	ev := f.events[1]
	if ev["time"].(float64) != 1795341600.000005 || ev["host"] != "sensor-1" || ev["source"] != "alertgw:eve" ||
		ev["sourcetype"] != "alertgw" || ev["index"] != "ids" || ev["event"].(map[string]any)["id"] != "id-1" {
		t.Fatalf("envelope %v", ev)
	}
}

func TestInvalidEventSplitsBatch(t *testing.T) {
	f := &fakeHEC{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	b := batch(6)
	b.Events[2].Details = normalize.Details{{Key: "poison", Value: normalize.RawJSON("1")}}
	err := newOutput(t, srv.URL, nil).Write(context.Background(), b)
	var pe *outputs.PartialError
	if !errors.As(err, &pe) || len(pe.Failed) != 4 || pe.Failed[0].Index != 2 || !pe.Failed[0].Permanent || pe.Failed[1].Permanent {
		t.Fatalf("want event 2 permanent and 3..5 retried, got %v", err)
	}
	if len(f.events) != 2 {
		t.Fatalf("%d indexed, want the 2 before the invalid one", len(f.events))
	}
}

func TestStatusClassification(t *testing.T) {
	f := &fakeHEC{busy: 1}
	srv := httptest.NewServer(f)
	defer srv.Close()
	w := newOutput(t, srv.URL, nil)
	if err := w.Write(context.Background(), batch(1)); err == nil || outputs.IsPermanent(err) {
		t.Fatalf("busy: want a retryable error, got %v", err)
	}
	if err := w.Write(context.Background(), batch(1)); err != nil {
		t.Fatalf("after busy: %v", err)
	}
	// A wrong token blames the configuration, not the events: they wait
	// (retried) until the operator fixes it.
	bad := newOutput(t, srv.URL, func(o *Options) { o.Token = "wrong" })
	if err := bad.Write(context.Background(), batch(1)); err == nil || outputs.IsPermanent(err) {
		t.Fatalf("bad token: want a retryable error, got %v", err)
	}
}

func TestIndexerAck(t *testing.T) {
	f := &fakeHEC{ackAfter: 3}
	srv := httptest.NewServer(f)
	defer srv.Close()
	w := newOutput(t, srv.URL, func(o *Options) { o.Ack = true })
	if err := w.Write(context.Background(), batch(2)); err != nil {
		t.Fatal(err)
	}
	if f.polls != 4 {
		t.Fatalf("%d ack polls, want 4", f.polls)
	}
	if len(f.channel) != 36 {
		t.Fatalf("channel %q is not a GUID", f.channel)
	}
	// Never acknowledged: the write fails (to be retried) after ack_timeout.
	f.ackAfter = 1 << 30
	w2 := newOutput(t, srv.URL, func(o *Options) { o.Ack = true; o.AckTimeout = time.Second })
	if err := w2.Write(context.Background(), batch(1)); err == nil || outputs.IsPermanent(err) {
		t.Fatalf("unacknowledged: want a retryable error, got %v", err)
	}
}

func BenchmarkWrite(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"text":"Success","code":0}`)
	}))
	defer srv.Close()
	o := Plugin.Options().(*Options)
	o.URL, o.Token = srv.URL, "t"
	w, _ := New(outputs.Env{Encoder: format.Native{}}, o)
	bt := batch(1000)
	bt.Encode(format.Native{})
	for b.Loop() {
		if err := w.Write(context.Background(), bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
