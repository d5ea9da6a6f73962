// Package outputs defines what an output is, the options every output
// shares, and the batch an output receives. Each writer lives in its own
// sub-package (outputs/file, …) and is registered in cmd/alertgw/plugins.go.
package outputs

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

// Plugin describes one output type.
type Plugin struct {
	Type    string
	Summary string
	// Options returns a pointer to the type's own options, defaults set.
	Options func() any
	// New builds the output. It may open files or connections.
	New func(env Env, opts any) (Output, error)
	// EncodesItself is set by outputs that ignore the block's format and
	// encode events their own way (forward sends the binary event codec):
	// the pipeline then encodes nothing for them and Env.Encoder is nil.
	EncodesItself bool
}

// Env is what the gateway gives every output.
type Env struct {
	Name    string
	Sensor  string
	Log     zerolog.Logger
	Stats   *stats.Output
	Encoder format.Encoder // from the block's "format"
}

// Output delivers batches to one destination. Write and Flush are called
// from the output's own goroutine only, one at a time.
type Output interface {
	// Write delivers a batch. An error means none or only part of it was
	// delivered; the pipeline retries the batch with backoff.
	Write(ctx context.Context, b *Batch) error
	// Close flushes and releases the output; it is called once, last.
	Close() error
}

// Flusher is implemented by outputs that buffer: Flush is called when the
// queue runs empty and before Close.
type Flusher interface {
	Flush() error
}

// Reopener is implemented by outputs that write files: Reopen is called on
// SIGHUP, after logrotate moved the file away.
type Reopener interface {
	Reopen() error
}

// Common holds the options every output block has besides its own.
type Common struct {
	Format string   `mapstructure:"format"`
	Buffer Buffer   `mapstructure:"buffer"`
	Batch  Batching `mapstructure:"batch"`
	Retry  Retry    `mapstructure:"retry"`
}

// Buffer is an output's queue: memory, spilling to a disk buffer in Path
// when one is given, or disk only (every event written ahead to disk).
// See docs/outputs/delivery.md.
type Buffer struct {
	Type         string        `mapstructure:"type"`          // memory | disk
	MaxEvents    int           `mapstructure:"max_events"`    // events held in memory before spilling or when_full
	MaxBytes     config.Size   `mapstructure:"max_bytes"`     // bound on the disk buffer's files
	Path         string        `mapstructure:"path"`          // disk buffer directory, one per output
	WhenFull     string        `mapstructure:"when_full"`     // block | drop_newest | drop_oldest
	Sync         string        `mapstructure:"sync"`          // disk: always | interval | never
	SyncInterval time.Duration `mapstructure:"sync_interval"` // disk, sync: interval
}

// Batching groups queued events into one Write.
type Batching struct {
	MaxEvents int           `mapstructure:"max_events"` // events per Write at most
	Linger    time.Duration `mapstructure:"linger"`     // wait this long for a batch to fill; 0: send what is queued
}

// Retry is the backoff between attempts of a failing Write: exponential
// from Initial to Max, with jitter so that many gateways do not retry in
// step. Transient failures are retried until they succeed (or shutdown
// leaves the events in the disk buffer); permanent ones are dead-lettered.
type Retry struct {
	Initial time.Duration `mapstructure:"initial"`
	Max     time.Duration `mapstructure:"max"`
}

// Buffer types and queue policies.
const (
	BufferMemory       = "memory"
	BufferDisk         = "disk"
	WhenFullBlock      = "block"
	WhenFullDropNewest = "drop_newest"
	WhenFullDropOldest = "drop_oldest"
)

// DefaultCommon returns the defaults of the common options.
func DefaultCommon() *Common {
	return &Common{
		Format: "native",
		Buffer: Buffer{Type: BufferMemory, MaxEvents: 100_000, MaxBytes: 1 << 30, WhenFull: WhenFullBlock,
			Sync: "interval", SyncInterval: time.Second},
		Batch: Batching{MaxEvents: 1000},
		Retry: Retry{Initial: 100 * time.Millisecond, Max: 30 * time.Second},
	}
}

// Validate implements config.Validator.
func (c *Common) Validate() config.Problems {
	var p config.Problems
	if _, err := format.Lookup(c.Format); err != nil {
		p.Add("format", "%v", err)
	}
	switch c.Buffer.Type {
	case BufferMemory:
	case BufferDisk:
		if c.Buffer.Path == "" {
			p.Add("buffer.path", "a disk buffer needs a directory")
		}
	default:
		p.Add("buffer.type", "must be memory or disk; got %q", c.Buffer.Type)
	}
	if c.Buffer.MaxEvents < 1 || c.Buffer.MaxEvents > 100_000_000 {
		p.Add("buffer.max_events", "must be between 1 and 100000000; got %d", c.Buffer.MaxEvents)
	}
	if c.Buffer.Path != "" && c.Buffer.MaxBytes < 1<<20 {
		p.Add("buffer.max_bytes", "must be at least 1MiB; got %d", c.Buffer.MaxBytes)
	}
	switch c.Buffer.WhenFull {
	case WhenFullBlock, WhenFullDropNewest, WhenFullDropOldest:
	default:
		p.Add("buffer.when_full", "must be block, drop_newest or drop_oldest; got %q", c.Buffer.WhenFull)
	}
	switch c.Buffer.Sync {
	case "always", "interval", "never":
	default:
		p.Add("buffer.sync", "must be always, interval or never; got %q", c.Buffer.Sync)
	}
	if c.Batch.MaxEvents < 1 || c.Batch.MaxEvents > 1_000_000 {
		p.Add("batch.max_events", "must be between 1 and 1000000; got %d", c.Batch.MaxEvents)
	}
	if c.Batch.Linger < 0 || c.Batch.Linger > time.Minute {
		p.Add("batch.linger", "must be between 0 and 1m; got %s", c.Batch.Linger)
	}
	if c.Retry.Initial <= 0 || c.Retry.Max < c.Retry.Initial {
		p.Add("retry", "need 0 < initial <= max; got initial %s, max %s", c.Retry.Initial, c.Retry.Max)
	}
	return p
}

