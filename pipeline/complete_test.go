package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
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
