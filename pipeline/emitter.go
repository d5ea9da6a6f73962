package pipeline

import (
	"fmt"
	"time"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
)

// emitter is the pipeline as one input sees it (inputs.Emitter and
// inputs.DurableEmitter).
type emitter struct {
	p  *Pipeline
	in *inputRunner
}

// Messages queues raw messages for the workers. An input without a
// declared decoder has nothing to normalize them with (a plugin bug): its
// messages are dead-lettered rather than lost or crashing the gateway.
func (e *emitter) Messages(b *inputs.Batch) {
	if e.in.Decoder == nil {
		err := fmt.Errorf("input type %s declares no decoder (inputs.Plugin.Decoder)", e.in.Type)
		for _, m := range b.Msgs {
			e.p.fail(e.in, m, normalize.ReasonUnsupported, err)
		}
		if b.Done != nil {
			b.Done()
		}
		if b.Durable != nil {
			b.Durable()
		}
		return
	}
	e.arrived(b)
	e.p.inflight.acquire(int64(batchBytes(b))) // released once every queue has the events
	e.p.work <- work{in: e.in, raw: b}
}

// TryMessages normalizes b and queues its events on the caller's goroutine
// when no work is waiting for the workers: for a small batch that is
// cheaper than waking a worker (a goroutine hand-off costs more than
// decoding a few messages). It reports false, having done nothing, when the
// workers are behind or the in-flight budget is spent: the input then hands
// the batch on with Messages.
func (e *emitter) TryMessages(b *inputs.Batch) bool {
	if e.in.Decoder == nil || len(e.p.work) > 0 {
		return false
	}
	if !e.p.inflight.tryAcquire(int64(batchBytes(b))) {
		return false
	}
	e.arrived(b)
	e.p.process(work{in: e.in, raw: b})
	return true
}

// arrived records when b's messages arrived as the input's last event
// (stats.Input.LastEvent, shown by health).
func (e *emitter) arrived(b *inputs.Batch) {
	at := b.Received
	if at.IsZero() {
		at = time.Now()
	}
	e.in.Stats.LastEvent.Store(at.UnixNano())
}

func (e *emitter) Events(evs []*normalize.Event, done func()) {
	e.in.Stats.LastEvent.Store(time.Now().UnixNano())
	e.p.work <- work{in: e.in, events: evs, done: done}
}

// EventsDurable implements inputs.DurableEmitter.
func (e *emitter) EventsDurable(evs []*normalize.Event, done, durable func()) {
	e.in.Stats.LastEvent.Store(time.Now().UnixNano())
	e.p.work <- work{in: e.in, events: evs, done: done, durable: durable}
}

func (e *emitter) Failed(raw []byte, reason string, err error) {
	e.p.fail(e.in, raw, reason, err)
	if e.in.Journal != nil && e.p.opts.DeadLetter != nil {
		// Not journaled (the input hands it straight here): with the
		// kernel at once, as journaled messages are.
		e.p.opts.DeadLetter.Flush()
	}
}
