// Package auditd is the `type: auditd` input: Linux audit events from
// auditd's af_unix plugin socket, from auditd's plugin stream on standard
// input, or from audit.log files. It reassembles and normalizes the
// records itself (normalize/audit) and emits one event per audit event,
// enriched from a process table with parent information and labels.
package auditd

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/audit"
	"github.com/alertgw/alertgw/stats"
)

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the input.
var Plugin = inputs.Plugin{
	Type:    "auditd",
	Summary: "Linux audit events (auditd af_unix socket, plugin stdin or audit.log), one coalesced event each, with parent process and labels",
	Options: defaultOptions,
	Sample:  sample,
	New:     New,
	Files:   newFileReader, // alertgw replay --type auditd
}

// Reasons under which this input counts losses (Stats.Dropped).
const (
	DropSequenceGap = "sequence_gap" // serials missing: the kernel, auditd or a reconnect lost events
	DropTooLong     = "too_long"     // a text line longer than any audit record
	DropFraming     = "framing"      // a binary stream out of line: the connection was reset
)

// lost counts what was lost on its way to the events without becoming a
// record the input could read (over-long lines, a stream out of line):
// received and dropped, so that received = normalized + merged + failed +
// dropped holds. Missing serials count the same way, one per event (its
// records are unknown).
func lost(st *stats.Input, reason string, n uint64) {
	st.Received.Add(n)
	st.Dropped.Add(reason, n)
}

// Input reads one auditd source.
type Input struct {
	env  inputs.Env
	opts *Options
	proc *audit.Processor

	// stdin is the plugin stream; a test may replace it.
	stdin io.Reader
	// reconnects counts connections made after the first (socket).
	reconnects uint64
}

// New builds the input from validated options.
func New(env inputs.Env, o any) (inputs.Input, error) {
	opts := o.(*Options)
	keys, exes := map[string][]string{}, map[string][]string{}
	for _, r := range opts.Labels {
		keys[r.Label] = append(keys[r.Label], r.Keys...)
		exes[r.Label] = append(exes[r.Label], r.Exe...)
	}
	rules, err := audit.CompileRules(keys, exes)
	if err != nil {
		return nil, fmt.Errorf("auditd labels: %w", err)
	}
	topts := audit.TableOptions{
		MaxEntries: opts.ProcessTable.MaxEntries,
		ExitedTTL:  opts.ProcessTable.ExitedTTL,
		IdleTTL:    opts.ProcessTable.IdleTTL,
		Rules:      rules,
	}
	if opts.ProcLookup && opts.Source != SourceFile {
		topts.Lookup = procLookup("/proc")
	}
	tbl := audit.NewTable(topts)
	var res audit.Resolver
	if opts.ResolveIDs {
		res = newHostResolver(10 * time.Minute)
	}
	in := &Input{env: env, opts: opts, stdin: os.Stdin}
	in.proc = audit.NewProcessor(audit.AssemblerOptions{MaxInFlight: opts.MaxInFlight, Timeout: opts.EventTimeout}, res, tbl)
	in.proc.Mapper.Summary = opts.Summary
	in.proc.NewTable = func() *audit.Table {
		o := topts
		o.Lookup = nil // another host's processes are not in our /proc
		return audit.NewTable(o)
	}
	return in, nil
}

var _ config.Validator = (*Options)(nil)

// Run implements inputs.Input.
func (in *Input) Run(ctx context.Context, emit inputs.Emitter) error {
	s := &session{in: in, emit: emit}
	// Events the mapper could not make are dead-lettered with the next
	// flush, from this goroutine.
	in.proc.Failed = func(raw []byte, err error) { s.failed = append(s.failed, failure{raw, err}) }
	defer func() {
		s.flush(in.proc.Close(nil))
		st := in.proc.TableStats()
		in.env.Log.Info().Int("processes", st.Entries).Uint64("evicted", st.Evicted).
			Uint64("expired", st.Expired).Uint64("labeled", st.Labeled).Uint64("adopted", st.Adopted).Uint64("reconnects", in.reconnects).Uint64("serial_resets", in.proc.Resets()).
			Msg("auditd input stopped")
	}()
	switch in.opts.Source {
	case SourceSocket:
		return in.runSocket(ctx, s)
	case SourceStdin:
		err := s.stream(ctx, in.stdin, nil)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, io.EOF):
			in.env.Log.Info().Msg("auditd closed the plugin stream")
			return nil
		}
		return err
	default:
		return in.runFiles(ctx, s)
	}
}

