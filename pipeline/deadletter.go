package pipeline

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

// DeadLetter writes messages that could not be normalized to a JSON-lines
// file, raw bytes in base64, so that nothing read is ever lost without a
// trace and a fixed decoder can replay them:
//
//	{"time":"…","input":"suricata","type":"suricata","reason":"invalid_json","error":"…","size":17,"raw":"…"}
//
// Records wait in memory and are written in whole lines: when 64 KiB have
// gathered, at every Flush (the pipeline calls it every second) and at
// Close. A failed write (disk full, I/O error) never breaks the writer for
// good: the records stay pending, the file is reopened and the write retried
// at the next flush, so the file recovers as soon as space returns. Pending
// records are bounded (MaxPending bytes); beyond that the oldest are given
// up, and so is what is still pending at Close: each one is counted in
// stats.DeadLetter.Dropped{deadletter_unwritable} and logged.
type DeadLetter struct {
	mu         sync.Mutex
	path       string
	maxSize    int64
	maxPending int
	log        zerolog.Logger
	failLog    zerolog.Logger
	stats      *stats.DeadLetter

	f       *os.File // nil: not open (closed, or reopened at the next flush)
	size    int64    // bytes in the file
	pending []byte   // whole records not yet written
	ends    []int    // end of each pending record in pending
	torn    bool     // a partial record could not be cut off: start with '\n'
	broken  error    // the last write or open error; nil when healthy
	closed  bool
	rec     []byte
}

// DeadLetterOptions configure a dead-letter file.
type DeadLetterOptions struct {
	Path    string
	MaxSize int64 // rotate to Path.1 beyond this size; 0: never
	// MaxPending bounds the records kept in memory while the file cannot
	// be written; 0: 4 MiB.
	MaxPending int
	Stats      *stats.DeadLetter // nil: counters of its own
	Log        zerolog.Logger
}

// ReasonDeadLetterUnwritable counts dead-letter records given up because
// the file could not be written.
const ReasonDeadLetterUnwritable = "deadletter_unwritable"

const (
	deadLetterFlushAt    = 64 << 10
	deadLetterMaxPending = 4 << 20
)

// OpenDeadLetter opens (appending) the dead-letter file at path. The file is
// rotated to path.1 when it grows past maxSize.
func OpenDeadLetter(path string, maxSize int64) (*DeadLetter, error) {
	return OpenDeadLetterWith(DeadLetterOptions{Path: path, MaxSize: maxSize, Log: zerolog.Nop()})
}

// OpenDeadLetterWith opens the dead-letter file described by opts.
func OpenDeadLetterWith(opts DeadLetterOptions) (*DeadLetter, error) {
	if opts.MaxPending <= 0 {
		opts.MaxPending = deadLetterMaxPending
	}
	if opts.Stats == nil {
		opts.Stats = &stats.DeadLetter{}
	}
	d := &DeadLetter{path: opts.Path, maxSize: opts.MaxSize, maxPending: opts.MaxPending, stats: opts.Stats,
		log: opts.Log, failLog: opts.Log.Sample(&zerolog.BurstSampler{Burst: 5, Period: 10 * time.Second})}
	if err := d.open(); err != nil {
		return nil, err
	}
	return d, nil
}

// Stats returns the file's counters.
func (d *DeadLetter) Stats() *stats.DeadLetter { return d.stats }

func (d *DeadLetter) open() error {
	if err := os.MkdirAll(filepath.Dir(d.path), 0o750); err != nil {
		return fmt.Errorf("dead-letter directory: %w", err)
	}
	f, err := os.OpenFile(d.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open dead-letter file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat dead-letter file: %w", err)
	}
	d.f, d.size = f, st.Size()
	return nil
}

// Write records one message.
func (d *DeadLetter) Write(input, typ, reason string, cause error, raw []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := append(d.rec[:0], '{')
	b = format.AppendTimeField(b, "time", time.Now())
	b = format.AppendStringField(b, "input", input)
	b = format.AppendStringField(b, "type", typ)
	b = format.AppendStringField(b, "reason", reason)
	if cause != nil {
		b = format.AppendStringField(b, "error", cause.Error())
	}
	b = format.AppendUintField(b, "size", uint64(len(raw)))
	b = append(format.AppendKey(b, "raw"), '"')
	b = base64.StdEncoding.AppendEncode(b, raw)
	b = append(b, '"', '}', '\n')
	d.rec = b
	return d.addLocked(b)
}

// WriteEvent records one event that an output's destination rejected for
// good, with the destination's reason and the event in the native format,
// so it can be fixed and replayed:
//
//	{"time":"…","output":"es","type":"elasticsearch","reason":"mapper_parsing_exception","error":"…","event":{…}}
func (d *DeadLetter) WriteEvent(output, typ, reason string, cause error, event []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := append(d.rec[:0], '{')
	b = format.AppendTimeField(b, "time", time.Now())
	b = format.AppendStringField(b, "output", output)
	b = format.AppendStringField(b, "type", typ)
	b = format.AppendStringField(b, "reason", reason)
	if cause != nil {
		b = format.AppendStringField(b, "error", cause.Error())
	}
	b = append(format.AppendKey(b, "event"), event...)
	b = append(b, '}', '\n')
	d.rec = b
	return d.addLocked(b)
}

