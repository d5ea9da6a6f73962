// Package suricata is the Suricata EVE input: it listens where Suricata's
// eve-log output (filetype unix_dgram or unix_stream) connects, and hands
// each EVE record to the EVE decoder (on the pipeline's workers, or on the
// socket's reader while it keeps up).
package suricata

import (
	"context"
	_ "embed"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/replay"
	"github.com/alertgw/alertgw/inputs/unixsock"
	"github.com/alertgw/alertgw/normalize/eve"
)

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the input type "suricata".
var Plugin = inputs.Plugin{
	Type:    "suricata",
	Summary: "Suricata EVE JSON from eve-log over a Unix socket (filetype unix_dgram or unix_stream)",
	Sample:  sample,
	Options: func() any { return DefaultOptions() },
	Decoder: func(any) (inputs.Decoder, error) { return eve.Decoder{}, nil },
	Files:   func(any) (inputs.FileReader, error) { return replay.Lines{}, nil },
	New:     New,
	// Each EVE record (Alertpkt datagram) decodes on its own.
	Journaled: true,
}

// Options configure the input.
type Options struct {
	// Socket is the path to bind: Suricata's eve-log `filename` (an
	// absolute path), at most 107 bytes. A glob binds one socket per match
	// (several Suricata instances).
	Socket           string `mapstructure:"socket" path:"socket"`
	unixsock.Options `mapstructure:",squash"`
}

// DefaultOptions returns the defaults: a datagram socket at
// /run/alertgw/suricata.sock, mode 0660, datagrams up to 212992 bytes (what
// a default Linux sender can send), stream lines up to 16MiB.
func DefaultOptions() *Options {
	return &Options{Socket: "/run/alertgw/suricata.sock", Options: unixsock.DefaultOptions()}
}

// Validate reports problems at keys relative to the input's block.
func (o *Options) Validate() config.Problems {
	probs := unixsock.ValidatePath("socket", o.Socket)
	switch unixsock.Type(o.SocketType) {
	case unixsock.Dgram, unixsock.Stream: // Suricata's unix_dgram and unix_stream
	default:
		probs.Add("socket_type", "must be dgram or stream, not %q", o.SocketType)
	}
	common := o.Options
	common.SocketType = string(unixsock.Dgram) // checked above
	return append(probs, common.Validate()...)
}

// Input reads EVE records from one or more sockets; the pipeline decodes
// them with eve.Decoder.
type Input struct {
	srv *unixsock.Server
}

// New binds the socket(s) at start-up, so that a bad path fails early.
func New(env inputs.Env, opts any) (inputs.Input, error) {
	o := opts.(*Options)
	srv, err := unixsock.Listen(unixsock.Config{
		Paths:       []string{o.Socket},
		Options:     o.Options,
		TrimNewline: true, // every EVE record ends in "\n", datagrams too
		Sensor:      "suricata",
		Log:         env.Log,
		Stats:       env.Stats,
		Journal:     env.Journal,
	})
	if err != nil {
		return nil, err
	}
	// What to paste into suricata.yaml. Suricata resolves a relative
	// filename against its default-log-dir, so only an absolute path
	// reaches this socket.
	filetype := "unix_dgram"
	if o.SocketType == string(unixsock.Stream) {
		filetype = "unix_stream"
	}
	for _, p := range srv.AbsPaths() {
		env.Log.Info().Str("filename", p).Str("filetype", filetype).
			Msgf("point Suricata here: in suricata.yaml, outputs: - eve-log: {filetype: %s, filename: %s}", filetype, p)
	}
	return &Input{srv: srv}, nil
}

// Run reads until ctx ends, drains what is queued and removes the socket
// files.
func (in *Input) Run(ctx context.Context, emit inputs.Emitter) error {
	return in.srv.Run(ctx, emit)
}

// Close closes the sockets and removes their files.
func (in *Input) Close() error { return in.srv.Close() }

// Paths returns the bound socket paths.
func (in *Input) Paths() []string { return in.srv.Paths() }
