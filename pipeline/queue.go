package pipeline

import (
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/internal/eventcodec"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/pipeline/diskbuf"
	"github.com/alertgw/alertgw/stats"
)

// delivery is one batch on its way to every output. Each output releases it
// once (written, spilled to its disk buffer, dropped or abandoned); the last
// release acknowledges the messages to their input.
//
// A delivery of journaled messages also waits for every disk-buffered
// output (buffer.type: disk) to hold it: jqs lists the queues that do not
// yet, and jdone, the journal's acknowledgement, is called once the last
// one has it (stored) or has let it go by policy.
type delivery struct {
	batch *outputs.Batch
	size  int64 // bytes it holds in memory (see memorySize)
	refs  int32
	mu    sync.Mutex
	done  func()

	journaled bool // jqs and jdone are in use (set before the first push)
	jqs       []*queue
	jdone     func()
}

// stored records that q holds d durably (or dropped it by policy): once no
// disk-buffered queue is left waiting, the journal is acknowledged.
func (d *delivery) stored(q *queue) {
	if !d.journaled {
		return
	}
	d.mu.Lock()
	var f func()
	if i := slices.Index(d.jqs, q); i >= 0 {
		d.jqs = slices.Delete(d.jqs, i, i+1)
		if len(d.jqs) == 0 {
			f, d.jdone = d.jdone, nil
		}
	}
	d.mu.Unlock()
	if f != nil {
		f()
	}
}

