// Package inputs defines what an input is and how it hands data to the
// pipeline. Each source lives in its own sub-package (inputs/suricata, …)
// and is registered in one place, cmd/alertgw/plugins.go.
//
// An input does the I/O (sockets, files, netlink) and nothing else: turning
// bytes into events is the job of a Decoder from the normalize packages, run
// by the pipeline's worker goroutines, on every core.
package inputs

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/stats"
)

// Plugin describes one input type.
type Plugin struct {
	Type    string
	Summary string
	// Options returns a pointer to the type's option struct, defaults set;
	// config.DecodeBlock fills it from the configuration block.
	Options func() any
	// New builds an input from decoded, validated options. It must not
	// start reading: Run does. It may bind sockets, so that a bad path
	// fails at start-up rather than later.
	New func(env Env, opts any) (Input, error)
}

// Env is what the gateway gives every input.
type Env struct {
	Name   string         // the block's name
	Sensor string         // the gateway's sensor name
	Log    zerolog.Logger // already labelled with the input's name
	Stats  *stats.Input
	// Registry holds every input's and output's counters, for inputs that
	// report on the gateway itself (type stats).
	Registry *stats.Registry
}

// Input reads one source.
type Input interface {
	// Run reads until ctx is cancelled, then releases what it holds
	// (closing sockets, removing their files) and returns nil. An error
	// means the input cannot go on.
	Run(ctx context.Context, emit Emitter) error
}

// Decoder turns one message into one event. Inputs that emit raw messages
// (Emitter.Messages) implement it; it runs on several goroutines at once.
//
// The message stays valid and unchanged for as long as the event lives, so a
// decoder may keep sub-slices of it (Details values) without copying.
// An error should be a *normalize.Error so that it is counted by reason.
type Decoder interface {
	Decode(msg []byte, ev *normalize.Event) error
}

// Emitter is the pipeline, as an input sees it. Its methods block while the
// pipeline is behind: that back-pressure is what makes a socket's kernel
// queue, not the gateway's memory, absorb bursts.
type Emitter interface {
	// Messages hands raw messages to the normalizer workers. The pipeline
	// owns the batch from then on.
	Messages(b *Batch)
	// Events hands events the input normalized itself (stateful sources:
	// unified2 aggregation, audit reassembly). done, when not nil, is called
	// once every output has accepted them.
	Events(evs []*normalize.Event, done func())
	// Failed dead-letters a message that cannot be normalized, counted
	// under reason.
	Failed(raw []byte, reason string, err error)
}

// Batch is a group of raw messages read together.
type Batch struct {
	Msgs     [][]byte
	Received time.Time
	// Done, when not nil, is called once every event made from these
	// messages has been accepted by every output (bookmarks, acks).
	Done func()
}
