package pipeline

import (
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
)

// emitter is the pipeline as one input sees it.
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
	e.p.work <- work{in: e.in, events: evs, done: done}
}

func (e *emitter) Failed(raw []byte, reason string, err error) {
	e.p.fail(e.in, raw, reason, err)
}
