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
	"github.com/alertgw/alertgw/stats"
)

// onceInput hands its events over once and closes done when every output
// has them.
type onceInput struct {
	evs  []*normalize.Event
	done chan struct{}
}

func (in *onceInput) Close() error { return nil }

func (in *onceInput) Run(ctx context.Context, emit inputs.Emitter) error {
	emit.Events(in.evs, func() { close(in.done) })
	<-ctx.Done()
	return nil
}

// Events forwarded by another gateway keep their id, times and source
// names; what is missing is filled in.
func TestCompleteKeepsWhatTheEventHas(t *testing.T) {
	received := time.Unix(1700000001, 0).UTC()
	fwd := &normalize.Event{ID: "e1", Kind: normalize.KindAlert, Action: normalize.ActionBlocked,
		Timestamp: time.Unix(1700000000, 0).UTC(), Received: received,
		Source: normalize.Source{Type: "suricata", Input: "eve", Sensor: "sensor-7"}}
	bare := &normalize.Event{Kind: normalize.KindAlert}
	in := &onceInput{evs: []*normalize.Event{fwd, bare}, done: make(chan struct{})}
	stop := runPipeline(t, Options{Sensor: "central"}, in, testOutput("o", newRecorder(nil), Buffer{}))
	defer stop()
	select {
	case <-in.done:
	case <-time.After(10 * time.Second):
		t.Fatal("not delivered")
	}
	if fwd.ID != "e1" || fwd.Source != (normalize.Source{Type: "suricata", Input: "eve", Sensor: "sensor-7"}) || !fwd.Received.Equal(received) {
		t.Errorf("forwarded event changed: %+v", fwd)
	}
	if bare.ID == "" || bare.Source != (normalize.Source{Type: "test", Input: "in", Sensor: "central"}) || bare.Action != normalize.ActionUnknown {
		t.Errorf("bare event not completed: %+v", bare)
	}
}

// durableInput hands its events over with EventsDurable and records which
// acknowledgements came.
type durableInput struct {
	evs           []*normalize.Event
	done, durable chan struct{}
}

func (in *durableInput) Close() error { return nil }

func (in *durableInput) Run(ctx context.Context, emit inputs.Emitter) error {
	emit.(inputs.DurableEmitter).EventsDurable(in.evs, func() { close(in.done) }, func() { close(in.durable) })
	<-ctx.Done()
	return nil
}

// EventsDurable: durable once the disk-buffered output holds the events
// (its destination down); done only once the memory-buffered one delivered.
func TestEventsDurable(t *testing.T) {
	down := errors.New("down")
	var mu sync.Mutex
	memDown := true
	mem := newRecorder(func(int, *outputs.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		if memDown {
			return down
		}
		return nil
	})
	disk := newRecorder(func(int, *outputs.Batch) error { return down })
	in := &durableInput{evs: []*normalize.Event{{Kind: normalize.KindAlert}}, done: make(chan struct{}), durable: make(chan struct{})}
	stop := runPipeline(t, Options{}, in,
		testOutput("mem", mem, Buffer{}),
		testOutput("disk", disk, Buffer{Type: BufferDisk, Path: t.TempDir(), MaxEvents: 100, MaxBytes: 1 << 30, WhenFull: WhenFullBlock, Sync: "never"}))
	defer stop()
	select {
	case <-in.durable:
	case <-time.After(10 * time.Second):
		t.Fatal("not durable although the disk buffer has the events")
	}
	select {
	case <-in.done:
		t.Fatal("done before the memory-buffered output delivered")
	case <-time.After(200 * time.Millisecond):
	}
	mu.Lock()
	memDown = false
	mu.Unlock()
	select {
	case <-in.done:
	case <-time.After(10 * time.Second):
		t.Fatal("not done after delivery")
	}
}

// TestEveryEmitRecordsLastEvent: each way an input hands events over marks
// its last event (health's LAST EVENT, the last-event metric); the forward
// input hands them over with EventsDurable.
func TestEveryEmitRecordsLastEvent(t *testing.T) {
	for _, tc := range []struct {
		name string
		emit func(e *emitter)
	}{
		{"Events", func(e *emitter) { e.Events([]*normalize.Event{{}}, func() {}) }},
		{"EventsDurable", func(e *emitter) { e.EventsDurable([]*normalize.Event{{}}, func() {}, func() {}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &stats.Input{}
			e := &emitter{p: &Pipeline{work: make(chan work, 1)}, in: &inputRunner{Input: Input{Stats: st}}}
			tc.emit(e)
			if st.LastEvent.Load() == 0 {
				t.Error("last event not recorded")
			}
		})
	}
}