// Close implements inputs.Input: the connection to auditd, or the files,
// are opened and closed by Run.
func (in *Input) Close() error { return nil }

func (in *Input) runSocket(ctx context.Context, s *session) error {
	delay := in.opts.ReconnectMin
	connected := false
	var lastErr string
	for ctx.Err() == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "unix", in.opts.Socket)
		if err != nil {
			if msg := err.Error(); msg != lastErr {
				in.env.Log.Warn().Err(err).Dur("retry", delay).Msg("cannot connect to auditd's af_unix socket; retrying")
				lastErr = msg
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(delay):
			}
			delay = min(delay*2, in.opts.ReconnectMax)
			continue
		}
		if connected {
			in.reconnects++
		}
		connected, lastErr, delay = true, "", in.opts.ReconnectMin
		in.env.Log.Info().Str("socket", in.opts.Socket).Str("format", in.opts.Format).Msg("connected to auditd")
		err = s.stream(ctx, conn, conn)
		conn.Close()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, io.EOF):
			// auditd restarted or was stopped. What it logged meanwhile
			// shows as a gap in the serials, counted as sequence_gap.
			in.env.Log.Warn().Msg("auditd closed the connection; reconnecting")
		default:
			in.env.Log.Warn().Err(err).Msg("auditd connection failed; reconnecting")
		}
	}
	return nil
}

func (in *Input) runFiles(ctx context.Context, s *session) error {
	for _, pat := range in.opts.Files {
		matches, err := filepath.Glob(pat)
		if err != nil {
			return fmt.Errorf("files: %w", err)
		}
		if len(matches) == 0 {
			in.env.Log.Warn().Str("pattern", pat).Msg("no audit log matches")
		}
		slices.Sort(matches)
		for _, path := range matches {
			f, err := os.Open(path)
			if err != nil {
				return fmt.Errorf("auditd file: %w", err)
			}
			in.env.Log.Info().Str("file", path).Msg("reading audit log")
			err = s.stream(ctx, f, nil)
			f.Close()
			if ctx.Err() != nil {
				return nil
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("auditd file %s: %w", path, err)
			}
		}
	}
	return nil
}

// failure is an event the mapper could not make, with its records' text.
type failure struct {
	raw []byte
	err error
}

// session is the processing side shared by every source.
type session struct {
	in           *Input
	emit         inputs.Emitter
	failed       []failure
	lastLostLog  time.Time // sequence gaps are logged at most every 10s
	lostSinceLog uint64
	lastStats    time.Time // process table counters, logged every minute
	lastEvicted  uint64
}

// tableStats logs the process table's counters every minute (debug), and
// warns when it had to evict live processes: parent info and labels are
// then incomplete until max_entries is raised.
func (s *session) tableStats() {
	now := time.Now()
	if now.Sub(s.lastStats) < time.Minute {
		return
	}
	s.lastStats = now
	st := s.in.proc.TableStats()
	log := s.in.env.Log.Debug()
	if st.Evicted > s.lastEvicted {
		log = s.in.env.Log.Warn().Uint64("evicted_since", st.Evicted-s.lastEvicted)
	}
	s.lastEvicted = st.Evicted
	log.Int("processes", st.Entries).Uint64("evicted", st.Evicted).Uint64("expired", st.Expired).
		Uint64("labeled", st.Labeled).Uint64("adopted", st.Adopted).Msg("auditd process table (raise process_table.max_entries if evicted grows)")
}

type batch struct {
	recs    []record
	bytes   int
	tooLong uint64 // the framer's count so far
	err     error
}

