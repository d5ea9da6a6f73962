// Package file is the `file` output: normalized events as JSON lines in a
// file, rotated by size and by time, rotated files optionally gzipped and
// removed by age and count, with a choice of fsync policy and a reopen on
// SIGHUP for logrotate.
//
// Lines are whole or absent. Lines are gathered in a user-space buffer and
// handed to the kernel in whole lines only; when the kernel takes only part
// of a buffer (disk full, I/O error), the partial tail is truncated away
// before anything else is written, and the batch's progress is remembered,
// so the pipeline's retry of the same batch writes each line exactly once.
// Only a crash in the middle of a write(2) can leave a partial last line;
// the next start terminates it with a newline before appending (see
// outputs/file/README.md).
package file

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
)

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the output type `file`.
var Plugin = outputs.Plugin{
	Type:    "file",
	Summary: "JSON lines to a file: rotation by size and time, gzip, retention, fsync policy, reopen on SIGHUP",
	Sample:  sample,
	Options: func() any { return DefaultOptions() },
	New: func(env outputs.Env, opts any) (outputs.Output, error) {
		return New(env, *opts.(*Options))
	},
}

// handle is what the output needs of an open file. *os.File is the only
// production implementation; tests wrap it to count fsyncs or to fail a
// write half-way, on real files.
type handle interface {
	io.Writer
	io.ReaderAt
	Sync() error
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
	Chmod(mode os.FileMode) error
	Close() error
}

func openOS(name string, flag int, perm os.FileMode) (handle, error) {
	return os.OpenFile(name, flag, perm)
}

// deps are the output's seams to the world, replaced in tests.
type deps struct {
	now       func() time.Time
	open      func(name string, flag int, perm os.FileMode) (handle, error)
	tickEvery time.Duration // housekeeping tick (fsync interval, time rotation); 0: none
}

// Output writes batches to a file. Its methods are safe for concurrent use:
// the pipeline calls them from one goroutine, and a housekeeping goroutine
// fsyncs and rotates on time between batches.
type Output struct {
	opts  Options
	log   zerolog.Logger
	enc   format.Encoder
	deps  deps
	names names
	hk    *housekeeper

	mu         sync.Mutex
	f          handle // nil after a failed (re)open: the next Write opens again
	regular    bool   // rotation and truncation only ever touch regular files
	size       int64  // bytes in the file, what was there and what we wrote
	buf        []byte // whole lines accepted but not yet written; cap is buffer_size
	cut        int    // bytes of a failed write to truncate away before anything else
	unsynced   bool   // data handed to the kernel since the last fsync
	writes     uint64 // count of writes to the kernel, to tell whether an fsync covered them all
	lastSync   time.Time
	nextRotate time.Time // zero: no time rotation
	nextSweep  time.Time // next age-based retention pass
	closed     bool
	// resume remembers how far a failed batch got, so that the pipeline's
	// retry of the same batch neither skips nor repeats a line.
	resume struct {
		batch *outputs.Batch
		done  int // lines of batch accepted so far
	}

	stop chan struct{}
	wg   sync.WaitGroup
}

// New opens the file at opts.Path (creating its directory) and starts the
// background work: compression and retention of rotated files, the
// fsync interval and time rotation.
func New(env outputs.Env, opts Options) (*Output, error) {
	// Ticking at half the fsync interval keeps data at most 1.5 intervals
	// from disk whatever the ticker's jitter.
	every := time.Second
	if opts.Fsync == FsyncInterval {
		every = min(every, opts.FsyncInterval/2)
	}
	return newOutput(env, opts, deps{now: time.Now, open: openOS, tickEvery: every})
}

func newOutput(env outputs.Env, opts Options, d deps) (*Output, error) {
	if p := opts.Validate(); len(p) > 0 {
		return nil, p.Err()
	}
	if env.Encoder == nil {
		env.Encoder = format.Native{}
	}
	o := &Output{
		opts:  opts,
		log:   env.Log,
		enc:   env.Encoder,
		deps:  d,
		names: newNames(opts.Path),
		buf:   make([]byte, 0, int(opts.BufferSize)),
		stop:  make(chan struct{}),
	}
	if err := o.openActive(); err != nil {
		return nil, err
	}
	o.lastSync = d.now()
	o.hk = newHousekeeper(o.names, opts, d.now, env.Log)
	if o.regular {
		o.names.last = o.hk.start()
	}
	o.hk.run()
	o.nextSweep = d.now().Add(sweepEvery(opts.Retention.MaxAge))
	if d.tickEvery > 0 {
		o.wg.Add(1)
		go o.loop(d.tickEvery)
	}
	return o, nil
}

