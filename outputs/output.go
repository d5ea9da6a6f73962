// Package outputs defines what an output is, the options every output
// shares, and the batch an output receives. Each writer lives in its own
// sub-package (outputs/file, …) and is registered in cmd/alertgw/plugins.go.
package outputs

import (
	"context"
	"fmt"
	"sync"

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
	Format string `mapstructure:"format"`
	Buffer Buffer `mapstructure:"buffer"`
}

// Buffer is an output's queue.
type Buffer struct {
	Type      string `mapstructure:"type"`       // memory
	MaxEvents int    `mapstructure:"max_events"` // events held before when_full applies
	WhenFull  string `mapstructure:"when_full"`  // block | drop_newest | drop_oldest
}

// Queue policies.
const (
	WhenFullBlock      = "block"
	WhenFullDropNewest = "drop_newest"
	WhenFullDropOldest = "drop_oldest"
)

// DefaultCommon returns the defaults of the common options.
func DefaultCommon() *Common {
	return &Common{
		Format: "native",
		Buffer: Buffer{Type: "memory", MaxEvents: 100_000, WhenFull: WhenFullBlock},
	}
}

// Validate implements config.Validator.
func (c *Common) Validate() config.Problems {
	var p config.Problems
	if _, err := format.Lookup(c.Format); err != nil {
		p.Add("format", "%v", err)
	}
	if c.Buffer.Type != "memory" {
		p.Add("buffer.type", "must be memory; got %q", c.Buffer.Type)
	}
	if c.Buffer.MaxEvents < 1 || c.Buffer.MaxEvents > 100_000_000 {
		p.Add("buffer.max_events", "must be between 1 and 100000000; got %d", c.Buffer.MaxEvents)
	}
	switch c.Buffer.WhenFull {
	case WhenFullBlock, WhenFullDropNewest, WhenFullDropOldest:
	default:
		p.Add("buffer.when_full", "must be block, drop_newest or drop_oldest; got %q", c.Buffer.WhenFull)
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
	}
	return l
}

// Error wraps an output's error with its name.
func Error(name string, err error) error { return fmt.Errorf("output %s: %w", name, err) }
