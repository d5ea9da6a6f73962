// Package stats holds the pipeline's counters: plain atomics that the hot
// path bumps without locks, and reason-labelled sets for failures and drops.
// Exporters (the status command, Prometheus, periodic stats events) read
// them through Snapshot.
package stats

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Reasons counts events by a short reason ("parse_error", "truncated",
// "queue_full", …). Reasons are few and fixed per code path, so the lock is
// taken only the first time a reason is seen.
type Reasons struct {
	mu sync.RWMutex
	m  map[string]*atomic.Uint64
}

// Add adds n to reason's counter.
func (r *Reasons) Add(reason string, n uint64) {
	r.counter(reason).Add(n)
}

func (r *Reasons) counter(reason string) *atomic.Uint64 {
	r.mu.RLock()
	c := r.m[reason]
	r.mu.RUnlock()
	if c != nil {
		return c
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]*atomic.Uint64)
	}
	if c = r.m[reason]; c == nil {
		c = new(atomic.Uint64)
		r.m[reason] = c
	}
	return c
}

// Get returns reason's count.
func (r *Reasons) Get(reason string) uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if c := r.m[reason]; c != nil {
		return c.Load()
	}
	return 0
}

// Total is the sum over all reasons.
func (r *Reasons) Total() uint64 {
	var t uint64
	for _, v := range r.Snapshot() {
		t += v
	}
	return t
}

// Snapshot copies the current counts.
func (r *Reasons) Snapshot() map[string]uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]uint64, len(r.m))
	for k, c := range r.m {
		out[k] = c.Load()
	}
	return out
}

// Input counts what one input saw. Every message an input accounts for
// ends in exactly one of Normalized, Merged, Failed and Dropped, so that
//
//	Received = Normalized + Merged + Failed.Total() + Dropped.Total()
//
// holds whenever nothing is in flight (Merged is 0 for inputs that make one
// event per message: received = normalized + failed + dropped).
type Input struct {
	Name string
	Type string
	// Received counts the messages read from the source, and those the
	// source or the kernel reports lost on their way (sequence gaps,
	// overruns), which are also counted in Dropped.
	Received atomic.Uint64
	Bytes    atomic.Uint64 // bytes read from the source
	// Normalized counts the events produced: one per message, or per
	// group of messages for inputs that assemble events (Merged).
	Normalized atomic.Uint64
	// Merged counts messages folded into an event another message started
	// (unified2 packet and extra-data records attached to their event,
	// auditd records after an event's first, and its EOE).
	Merged  atomic.Uint64
	Failed  Reasons     // messages that could not be normalized (dead-lettered)
	Dropped Reasons     // messages lost before normalization (truncated, ENOBUFS, empty, …)
	Up      atomic.Bool // the input is running (its sockets are bound)

	// Stream sockets: connections open now, and those the gateway closed
	// itself, by reason (idle_timeout, evicted, refused, peer_rejected).
	// Connections are not messages: they take no part in the identity
	// received = normalized + failed + dropped.
	Connections       atomic.Int64
	ConnectionsClosed Reasons

	// Replayed counts messages read back from the input's journal at start
	// (they count as received too: the identity holds over one run).
	Replayed atomic.Uint64
	// JournalErrors counts batches that could not be appended to the
	// journal (they went on unjournaled: a crash before the disk buffers
	// have them would lose them).
	JournalErrors atomic.Uint64
	LastEvent     atomic.Int64 // unix nanoseconds of the last message or event handed to the pipeline; 0: none yet

	problem atomic.Pointer[string]       // set by the input: why it cannot do its job now
	check   atomic.Pointer[func() error] // asked at status time: is the input still reachable?

	extra extras // the input's own metrics (SetExtra)
}

// SetProblem records why the input cannot do its job now (a bookmark it
// cannot write, say), which makes the gateway not ready; "" clears it.
func (in *Input) SetProblem(reason string) {
	if reason == "" {
		in.problem.Store(nil)
		return
	}
	in.problem.Store(&reason)
}

