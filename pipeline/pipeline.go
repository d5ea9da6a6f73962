// Package pipeline runs the gateway's topology: inputs → normalizer workers
// → one bounded queue per output → outputs. It owns ordering of start-up and
// shutdown, back-pressure, retries, dead-lettering and acknowledgements; it
// knows nothing of any particular source or destination.
package pipeline

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/eventid"
	"github.com/alertgw/alertgw/inputs/journal"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/stats"
)

// Options tune a pipeline.
type Options struct {
	Sensor          string
	Workers         int           // 0: GOMAXPROCS
	ShutdownTimeout time.Duration // drain deadline once Run's context is cancelled
	Log             zerolog.Logger
	DeadLetter      *DeadLetter // nil: failures are counted and logged only
	// Enricher, when set, adds GeoIP, network labels and sensor metadata to
	// every event after it is normalized and completed, before encoding.
	Enricher interface{ Enrich(*normalize.Event) }
	// MaxInflightBytes bounds the raw messages handed to the workers and
	// not yet queued on every output (pipeline.max_inflight_bytes); an
	// input that would pass it waits. 0: DefaultMaxInflightBytes.
	MaxInflightBytes int64
	// Takeover, when not nil, is closed once the process this one takes
	// over from (SIGUSR2 re-exec) has exited: until then every output
	// queues in memory and neither writes nor opens its disk buffer, which
	// the old process still holds.
	Takeover <-chan struct{}
	// Stages are the named reduction stages (aggregate, transactions)
	// that outputs read with Route.From.
	Stages []Stage
}

// DefaultMaxInflightBytes is pipeline.max_inflight_bytes by default.
const DefaultMaxInflightBytes = 64 << 20

// Input is a configured input ready to run.
type Input struct {
	Name   string
	Type   string
	Reader inputs.Input
	// Decoder normalizes the raw messages Reader emits (what the type's
	// inputs.Plugin.Decoder built); nil for inputs that emit events.
	Decoder inputs.Decoder
	Stats   *stats.Input
	Log     zerolog.Logger
	// Journal, when not nil, is the journal the input appends to (see
	// inputs/journal). What it holds from an earlier run is replayed
	// through the input's decoder before the input starts reading.
	Journal *journal.Journal
	// CommunityIDSeed is the seed of the Community IDs computed for this
	// input's events that have none (config community_id.seed).
	CommunityIDSeed uint16
}

// Output is a configured output ready to run.
type Output struct {
	Name    string
	Type    string
	Writer  outputs.Output
	Encoder format.Encoder
	Buffer  Buffer
	Batch   Batching // zero: the defaults
	Retry   Retry    // zero: the defaults
	Route   Route    // zero: every event of the event stream
	Stats   *stats.Output
	Log     zerolog.Logger
}

// Pipeline connects inputs to outputs. Inputs and outputs can be added,
// removed and replaced while it runs (live reload, reload.go).
type Pipeline struct {
	opts Options

	// topo is the set of outputs, swapped whole by reloads so that workers
	// read it without a lock; a queue taken out of it is retired, and
	// forwards late pushes to its successor (see queue.retire).
	topo atomic.Pointer[topology]
	// reloadMu serializes changes to inputs and the topology.
	reloadMu sync.Mutex
	inputs   []*inputRunner

	// Set while Run runs (under reloadMu), for inputs and outputs started
	// by a reload.
	running bool
	inCtx   context.Context
	inWG    sync.WaitGroup
	outWG   sync.WaitGroup
	inErrs  chan error

	work     chan work
	started  chan struct{} // closed once Run has started the inputs
	inflight budget        // raw bytes between the inputs and the queues
	idPrefix string
	idSeq    atomic.Uint64
	failLog  zerolog.Logger
}

// topology is the outputs events fan out to, the stages between, and who
// reads what: readers[""] take the event stream, readers[name] what the
// stage of that name emits.
type topology struct {
	outputs []*outputRunner
	stages  []*stage // named stages, fed the event stream
	readers map[string][]*outputRunner
}

func newTopology(outs []*outputRunner, stages []*stage) *topology {
	t := &topology{outputs: outs, stages: stages, readers: make(map[string][]*outputRunner)}
	for _, o := range outs {
		t.readers[o.Route.From] = append(t.readers[o.Route.From], o)
	}
	return t
}

// allStages returns the named stages and the outputs' own aggregations.
func (t *topology) allStages() []*stage {
	all := slices.Clone(t.stages)
	for _, o := range t.outputs {
		if o.agg != nil {
			all = append(all, o.agg)
		}
	}
	return all
}