// addLocked queues one record and writes the pending ones once enough have
// gathered. The record is accepted unless the writer is closed: a failed
// write keeps it pending (see DeadLetter).
func (d *DeadLetter) addLocked(rec []byte) error {
	if d.closed {
		d.giveUp(1, "dead-letter file closed")
		return fmt.Errorf("dead-letter file %s is closed", d.path)
	}
	d.pending = append(d.pending, rec...)
	d.ends = append(d.ends, len(d.pending))
	d.stats.Pending.Store(int64(len(d.ends)))
	if len(d.pending) < deadLetterFlushAt {
		return nil
	}
	if err := d.flushLocked(); err != nil {
		d.failLog.Error().Err(err).Str("path", d.path).Int("pending", len(d.ends)).
			Msg("dead-letter write failed; records kept in memory and retried")
	}
	return nil
}

// Flush writes the pending records. After a failure it reopens the file
// and tries again, so a disk that has space again is written to at once.
func (d *DeadLetter) Flush() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	return d.flushLocked()
}

func (d *DeadLetter) flushLocked() error {
	if len(d.pending) == 0 {
		return nil
	}
	err := d.writePending()
	if err != nil {
		if d.broken == nil {
			d.log.Error().Err(err).Str("path", d.path).Msg("dead-letter file unwritable; records kept in memory and retried every second")
		}
		d.broken = err
		d.stats.Failing.Store(true)
		// Bound what waits: give up the oldest beyond MaxPending.
		if over := len(d.pending) - d.maxPending; over > 0 {
			n := 0
			for n < len(d.ends) && d.ends[n] < over {
				n++
			}
			d.dropFirst(min(n+1, len(d.ends)), err.Error())
		}
		return err
	}
	if d.broken != nil {
		d.log.Info().Str("path", d.path).Msg("dead-letter file writable again")
		d.broken = nil
		d.stats.Failing.Store(false)
	}
	return nil
}

// writePending writes whole pending records, reopening the file when the
// last attempt failed, and rotating past the size limit. Records written
// leave pending; on error the rest stay.
func (d *DeadLetter) writePending() error {
	if d.f == nil || d.broken != nil {
		// A fresh descriptor: the file may have been removed or the
		// filesystem remounted while it failed.
		if d.f != nil {
			d.f.Close()
			d.f = nil
		}
		if err := d.open(); err != nil {
			return err
		}
	}
	if d.maxSize > 0 && d.size > 0 && d.size+int64(len(d.pending)) > d.maxSize {
		if err := d.rotate(); err != nil {
			return err
		}
	}
	if d.torn {
		if _, err := d.f.Write([]byte{'\n'}); err != nil {
			return fmt.Errorf("write dead-letter file: %w", err)
		}
		d.torn = false
		d.size++
	}
	n, err := d.f.Write(d.pending)
	if err == nil {
		d.size += int64(n)
		d.stats.Written.Add(uint64(len(d.ends)))
		d.pending, d.ends = d.pending[:0], d.ends[:0]
		d.stats.Pending.Store(0)
		return nil
	}
	// Keep lines whole: cut off a partial record, keep it pending.
	whole := 0
	for whole < len(d.ends) && d.ends[whole] <= n {
		whole++
	}
	keep := 0
	if whole > 0 {
		keep = d.ends[whole-1]
	}
	if n > keep {
		if terr := d.f.Truncate(d.size + int64(keep)); terr != nil {
			d.torn = true
		}
	}
	d.size += int64(keep)
	d.stats.Written.Add(uint64(whole))
	d.consume(whole)
	return fmt.Errorf("write dead-letter file %s: %w", d.path, err)
}

// consume removes the first n pending records (written).
func (d *DeadLetter) consume(n int) {
	if n == 0 {
		return
	}
	cut := d.ends[n-1]
	d.pending = d.pending[:copy(d.pending, d.pending[cut:])]
	d.ends = d.ends[:copy(d.ends, d.ends[n:])]
	for i := range d.ends {
		d.ends[i] -= cut
	}
	d.stats.Pending.Store(int64(len(d.ends)))
}

// dropFirst gives up the first n pending records, counted and logged.
func (d *DeadLetter) dropFirst(n int, why string) {
	d.consume(n)
	d.giveUp(n, why)
}

func (d *DeadLetter) giveUp(n int, why string) {
	if n == 0 {
		return
	}
	d.stats.Dropped.Add(ReasonDeadLetterUnwritable, uint64(n))
	d.log.Error().Int("records", n).Str("path", d.path).Str("cause", why).
		Msg("dead-letter records given up: the file could not be written (counted in dropped{deadletter_unwritable})")
}

func (d *DeadLetter) rotate() error {
	if err := d.f.Close(); err != nil {
		d.log.Warn().Err(err).Str("path", d.path).Msg("close dead-letter file before rotation")
	}
	d.f = nil
	if err := os.Rename(d.path, d.path+".1"); err != nil {
		return fmt.Errorf("rotate dead-letter file: %w", err)
	}
	return d.open()
}

// Reopen closes and reopens the file (SIGHUP, after logrotate). Pending
// records go to the new file. A failure is reported and retried at the next
// flush.
func (d *DeadLetter) Reopen() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	if d.f != nil {
		d.f.Close()
		d.f = nil
	}
	if err := d.open(); err != nil {
		d.broken = err
		d.stats.Failing.Store(true)
		return err
	}
	return d.flushLocked()
}

// Close writes what is pending, syncs and closes the file. What cannot be
// written then is given up, counted and logged, and the error returned.
func (d *DeadLetter) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	err := d.flushLocked()
	if left := len(d.ends); left > 0 {
		d.dropFirst(left, fmt.Sprint(err))
		err = fmt.Errorf("%d dead-letter records could not be written: %w", left, err)
	}
	if d.f != nil {
		if serr := d.f.Sync(); serr != nil {
			err = errors.Join(err, fmt.Errorf("sync dead-letter file: %w", serr))
		}
		if cerr := d.f.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close dead-letter file: %w", cerr))
		}
		d.f = nil
	}
	return err
}