// Write appends the batch's lines and hands them to the kernel before it
// returns nil. On error the lines already accepted stay accepted (in the
// file or the buffer) and a retry of the same batch continues after them,
// writing the buffer first.
func (o *Output) Write(ctx context.Context, b *outputs.Batch) error {
	// A batch the pipeline joined of several comes in parts, written one
	// after the other into the buffer: joining them first would copy
	// every line once more.
	parts := b.EncodedParts(o.enc)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return fmt.Errorf("write %s: output closed", o.opts.Path)
	}
	if o.resume.batch != b {
		o.resume.batch, o.resume.done = b, 0
	}
	skip := o.resume.done // lines of the batch written by an earlier attempt
	for _, lines := range parts {
		n := len(lines.Ends)
		if skip >= n {
			skip -= n
			continue
		}
		start := skip
		skip = 0
		for start < n {
			if err := o.ready(); err != nil {
				return err
			}
			end := n
			if maxSize := int64(o.opts.Rotate.MaxSize); maxSize > 0 && o.regular {
				room := maxSize - o.size - int64(len(o.buf))
				end = fitting(lines, start, room)
				if end == start {
					if o.size+int64(len(o.buf)) > 0 {
						if err := o.rotate(o.deps.now()); err != nil {
							return err
						}
						continue
					}
					end = start + 1 // a line longer than max_size gets a file of its own
				}
			}
			if err := o.put(lines.Data[lineStart(lines, start):lines.Ends[end-1]]); err != nil {
				return err
			}
			o.resume.done += end - start
			start = end
		}
	}
	// Only what the kernel has is acknowledged: the pipeline takes a
	// successful Write as delivered (and removes it from the disk buffer),
	// so lines must not be left in the user-space buffer, where a failed
	// final flush (ENOSPC at shutdown) would lose them. The buffer still
	// joins the lines of a batch into whole-line writes of buffer_size.
	if err := o.flushBuf(); err != nil {
		return err
	}
	if o.opts.Fsync == FsyncAlways && o.unsynced {
		if err := o.sync(); err != nil {
			return err
		}
	}
	o.resume.batch = nil
	return nil
}

// Flush hands buffered lines to the kernel (Write does already; what is
// left is what a failed Write could not write). It does not fsync: with
// fsync: interval the housekeeping tick does, off the pipeline's goroutine.
func (o *Output) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.f == nil {
		return nil
	}
	return o.flushBuf()
}

// Reopen writes what is buffered to the current file, closes it and opens
// the configured path anew: after logrotate renamed the file, new lines go
// to a new file. If the new file cannot be opened, the next Write tries
// again (and fails, so the pipeline keeps the batch and retries).
func (o *Output) Reopen() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return fmt.Errorf("reopen %s: output closed", o.opts.Path)
	}
	if o.f != nil {
		if err := o.closeActive(o.opts.Fsync != FsyncNever); err != nil {
			return fmt.Errorf("reopen: %w", err)
		}
	}
	if err := o.openActive(); err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	return nil
}

// Close writes what is buffered, fsyncs whatever the policy, closes the
// file and stops the background work. A compression under way is
// abandoned (its source kept) and finished at the next start.
func (o *Output) Close() error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil
	}
	o.closed = true
	var err error
	if o.f != nil {
		err = o.closeActive(true)
	}
	o.mu.Unlock()
	close(o.stop)
	o.wg.Wait()
	o.hk.close()
	return err
}

// closeActive ends the active file on a line boundary: buffered lines
// written, a partial tail removed, optionally fsynced, closed. On a write
// error the file stays open and the buffer intact, so nothing is lost.
func (o *Output) closeActive(fsync bool) error {
	if err := o.flushBuf(); err != nil {
		return err
	}
	if o.cut > 0 {
		if err := o.undo(); err != nil {
			return err
		}
	}
	var errs []error
	if fsync && o.unsynced {
		errs = append(errs, o.sync())
	}
	if err := o.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close %s: %w", o.opts.Path, err))
	}
	o.f = nil
	return errors.Join(errs...)
}

