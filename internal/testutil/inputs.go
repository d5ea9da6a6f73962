package testutil

import (
	"cmp"
	"context"
	"strconv"
	"time"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
)

// Events is an input for pipeline tests: it emits N events made by Make,
// Size per Emitter.Events call, pausing Pause after each, closes Emitted
// (when set) once all are emitted, then waits for the end of its context.
type Events struct {
	N     int
	Size  int           // events per call; 0: 100
	Pause time.Duration // after each call (a destination can be stopped mid-stream)
	// Make builds event i; nil: SeqEvent.
	Make    func(i int) *normalize.Event
	Emitted chan struct{}
}

// Run implements inputs.Input.
func (e *Events) Run(ctx context.Context, emit inputs.Emitter) error {
	size, build := cmp.Or(e.Size, 100), e.Make
	if build == nil {
		build = SeqEvent
	}
	for i := 0; i < e.N; i += size {
		evs := make([]*normalize.Event, 0, min(size, e.N-i))
		for j := i; j < min(i+size, e.N); j++ {
			evs = append(evs, build(j))
		}
		emit.Events(evs, nil)
		if e.Pause > 0 {
			time.Sleep(e.Pause)
		}
	}
	if e.Emitted != nil {
		close(e.Emitted)
	}
	<-ctx.Done()
	return nil
}

// Close implements inputs.Input: Events holds nothing.
func (e *Events) Close() error { return nil }

// SeqEvent is an alert whose details.seq is i.
func SeqEvent(i int) *normalize.Event {
	return &normalize.Event{Kind: normalize.KindAlert, Details: normalize.Details{{Key: "seq", Value: normalize.RawJSON(strconv.Itoa(i))}}}
}
