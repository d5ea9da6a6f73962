package pipeline

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
)

// trackInput hands complete events to the pipeline through inputs.Tracker
// and records each batch's acknowledgement.
type trackInput struct {
	batches [][]*normalize.Event
	mu      sync.Mutex
	acks    []bool
	acked   chan bool
}

func (in *trackInput) Run(ctx context.Context, emit inputs.Emitter) error {
	tr := emit.(inputs.Tracker)
	for _, b := range in.batches {
		tr.TrackEvents(b, func(kept bool) {
			in.mu.Lock()
			in.acks = append(in.acks, kept)
			in.mu.Unlock()
			in.acked <- kept
		})
	}
	<-ctx.Done()
	return nil
}

func forwarded(id string) *normalize.Event {
	return &normalize.Event{ID: id, Kind: normalize.KindAlert, Action: normalize.ActionBlocked,
		Timestamp: time.Unix(1700000000, 0).UTC(), Received: time.Unix(1700000001, 0).UTC(),
		Source: normalize.Source{Type: "suricata", Input: "eve", Sensor: "sensor-7"}}
}

func waitAck(t *testing.T, c chan bool) bool {
	t.Helper()
	select {
	case k := <-c:
		return k
	case <-time.After(10 * time.Second):
		t.Fatal("no acknowledgement")
		return false
	}
}

func noAck(t *testing.T, c chan bool, d time.Duration) {
	t.Helper()
	select {
	case k := <-c:
		t.Fatalf("acknowledged (kept=%v) too early", k)
	case <-time.After(d):
	}
}

// Forwarded events keep their id, times and source names.
func TestTrackKeepsSource(t *testing.T) {
	in := &trackInput{batches: [][]*normalize.Event{{forwarded("e1")}}, acked: make(chan bool, 1)}
	rec := newRecorder(nil)
	stop := runPipeline(t, Options{Sensor: "central"}, in, testOutput("o", rec, outputs.Buffer{}))
	defer stop()
	if !waitAck(t, in.acked) {
		t.Fatal("not kept")
	}
	ev := in.batches[0][0]
	if ev.ID != "e1" || ev.Source != (normalize.Source{Type: "suricata", Input: "eve", Sensor: "sensor-7"}) || ev.Received.Unix() != 1700000001 {
		t.Errorf("forwarded event changed: %+v", ev)
	}
}

// A memory-buffered output acknowledges once its destination has the
// events; a disk-buffered one once its disk buffer has them, even while
// its destination is down.
func TestTrackAckWaitsForDelivery(t *testing.T) {
	down := errors.New("down")
	var mu sync.Mutex
	failing := true
	mem := newRecorder(func(int, *outputs.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return down
		}
		return nil
	})
	disk := newRecorder(func(int, *outputs.Batch) error { return down })
	dir := t.TempDir()
	in := &trackInput{batches: [][]*normalize.Event{{forwarded("a"), forwarded("b")}}, acked: make(chan bool, 1)}
	stop := runPipeline(t, Options{}, in,
		testOutput("mem", mem, outputs.Buffer{}),
		testOutput("disk", disk, outputs.Buffer{Type: outputs.BufferDisk, Path: dir, MaxEvents: 100, WhenFull: outputs.WhenFullBlock, Sync: "never"}))
	defer stop()
	noAck(t, in.acked, 200*time.Millisecond)
	mu.Lock()
	failing = false
	mu.Unlock()
	if !waitAck(t, in.acked) {
		t.Fatal("not kept")
	}
	if u, _ := mem.delivered(); u != 2 {
		t.Errorf("memory output has %d events at the acknowledgement, want 2", u)
	}
	if u, _ := disk.delivered(); u != 0 {
		t.Errorf("disk output delivered %d while its destination is down", u)
	}
}

// Events a memory-only output abandons at the shutdown deadline are not
// kept; those dropped by drop_newest are (the operator's policy).
func TestTrackAbandonedAtShutdown(t *testing.T) {
	stuck := newRecorder(func(int, *outputs.Batch) error { return errors.New("down") })
	in := &trackInput{batches: [][]*normalize.Event{{forwarded("x")}}, acked: make(chan bool, 1)}
	stop := runPipeline(t, Options{ShutdownTimeout: 300 * time.Millisecond}, in, testOutput("o", stuck, outputs.Buffer{}))
	noAck(t, in.acked, 100*time.Millisecond)
	if err := stop(); err == nil {
		t.Error("shutdown with an undelivered batch reported no error")
	}
	if waitAck(t, in.acked) {
		t.Fatal("events abandoned at shutdown acknowledged as kept")
	}
}

func TestTrackPolicyDropIsKept(t *testing.T) {
	gate := make(chan struct{})
	slow := newRecorder(func(int, *outputs.Batch) error { <-gate; return nil })
	var batches [][]*normalize.Event
	for _, id := range []string{"1", "2", "3", "4"} {
		batches = append(batches, []*normalize.Event{forwarded(id)})
	}
	in := &trackInput{batches: batches, acked: make(chan bool, 4)}
	stop := runPipeline(t, Options{Workers: 1}, in, testOutput("o", slow,
		outputs.Buffer{Type: outputs.BufferMemory, MaxEvents: 1, WhenFull: outputs.WhenFullDropNewest}))
	defer stop()
	// One in the Write, one queued: the others are dropped by policy.
	for range 2 {
		if !waitAck(t, in.acked) {
			t.Fatal("a batch dropped by drop_newest was not acknowledged as kept")
		}
	}
	close(gate)
	for range 2 {
		if !waitAck(t, in.acked) {
			t.Fatal("not kept")
		}
	}
}
