// Package outputs defines what an output is, the options every output
// shares, and the batch an output receives. Each writer lives in its own
// sub-package (outputs/file, …) and is registered in cmd/alertgw/plugins.go.
package outputs

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

// Plugin describes one output type. Every type is registered in
// cmd/alertgw/plugins.go and lives in outputs/<type>/ with its README.md and
// sample.yaml (docs/architecture.md: adding a plugin).
type Plugin struct {
	Type    string
	Summary string
	// Sample is a minimal working configuration block of the type: the
	// plugin folder's sample.yaml, embedded. `alertgw config sample TYPE`
	// prints it, its README shows it, and a test validates it.
	Sample []byte
	// Options returns a pointer to the type's own options, defaults set.
	// The delivery keys every output has (format, buffer, batch, retry) are
	// the pipeline's (pipeline.Delivery), decoded from the same block.
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
	// Write delivers a batch. nil means the destination has every event
	// of it — for a file, handed to the kernel, not only buffered in user
	// space — because the pipeline then forgets them (removes them from
	// the disk buffer). An error means none or only part of it was
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

// Batch is a group of events on its way to the outputs. The pipeline
// encodes it once per format any output uses, before fan-out, so outputs
// with the same format share the bytes. A batch is read-only for outputs.
type Batch struct {
	Events []*normalize.Event

	mu      sync.Mutex
	encoded []*Lines
	// parts are the batches Join made this one of, each encoded by
	// partsEnc: their lines are this batch's encoding by partsEnc, joined
	// into one Lines only if Encode asks for it (EncodedParts does not).
	parts    []*Batch
	partsEnc format.Encoder
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
	if enc == nil {
		return nil // an output that encodes events itself (Plugin.EncodesItself)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.encoded {
		if l.Encoder == enc {
			return l
		}
	}
	var l *Lines
	if b.parts != nil && b.partsEnc == enc {
		l = joinLines(enc, b.partLines(), len(b.Events))
	} else {
		l = EncodeLines(enc, b.Events)
	}
	b.encoded = append(b.encoded, l)
	return l
}

// EncodedParts returns the batch encoded by enc as consecutive parts, one
// Lines each: the encodings of the batches Join made it of, as they are,
// when they have it, else the one Lines Encode returns. An output that
// writes lines out one part after the other (the file output) saves the
// copy that joining them into one Lines costs.
func (b *Batch) EncodedParts(enc format.Encoder) []*Lines {
	b.mu.Lock()
	if b.parts != nil && b.partsEnc == enc {
		defer b.mu.Unlock()
		return b.partLines()
	}
	b.mu.Unlock()
	return []*Lines{b.Encode(enc)}
}

// partLines returns the parts' encodings by partsEnc (which Join checked
// they all have).
func (b *Batch) partLines() []*Lines {
	ls := make([]*Lines, len(b.parts))
	for i, p := range b.parts {
		ls[i] = p.encodedAs(b.partsEnc)
	}
	return ls
}

// EncodeLines encodes events one per line into a buffer of the batch's
// exact size.
//
// The lines are encoded into a reused scratch buffer and then copied out:
// a batch's size is known only once it is encoded, and growing (or
// over-reserving) a fresh buffer instead allocates about a quarter more and
// clears it first. The encoded lines are a third of what the gateway
// allocates per event, and every byte allocated brings the next garbage
// collection closer.
func EncodeLines(enc format.Encoder, events []*normalize.Event) *Lines {
	sp := encodeScratch.Get().(*[]byte)
	data := (*sp)[:0]
	ends := make([]int, len(events))
	for i, e := range events {
		data = enc.AppendEvent(data, e)
		data = append(data, '\n')
		ends[i] = len(data)
	}
	l := &Lines{Encoder: enc, Data: bytes.Clone(data), Ends: ends}
	if cap(data) <= maxEncodeScratch {
		*sp = data
		encodeScratch.Put(sp)
	}
	return l
}

// encodeScratch holds the buffers EncodeLines encodes into; one larger
// than maxEncodeScratch (a batch of large alerts) is left to the collector.
var encodeScratch = sync.Pool{New: func() any { return new([]byte) }}

const maxEncodeScratch = 4 << 20

// Join makes one batch of several, carrying over their encoding by enc
// when all of them have it already (the pipeline encodes before fan-out),
// so that an output taking several queued batches at once does not encode
// them again. It never encodes.
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
	for _, b := range bs {
		if b.encodedAs(enc) == nil {
			return out
		}
	}
	// Joined lazily: Encode(enc) copies the parts into one Lines when an
	// output asks for it; EncodedParts hands them over as they are.
	out.parts, out.partsEnc = bs, enc
	return out
}

// EachEncoding calls f with every encoding the batch has (a joined batch's
// parts count as one encoding each).
func (b *Batch) EachEncoding(f func(*Lines)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.encoded {
		f(l)
	}
	if b.parts != nil && !slices.ContainsFunc(b.encoded, func(l *Lines) bool { return l.Encoder == b.partsEnc }) {
		for _, l := range b.partLines() {
			f(l)
		}
	}
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

// Subset returns a batch of the events at idx (ascending), for retrying
// only those that failed.
func (b *Batch) Subset(idx []int) *Batch {
	out := &Batch{Events: make([]*normalize.Event, len(idx))}
	for i, j := range idx {
		out.Events[i] = b.Events[j]
	}
	return out
}

// Select returns a batch of the events at idx (ascending) for an output
// that takes only some of them (a filter). The encodings the batch already
// has are carried over by copying the selected lines, which costs a copy,
// not an encoding.
func (b *Batch) Select(idx []int) *Batch {
	out := b.Subset(idx)
	if b.parts != nil {
		b.Encode(b.partsEnc) // the selection copies from one Lines
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.encoded {
		size := 0
		for _, i := range idx {
			size += len(l.Line(i)) + 1
		}
		sel := &Lines{Encoder: l.Encoder, Data: make([]byte, 0, size), Ends: make([]int, len(idx))}
		for j, i := range idx {
			sel.Data = append(append(sel.Data, l.Line(i)...), '\n')
			sel.Ends[j] = len(sel.Data)
		}
		out.encoded = append(out.encoded, sel)
	}
	return out
}

// Error wraps an output's error with its name.
func Error(name string, err error) error { return fmt.Errorf("output %s: %w", name, err) }