// SetCheck installs a check that status and readiness run each time they
// are asked: an input whose socket file was removed is running but
// unreachable, and only a look at the file tells.
func (in *Input) SetCheck(fn func() error) { in.check.Store(&fn) }

// Problem returns why the input is not ready ("" when it is): its check's
// error, or the problem it set.
func (in *Input) Problem() string {
	if fn := in.check.Load(); fn != nil {
		if err := (*fn)(); err != nil {
			return err.Error()
		}
	}
	if p := in.problem.Load(); p != nil {
		return *p
	}
	return ""
}

// Output counts what one output did.
type Output struct {
	Name    string
	Type    string
	Queued  atomic.Int64  // events accepted and not yet delivered (memory and disk buffer)
	Written atomic.Uint64 // events delivered ("sent")
	Retried atomic.Uint64 // delivery attempts repeated
	Failed  Reasons       // events rejected for good (dead-lettered), by reason
	Dropped Reasons       // events dropped by an explicit policy, by reason
	// Filtered counts events the output's filter left out: routed
	// elsewhere by choice, not lost.
	Filtered atomic.Uint64

	BufferedBytes atomic.Int64  // size of the disk buffer's files
	MemoryBytes   atomic.Int64  // bytes the memory queue holds (encoded events and their raw messages)
	Spilled       atomic.Uint64 // events written to the disk buffer
	Replayed      atomic.Uint64 // events found in the disk buffer at start
	BufferCorrupt atomic.Uint64 // torn or corrupt disk buffer tails cut off

	// Delivery latency, from the gateway receiving an event to the
	// destination taking it.
	LatencyCount atomic.Uint64
	LatencySumNs atomic.Uint64
	LatencyMaxNs atomic.Uint64

	Capacity    atomic.Int64 // buffer.max_events
	BufferLimit atomic.Int64 // buffer.max_bytes of the disk buffer; 0 without one
	Failing     atomic.Bool  // the last delivery attempt failed
	// Spilling is set while a memory queue overflows to its disk buffer
	// (or replays what an earlier run left there): the output keeps up
	// only thanks to the disk.
	Spilling  atomic.Bool
	LastWrite atomic.Int64 // unix nanoseconds of the last successful delivery; 0: none yet

	failingSince atomic.Int64           // unix nanoseconds of the first failure in a row; 0: not failing
	lastError    atomic.Pointer[string] // the last delivery error

	// Paused is set, with the reason, by an output that holds its events
	// back for a reason of its own (the store on a full disk): it is not
	// ready while paused, however empty its queue.
	Paused atomic.Pointer[string]
	// Figures are an output type's own numbers (the store's partitions
	// and bytes on disk …), exported with the output's metrics.
	Figures Figures
}

// WriteFailed records a failed delivery attempt at now.
func (o *Output) WriteFailed(now time.Time, err error) {
	msg := err.Error()
	o.lastError.Store(&msg)
	o.failingSince.CompareAndSwap(0, now.UnixNano())
	o.Failing.Store(true)
}

// WriteSucceeded records a successful delivery at now.
func (o *Output) WriteSucceeded(now time.Time) {
	o.Failing.Store(false)
	o.failingSince.Store(0)
	o.LastWrite.Store(now.UnixNano())
}

// FailingFor returns how long the output has failed every attempt (0 when
// it is not failing) and the last error.
func (o *Output) FailingFor(now time.Time) (time.Duration, string) {
	since := o.failingSince.Load()
	if since == 0 || !o.Failing.Load() {
		return 0, ""
	}
	msg := ""
	if p := o.lastError.Load(); p != nil {
		msg = *p
	}
	return max(now.Sub(time.Unix(0, since)), 0), msg
}

// Figures are named numbers an output sets or adds to.
type Figures struct {
	mu sync.Mutex
	m  map[string]int64
}

// Set sets name to v.
func (f *Figures) Set(name string, v int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]int64{}
	}
	f.m[name] = v
}

// Add adds v to name.
func (f *Figures) Add(name string, v int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]int64{}
	}
	f.m[name] += v
}

