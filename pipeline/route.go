package pipeline

import (
	"fmt"
	"slices"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/pipeline/ack"
	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/stats"
)

// Route says which events reach an output: those of the event stream, or
// of the named stage From, that match Filter, folded by the output's own
// aggregation when Aggregate is set.
type Route struct {
	From      string            // a stage's name; "": the event stream
	Filter    string            // a query; "": every event
	Aggregate *AggregateOptions // nil: events go on one by one
	// AggregateStats counts the output's own aggregation (nil: not exported).
	AggregateStats *stats.Stage
}

// mainStream is the From of outputs that read every normalized event.
const mainStream = ""

// compileRoute prepares o's filter and its own aggregation.
func compileRoute(o *outputRunner) error {
	var err error
	if o.filter, err = compileFilter(o.Route.Filter); err != nil {
		return fmt.Errorf("output %s: filter: %w", o.Name, err)
	}
	if o.Route.Aggregate != nil {
		o.agg, err = newStage(Stage{Name: o.Name + ".aggregate", Type: StageAggregate,
			Aggregate: o.Route.Aggregate, Stats: o.Route.AggregateStats})
		if err != nil {
			return err
		}
		o.agg.owner = o
	}
	return nil
}

// fanOut hands a batch of normalized events to the outputs that read the
// event stream and to the stages. done is called once every output has
// accepted what it got of them, and every stage has emitted what it made of
// them, downstream. durable (the input journal's acknowledgement, nil
// without a journal) is called once every disk-buffered output holds what
// it got of them (see delivery); when stages or an output's own
// aggregation keep events in memory for a while, not before done.
// rawBytes is the size of the raw messages the events were decoded from.
func (p *Pipeline) fanOut(evs []*normalize.Event, rawBytes int, done, durable func()) {
	t := p.topo.Load()
	var jtk *ack.Ticket
	if durable != nil {
		jtk = ack.New(durable)
		if len(evs) > 0 && holdsEvents(t) {
			jtk.Hold()
			inner := done
			done = func() {
				if inner != nil {
					inner()
				}
				jtk.Release()
			}
		}
	}
	tk := ack.New(done)
	if len(evs) > 0 {
		p.dispatch(t.readers[mainStream], evs, tk, jtk, rawBytes)
		for _, s := range t.stages {
			p.feed(s, evs, tk)
		}
	}
	tk.Release()
	if jtk != nil {
		jtk.Release()
	}
}

// holdsEvents reports whether stages or outputs' own aggregations may keep
// events of the event stream in memory beyond their queues.
func holdsEvents(t *topology) bool {
	if len(t.stages) > 0 {
		return true
	}
	return slices.ContainsFunc(t.readers[mainStream], func(o *outputRunner) bool { return o.agg != nil })
}

// waitDurable makes the journal's ticket wait for the disk-buffered queues
// among qs to hold d.
func waitDurable(d *delivery, jtk *ack.Ticket, qs ...*queue) {
	if jtk == nil {
		return
	}
	for _, q := range qs {
		if q.diskType {
			d.jqs = append(d.jqs, q)
		}
	}
	if len(d.jqs) == 0 {
		return
	}
	jtk.Hold()
	d.journaled, d.jdone = true, jtk.Release
}