// handover moves the wait for q to its successor to, when to is
// disk-buffered too; otherwise the wait for q ends.
func (d *delivery) handover(q, to *queue) {
	if !d.journaled {
		return
	}
	if to != nil && to.diskType {
		d.mu.Lock()
		if i := slices.Index(d.jqs, q); i >= 0 && !slices.Contains(d.jqs, to) {
			d.jqs[i] = to
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
	}
	d.stored(q)
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

// pending is what the output's goroutine delivers in one go: batches joined
// from memory, or records read back from the disk buffer.
type pending struct {
	batch      *outputs.Batch
	deliveries []*delivery // from memory: released once delivered
	fromDisk   bool
	pos        diskbuf.Pos // from disk: acknowledged once delivered
	n          int         // events (records) in it
	settled    bool        // accounted for by giveUp while its Write hung: done and leave do nothing
}

// queue is one output's buffer. In memory it holds up to max events; with a
// disk buffer, what does not fit spills to disk (type memory with a path),
// or everything goes to disk first (type disk). Order is kept: once events
// spill, later ones follow them to disk until the reader has caught up, and
// the reader takes memory (older) before disk.
type queue struct {
	mu       sync.Mutex
	notFull  sync.Cond
	wake     chan struct{} // cap 1: something to pop, or something changed
	gone     chan struct{} // closed when shutdown gives up
	items    []*delivery
	events   int
	bytes    int64 // memory held by items (delivery.size)
	max      int
	maxBytes int64 // buffer.max_memory_bytes
	whenFull string
	disk     *diskbuf.Buffer // nil: memory only
	diskOnly bool
	// diskType is buffer.type: disk, known from construction (the disk
	// itself may be attached later, see attachDisk): the journal waits for
	// such queues to have every event.
	diskType bool
	spilling bool // the disk holds unread events: pushes go there too
	closed   bool // no more pushes; the reader drains what is left while writes succeed
	retired  bool // taken out of the topology by a reload: pushes go to successor
	// successor replaces a retired queue (nil: its output was removed).
	successor *queue
	abandon   bool     // shutdown deadline passed: pushes and pops give up
	inflight  *pending // handed to the output and not done yet
	seenLost  int64    // the disk buffer's Lost counter, as last accounted
	stats     *stats.Output
	log       zerolog.Logger
	scratch   []byte
	recs      [][]byte
	// enc is the output's encoder: batches joined for it keep their
	// encoding by it (nil: joined batches are encoded by the output).
	enc format.Encoder
	// want is what the reader waits for: 0, it is not waiting (it comes
	// back and looks); 1, anything; more, that many events (it lingers for
	// a batch to fill). A push wakes it only once that many are queued,
	// so that a lingering reader is woken once, not once per push.
	want int
	// lastTake is when the reader last took a batch (see writeGap).
	lastTake time.Time
	timer    *time.Timer // the reader's linger timer
}

// writeGap is the least time between the starts of two writes of batches
// smaller than batch.max_events when batch.linger is 0. An output that
// finds a small batch waiting less than writeGap after it took the last
// one waits for the rest of writeGap (or for a full batch): under a steady
// flow of small batches it then writes about once a millisecond, larger
// chunks for fewer wake-ups and system calls, at the cost of at most that
// much latency. An output that was idle writes what comes at once.
const writeGap = time.Millisecond

func newQueue(buf Buffer, st *stats.Output, log zerolog.Logger) (*queue, error) {
	q := newMemoryQueue(buf, st, log)
	if err := q.attachDisk(buf); err != nil {
		return nil, err
	}
	return q, nil
}

// newMemoryQueue builds the queue without its disk buffer; attachDisk adds
// it. A reload that replaces an output keeping its buffer directory attaches
// the disk only once the old output has closed it.
func newMemoryQueue(buf Buffer, st *stats.Output, log zerolog.Logger) *queue {
	q := &queue{max: buf.MaxEvents, maxBytes: int64(buf.MaxMemoryBytes), whenFull: buf.WhenFull, stats: st, log: log,
		wake: make(chan struct{}, 1), gone: make(chan struct{}), diskType: buf.Type == BufferDisk, timer: time.NewTimer(time.Hour)}
	q.timer.Stop()
	q.notFull.L = &q.mu
	if q.max <= 0 {
		q.max = 1
	}
	if q.maxBytes <= 0 {
		q.maxBytes = DefaultMaxMemoryBytes
	}
	return q
}

// attachDisk opens the buffer's disk part, if it has one, and queues what
// it holds from an earlier run for replay.
func (q *queue) attachDisk(buf Buffer) error {
	if buf.Type != BufferDisk && buf.Path == "" {
		return nil
	}
	d, err := diskbuf.Open(diskbuf.Options{Dir: buf.Path, MaxBytes: int64(buf.MaxBytes), Sync: buf.Sync, SyncInterval: buf.SyncInterval})
	if err != nil {
		return err
	}
	st, log := q.stats, q.log
	q.mu.Lock()
	defer q.mu.Unlock()
	q.disk, q.diskOnly = d, buf.Type == BufferDisk
	c := d.Counters()
	st.Queued.Add(c.Records)
	st.Replayed.Add(uint64(c.Records))
	st.BufferedBytes.Store(c.Bytes)
	st.BufferCorrupt.Add(c.Corrupt)
	if c.Corrupt > 0 {
		log.Warn().Uint64("tails", c.Corrupt).Int64("bytes", c.Truncated).Str("path", buf.Path).Msg("disk buffer: torn or corrupt records cut off")
	}
	if c.Records > 0 {
		q.spilling = true
		st.Spilling.Store(true) // replaying: the disk holds what the destination has not taken
		log.Info().Int64("events", c.Records).Str("path", buf.Path).Msg("disk buffer: replaying events left from the last run")
	}
	return nil
}

func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// push adds d, applying the when_full policy.
func (q *queue) push(d *delivery) {
	n := len(d.batch.Events)
	q.mu.Lock()
	if q.retired {
		q.forwardLocked(d)
		return
	}
	if q.abandon {
		q.mu.Unlock()
		q.stats.Dropped.Add("shutdown", uint64(n))
		d.release()
		return
	}
	if q.disk != nil && (q.diskOnly || q.spilling || q.fullLocked(n, d.size)) {
		res := q.spillLocked(d.batch.Events, true)
		if res == spillKept {
			// The disk failed: the events wait in memory, and the
			// journal keeps them until they are delivered.
			q.addLocked(d)
			q.mu.Unlock()
			q.signal()
			return
		}
		q.mu.Unlock()
		if res != spillClosed {
			d.stored(q)
		}
		d.release()
		q.signal()
		return
	}
	switch q.whenFull {
	case WhenFullDropNewest:
		if q.fullLocked(n, d.size) {
			q.mu.Unlock()
			q.stats.Dropped.Add("queue_full", uint64(n))
			d.stored(q)
			d.release()
			return
		}
	case WhenFullDropOldest:
		for q.fullLocked(n, d.size) {
			old := q.items[0]
			q.items = q.items[1:]
			q.events -= len(old.batch.Events)
			q.bytes -= old.size
			q.stats.Queued.Add(-int64(len(old.batch.Events)))
			q.stats.Dropped.Add("queue_full", uint64(len(old.batch.Events)))
			q.stats.MemoryBytes.Add(-old.size)
			old.stored(q)
			old.release()
		}
	default: // block: back-pressure up to the inputs
		// A batch larger than the whole queue is still accepted into an
		// empty queue, so a small max never wedges.
		for q.fullLocked(n, d.size) && !q.abandon && !q.retired {
			q.notFull.Wait()
		}
		if q.retired {
			q.forwardLocked(d)
			return
		}
		if q.abandon {
			q.mu.Unlock()
			q.stats.Dropped.Add("shutdown", uint64(n))
			d.release()
			return
		}
	}
	q.addLocked(d)
	wake := q.want > 0 && q.events >= q.want
	q.mu.Unlock()
	if wake {
		q.signal()
	}
}

// fullLocked reports whether n more events of size bytes do not fit in
// memory: past buffer.max_events or buffer.max_memory_bytes. An empty queue
// takes a batch of any size, so that small limits never wedge it.
func (q *queue) fullLocked(n int, size int64) bool {
	return q.events > 0 && (q.events+n > q.max || q.bytes+size > q.maxBytes)
}

func (q *queue) addLocked(d *delivery) {
	n := len(d.batch.Events)
	q.items = append(q.items, d)
	q.events += n
	q.bytes += d.size
	q.stats.Queued.Add(int64(n))
	q.stats.MemoryBytes.Add(d.size)
}

// spillResult says what became of events spillLocked was given.
type spillResult int

const (
	spillStored  spillResult = iota // in the disk buffer
	spillDropped                    // dropped by the when_full policy (counted)
	spillKept                       // the disk failed: the caller keeps them in memory
	spillClosed                     // the buffer is closed (shutdown): dropped, counted
)

// spillLocked writes events to the disk buffer, applying when_full when it
// is full (blocking only when wait is set). On an I/O error it returns
// spillKept: the caller keeps the events in memory rather than lose them.
func (q *queue) spillLocked(evs []*normalize.Event, wait bool) spillResult {
	n := len(evs)
	encoded := false
	for {
		// q.scratch and q.recs are shared by every push: encode (again)
		// after each wait, during which other pushes used them.
		if !encoded {
			q.scratch = q.scratch[:0]
			q.recs = q.recs[:0]
			for _, e := range evs {
				start := len(q.scratch)
				q.scratch = eventcodec.AppendEvent(q.scratch, e)
				q.recs = append(q.recs, q.scratch[start:len(q.scratch):len(q.scratch)])
			}
			encoded = true
		}
		err := q.disk.Append(q.recs...)
		if err == nil {
			break
		}
		if errors.Is(err, diskbuf.ErrClosed) {
			q.stats.Dropped.Add("shutdown", uint64(n))
			return spillClosed
		}
		if !errors.Is(err, diskbuf.ErrFull) {
			q.log.Error().Err(err).Msg("disk buffer write failed: keeping the events in memory")
			return spillKept
		}
		switch {
		case q.whenFull == WhenFullDropOldest:
			if lost := q.disk.DropOldest(); lost > 0 {
				q.stats.Queued.Add(-lost)
				q.stats.Dropped.Add("buffer_full", uint64(lost))
				continue
			}
			q.stats.Dropped.Add("buffer_full", uint64(n))
			return spillDropped
		case q.whenFull == WhenFullBlock && wait && !q.abandon:
			q.notFull.Wait()
			encoded = false
			continue
		default:
			q.stats.Dropped.Add("buffer_full", uint64(n))
			return spillDropped
		}
	}
	if cap(q.scratch) > 4<<20 {
		q.scratch = nil
	}
	clear(q.recs)
	q.spilling = true
	q.stats.Spilling.Store(!q.diskOnly)
	q.stats.Spilled.Add(uint64(n))
	q.stats.Queued.Add(int64(n))
	q.stats.BufferedBytes.Store(q.disk.Counters().Bytes)
	return spillStored
}

// spillAtShutdown moves events that can no longer be delivered to the disk
// buffer; if the disk fails too they are counted dropped at shutdown (a
// journal, if any, still has them for the next start). It reports whether
// they are safe or dropped by policy, that is, need no journal any more.
func (q *queue) spillAtShutdown(evs []*normalize.Event) bool {
	switch q.spillLocked(evs, false) {
	case spillKept:
		q.stats.Dropped.Add("shutdown", uint64(len(evs)))
		return false
	case spillClosed:
		return false
	}
	return true
}

// next returns the next batch to deliver, of up to maxEvents events (whole
// pushed batches from memory may exceed it), waiting up to linger for a
// batch to fill. It returns (nil, false) once the queue is closed and its
// memory drained, or abandoned; (nil, true) when woken with nothing to do.
func (q *queue) next(maxEvents int, linger time.Duration) (*pending, bool) {
	var start time.Time
	for {
		q.mu.Lock()
		q.want = 0
		if q.abandon {
			q.mu.Unlock()
			return nil, false
		}
		var unread int64
		if q.disk != nil {
			unread = q.disk.Unread()
		}
		avail := q.events + int(unread)
		if avail == 0 {
			q.spilling = false
			q.stats.Spilling.Store(false)
			if q.closed {
				q.mu.Unlock()
				return nil, false
			}
			if start.IsZero() {
				q.want = 1
				q.mu.Unlock()
				<-q.wake
				start = time.Now()
				continue
			}
			q.mu.Unlock()
			return nil, true
		}
		if avail < maxEvents && !q.closed {
			// A small batch: wait up to linger for it to fill, or,
			// without linger, for the rest of writeGap.
			var until time.Time
			switch {
			case linger > 0:
				if start.IsZero() {
					start = time.Now()
				}
				until = start.Add(linger)
			case !q.lastTake.IsZero():
				until = q.lastTake.Add(writeGap)
			}
			if left := time.Until(until); left > 0 {
				q.want = maxEvents
				q.mu.Unlock()
				q.timer.Reset(left)
				select {
				case <-q.wake:
					q.timer.Stop()
				case <-q.timer.C:
				}
				continue
			}
		}
		q.lastTake = time.Now()
		if len(q.items) > 0 {
			p := &pending{}
			var bs []*outputs.Batch
			for len(q.items) > 0 && (p.n == 0 || p.n+len(q.items[0].batch.Events) <= maxEvents) {
				d := q.items[0]
				q.items[0] = nil
				q.items = q.items[1:]
				q.events -= len(d.batch.Events)
				q.bytes -= d.size
				q.stats.MemoryBytes.Add(-d.size)
				p.n += len(d.batch.Events)
				p.deliveries = append(p.deliveries, d)
				bs = append(bs, d.batch)
			}
			q.notFull.Broadcast()
			q.inflight = p
			q.mu.Unlock()
			p.batch = outputs.Join(q.enc, bs) // keeps the encodings made before fan-out
			return p, true
		}
		q.mu.Unlock()
		p, open := q.readDisk(maxEvents)
		if p != nil {
			q.mu.Lock()
			q.inflight = p
			q.mu.Unlock()
		}
		return p, open
	}
}

// readDisk reads a batch back from the disk buffer. Records that do not
// decode (impossible unless the disk lies: the CRC matched) are counted and
// acknowledged with the batch.
func (q *queue) readDisk(maxEvents int) (*pending, bool) {
	recs, pos, err := q.disk.Next(maxEvents, 8<<20)
	q.accountLost()
	if err != nil {
		q.log.Error().Err(err).Msg("disk buffer read failed")
		time.Sleep(100 * time.Millisecond) // do not spin on a failing disk
		return nil, true
	}
	if len(recs) == 0 {
		// Nothing although records were counted unread: never expected,
		// but do not spin on it.
		time.Sleep(10 * time.Millisecond)
		return nil, true
	}
	slab := make([]normalize.Event, len(recs))
	evs := make([]*normalize.Event, 0, len(recs))
	for i, r := range recs {
		if err := eventcodec.DecodeEvent(r, &slab[i]); err != nil {
			q.stats.Dropped.Add("buffer_corrupt", 1)
			q.log.Error().Err(err).Msg("disk buffer: undecodable record skipped")
			continue
		}
		evs = append(evs, &slab[i])
	}
	return &pending{batch: &outputs.Batch{Events: evs}, fromDisk: true, pos: pos, n: len(recs)}, true
}

// settle marks p finished; it reports false when giveUp did already.
func (q *queue) settle(p *pending) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.inflight == p {
		q.inflight = nil
	}
	if p.settled {
		return false
	}
	p.settled = true
	return true
}

// accountLost counts records the disk buffer skipped because it found them
// corrupt while reading (the disk changed under it): they leave the queue
// as dropped, with reason buffer_corrupt.
func (q *queue) accountLost() {
	c := q.disk.Counters()
	q.mu.Lock()
	delta := c.Lost - q.seenLost
	q.seenLost = c.Lost
	q.mu.Unlock()
	if delta > 0 {
		q.stats.Queued.Add(-delta)
		q.stats.Dropped.Add("buffer_corrupt", uint64(delta))
		q.stats.BufferCorrupt.Add(1)
		q.log.Error().Int64("events", delta).Msg("disk buffer: corrupt records found while reading, the rest of their segment is lost")
	}
}

// done finishes p after it was delivered (or dead-lettered).
func (q *queue) done(p *pending) {
	if !q.settle(p) {
		return
	}
	q.stats.Queued.Add(-int64(p.n))
	if !p.fromDisk {
		for _, d := range p.deliveries {
			d.stored(q) // delivered: nothing left to keep
			d.release()
		}
		return
	}
	if err := q.disk.Ack(p.pos, p.n); err != nil {
		q.log.Error().Err(err).Msg("disk buffer ack failed: events may be delivered again after a restart")
	}
	q.stats.BufferedBytes.Store(q.disk.Counters().Bytes)
	q.mu.Lock()
	q.notFull.Broadcast()
	q.mu.Unlock()
}

// leave gives up delivering p at shutdown: events from the disk stay there
// for the next start; events from memory go to the disk when there is one,
// else they are dropped with reason "shutdown".
func (q *queue) leave(p *pending) {
	if !q.settle(p) || p.fromDisk {
		return
	}
	q.stats.Queued.Add(-int64(p.n))
	q.mu.Lock()
	safe := false
	if q.disk != nil {
		safe = q.spillAtShutdown(p.batch.Events)
	} else {
		q.stats.Dropped.Add("shutdown", uint64(p.n))
	}
	q.mu.Unlock()
	for _, d := range p.deliveries {
		if safe {
			d.stored(q)
		}
		d.release()
	}
}

// spillMemory moves what waits in memory to the disk buffer when there is
// one (at shutdown, once the reader stops); without one it stays for the
// drain or the deadline to account for.
func (q *queue) spillMemory() {
	q.mu.Lock()
	if q.disk == nil {
		q.mu.Unlock()
		return
	}
	left := q.items
	q.items = nil
	q.events = 0
	q.stats.MemoryBytes.Add(-q.bytes)
	q.bytes = 0
	safe := make([]bool, len(left))
	for i, d := range left {
		q.stats.Queued.Add(-int64(len(d.batch.Events)))
		safe[i] = q.spillAtShutdown(d.batch.Events)
	}
	q.mu.Unlock()
	for i, d := range left {
		if safe[i] {
			d.stored(q)
		}
		d.release()
	}
	q.notFull.Broadcast()
}

// durable reports whether events can be left to the disk buffer at
// shutdown instead of retried until the deadline.
func (q *queue) durable() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.disk != nil && q.closed
}