// Snapshot copies the figures.
func (f *Figures) Snapshot() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.m)
}

// Pause marks the output paused for reason; Resume clears it.
func (o *Output) Pause(reason string) { o.Paused.Store(&reason) }

// Resume clears a pause.
func (o *Output) Resume() { o.Paused.Store(nil) }

// PausedFor returns the pause's reason, "" when not paused.
func (o *Output) PausedFor() string {
	if r := o.Paused.Load(); r != nil {
		return *r
	}
	return ""
}

// ObserveLatency records the delivery latency of one event.
func (o *Output) ObserveLatency(ns int64) {
	if ns < 0 {
		ns = 0
	}
	o.LatencyCount.Add(1)
	o.LatencySumNs.Add(uint64(ns))
	for {
		cur := o.LatencyMaxNs.Load()
		if uint64(ns) <= cur || o.LatencyMaxNs.CompareAndSwap(cur, uint64(ns)) {
			return
		}
	}
}

// Ready reports whether the output is delivering, or buffering within its
// limits while its destination fails (and is not paused): its disk buffer below max_bytes, or,
// without one, its memory queue below max_events.
func (o *Output) Ready() bool {
	if o.Paused.Load() != nil {
		return false
	}
	return !o.Failing.Load() || !o.bufferFull()
}

// bufferFull reports whether the output's buffer is at its limit: its disk
// buffer at max_bytes, or, without one, its memory queue at max_events.
func (o *Output) bufferFull() bool {
	if limit := o.BufferLimit.Load(); limit > 0 {
		return o.BufferedBytes.Load() >= limit
	}
	return o.Queued.Load() >= o.Capacity.Load()
}

// DeadLetter counts what the dead-letter file did.
type DeadLetter struct {
	Written atomic.Uint64 // records written to the file (handed to the kernel)
	// Dropped counts records that could not be written and were given up,
	// by reason: deadletter_unwritable (the file stayed unwritable while
	// more than the pending limit waited, or at shutdown).
	Dropped Reasons
	Pending atomic.Int64 // records waiting in memory to be written
	Failing atomic.Bool  // the last write or open failed
}

// Registry holds every input's and output's counters.
type Registry struct {
	mu         sync.Mutex
	inputs     map[string]*Input
	outputs    map[string]*Output
	stages     map[string]*Stage
	deadLetter DeadLetter
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{inputs: map[string]*Input{}, outputs: map[string]*Output{}}
}

// DeadLetter returns the dead-letter file's counters.
func (r *Registry) DeadLetter() *DeadLetter { return &r.deadLetter }

// Input returns the counters of the named input, creating them once. A
// reloaded input keeps its counters.
func (r *Registry) Input(name, typ string) *Input {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.inputs[name]
	if s == nil {
		s = &Input{Name: name, Type: typ}
		r.inputs[name] = s
	}
	return s
}

// Output returns the counters of the named output, creating them once.
func (r *Registry) Output(name, typ string) *Output {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.outputs[name]
	if s == nil {
		s = &Output{Name: name, Type: typ}
		r.outputs[name] = s
	}
	return s
}

// RemoveInput forgets an input a reload removed, so that it no longer shows
// in status, readiness or metrics.
func (r *Registry) RemoveInput(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.inputs, name)
}

// RemoveOutput forgets an output a reload removed.
func (r *Registry) RemoveOutput(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.outputs, name)
}

// Inputs returns the inputs' counters sorted by name.
func (r *Registry) Inputs() []*Input {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := slices.Sorted(maps.Keys(r.inputs))
	out := make([]*Input, len(keys))
	for i, k := range keys {
		out[i] = r.inputs[k]
	}
	return out
}

// Outputs returns the outputs' counters sorted by name.
func (r *Registry) Outputs() []*Output {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := slices.Sorted(maps.Keys(r.outputs))
	out := make([]*Output, len(keys))
	for i, k := range keys {
		out[i] = r.outputs[k]
	}
	return out
}