// stream reads r until it ends or ctx is done. A reader goroutine frames
// records and hands them over in batches; this goroutine parses,
// assembles and emits, and completes timed-out events while r is quiet.
// closer, when given, is closed on cancellation to unblock the reader.
func (s *session) stream(ctx context.Context, r io.Reader, closer io.Closer) error {
	in := s.in
	delay := in.opts.BatchDelay
	if in.opts.Source == SourceFile {
		delay = 0
	}
	fr := newFramer(r, in.opts.Format == FormatBinary, in.opts.BinaryFraming == FramingFixed)
	batches := make(chan batch, 4)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(batches)
		for {
			recs, n, err := fr.next(nil)
			select {
			case batches <- batch{recs: recs, bytes: n, tooLong: fr.tooLong, err: err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
			// A quiet stream hands over a record or two per read; waking
			// the whole chain for each costs more than the parsing. A
			// short pause lets records gather in the socket buffer (at
			// 1,000 execve/s, 25 ms is ~60 KB of auditd's output). Busy
			// streams fill the buffer and never pause.
			if delay > 0 && n < len(fr.buf)/2 {
				select {
				case <-time.After(delay):
				case <-done:
					return
				}
			}
		}
	}()
	tick := time.NewTicker(max(in.opts.EventTimeout/2, 50*time.Millisecond))
	defer tick.Stop()
	var tooLong uint64
	for {
		select {
		case <-ctx.Done():
			if closer != nil {
				closer.Close()
			}
			return ctx.Err()
		case <-tick.C:
			s.flush(in.proc.Maintain(nil))
			s.tableStats()
		case b, ok := <-batches:
			if !ok {
				return io.EOF
			}
			s.records(b.recs, b.bytes)
			if d := b.tooLong - tooLong; d > 0 {
				tooLong += d
				lost(in.env.Stats, DropTooLong, d)
				in.env.Log.Warn().Uint64("lines", d).Msg("dropped text lines longer than any audit record")
			}
			if b.err != nil {
				if errors.Is(b.err, errFraming) {
					lost(in.env.Stats, DropFraming, 1)
				}
				return b.err
			}
		}
	}
}

func (s *session) records(recs []record, n int) {
	in := s.in
	in.env.Stats.Bytes.Add(uint64(n))
	in.env.Stats.Received.Add(uint64(len(recs)))
	var evs []*normalize.Event
	for _, r := range recs {
		var err error
		// The records live in a per-batch arena nobody writes to again:
		// the parser may keep referring to it.
		if r.kernel {
			evs, err = in.proc.KernelOwned(r.typ, r.data, evs)
		} else {
			evs, err = in.proc.LineOwned(r.data, evs)
		}
		if err != nil {
			s.emit.Failed(r.data, reasonOf(err), err)
		}
	}
	s.flush(evs)
}

// flush hands events over and reports what the assembler counted.
func (s *session) flush(evs []*normalize.Event) {
	in := s.in
	for _, f := range s.failed {
		s.emit.Failed(f.raw, reasonOf(f.err), f.err)
	}
	s.failed = s.failed[:0]
	in.env.Stats.Merged.Add(in.proc.Merged())
	if gap := in.proc.Lost(); gap > 0 {
		lost(in.env.Stats, DropSequenceGap, gap)
		s.lostSinceLog += gap
		if now := time.Now(); now.Sub(s.lastLostLog) >= 10*time.Second {
			in.env.Log.Warn().Uint64("events", s.lostSinceLog).Msg("audit serials skipped: events lost by the kernel, auditd or while disconnected")
			s.lastLostLog, s.lostSinceLog = now, 0
		}
	}
	if len(evs) == 0 {
		return
	}
	for _, ev := range evs {
		ev.Source.Input = in.env.Name
		ev.Source.Sensor = in.env.Sensor
	}
	s.emit.Events(evs, nil)
}

// reasonOf is the counting reason of a decode error.
func reasonOf(err error) string {
	if ne, ok := errors.AsType[*normalize.Error](err); ok {
		return ne.Reason
	}
	return normalize.ReasonMalformed
}
