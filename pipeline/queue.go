package pipeline

import (
	"sync"
	"time"

	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/stats"
)

// delivery is one batch on its way to every output. Each output releases it
// once (written, dropped or abandoned); the last release acknowledges the
// messages to their input.
type delivery struct {
	batch *outputs.Batch
	refs  int32
	mu    sync.Mutex
	done  func()
}

func (d *delivery) release() {
	d.mu.Lock()
	d.refs--
	last := d.refs == 0
	d.mu.Unlock()
	if last && d.done != nil {
		d.done()
	}
}

// queue is one output's bounded buffer of batches, counted in events.
type queue struct {
	mu       sync.Mutex
	notEmpty sync.Cond
	notFull  sync.Cond
	items    []*delivery
	events   int
	max      int
	whenFull string
	closed   bool // no more pushes; pop drains what is left
	kicked   bool // pop returns early once, so the consumer can do side work
	abandon  bool // shutdown deadline passed: pushes and pops give up
	stats    *stats.Output
}

func newQueue(max int, whenFull string, st *stats.Output) *queue {
	q := &queue{max: max, whenFull: whenFull, stats: st}
	q.notEmpty.L = &q.mu
	q.notFull.L = &q.mu
	return q
}

// push adds d, applying the when_full policy. A batch larger than the whole
// queue is still accepted into an empty queue, so a small max never wedges.
func (q *queue) push(d *delivery) {
	n := len(d.batch.Events)
	q.mu.Lock()
	switch q.whenFull {
	case outputs.WhenFullDropNewest:
		if q.events > 0 && q.events+n > q.max {
			q.mu.Unlock()
			q.stats.Dropped.Add("queue_full", uint64(n))
			d.release()
			return
		}
	case outputs.WhenFullDropOldest:
		for q.events > 0 && q.events+n > q.max {
			old := q.items[0]
			q.items = q.items[1:]
			q.events -= len(old.batch.Events)
			q.stats.Queued.Add(-int64(len(old.batch.Events)))
			q.stats.Dropped.Add("queue_full", uint64(len(old.batch.Events)))
			old.release()
		}
	default: // block: back-pressure up to the inputs
		for q.events > 0 && q.events+n > q.max && !q.abandon {
			q.notFull.Wait()
		}
	}
	if q.abandon {
		q.mu.Unlock()
		q.stats.Dropped.Add("shutdown", uint64(n))
		d.release()
		return
	}
	q.items = append(q.items, d)
	q.events += n
	q.stats.Queued.Add(int64(n))
	q.mu.Unlock()
	q.notEmpty.Signal()
}

// pop returns the oldest batch, waiting for one. It returns open=false once
// the queue is closed and empty, or abandoned, and (nil, true) after kick.
func (q *queue) pop() (d *delivery, open bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed && !q.abandon && !q.kicked {
		q.notEmpty.Wait()
	}
	if q.abandon || (len(q.items) == 0 && q.closed) {
		return nil, false
	}
	if len(q.items) == 0 {
		q.kicked = false
		return nil, true
	}
	d = q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	q.events -= len(d.batch.Events)
	q.stats.Queued.Add(-int64(len(d.batch.Events)))
	q.notFull.Broadcast()
	return d, true
}

// kick makes a waiting pop return once.
func (q *queue) kick() {
	q.mu.Lock()
	q.kicked = true
	q.mu.Unlock()
	q.notEmpty.Broadcast()
}

// empty reports whether nothing is waiting.
func (q *queue) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) == 0
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.notEmpty.Broadcast()
}

// giveUp abandons whatever is left, counting it as dropped at shutdown.
func (q *queue) giveUp() {
	q.mu.Lock()
	q.abandon = true
	left := q.items
	q.items = nil
	q.events = 0
	q.mu.Unlock()
	for _, d := range left {
		n := len(d.batch.Events)
		q.stats.Queued.Add(-int64(n))
		q.stats.Dropped.Add("shutdown", uint64(n))
		d.release()
	}
	q.notEmpty.Broadcast()
	q.notFull.Broadcast()
}

// abandoned waits up to d and reports whether shutdown gave up meanwhile.
func (q *queue) abandoned(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		q.mu.Lock()
		gone := q.abandon
		q.mu.Unlock()
		if gone {
			return true
		}
		time.Sleep(min(10*time.Millisecond, time.Until(deadline)))
	}
	return false
}
