package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/pipeline"
)

// replayDeadLetter is `alertgw replay --type deadletter`.
const replayDeadLetter = "deadletter"

// deadLetterReader re-ingests dead-letter files: each record's raw message
// (base64) goes to the decoder of the input type that failed it, built
// with that type's default options and the flags that apply to it
// (--format, --sid-msg-map …). What decodes now — the decoder was fixed —
// becomes an event; what still fails is dead-lettered again with its
// reason. Records that cannot be replayed this way are counted as skipped:
// events an output's destination refused (they are events, not raw
// messages), and types that assemble events from several messages
// (unified2, auditd) rather than decode one.
type deadLetterReader struct {
	flags    map[string]any
	mu       sync.Mutex
	decoders map[string]inputs.Decoder
	skipped  map[string]uint64
}

func newDeadLetterReader(flags map[string]any) *deadLetterReader {
	return &deadLetterReader{flags: flags, decoders: map[string]inputs.Decoder{}, skipped: map[string]uint64{}}
}

// deadLetterRecord is one line of a dead-letter file (pipeline/deadletter.go).
type deadLetterRecord struct {
	Input  string          `json:"input"`
	Type   string          `json:"type"`
	Reason string          `json:"reason"`
	Raw    *string         `json:"raw"`
	Output string          `json:"output"`
	Event  json.RawMessage `json:"event"`
}

func (r *deadLetterReader) skip(reason string) {
	r.mu.Lock()
	r.skipped[reason]++
	r.mu.Unlock()
}

func (r *deadLetterReader) skippedCounts() map[string]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.skipped)
}

// decoder returns the decoder of an input type, nil when the type has none.
func (r *deadLetterReader) decoder(typ string) (inputs.Decoder, error) {
	if d, ok := r.decoders[typ]; ok {
		return d, nil
	}
	plugin, ok := inputPlugins[typ]
	if !ok || plugin.Decoder == nil {
		r.decoders[typ] = nil
		return nil, nil
	}
	opts := plugin.Options()
	// The flags that this type knows; the others are for other types.
	config.Decode(applicableFlags(r.flags, opts), "", opts)
	d, err := plugin.Decoder(opts)
	if err != nil {
		return nil, fmt.Errorf("%s decoder: %w", typ, err)
	}
	r.decoders[typ] = d
	return d, nil
}

// applicableFlags keeps the flags the options struct decodes.
func applicableFlags(flags map[string]any, opts any) map[string]any {
	out := map[string]any{}
	for k, v := range flags {
		if probs := config.Decode(map[string]any{k: v}, "", opts); len(probs) == 0 {
			out[k] = v
		}
	}
	return out
}

// ReadFile implements inputs.FileReader.
func (r *deadLetterReader) ReadFile(ctx context.Context, name string, br *bufio.Reader, emit inputs.Emitter) error {
	sc := bufio.NewScanner(br)
	sc.Buffer(nil, 128<<20) // a record holds up to a 64 MiB message in base64
	var batch []*normalize.Event
	flush := func() {
		if len(batch) > 0 {
			emit.Events(batch, nil)
			batch = nil
		}
	}
	defer flush()
	line := 0
	for sc.Scan() && ctx.Err() == nil {
		line++
		var rec deadLetterRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return fmt.Errorf("line %d is not a dead-letter record: %w", line, err)
		}
		switch {
		case rec.Output != "" || rec.Event != nil:
			r.skip("refused_by_output")
			continue
		case rec.Raw == nil:
			r.skip("no_raw_message")
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(*rec.Raw)
		if err != nil {
			return fmt.Errorf("line %d: raw: %w", line, err)
		}
		dec, err := r.decoder(rec.Type)
		if err != nil {
			return err
		}
		if dec == nil {
			r.skip("no_decoder_" + rec.Type)
			continue
		}
		ev := &normalize.Event{}
		if err := dec.Decode(raw, ev); err != nil {
			reason := normalize.ReasonMalformed
			var nerr *normalize.Error
			if errors.As(err, &nerr) {
				reason = nerr.Reason
			}
			emit.Failed(raw, reason, &pipeline.OriginError{Input: rec.Input, Type: rec.Type, Err: err})
			continue
		}
		ev.Source.Type = rec.Type
		batch = append(batch, ev)
		if len(batch) >= 256 {
			flush()
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	return nil
}
