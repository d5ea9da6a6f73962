// Package pipeline runs the gateway's topology: inputs → normalizer workers
// → one bounded queue per output → outputs. It owns ordering of start-up and
// shutdown, back-pressure, retries, dead-lettering and acknowledgements; it
// knows nothing of any particular source or destination.
package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

// Options tune a pipeline.
type Options struct {
	Sensor          string
	Workers         int           // 0: GOMAXPROCS
	ShutdownTimeout time.Duration // drain deadline once Run's context is cancelled
	Log             zerolog.Logger
	DeadLetter      *DeadLetter // nil: failures are counted and logged only
}

// Input is a configured input ready to run.
type Input struct {
	Name   string
	Type   string
	Reader inputs.Input
	Stats  *stats.Input
	Log    zerolog.Logger
}

// Output is a configured output ready to run.
type Output struct {
	Name    string
	Type    string
	Writer  outputs.Output
	Encoder format.Encoder
	Buffer  outputs.Buffer
	Stats   *stats.Output
	Log     zerolog.Logger
}

// Pipeline connects inputs to outputs.
type Pipeline struct {
	opts     Options
	inputs   []*inputRunner
	outputs  []*outputRunner
	encoders []format.Encoder // distinct encoders the outputs use
	work     chan work
	idPrefix string
	idSeq    atomic.Uint64
	failLog  zerolog.Logger
}

type inputRunner struct {
	Input
	decoder inputs.Decoder // nil for inputs that emit events themselves
}

type outputRunner struct {
	Output
	q      *queue
	reopen atomic.Bool // set by Reopen, acted on by the output's goroutine
}

// work is what an input hands to the workers: raw messages or events.
type work struct {
	in     *inputRunner
	raw    *inputs.Batch
	events []*normalize.Event
	done   func()
}

// New builds a pipeline. Inputs that emit raw messages must implement
// inputs.Decoder.
func New(opts Options, ins []Input, outs []Output) (*Pipeline, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("event id nonce: %w", err)
	}
	p := &Pipeline{
		opts:     opts,
		work:     make(chan work, 4*opts.Workers),
		idPrefix: hex.EncodeToString(nonce[:]),
		failLog:  opts.Log.Sample(&zerolog.BurstSampler{Burst: 10, Period: time.Second}),
	}
	for _, in := range ins {
		r := &inputRunner{Input: in}
		r.decoder, _ = in.Reader.(inputs.Decoder)
		p.inputs = append(p.inputs, r)
	}
	for _, o := range outs {
		p.outputs = append(p.outputs, &outputRunner{Output: o, q: newQueue(o.Buffer.MaxEvents, o.Buffer.WhenFull, o.Stats)})
		if !containsEncoder(p.encoders, o.Encoder) {
			p.encoders = append(p.encoders, o.Encoder)
		}
	}
	return p, nil
}

func containsEncoder(list []format.Encoder, e format.Encoder) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

// Run runs until ctx is cancelled, then stops the inputs, drains the workers
// and the output queues, flushes and closes the outputs. It returns an error
// when the drain did not finish within the shutdown timeout (what was left
// is counted as dropped with reason "shutdown") or when an input failed.
func (p *Pipeline) Run(ctx context.Context) error {
	var outWG sync.WaitGroup
	for _, o := range p.outputs {
		outWG.Go(func() { p.runOutput(o) })
	}
	var workWG sync.WaitGroup
	for range p.opts.Workers {
		workWG.Go(p.runWorker)
	}

	inCtx, stopInputs := context.WithCancel(ctx)
	defer stopInputs()
	var inWG sync.WaitGroup
	inErrs := make(chan error, len(p.inputs))
	for _, in := range p.inputs {
		inWG.Go(func() {
			if err := in.Reader.Run(inCtx, &emitter{p: p, in: in}); err != nil {
				in.Log.Error().Err(err).Msg("input stopped")
				inErrs <- fmt.Errorf("input %s: %w", in.Name, err)
			}
		})
	}

	<-ctx.Done()
	p.opts.Log.Info().Dur("deadline", p.opts.ShutdownTimeout).Msg("stopping: draining inputs, workers and outputs")
	deadline := time.Now().Add(p.opts.ShutdownTimeout)

	drained := make(chan struct{})
	go func() {
		inWG.Wait()
		close(p.work)
		workWG.Wait()
		for _, o := range p.outputs {
			o.q.close()
		}
		outWG.Wait()
		close(drained)
	}()

	var err error
	select {
	case <-drained:
	case <-time.After(time.Until(deadline)):
		for _, o := range p.outputs {
			o.q.giveUp()
		}
		err = fmt.Errorf("shutdown deadline of %s passed before every output drained", p.opts.ShutdownTimeout)
		select {
		case <-drained:
		case <-time.After(time.Second):
		}
	}
	if p.opts.DeadLetter != nil {
		if cerr := p.opts.DeadLetter.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close dead-letter file: %w", cerr)
		}
	}
	close(inErrs)
	for e := range inErrs {
		err = errors.Join(err, e)
	}
	return err
}