// openActive opens (or creates) the configured path for appending.
func (o *Output) openActive() error {
	path := o.opts.Path
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("create directory for %s: %w", path, err)
		}
	}
	mode := o.opts.Mode.Perm()
	// O_RDWR: the last byte is read back to detect a partial line.
	// O_APPEND: even if someone else truncates the file (copytruncate),
	// lines land at its end.
	f, err := o.deps.open(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, mode)
	created := err == nil
	if errors.Is(err, fs.ErrExist) {
		f, err = o.deps.open(path, os.O_RDWR|os.O_APPEND, mode)
	}
	if err != nil {
		return fmt.Errorf("open output file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat output file: %w", err)
	}
	if created {
		// The configured mode, not the one the umask left.
		if err := f.Chmod(mode); err != nil {
			f.Close()
			return fmt.Errorf("set mode of output file: %w", err)
		}
	}
	o.f, o.regular, o.size = f, st.Mode().IsRegular(), 0
	if o.regular {
		o.size = st.Size()
		if err := o.terminatePartialLine(); err != nil {
			f.Close()
			o.f = nil
			return err
		}
	}
	if iv := o.opts.Rotate.Interval; iv > 0 && o.regular {
		// A file left by an earlier run belongs to the period of its last
		// write: a restart after the boundary rotates it first.
		base := o.deps.now()
		if o.size > 0 && st.ModTime().Before(base) {
			base = st.ModTime()
		}
		o.nextRotate = nextBoundary(base, iv)
	}
	return nil
}

// terminatePartialLine ends a file that a crash left in the middle of a
// line with a newline, so that the next line is not glued to the fragment.
func (o *Output) terminatePartialLine() error {
	if o.size == 0 {
		return nil
	}
	var last [1]byte
	if _, err := o.f.ReadAt(last[:], o.size-1); err != nil {
		return fmt.Errorf("read last byte of %s: %w", o.opts.Path, err)
	}
	if last[0] == '\n' {
		return nil
	}
	o.log.Warn().Str("path", o.opts.Path).Msg("file ends in a partial line (a crash during a write?): terminating it with a newline")
	n, err := o.f.Write([]byte{'\n'})
	o.size += int64(n)
	if err != nil {
		return fmt.Errorf("terminate partial line in %s: %w", o.opts.Path, err)
	}
	o.unsynced = true
	return nil
}

// ready makes the active file writable: opened, no partial tail, rotated
// if its period ended.
func (o *Output) ready() error {
	if o.f == nil {
		if err := o.openActive(); err != nil {
			return err
		}
	}
	if o.cut > 0 {
		if err := o.undo(); err != nil {
			return err
		}
	}
	return o.rotateIfDue(o.deps.now())
}

// rotateIfDue rotates on a time boundary. An empty file is not rotated:
// there would be nothing to keep.
func (o *Output) rotateIfDue(now time.Time) error {
	if o.nextRotate.IsZero() || now.Before(o.nextRotate) {
		return nil
	}
	if o.size+int64(len(o.buf)) == 0 {
		o.nextRotate = nextBoundary(now, o.opts.Rotate.Interval)
		return nil
	}
	// Named after the boundary, not the moment we noticed it, so hourly
	// files are named on the hour.
	return o.rotate(o.nextRotate)
}

// rotate ends the active file on a line boundary, renames it to its
// rotated name stamped with at, and opens a new active file.
func (o *Output) rotate(at time.Time) error {
	if err := o.closeActive(o.opts.Fsync != FsyncNever); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	name := o.names.next(at)
	if err := os.Rename(o.opts.Path, name); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// Someone else (logrotate) moved the file away just now: it
			// is rotated already, and not ours to compress or remove.
			o.log.Info().Str("path", o.opts.Path).Msg("file moved away before rotation; opening a new one")
			return o.openActive()
		}
		// Keep writing to the active file; the rotation is retried.
		return errors.Join(fmt.Errorf("rotate: %w", err), o.openActive())
	}
	if o.opts.Fsync != FsyncNever {
		if err := syncDir(filepath.Dir(o.opts.Path)); err != nil {
			o.log.Warn().Err(err).Msg("rotate: fsync of directory failed")
		}
	}
	o.log.Debug().Str("path", o.opts.Path).Str("rotated", name).Msg("rotated")
	if err := o.openActive(); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	o.hk.rotated(name)
	return nil
}

// put accepts a chunk of whole lines into the buffer, writing the buffer
// out first when the chunk does not fit; a chunk larger than the whole
// buffer goes straight to the file.
func (o *Output) put(chunk []byte) error {
	if len(o.buf)+len(chunk) <= cap(o.buf) {
		o.buf = append(o.buf, chunk...)
		return nil
	}
	if err := o.flushBuf(); err != nil {
		return err
	}
	if len(chunk) <= cap(o.buf) {
		o.buf = append(o.buf, chunk...)
		return nil
	}
	return o.writeFile(chunk)
}

// flushBuf writes the buffer. On error the buffer is kept whole: its lines
// were accepted and are written by a later flush.
func (o *Output) flushBuf() error {
	if len(o.buf) == 0 {
		return nil
	}
	if err := o.writeFile(o.buf); err != nil {
		return err
	}
	o.buf = o.buf[:0]
	return nil
}

