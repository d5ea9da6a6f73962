// Package inputs defines what an input is and how it hands data to the
// pipeline. Each source lives in its own sub-package (inputs/suricata, …)
// and is registered in one place, cmd/alertgw/plugins.go.
//
// An input does the I/O (sockets, files, netlink): turning bytes into events
// is the job of a Decoder from the normalize packages, run by the pipeline's
// worker goroutines, on every core, or, for the small batches of an input
// that keeps up, on the input's own goroutine (DirectEmitter).
package inputs

import (
	"bufio"
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs/eventid"
	"github.com/alertgw/alertgw/inputs/journal"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/stats"
)

// Plugin describes one input type. Every type is registered in
// cmd/alertgw/plugins.go and lives in inputs/<type>/ with its README.md and
// sample.yaml (docs/architecture.md: adding a plugin).
type Plugin struct {
	Type    string
	Summary string
	// Sample is a minimal working configuration block of the type: the
	// plugin folder's sample.yaml, embedded. `alertgw config sample TYPE`
	// prints it, its README shows it, and a test validates it.
	Sample []byte
	// Options returns a pointer to the type's option struct, defaults set;
	// config.DecodeBlock fills it from the configuration block.
	Options func() any
	// Decoder, for types whose inputs hand raw messages to the pipeline
	// (Emitter.Messages), builds the decoder of those messages from the
	// decoded options. The gateway builds one per input block and gives it
	// to the pipeline, which runs it on its workers, and to New
	// (Env.Decoder); `alertgw replay` runs it on files. Nil for types that
	// emit events themselves (Emitter.Events).
	Decoder func(opts any) (Decoder, error)
	// Files, when not nil, reads files that sensors of this type write, for
	// `alertgw replay --type TYPE`: what it emits goes through Decoder like
	// a live input's messages. Nil when the type has no files to replay.
	Files func(opts any) (FileReader, error)
	// New builds an input from decoded, validated options. It must not
	// start reading: Run does. It may bind sockets, so that a bad path
	// fails at start-up rather than later; Close releases them.
	New func(env Env, opts any) (Input, error)
	// Journaled says the input appends what it reads to Env.Journal, when
	// given one, and hands on raw messages that its Decoder turns into
	// events one by one (no state across messages), so that the pipeline
	// can replay a journal through the decoder.
	Journaled bool
}

// Build makes an input of the type and the decoder of its messages (nil
// when the type has none), as the gateway does for every input block: the
// decoder first, so that New finds it in env.Decoder.
func (p Plugin) Build(env Env, opts any) (Input, Decoder, error) {
	if p.Decoder != nil {
		dec, err := p.Decoder(opts)
		if err != nil {
			return nil, nil, fmt.Errorf("decoder: %w", err)
		}
		env.Decoder = dec
	}
	in, err := p.New(env, opts)
	if err != nil {
		return nil, nil, err
	}
	return in, env.Decoder, nil
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
	// Decoder is what the plugin's Decoder built for this input, nil when
	// the type has none. An input whose reading must match its decoder
	// (Snort's compaction of datagrams) takes it from here.
	Decoder Decoder
	// Journal, when not nil, is the input's write-ahead journal (inputs
	// whose Plugin is Journaled): append every batch of messages to it as
	// soon as it is read, and set the batch's Durable to acknowledge it.
	Journal *journal.Journal
}

// Input reads one source.
type Input interface {
	// Run reads until ctx is cancelled, hands on what it read and returns
	// nil. An error means the input cannot go on.
	Run(ctx context.Context, emit Emitter) error
	// Close releases what the input holds: its sockets (removing their
	// files), netlink handles, open files. The pipeline calls it once Run
	// returned; the gateway calls it, instead of Run, on an input it built
	// but never started. It must be safe to call more than once.
	Close() error
}

// Reopener is implemented by inputs that read files besides their source
// (signature maps): Reopen reads them again on SIGHUP, through the
// pipeline's Reopen, like outputs reopen theirs. On error the input keeps
// what it had.
type Reopener interface {
	Reopen() error
}

// Decoder turns one message into one event. Types whose inputs emit raw
// messages (Emitter.Messages) declare one (Plugin.Decoder); it runs on
// several goroutines at once.
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

// DurableEmitter is implemented by the pipeline's Emitter: Events with the
// durable acknowledgement of Batch.Durable, for inputs that normalize
// themselves and must tell their sender when the events are safe (the
// forward input answers a batch once both done and durable were called).
type DurableEmitter interface {
	EventsDurable(evs []*normalize.Event, done, durable func())
}

// AfterAll returns a function to call n times; the n-th call calls f. It
// joins acknowledgements that must all come (Done and Durable) into one.
func AfterAll(n int, f func()) func() {
	var left atomic.Int32
	left.Store(int32(n))
	return func() {
		if left.Add(-1) == 0 {
			f()
		}
	}
}

// DirectEmitter is implemented by an Emitter (the pipeline's) that can take
// a batch of messages on the caller's goroutine. An input that reads in
// batches offers it the small ones, read while it keeps up: normalizing a
// few messages where they were read costs less than waking another
// goroutine to do it.
type DirectEmitter interface {
	// TryMessages does what Messages does, on the calling goroutine and
	// before it returns, when it can do so without waiting for the
	// pipeline; otherwise it does nothing and reports false, and the input
	// hands the batch on with Messages.
	TryMessages(b *Batch) bool
}

// FileReader reads one file a sensor wrote (already decompressed) and emits
// what it holds as the type's live input would: raw messages for the
// type's Decoder, or events. `alertgw replay` drives it (inputs/replay) and
// tracks the Done and done callbacks of what it emits.
type FileReader interface {
	ReadFile(ctx context.Context, name string, r *bufio.Reader, emit Emitter) error
}

// Batch is a group of raw messages read together.
type Batch struct {
	Msgs     [][]byte
	Received time.Time
	// Done, when not nil, is called once every event made from these
	// messages has been accepted by every output (bookmarks, acks).
	Done func()
	// Durable, when not nil, is called once every output with a disk
	// buffer (buffer.type: disk) holds the events made from these messages,
	// or has let them go by an explicit policy: the input's journal may
	// forget them then.
	Durable func()
	// Origins, when not nil, covers Msgs in order with runs of messages
	// kept somewhere the input can read them again (its journal, a Kafka
	// partition): their events get the ids eventid.Origin gives them, the
	// same when the messages are read again (a journal replay after a
	// restart, a partition re-read after a rebalance), so the duplicates
	// can be dropped by id.
	Origins []eventid.Run
}

// JoinAcks returns one function that calls every non-nil f, nil when there
// is none: the acknowledgement of batches merged into one.
func JoinAcks(fs ...func()) func() {
	var keep []func()
	for _, f := range fs {
		if f != nil {
			keep = append(keep, f)
		}
	}
	switch len(keep) {
	case 0:
		return nil
	case 1:
		return keep[0]
	}
	return func() {
		for _, f := range keep {
			f()
		}
	}
}
