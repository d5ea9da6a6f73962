package pipeline

import (
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
)

// emitter is the pipeline as one input sees it. It implements
// inputs.Emitter and inputs.Tracker.
type emitter struct {
	p  *Pipeline
	in *inputRunner
}

func (e *emitter) Messages(b *inputs.Batch) {
	if e.in.decoder == nil {
		panic("input " + e.in.Name + " emits raw messages but has no decoder")
	}
	e.p.work <- work{in: e.in, raw: b}
}

func (e *emitter) Events(evs []*normalize.Event, done func()) {
	e.p.work <- work{in: e.in, events: evs, ack: ackDone(done)}
}

// TrackEvents implements inputs.Tracker.
func (e *emitter) TrackEvents(evs []*normalize.Event, ack func(kept bool)) {
	e.p.work <- work{in: e.in, events: evs, ack: ack, keepSource: true}
}

func (e *emitter) Failed(raw []byte, reason string, err error) {
	e.p.fail(e.in, raw, reason, err)
}