type inputRunner struct {
	Input
	stop    context.CancelFunc
	stopped chan struct{} // closed when Run returned
}

type outputRunner struct {
	Output
	filter *query.Matcher // nil: every event of its stream
	agg    *stage         // the output's own aggregation, or nil
	q      *queue
	reopen atomic.Bool // set by Reopen, acted on by the output's goroutine
	// start, when not nil, is closed to let the runner begin writing: a
	// replacement waits until the output it replaces has closed.
	start    chan struct{}
	finished chan struct{} // closed when the runner closed the output
	closeErr error         // what Close returned; read once finished is closed
}

// work is what an input hands to the workers: raw messages or events.
type work struct {
	in      *inputRunner
	raw     *inputs.Batch
	events  []*normalize.Event
	done    func()
	durable func() // events: inputs.DurableEmitter
}

// New builds a pipeline. Inputs that emit raw messages need a Decoder.
func New(opts Options, ins []Input, outs []Output) (*Pipeline, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.MaxInflightBytes <= 0 {
		opts.MaxInflightBytes = DefaultMaxInflightBytes
	}
	var nonce [8]byte
	if _, err := crand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("event id nonce: %w", err)
	}
	p := &Pipeline{
		opts:     opts,
		work:     make(chan work, 4*opts.Workers),
		idPrefix: hex.EncodeToString(nonce[:]),
		started:  make(chan struct{}),
		failLog:  opts.Log.Sample(&zerolog.BurstSampler{Burst: 10, Period: time.Second}),
	}
	p.inflight.init(opts.MaxInflightBytes)
	for _, in := range ins {
		p.inputs = append(p.inputs, newInputRunner(in))
	}
	var runners []*outputRunner
	for _, o := range outs {
		r, err := newOutputRunnerAfter(o, opts.Takeover)
		if err != nil {
			for _, r := range runners {
				r.q.closeDisk()
			}
			return nil, err
		}
		runners = append(runners, r)
	}
	var stages []*stage
	for _, sc := range opts.Stages {
		s, err := newStage(sc)
		if err != nil {
			for _, r := range runners {
				r.q.closeDisk()
			}
			return nil, err
		}
		stages = append(stages, s)
	}
	p.topo.Store(newTopology(runners, stages))
	return p, nil
}

func newInputRunner(in Input) *inputRunner {
	return &inputRunner{Input: in, stopped: make(chan struct{})}
}

func newOutputRunner(o Output) (*outputRunner, error) {
	def := DefaultDelivery()
	if o.Batch.MaxEvents <= 0 {
		o.Batch.MaxEvents = def.Batch.MaxEvents
	}
	if o.Retry.Initial <= 0 {
		o.Retry.Initial = def.Retry.Initial
	}
	if o.Retry.Max < o.Retry.Initial {
		o.Retry.Max = max(def.Retry.Max, o.Retry.Initial)
	}
	r := &outputRunner{Output: o, finished: make(chan struct{})}
	if err := compileRoute(r); err != nil {
		return nil, err
	}
	q, err := newQueue(o.Buffer, o.Stats, o.Log)
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", o.Name, err)
	}
	q.enc = o.Encoder
	r.q = q
	o.Stats.Capacity.Store(int64(o.Buffer.MaxEvents))
	if o.Buffer.Path != "" {
		o.Stats.BufferLimit.Store(int64(o.Buffer.MaxBytes))
	}
	return r, nil
}

