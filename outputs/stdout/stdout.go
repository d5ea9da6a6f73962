// Package stdout is the `stdout` output: normalized events as JSON lines on
// the process's standard output (or standard error), for containers whose
// runtime collects stdout, and for trying things out.
//
// Each batch is handed to the stream in one write (through a staging
// buffer; a batch larger than it is written directly) before Write returns,
// so that what the pipeline counts as delivered is with the kernel.
package stdout

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
)

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the output type `stdout`.
var Plugin = outputs.Plugin{
	Type:    "stdout",
	Summary: "JSON lines to standard output (or standard error)",
	Sample:  sample,
	Options: func() any { return DefaultOptions() },
	New: func(env outputs.Env, opts any) (outputs.Output, error) {
		o := opts.(*Options)
		if p := o.Validate(); len(p) > 0 {
			return nil, p.Err()
		}
		w, name := io.Writer(os.Stdout), "stdout"
		if o.Stream == "stderr" {
			w, name = os.Stderr, "stderr"
		}
		return New(env, w, name, int(o.BufferSize)), nil
	},
}

// Options configure a stdout output.
type Options struct {
	// Stream is stdout or stderr. The gateway's logs go to stderr: keep
	// events on stdout unless the two are collected apart.
	Stream string `mapstructure:"stream"`
	// BufferSize is the staging buffer a batch is copied into for its one
	// write (512 bytes to 64MiB); a larger batch is written directly.
	BufferSize config.Size `mapstructure:"buffer_size"`
}

// DefaultOptions returns the options with their defaults set.
func DefaultOptions() *Options {
	return &Options{Stream: "stdout", BufferSize: 64 << 10}
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if o.Stream != "stdout" && o.Stream != "stderr" {
		p.Add("stream", "must be stdout or stderr; got %q", o.Stream)
	}
	if o.BufferSize < 512 || o.BufferSize > 64<<20 {
		p.Add("buffer_size", "must be between 512 bytes and 64MiB; got %d bytes", uint64(o.BufferSize))
	}
	return p
}

// Output writes lines to a stream.
type Output struct {
	w    io.Writer
	name string
	enc  format.Encoder

	mu     sync.Mutex
	buf    []byte // bytes accepted, not yet written; starts on a line boundary of what was written
	closed bool
	// resume: how many bytes of a batch that failed half-way were
	// accepted, so a retry neither repeats nor skips anything. A stream
	// cannot take bytes back: after a short write the rest of the line
	// follows, not a second copy.
	resume struct {
		lines *outputs.Lines
		done  int
	}
}

// New returns an output writing to w (named name in errors) through a
// buffer of size bytes.
func New(env outputs.Env, w io.Writer, name string, size int) *Output {
	enc := env.Encoder
	if enc == nil {
		enc = format.Native{}
	}
	return &Output{w: w, name: name, enc: enc, buf: make([]byte, 0, size)}
}

// Write hands the batch's lines to the stream, through the buffer, before
// it returns nil.
func (o *Output) Write(ctx context.Context, b *outputs.Batch) error {
	lines := b.Encode(o.enc)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return fmt.Errorf("write %s: output closed", o.name)
	}
	data := lines.Data
	if o.resume.lines == lines {
		data = data[o.resume.done:]
	} else {
		o.resume.lines, o.resume.done = lines, 0
	}
	if len(o.buf)+len(data) > cap(o.buf) {
		if err := o.flush(); err != nil {
			return err
		}
	}
	if len(data) <= cap(o.buf) {
		o.buf = append(o.buf, data...)
		o.resume.done = len(lines.Data)
		// Acknowledge only what the kernel has: a Write that returns nil
		// is taken as delivered (see outputs.Output).
		if err := o.flush(); err != nil {
			return err
		}
		o.resume.lines = nil
		return nil
	}
	n, err := o.w.Write(data)
	o.resume.done += n
	if err != nil && n < len(data) {
		return fmt.Errorf("write %s: %w", o.name, err)
	}
	o.resume.lines = nil
	return nil
}

// Flush writes the buffer.
func (o *Output) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.flush()
}

// Close writes the buffer. The stream itself belongs to the process and
// stays open.
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	return o.flush()
}

func (o *Output) flush() error {
	if len(o.buf) == 0 {
		return nil
	}
	n, err := o.w.Write(o.buf)
	if err != nil && n < len(o.buf) {
		// Keep what was not written, in place, for the next flush.
		o.buf = o.buf[:copy(o.buf, o.buf[n:])]
		return fmt.Errorf("flush %s: %w", o.name, err)
	}
	o.buf = o.buf[:0]
	return nil
}
