// Package unix is the unix output: each event, in the output's format, to
// a Unix socket, for chaining into another local collector: one datagram
// per event on a datagram socket, one line per event on a stream socket.
package unix

import (
	"context"
	_ "embed"
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/netsend"
)

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the output.
var Plugin = outputs.Plugin{
	Type:    "unix",
	Summary: "forward events to a Unix datagram or stream socket (one datagram or line each)",
	Sample:  sample,
	Options: func() any {
		return &Options{Socket: "dgram", Framing: netsend.FrameNewline, Timeout: 10 * time.Second}
	},
	New: func(env outputs.Env, opts any) (outputs.Output, error) { return New(env, opts.(*Options)) },
}

// Options are the unix block's own keys.
type Options struct {
	// Path is the receiver's socket (required).
	Path string `mapstructure:"path"`
	// Socket is dgram (one datagram per event) or stream (one line per
	// event).
	Socket string `mapstructure:"socket"`
	// Framing is, on a stream socket, newline or octet_counting (LEN SP
	// event).
	Framing string `mapstructure:"framing"`
	// Timeout bounds connecting and writing.
	Timeout time.Duration `mapstructure:"timeout"`
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if o.Path == "" {
		p.Add("path", "the socket to send to is required")
	}
	switch o.Socket {
	case "dgram", "stream":
	default:
		p.Add("socket", "must be dgram or stream; got %q", o.Socket)
	}
	switch o.Framing {
	case netsend.FrameNewline, netsend.FrameOctetCounting:
	default:
		p.Add("framing", "must be newline or octet_counting; got %q", o.Framing)
	}
	return p
}

// Output writes to one socket.
type Output struct {
	env  outputs.Env
	conn *netsend.Conn
	msgs [][]byte
}

// New builds the output; it connects on first Write, and again after the
// receiver went away.
func New(env outputs.Env, o *Options) (*Output, error) {
	network := "unixgram"
	if o.Socket == "stream" {
		network = "unix"
	}
	return &Output{env: env, conn: &netsend.Conn{Network: network, Address: o.Path, Timeout: o.Timeout, Framing: o.Framing}}, nil
}

// Write sends each event's encoding.
func (w *Output) Write(_ context.Context, b *outputs.Batch) error {
	lines := b.Encode(w.env.Encoder)
	msgs := w.msgs[:0]
	for i := range b.Events {
		msgs = append(msgs, lines.Line(i))
	}
	w.msgs = msgs
	err := w.conn.Send(msgs)
	clear(w.msgs)
	return err
}

// Close closes the socket.
func (w *Output) Close() error { return w.conn.Close() }