// Reopen asks every output that writes files, and the dead-letter file, to
// reopen them (SIGHUP after logrotate). It is safe while running.
func (p *Pipeline) Reopen() {
	for _, o := range p.outputs {
		if _, ok := o.Writer.(outputs.Reopener); ok {
			o.reopen.Store(true)
			o.q.kick() // wake an idle output so it reopens now
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
		var evs []*normalize.Event
		if w.raw != nil {
			evs = p.normalize(w.in, w.raw)
			w.done = w.raw.Done
		} else {
			evs = w.events
			for _, e := range evs {
				p.complete(w.in, e, e.Received)
			}
			w.in.Stats.Normalized.Add(uint64(len(evs)))
		}
		p.fanOut(evs, w.done)
	}
}

// normalize decodes a raw batch. Events are allocated in one slab: they
// live and die together.
func (p *Pipeline) normalize(in *inputRunner, b *inputs.Batch) []*normalize.Event {
	slab := make([]normalize.Event, len(b.Msgs))
	evs := make([]*normalize.Event, 0, len(b.Msgs))
	for i, msg := range b.Msgs {
		e := &slab[i]
		if err := in.decoder.Decode(msg, e); err != nil {
			reason := normalize.ReasonMalformed
			var nerr *normalize.Error
			if errors.As(err, &nerr) {
				reason = nerr.Reason
			}
			p.fail(in, msg, reason, err)
			continue
		}
		p.complete(in, e, b.Received)
		evs = append(evs, e)
	}
	in.Stats.Normalized.Add(uint64(len(evs)))
	return evs
}

// complete fills what every event gets from the gateway rather than the
// source: id, received time, source names, Community ID.
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
	e.Source.Input = in.Name
	e.Source.Sensor = p.opts.Sensor
	if e.CommunityID == "" {
		e.CommunityID = normalize.CommunityID(e)
	}
	if e.Action == "" {
		e.Action = normalize.ActionUnknown
	}
}

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
	if p.opts.DeadLetter != nil {
		if werr := p.opts.DeadLetter.Write(in.Name, in.Type, reason, err, raw); werr != nil {
			p.failLog.Error().Err(werr).Msg("dead-letter write failed")
		}
	}
}

// fanOut encodes the batch once per format and queues it on every output.
func (p *Pipeline) fanOut(evs []*normalize.Event, done func()) {
	if len(evs) == 0 || len(p.outputs) == 0 {
		if done != nil {
			done()
		}
		return
	}
	b := &outputs.Batch{Events: evs}
	for _, enc := range p.encoders {
		b.Encode(enc)
	}
	d := &delivery{batch: b, refs: int32(len(p.outputs)), done: done}
	for _, o := range p.outputs {
		o.q.push(d)
	}
}

func (p *Pipeline) runOutput(o *outputRunner) {
	log := o.Log
	flusher, _ := o.Writer.(outputs.Flusher)
	for {
		d, open := o.q.pop()
		if !open {
			break
		}
		if d != nil {
			p.deliver(o, d)
		}
		if o.reopen.Swap(false) {
			if err := o.Writer.(outputs.Reopener).Reopen(); err != nil {
				log.Error().Err(err).Msg("reopen failed")
			}
		}
		if flusher != nil && d != nil && o.q.empty() {
			if err := flusher.Flush(); err != nil {
				log.Error().Err(err).Msg("flush failed")
			}
		}
	}
	if err := o.Writer.Close(); err != nil {
		log.Error().Err(err).Msg("close failed")
	}
}

// deliver writes one batch, retrying with capped exponential backoff until
// it goes through or shutdown gives up on it.
func (p *Pipeline) deliver(o *outputRunner, d *delivery) {
	defer d.release()
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := o.Writer.Write(context.Background(), d.batch)
		if err == nil {
			o.Stats.Written.Add(uint64(len(d.batch.Events)))
			return
		}
		o.Stats.Retried.Add(1)
		p.failLog.Error().Str("output", o.Name).Err(err).Int("attempt", attempt+1).Dur("retry_in", backoff).Msg("write failed, will retry")
		if o.q.abandoned(backoff) {
			o.Stats.Dropped.Add("shutdown", uint64(len(d.batch.Events)))
			return
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}