// Run runs until ctx is cancelled, then stops the inputs, drains the workers
// and the output queues, flushes and closes the outputs. It returns an error
// when the drain did not finish within the shutdown timeout (what was left
// is counted as dropped with reason "shutdown") or when an input failed.
func (p *Pipeline) Run(ctx context.Context) error {
	for _, o := range p.topo.Load().outputs {
		p.startOutput(o)
	}
	p.startStages(p.topo.Load())
	var workWG sync.WaitGroup
	for range p.opts.Workers {
		workWG.Go(p.runWorker)
	}

	inCtx, stopInputs := context.WithCancel(ctx)
	defer stopInputs()
	p.reloadMu.Lock()
	p.running, p.inCtx = true, inCtx
	p.inErrs = make(chan error, 64)
	for _, in := range p.inputs {
		p.startInput(in)
	}
	p.reloadMu.Unlock()
	close(p.started)

	// The dead-letter file is buffered; flush it every second so that it
	// can be watched (tail -f) while the gateway runs.
	if dl := p.opts.DeadLetter; dl != nil {
		flushCtx, stopFlush := context.WithCancel(context.Background())
		defer stopFlush()
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-flushCtx.Done():
					return
				case <-t.C:
					if err := dl.Flush(); err != nil {
						p.failLog.Error().Err(err).Msg("dead-letter flush failed")
					}
				}
			}
		}()
	}

	<-ctx.Done()
	p.reloadMu.Lock()
	p.running = false // reloads from now on are refused
	p.reloadMu.Unlock()
	p.opts.Log.Info().Dur("deadline", p.opts.ShutdownTimeout).Msg("stopping: draining inputs, workers and outputs")
	deadline := time.Now().Add(p.opts.ShutdownTimeout)

	drained := make(chan struct{})
	go func() {
		p.inWG.Wait()
		close(p.work)
		workWG.Wait()
		// What the stages still hold goes to the queues before they close.
		p.flushStages(p.topo.Load().allStages())
		for _, o := range p.topo.Load().outputs {
			o.q.close()
		}
		p.outWG.Wait()
		close(drained)
	}()

	var err error
	select {
	case <-drained:
	case <-time.After(time.Until(deadline)):
		for _, o := range p.topo.Load().outputs {
			o.q.giveUp()
		}
		err = fmt.Errorf("shutdown deadline of %s passed before every output drained", p.opts.ShutdownTimeout)
		select {
		case <-drained:
		case <-time.After(time.Second):
		}
	}
	for _, o := range p.topo.Load().outputs {
		select {
		case <-o.finished:
			if o.closeErr != nil {
				err = errors.Join(err, fmt.Errorf("output %s: close: %w", o.Name, o.closeErr))
			}
		default:
		}
	}
	if p.opts.DeadLetter != nil {
		if cerr := p.opts.DeadLetter.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close dead-letter file: %w", cerr))
		}
	}
	close(p.inErrs)
	for e := range p.inErrs {
		err = errors.Join(err, e)
	}
	return err
}

// startInput runs one input until its own or the pipeline's context ends.
// Called with reloadMu held.
func (p *Pipeline) startInput(in *inputRunner) {
	ctx, cancel := context.WithCancel(p.inCtx)
	in.stop = cancel
	p.inWG.Go(func() {
		defer close(in.stopped)
		p.replayJournal(in)
		in.Stats.Up.Store(true)
		defer in.Stats.Up.Store(false)
		err := in.Reader.Run(ctx, &emitter{p: p, in: in})
		if cerr := in.Reader.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close: %w", cerr))
		}
		if err != nil {
			in.Log.Error().Err(err).Msg("input stopped")
			select {
			case p.inErrs <- fmt.Errorf("input %s: %w", in.Name, err):
			default:
			}
		}
	})
}

// Started is closed once Run has started the inputs reading.
func (p *Pipeline) Started() <-chan struct{} { return p.started }

// ReplayJournals replays the journals of the running inputs that were
// opened after the inputs started (a takeover: see Options.Takeover).
func (p *Pipeline) ReplayJournals() {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	if !p.running {
		return
	}
	for _, in := range p.inputs {
		p.inWG.Go(func() { p.replayJournal(in) })
	}
}

// replayJournal hands what the input's journal kept from an earlier run
// (read, but not yet in every disk buffer when the gateway stopped) to the
// workers, as if it had just been read. It runs once per journal.
func (p *Pipeline) replayJournal(in *inputRunner) {
	j := in.Journal
	if j == nil || in.Decoder == nil {
		return
	}
	entries, msgs := j.Pending()
	if entries == 0 {
		return
	}
	in.Log.Info().Int("messages", msgs).Int("batches", entries).
		Msg("journal: replaying messages read in the last run but not yet in every disk buffer")
	err := j.Replay(func(m [][]byte, seq uint64, o eventid.Origin) {
		size := 0
		for _, b := range m {
			size += len(b)
		}
		in.Stats.Received.Add(uint64(len(m)))
		in.Stats.Bytes.Add(uint64(size))
		in.Stats.Replayed.Add(uint64(len(m)))
		p.inflight.acquire(int64(size))
		p.work <- work{in: in, raw: &inputs.Batch{Msgs: m, Received: time.Now(), Durable: j.AckFunc(seq),
			Origins: []eventid.Run{{N: len(m), Origin: o}}}} // the ids they had when first read
	})
	if err != nil {
		in.Log.Error().Err(err).Msg("journal replay stopped early: the rest stays in the journal")
	}
}