// writeFile writes whole lines. If the kernel takes only part of them, the
// part is truncated away again, so the file always ends on a line boundary.
func (o *Output) writeFile(p []byte) error {
	if o.cut > 0 {
		if err := o.undo(); err != nil {
			return err
		}
	}
	n, err := o.f.Write(p)
	o.size += int64(n)
	if n > 0 {
		o.unsynced = true
		o.writes++
	}
	if err == nil || n == len(p) {
		return nil
	}
	werr := fmt.Errorf("write %d bytes of lines: %w", len(p), err)
	if n > 0 {
		o.cut = n
		if uerr := o.undo(); uerr != nil {
			return errors.Join(werr, uerr)
		}
	}
	return werr
}

// undo truncates away the o.cut bytes a failed write left at the end.
func (o *Output) undo() error {
	if !o.regular {
		o.log.Warn().Str("path", o.opts.Path).Int("bytes", o.cut).Msg("a partial line went to a non-regular file and cannot be taken back")
		o.cut = 0
		return nil
	}
	st, err := o.f.Stat()
	if err != nil {
		return fmt.Errorf("remove partial line from %s: %w", o.opts.Path, err)
	}
	keep := max(st.Size()-int64(o.cut), 0)
	if err := o.f.Truncate(keep); err != nil {
		return fmt.Errorf("remove partial line from %s: %w", o.opts.Path, err)
	}
	o.size, o.cut = keep, 0
	return nil
}

func (o *Output) sync() error {
	if err := o.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", o.opts.Path, err)
	}
	o.unsynced, o.lastSync = false, o.deps.now()
	return nil
}

// loop runs the housekeeping tick until Close.
func (o *Output) loop(every time.Duration) {
	defer o.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			o.tick()
		}
	}
}

// tick does what is due with no batch arriving: rotate at a time boundary,
// sync with fsync: interval, sweep old rotated files.
func (o *Output) tick() {
	f, writes, now := o.tickLocked()
	if f == nil {
		return
	}
	// fsync runs without the lock, so that writing goes on meanwhile. If a
	// rotation or reopen closes f first, it has synced f itself.
	err := f.Sync()
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case err == nil:
		o.lastSync = now
		if o.writes == writes && o.f == f {
			o.unsynced = false
		}
	case !errors.Is(err, os.ErrClosed):
		o.log.Error().Err(err).Str("path", o.opts.Path).Msg("interval fsync failed")
	}
}

// tickLocked does the tick's work under the lock and returns the file to
// fsync, if an interval fsync is due.
func (o *Output) tickLocked() (handle, uint64, time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.deps.now()
	if o.closed || o.f == nil {
		return nil, 0, now
	}
	if o.cut == 0 {
		if err := o.rotateIfDue(now); err != nil {
			o.log.Error().Err(err).Msg("time rotation failed; retried at the next write or tick")
		}
	}
	if o.regular && o.opts.Retention.MaxAge > 0 && !now.Before(o.nextSweep) {
		o.nextSweep = now.Add(sweepEvery(o.opts.Retention.MaxAge))
		o.hk.sweep()
	}
	if o.f == nil || o.opts.Fsync != FsyncInterval || now.Sub(o.lastSync) < o.opts.FsyncInterval {
		return nil, 0, now
	}
	if err := o.flushBuf(); err != nil {
		o.log.Error().Err(err).Msg("interval flush failed")
	}
	if !o.unsynced {
		return nil, 0, now
	}
	return o.f, o.writes, now
}

// sweepEvery is how often age-based retention looks for expired files
// between rotations.
func sweepEvery(maxAge time.Duration) time.Duration {
	return min(max(maxAge/10, time.Second), 10*time.Minute)
}

// nextBoundary is the first multiple of interval after t. time.Truncate
// counts from the zero time, so intervals that divide a day fall on UTC
// midnight, hours and minutes.
func nextBoundary(t time.Time, interval time.Duration) time.Time {
	return t.UTC().Truncate(interval).Add(interval)
}

func lineStart(l *outputs.Lines, i int) int {
	if i == 0 {
		return 0
	}
	return l.Ends[i-1]
}

// fitting returns the largest end in [start, len(l.Ends)] such that the
// lines start..end-1 take at most room bytes.
func fitting(l *outputs.Lines, start int, room int64) int {
	base := int64(lineStart(l, start))
	rest := l.Ends[start:]
	k := sort.Search(len(rest), func(i int) bool { return int64(rest[i])-base > room })
	return start + k
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