// Batch is a group of events on its way to the outputs. The pipeline
// encodes it once per format any output uses, before fan-out, so outputs
// with the same format share the bytes. A batch is read-only for outputs.
type Batch struct {
	Events []*normalize.Event

	mu      sync.Mutex
	encoded []*Lines
}

// Lines is a batch encoded in one format: one line per event, each ending
// in '\n'.
type Lines struct {
	Encoder format.Encoder
	Data    []byte
	Ends    []int // Data[Ends[i-1]:Ends[i]] is event i's line
}

// Line returns event i's encoding without its trailing newline.
func (l *Lines) Line(i int) []byte {
	start := 0
	if i > 0 {
		start = l.Ends[i-1]
	}
	return l.Data[start : l.Ends[i]-1]
}

// Encode returns the batch encoded by enc, encoding it the first time.
func (b *Batch) Encode(enc format.Encoder) *Lines {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.encoded {
		if l.Encoder == enc {
			return l
		}
	}
	l := EncodeLines(enc, b.Events, nil)
	b.encoded = append(b.encoded, l)
	return l
}

// EncodeLines encodes events one per line, appending to buf.
func EncodeLines(enc format.Encoder, events []*normalize.Event, buf []byte) *Lines {
	l := &Lines{Encoder: enc, Data: buf[:0], Ends: make([]int, len(events))}
	for i, e := range events {
		l.Data = enc.AppendEvent(l.Data, e)
		l.Data = append(l.Data, '\n')
		l.Ends[i] = len(l.Data)
		if i == 0 && len(events) > 1 {
			// Size the buffer once from the first line rather than
			// growing it (and copying it) log2(n) times: growth was a
			// tenth of the gateway's CPU at full rate.
			l.Data = slices.Grow(l.Data, len(l.Data)*(len(events)-1)*5/4)
		}
	}
	return l
}

// Join makes one batch of several, carrying over their encoding by enc
// when all of them have it already (the pipeline encodes before fan-out),
// so that an output taking several queued batches at once does not encode
// them again. Unlike JoinBatches it never encodes.
func Join(enc format.Encoder, bs []*Batch) *Batch {
	if len(bs) == 1 {
		return bs[0]
	}
	n := 0
	for _, b := range bs {
		n += len(b.Events)
	}
	out := &Batch{Events: make([]*normalize.Event, 0, n)}
	for _, b := range bs {
		out.Events = append(out.Events, b.Events...)
	}
	if enc == nil {
		return out
	}
	parts := make([]*Lines, 0, len(bs))
	for _, b := range bs {
		p := b.encodedAs(enc)
		if p == nil {
			return out
		}
		parts = append(parts, p)
	}
	out.encoded = []*Lines{joinLines(enc, parts, n)}
	return out
}

// encodedAs returns the batch's encoding by enc, nil when it has none yet.
func (b *Batch) encodedAs(enc format.Encoder) *Lines {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.encoded {
		if l.Encoder == enc {
			return l
		}
	}
	return nil
}

func joinLines(enc format.Encoder, parts []*Lines, n int) *Lines {
	size := 0
	for _, l := range parts {
		size += len(l.Data)
	}
	l := &Lines{Encoder: enc, Data: make([]byte, 0, size), Ends: make([]int, 0, n)}
	for _, p := range parts {
		base := len(l.Data)
		l.Data = append(l.Data, p.Data...)
		for _, e := range p.Ends {
			l.Ends = append(l.Ends, base+e)
		}
	}
	return l
}

// JoinBatches makes one batch of several, carrying over their encodings in
// enc so that nothing is encoded twice.
func JoinBatches(enc format.Encoder, bs []*Batch) *Batch {
	if len(bs) == 1 {
		return bs[0]
	}
	n := 0
	for _, b := range bs {
		n += len(b.Events)
	}
	out := &Batch{Events: make([]*normalize.Event, 0, n)}
	var parts []*Lines
	for _, b := range bs {
		out.Events = append(out.Events, b.Events...)
		parts = append(parts, b.Encode(enc))
	}
	l := joinLines(enc, parts, n)
	out.encoded = []*Lines{l}
	return out
}

// Subset returns a batch of the events at idx (ascending), for retrying
// only those that failed.
func (b *Batch) Subset(idx []int) *Batch {
	out := &Batch{Events: make([]*normalize.Event, len(idx))}
	for i, j := range idx {
		out.Events[i] = b.Events[j]
	}
	return out
}

// Error wraps an output's error with its name.
func Error(name string, err error) error { return fmt.Errorf("output %s: %w", name, err) }