// startOutput runs one output's delivery loop.
func (p *Pipeline) startOutput(o *outputRunner) {
	p.outWG.Go(func() {
		defer close(o.finished)
		if o.start != nil {
			<-o.start
		}
		p.runOutput(o)
	})
}

// Reopen asks every output that writes files, and the dead-letter file, to
// reopen them (SIGHUP after logrotate), and every input that reads files
// besides its source (signature maps) to read them again. It is safe while
// running.
func (p *Pipeline) Reopen() {
	p.reloadMu.Lock()
	for _, in := range p.inputs {
		if r, ok := in.Reader.(inputs.Reopener); ok {
			if err := r.Reopen(); err != nil {
				in.Log.Error().Err(err).Msg("reopen failed (what was loaded before stays in use)")
			}
		}
	}
	p.reloadMu.Unlock()
	for _, o := range p.topo.Load().outputs {
		if _, ok := o.Writer.(outputs.Reopener); ok {
			o.reopen.Store(true)
			o.q.signal() // wake an idle output so it reopens now
		}
	}
	if p.opts.DeadLetter != nil {
		if err := p.opts.DeadLetter.Reopen(); err != nil {
			p.opts.Log.Error().Err(err).Msg("reopen dead-letter file")
		}
	}
}

func (p *Pipeline) runWorker() {
	for w := range p.work {
		p.process(w)
	}
}

// process normalizes what an input handed on and queues the events on the
// outputs: a worker's job, or the input's own on the direct path
// (emitter.TryMessages).
func (p *Pipeline) process(w work) {
	var evs []*normalize.Event
	var durable func()
	rawBytes := 0
	if w.raw != nil {
		rawBytes = batchBytes(w.raw)
		var failed int
		evs, failed = p.normalize(w.in, w.raw)
		w.done, durable = w.raw.Done, w.raw.Durable
		if failed > 0 && durable != nil && p.opts.DeadLetter != nil {
			// The journal forgets these messages once the outputs
			// have the batch: their dead-letter records must be
			// with the kernel by then too.
			p.opts.DeadLetter.Flush()
		}
	} else {
		evs, durable = w.events, w.durable
		for _, e := range evs {
			p.complete(w.in, e, e.Received)
		}
		w.in.Stats.Normalized.Add(uint64(len(evs)))
	}
	if en := p.opts.Enricher; en != nil {
		for _, e := range evs {
			en.Enrich(e)
		}
	}
	p.fanOut(evs, rawBytes, w.done, durable)
	p.inflight.release(int64(rawBytes))
}

// batchBytes is the size of a batch's raw messages.
func batchBytes(b *inputs.Batch) int {
	n := 0
	for _, m := range b.Msgs {
		n += len(m)
	}
	return n
}

// normalize decodes a raw batch. Events are allocated in one slab: they
// live and die together.
func (p *Pipeline) normalize(in *inputRunner, b *inputs.Batch) (evs []*normalize.Event, failed int) {
	slab := make([]normalize.Event, len(b.Msgs))
	evs = make([]*normalize.Event, 0, len(b.Msgs))
	ids := eventid.NewIDs(b.Origins)
	for i, msg := range b.Msgs {
		e := &slab[i]
		id := ids.Next()
		if err := in.Decoder.Decode(msg, e); err != nil {
			reason := normalize.ReasonMalformed
			var nerr *normalize.Error
			if errors.As(err, &nerr) {
				reason = nerr.Reason
			}
			p.fail(in, msg, reason, err)
			failed++
			continue
		}
		if e.ID == "" { // an id the message carries (from another gateway) stays
			e.ID = id
		}
		p.complete(in, e, b.Received)
		evs = append(evs, e)
	}
	in.Stats.Normalized.Add(uint64(len(evs)))
	return evs, failed
}

// complete fills what every event gets from the gateway rather than the
// source: id, received time, source names, Community ID. What the event
// already has is kept: events forwarded by another gateway (inputs forward
// and kafka) arrive with their id, times and source names.
func (p *Pipeline) complete(in *inputRunner, e *normalize.Event, received time.Time) {
	if e.ID == "" {
		e.ID = p.nextID()
	}
	if e.Received.IsZero() {
		e.Received = received.UTC()
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = e.Received
	}
	if e.Source.Type == "" {
		e.Source.Type = in.Type
	}
	if e.Source.Input == "" {
		e.Source.Input = in.Name
	}
	if e.Source.Sensor == "" {
		e.Source.Sensor = p.opts.Sensor
	}
	if e.CommunityID == "" {
		e.CommunityID = normalize.CommunityIDSeed(e, in.CommunityIDSeed)
	}
	if e.Action == "" {
		e.Action = normalize.ActionUnknown
	}
}