// empty reports whether nothing is waiting in memory or on disk.
func (q *queue) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) > 0 {
		return false
	}
	return q.disk == nil || q.disk.Unread() == 0
}

// retire takes the queue out of service for a reload: it accepts nothing
// more (pushes, including those blocked on a full queue, go to successor, or
// are dropped with reason "removed" when the output was removed), and its
// reader drains what it holds, then stops.
func (q *queue) retire(successor *queue) {
	q.mu.Lock()
	q.retired, q.closed, q.successor = true, true, successor
	q.mu.Unlock()
	q.notFull.Broadcast()
	q.signal()
}

// forwardLocked hands a push to the successor of a retired queue; called
// with q.mu held, which it releases.
func (q *queue) forwardLocked(d *delivery) {
	succ := q.successor
	q.mu.Unlock()
	d.handover(q, succ)
	if succ != nil {
		succ.push(d)
		return
	}
	q.stats.Dropped.Add("removed", uint64(len(d.batch.Events)))
	d.release()
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// giveUp abandons whatever is left in memory: to the disk buffer when there
// is one, else counted as dropped at shutdown.
func (q *queue) giveUp() {
	q.mu.Lock()
	if q.abandon {
		q.mu.Unlock()
		return
	}
	q.abandon = true
	close(q.gone)
	left := q.items
	q.items = nil
	q.events = 0
	q.stats.MemoryBytes.Add(-q.bytes)
	q.bytes = 0
	var hung []*delivery
	hungSafe := false
	// A batch whose Write hangs past the deadline: what came from memory
	// is spilled or counted dropped now; what came from disk stays there.
	if p := q.inflight; p != nil && !p.settled {
		p.settled = true
		q.inflight = nil
		if !p.fromDisk {
			q.stats.Queued.Add(-int64(p.n))
			if q.disk != nil {
				hungSafe = q.spillAtShutdown(p.batch.Events)
			} else {
				q.stats.Dropped.Add("shutdown", uint64(p.n))
			}
			hung = p.deliveries
		}
	}
	safe := make([]bool, len(left))
	for i, d := range left {
		n := len(d.batch.Events)
		q.stats.Queued.Add(-int64(n))
		if q.disk != nil {
			safe[i] = q.spillAtShutdown(d.batch.Events)
		} else {
			q.stats.Dropped.Add("shutdown", uint64(n))
		}
	}
	q.mu.Unlock()
	for i, d := range left {
		if safe[i] {
			d.stored(q)
		}
		d.release()
	}
	for _, d := range hung {
		if hungSafe {
			d.stored(q)
		}
		d.release()
	}
	q.signal()
	q.notFull.Broadcast()
}

// sleep waits d or until shutdown gives up or the queue closes with a disk
// buffer; it reports whether the caller should stop retrying.
func (q *queue) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-q.gone:
			return true
		case <-t.C:
			return q.durable()
		case <-tick.C:
			if q.durable() {
				return true
			}
		}
	}
}

// closeDisk syncs and closes the disk buffer once the reader is finished.
func (q *queue) closeDisk() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.disk == nil {
		return
	}
	if err := q.disk.Close(); err != nil {
		q.log.Error().Err(err).Msg("disk buffer close")
	}
}
