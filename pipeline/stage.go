package pipeline

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/pipeline/ack"
	"github.com/alertgw/alertgw/pipeline/aggregate"
	"github.com/alertgw/alertgw/pipeline/transaction"
	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/stats"
)

// Stage types.
const (
	StageAggregate    = "aggregate"
	StageTransactions = "transactions"
)

// Stage is a configured reduction stage: a named block of the stages:
// list, feeding the outputs whose route names it in from:, or an output's
// own aggregate: (Inline).
type Stage struct {
	Name         string
	Type         string // StageAggregate or StageTransactions
	Filter       string // which events enter (a query); "": every event
	Aggregate    *AggregateOptions
	Transactions *TransactionOptions
	Stats        *stats.Stage
}

// reducer is what a stage runs: an aggregation or a transaction joiner.
// Calls are serialized by the stage.
type reducer interface {
	Add(e *normalize.Event, t *ack.Ticket, now time.Time, out []ack.Out) []ack.Out
	Expire(now time.Time, out []ack.Out) []ack.Out
	Flush(out []ack.Out) []ack.Out
	NextClose() (time.Time, bool)
	Open() (int, int64)
}

// stage runs one reduction between the workers and the queues of the
// outputs it feeds. Workers add events under its lock; its own goroutine
// closes windows and timed-out transactions. What it emits is pushed to the
// queues after the lock is released, so a full queue holds back the events
// coming in (back-pressure) but never the stage's bookkeeping.
type stage struct {
	Stage
	filter *query.Matcher // nil: every event enters
	match  *query.Matcher // aggregate: events folded; the others pass through (nil: all)
	red    reducer
	// owner is the output an inline aggregation feeds; nil for a named
	// stage, whose readers are found in the topology at each emission.
	owner *outputRunner

	mu      sync.Mutex
	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{}
	started atomic.Bool // the timer runs
	flushed bool        // flush ran: late events pass through (guarded by mu)
}

// newStage builds a stage from a validated configuration.
func newStage(s Stage) (*stage, error) {
	st := &stage{Stage: s, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	if st.Stats == nil {
		st.Stats = &stats.Stage{Name: s.Name, Type: s.Type}
	}
	var err error
	if st.filter, err = compileFilter(s.Filter); err != nil {
		return nil, fmt.Errorf("stage %s: filter: %w", s.Name, err)
	}
	switch s.Type {
	case StageAggregate:
		o := s.Aggregate
		if o == nil {
			o = DefaultAggregateOptions()
		}
		if st.match, err = compileFilter(o.Match); err != nil {
			return nil, fmt.Errorf("stage %s: match: %w", s.Name, err)
		}
		key, err := aggregate.KeyOf(o.Key)
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", s.Name, err)
		}
		st.red = aggregate.New(o.config(), key, st.Stats)
	case StageTransactions:
		o := s.Transactions
		if o == nil {
			o = DefaultTransactionOptions()
		}
		st.red = transaction.New(o.config(), st.Stats)
	default:
		return nil, fmt.Errorf("stage %s: unknown type %q", s.Name, s.Type)
	}
	return st, nil
}

// compileFilter compiles a query; "" is nil, every event.
func compileFilter(text string) (*query.Matcher, error) {
	if text == "" {
		return nil, nil
	}
	q, err := query.Parse(text)
	if err != nil {
		return nil, err
	}
	return q.Matcher(), nil
}

// add runs evs (already past the stage's filter) through the stage and
// returns what it emits now.
func (s *stage) add(evs []*normalize.Event, t *ack.Ticket) []ack.Out {
	now := time.Now()
	var out []ack.Out
	s.mu.Lock()
	_, wasIdle := s.red.NextClose()
	for _, e := range evs {
		// A worker that read the topology before a reload took this stage
		// out may still add to it after its flush: nothing may wait in it
		// any more, so what comes late passes through.
		if s.flushed || s.match != nil && !s.match.Match(e) {
			s.Stats.In.Add(1)
			s.Stats.Passed.Add(1)
			var ts ack.Set
			ts.Add(t)
			out = append(out, ack.Out{Event: e, Tickets: ts})
			continue
		}
		out = s.red.Add(e, t, now, out)
	}
	s.gauge()
	_, busy := s.red.NextClose()
	s.mu.Unlock()
	if !wasIdle && busy {
		s.signal() // the first open group: the timer must know
	}
	return out
}

func (s *stage) gauge() {
	n, b := s.red.Open()
	s.Stats.Open.Store(int64(n))
	s.Stats.OpenBytes.Store(b)
}

func (s *stage) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// maxTick bounds how late a window or timeout may close: the timer sleeps
// until the next close, but no longer than this, so a close never waits on
// a signal that might have been missed.
const maxTick = time.Second

// start runs the stage's timer: it closes what is due, on time, until
// flush; emit hands on what closed.
func (s *stage) start(emit func([]ack.Out)) {
	if s.started.Swap(true) {
		return
	}
	go s.run(emit)
}

func (s *stage) run(emit func([]ack.Out)) {
	defer close(s.done)
	t := time.NewTimer(maxTick)
	defer t.Stop()
	for {
		s.mu.Lock()
		out := s.red.Expire(time.Now(), nil)
		s.gauge()
		next, ok := s.red.NextClose()
		s.mu.Unlock()
		if len(out) > 0 {
			emit(out)
		}
		wait := maxTick
		if ok {
			wait = min(max(time.Until(next), time.Millisecond), maxTick)
		}
		t.Reset(wait)
		select {
		case <-s.quit:
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// flush stops the timer and returns everything the stage still holds
// (shutdown, or a reload that changed or removed it).
func (s *stage) flush() []ack.Out {
	close(s.quit)
	if s.started.Load() {
		<-s.done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushed = true
	out := s.red.Flush(nil)
	s.gauge()
	return out
}