// OriginError is the error of a message that an earlier run dead-lettered
// and `alertgw replay --type deadletter` failed again: it is dead-lettered
// under the input and type that first failed it, so that it can be
// replayed once more after the next fix.
type OriginError struct {
	Input, Type string
	Err         error
}

func (e *OriginError) Error() string { return e.Err.Error() }
func (e *OriginError) Unwrap() error { return e.Err }

// nextID returns a process-unique event id: a random per-process prefix and
// a counter, 32 hex digits.
func (p *Pipeline) nextID() string {
	var b [32]byte
	copy(b[:16], p.idPrefix)
	n := p.idSeq.Add(1)
	s := strconv.AppendUint(b[16:16], n, 16)
	pad := 16 - len(s)
	copy(b[16+pad:], s)
	for i := 16; i < 16+pad; i++ {
		b[i] = '0'
	}
	return string(b[:])
}

func (p *Pipeline) fail(in *inputRunner, raw []byte, reason string, err error) {
	in.Stats.Failed.Add(reason, 1)
	p.failLog.Warn().Str("input", in.Name).Str("reason", reason).Err(err).Int("size", len(raw)).Msg("message dead-lettered")
	name, typ := in.Name, in.Type
	var origin *OriginError
	if errors.As(err, &origin) { // a dead-letter record replayed, failing again
		name, typ = origin.Input, origin.Type
	}
	if p.opts.DeadLetter != nil {
		if werr := p.opts.DeadLetter.Write(name, typ, reason, err, raw); werr != nil {
			p.failLog.Error().Err(werr).Msg("dead-letter write failed")
		}
	}
}

// memorySize is what a batch holds in memory while it waits in a queue,
// for buffer.max_memory_bytes: its encodings and the raw messages its
// events were decoded from (they keep sub-slices of them).
func memorySize(b *outputs.Batch, rawBytes int) int64 {
	n := int64(rawBytes)
	b.EachEncoding(func(l *outputs.Lines) { n += int64(len(l.Data)) })
	return n
}

func (p *Pipeline) runOutput(o *outputRunner) {
	log := o.Log
	flusher, _ := o.Writer.(outputs.Flusher)
	for {
		pd, open := o.q.next(o.Batch.MaxEvents, o.Batch.Linger)
		if !open {
			break
		}
		if pd != nil && !p.deliver(o, pd) {
			// Shutdown left the batch undelivered. Acknowledgements in the
			// disk buffer are positions: delivering anything after it now
			// would acknowledge it too. Leave the rest for the next start.
			o.q.spillMemory()
			break
		}
		if o.reopen.Swap(false) {
			if err := o.Writer.(outputs.Reopener).Reopen(); err != nil {
				log.Error().Err(err).Msg("reopen failed")
			}
		}
		if flusher != nil && pd != nil && o.q.empty() {
			if err := flusher.Flush(); err != nil {
				log.Error().Err(err).Msg("flush failed")
				o.Stats.WriteFailed(time.Now(), fmt.Errorf("flush: %w", err)) // health tells the truth
			}
		}
	}
	if err := o.Writer.Close(); err != nil {
		// A failed final flush: what it held was not acknowledged, so it
		// is still in the disk buffer (or was counted dropped).
		o.closeErr = err
		ev := log.Error().Err(err)
		if o.q.disk != nil {
			ev = ev.Int64("left_in_buffer", o.Stats.Queued.Load())
		}
		ev.Msg("close failed: the output's last events may not have reached it (they stay in the disk buffer, if any)")
	}
	o.q.closeDisk()
}