// dispatch queues evs on each of outs, as each one's route says: through
// its filter, into its own aggregation or its queue. Outputs that take the
// whole batch share it, encoded once per format; an output that takes
// part of it gets its part with the lines already encoded copied over.
func (p *Pipeline) dispatch(outs []*outputRunner, evs []*normalize.Event, tk, jtk *ack.Ticket, rawBytes int) {
	if len(outs) == 0 {
		return
	}
	b := &outputs.Batch{Events: evs}
	var whole []*outputRunner
	type part struct {
		o   *outputRunner
		idx []int
	}
	var parts []part
	for _, o := range outs {
		var idx []int
		if o.filter != nil {
			idx = matching(o.filter, evs)
			if n := len(evs) - len(idx); n > 0 {
				o.Stats.Filtered.Add(uint64(n))
			}
			if len(idx) == 0 {
				continue
			}
			if len(idx) == len(evs) {
				idx = nil // all of them
			}
		}
		if o.agg != nil {
			sel := evs
			if idx != nil {
				sel = make([]*normalize.Event, len(idx))
				for i, j := range idx {
					sel[i] = evs[j]
				}
			}
			p.emit(o.agg, o.agg.add(sel, tk))
			continue
		}
		if idx == nil {
			whole = append(whole, o)
		} else {
			parts = append(parts, part{o, idx})
		}
	}
	// Encode the whole batch once per format its readers use, here on the
	// worker, so that parts copy lines rather than encode again.
	var encs []*outputRunner
	for _, o := range whole {
		if !slices.ContainsFunc(encs, func(e *outputRunner) bool { return e.Encoder == o.Encoder }) {
			b.Encode(o.Encoder)
			encs = append(encs, o)
		}
	}
	for _, pt := range parts {
		sub := b.Select(pt.idx)
		sub.Encode(pt.o.Encoder) // a no-op when the lines were copied
		tk.Hold()
		d := &delivery{batch: sub, size: memorySize(sub, rawBytes*len(pt.idx)/len(evs)), refs: 1, done: tk.Release}
		waitDurable(d, jtk, pt.o.q)
		pt.o.q.push(d)
	}
	if len(whole) > 0 {
		tk.Hold()
		d := &delivery{batch: b, size: memorySize(b, rawBytes), refs: int32(len(whole)), done: tk.Release}
		qs := make([]*queue, len(whole))
		for i, o := range whole {
			qs[i] = o.q
		}
		waitDurable(d, jtk, qs...)
		for _, o := range whole {
			o.q.push(d)
		}
	}
}

// matching returns the indexes of the events m matches.
func matching(m *query.Matcher, evs []*normalize.Event) []int {
	idx := make([]int, 0, len(evs))
	for i, e := range evs {
		if m.Match(e) {
			idx = append(idx, i)
		}
	}
	return idx
}

// feed runs the events that pass a named stage's filter through it.
func (p *Pipeline) feed(s *stage, evs []*normalize.Event, tk *ack.Ticket) {
	sel := evs
	if s.filter != nil {
		sel = make([]*normalize.Event, 0, len(evs))
		for _, e := range evs {
			if s.filter.Match(e) {
				sel = append(sel, e)
			}
		}
		if len(sel) == 0 {
			return
		}
	}
	p.emit(s, s.add(sel, tk))
}

// emit hands on what a stage made: an output's own aggregation to that
// output's queue, a named stage to the outputs that read it now. The
// events' batches are acknowledged once every output accepted them.
func (p *Pipeline) emit(s *stage, out []ack.Out) {
	if len(out) == 0 {
		return
	}
	evs := make([]*normalize.Event, len(out))
	for i := range out {
		evs[i] = out[i].Event
	}
	tk := ack.New(func() {
		for i := range out {
			ack.ReleaseAll(out[i].Tickets)
		}
	})
	if o := s.owner; o != nil {
		b := &outputs.Batch{Events: evs}
		b.Encode(o.Encoder)
		tk.Hold()
		o.q.push(&delivery{batch: b, size: memorySize(b, 0), refs: 1, done: tk.Release})
	} else {
		p.dispatch(p.topo.Load().readers[s.Name], evs, tk, nil, 0)
	}
	tk.Release()
}

// startStages starts the timers of the topology's stages that are not
// running yet.
func (p *Pipeline) startStages(t *topology) {
	for _, s := range t.allStages() {
		s.start(func(out []ack.Out) { p.emit(s, out) })
	}
}

// flushStages closes every group and transaction the stages hold and hands
// them on (shutdown: the workers are done; queues are still open).
func (p *Pipeline) flushStages(stages []*stage) {
	for _, s := range stages {
		p.emit(s, s.flush())
	}
}