// deliver writes one batch until every event in it is delivered or
// dead-lettered: transient failures are retried with capped exponential
// backoff and jitter; permanent ones (the destination says the event is
// invalid) go to the dead-letter file with the destination's reason. At
// shutdown, what is still undelivered stays in (or goes to) the disk buffer,
// or is counted as dropped when there is none; deliver then returns false.
func (p *Pipeline) deliver(o *outputRunner, pd *pending) bool {
	batch := pd.batch
	backoff := o.Retry.Initial
	for attempt := 1; ; attempt++ {
		err := o.Writer.Write(context.Background(), batch)
		if err == nil {
			o.Stats.WriteSucceeded(time.Now())
			p.sent(o, batch.Events)
			o.q.done(pd)
			return true
		}
		var partial *outputs.PartialError
		switch {
		case errors.As(err, &partial):
			batch = p.settlePartial(o, batch, partial)
			if len(batch.Events) == 0 {
				o.q.done(pd)
				return true
			}
		case outputs.IsPermanent(err):
			for _, e := range batch.Events {
				p.deadLetter(o, e, "rejected", err)
			}
			o.q.done(pd)
			return true
		}
		o.Stats.WriteFailed(time.Now(), err)
		o.Stats.Retried.Add(1)
		wait := jitter(backoff)
		p.failLog.Error().Str("output", o.Name).Err(err).Int("attempt", attempt).Int("events", len(batch.Events)).Dur("retry_in", wait).Msg("write failed, will retry")
		if o.q.sleep(wait) {
			if pd.fromDisk || o.q.disk != nil {
				p.opts.Log.Info().Str("output", o.Name).Int("events", len(batch.Events)).Msg("shutdown: undelivered events left in the disk buffer")
			}
			// What was delivered of a partial batch is sent again from the
			// disk buffer at the next start: at least once.
			pd.batch = batch
			o.q.leave(pd)
			return false
		}
		backoff = min(backoff*2, o.Retry.Max)
	}
}

// settlePartial counts what a partial failure delivered, dead-letters the
// permanent failures and returns the batch of events to retry.
func (p *Pipeline) settlePartial(o *outputRunner, b *outputs.Batch, pe *outputs.PartialError) *outputs.Batch {
	failed := make(map[int]bool, len(pe.Failed))
	var retry []int
	for _, f := range pe.Failed {
		if f.Index < 0 || f.Index >= len(b.Events) || failed[f.Index] {
			continue
		}
		failed[f.Index] = true
		if f.Permanent {
			var cause error = pe
			if f.Detail != "" {
				cause = errors.New(f.Detail)
			}
			p.deadLetter(o, b.Events[f.Index], f.Reason, cause)
		} else {
			retry = append(retry, f.Index)
		}
	}
	var ok []*normalize.Event
	for i, e := range b.Events {
		if !failed[i] {
			ok = append(ok, e)
		}
	}
	p.sent(o, ok)
	slices.Sort(retry)
	return b.Subset(retry)
}

func (p *Pipeline) sent(o *outputRunner, evs []*normalize.Event) {
	o.Stats.Written.Add(uint64(len(evs)))
	now := time.Now()
	for _, e := range evs {
		o.Stats.ObserveLatency(now.Sub(e.Received).Nanoseconds())
	}
}

// deadLetter records one event the destination refused for good.
func (p *Pipeline) deadLetter(o *outputRunner, e *normalize.Event, reason string, cause error) {
	if reason == "" {
		reason = "rejected"
	}
	label := reason
	if len(label) > 64 { // counters are labelled by a short reason
		label = "rejected"
	}
	o.Stats.Failed.Add(label, 1)
	p.failLog.Warn().Str("output", o.Name).Str("id", e.ID).Str("reason", reason).Msg("event rejected by the destination, dead-lettered")
	if p.opts.DeadLetter != nil {
		ev := format.Native{}.AppendEvent(nil, e)
		if err := p.opts.DeadLetter.WriteEvent(o.Name, o.Type, reason, cause, ev); err != nil {
			p.failLog.Error().Err(err).Msg("dead-letter write failed")
		}
	}
}

// jitter spreads a backoff over [d/2, d], so that gateways that failed
// together do not retry together.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// budget bounds bytes in flight: acquire waits while what is held and what
// is asked for pass max (a request larger than max still goes through
// alone, so that one big batch never wedges it).
type budget struct {
	mu   sync.Mutex
	cond sync.Cond
	held int64
	max  int64
}

func (b *budget) init(max int64) {
	b.max = max
	b.cond.L = &b.mu
}

func (b *budget) acquire(n int64) {
	b.mu.Lock()
	for b.held > 0 && b.held+n > b.max {
		b.cond.Wait()
	}
	b.held += n
	b.mu.Unlock()
}

// tryAcquire takes n when that needs no wait, and reports whether it did.
func (b *budget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held > 0 && b.held+n > b.max {
		return false
	}
	b.held += n
	return true
}

func (b *budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.held -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}
