package file

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// housekeeper compresses rotated files and applies retention, on its own
// goroutine so that a slow gzip never holds up writing. Jobs run one at a
// time, in order: a file is compressed before retention looks at it.
type housekeeper struct {
	names    names
	compress bool
	mode     os.FileMode
	maxAge   time.Duration
	maxFiles int
	now      func() time.Time
	log      zerolog.Logger

	mu      sync.Mutex
	jobs    []string // rotated files to compress; "" asks for a retention pass only
	pending sync.WaitGroup
	wake    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
}

func newHousekeeper(n names, opts Options, now func() time.Time, log zerolog.Logger) *housekeeper {
	ctx, cancel := context.WithCancel(context.Background())
	return &housekeeper{
		names:    n,
		compress: opts.Rotate.Compress == CompressGzip,
		mode:     opts.Mode.Perm(),
		maxAge:   opts.Retention.MaxAge,
		maxFiles: opts.Retention.MaxFiles,
		now:      now,
		log:      log,
		wake:     make(chan struct{}, 1),
		ctx:      ctx,
		cancel:   cancel,
		done:     make(chan struct{}),
	}
}

// start tidies what an earlier run left: unfinished compressions are
// removed, rotated files still uncompressed are queued for compression, a
// retention pass is queued. It returns the newest stamp on disk so that new
// names sort after it.
func (h *housekeeper) start() time.Time {
	files, err := h.list()
	if err != nil {
		h.log.Warn().Err(err).Msg("cannot list rotated files")
	}
	var newest time.Time
	gz := map[time.Time]bool{}
	for _, f := range files {
		if f.stamp.After(newest) {
			newest = f.stamp
		}
		switch {
		case f.tmp:
			if err := os.Remove(f.path); err != nil && !errors.Is(err, os.ErrNotExist) {
				h.log.Warn().Err(err).Msg("cannot remove unfinished compression")
			}
		case f.gz:
			gz[f.stamp] = true
		}
	}
	for _, f := range files {
		if f.gz || f.tmp {
			continue
		}
		if gz[f.stamp] {
			// The .gz was complete (it is renamed into place only when
			// whole and synced); the source was about to be removed.
			if err := os.Remove(f.path); err != nil {
				h.log.Warn().Err(err).Msg("cannot remove compressed file's source")
			}
			continue
		}
		if h.compress {
			h.enqueue(f.path)
		}
	}
	h.sweep()
	return newest
}

// run starts the worker.
func (h *housekeeper) run() { go h.loop() }

// rotated queues a just-rotated file.
func (h *housekeeper) rotated(path string) { h.enqueue(path) }

// sweep queues a retention pass.
func (h *housekeeper) sweep() { h.enqueue("") }

func (h *housekeeper) enqueue(path string) {
	h.mu.Lock()
	h.jobs = append(h.jobs, path)
	h.pending.Add(1)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// idle waits until every queued job has run (tests).
func (h *housekeeper) idle() { h.pending.Wait() }

// close abandons queued work and waits for the worker: a compression in
// progress is cancelled, its source kept for the next start.
func (h *housekeeper) close() {
	h.cancel()
	<-h.done
}

func (h *housekeeper) loop() {
	defer close(h.done)
	for {
		select {
		case <-h.ctx.Done():
			h.mu.Lock()
			for range h.jobs {
				h.pending.Done()
			}
			h.jobs = nil
			h.mu.Unlock()
			return
		case <-h.wake:
		}
		h.mu.Lock()
		jobs := h.jobs
		h.jobs = nil
		h.mu.Unlock()
		sweep := false
		for _, path := range jobs {
			if path != "" && h.compress && h.ctx.Err() == nil {
				if err := compressFile(h.ctx, path, h.mode); err != nil {
					h.log.Error().Err(err).Msg("compression failed; the rotated file is kept uncompressed")
				}
			}
			sweep = true
		}
		if sweep && h.ctx.Err() == nil {
			h.retain()
		}
		for range jobs {
			h.pending.Done()
		}
	}
}

// list returns the output's rotated files, oldest first.
func (h *housekeeper) list() ([]rotatedFile, error) {
	entries, err := os.ReadDir(h.names.dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", h.names.dir, err)
	}
	var files []rotatedFile
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if f, ok := h.names.parse(e.Name()); ok {
			files = append(files, f)
		}
	}
	slices.SortFunc(files, func(a, b rotatedFile) int { return a.stamp.Compare(b.stamp) })
	return files, nil
}

// retain removes rotated files older than maxAge, then the oldest beyond
// maxFiles. The active file is not a rotated file and is never removed.
func (h *housekeeper) retain() {
	if h.maxAge <= 0 && h.maxFiles <= 0 {
		return
	}
	all, err := h.list()
	if err != nil {
		h.log.Warn().Err(err).Msg("retention skipped")
		return
	}
	files := all[:0]
	for _, f := range all {
		if !f.tmp {
			files = append(files, f)
		}
	}
	var remove []rotatedFile
	if h.maxAge > 0 {
		cutoff := h.now().Add(-h.maxAge)
		for len(files) > 0 && files[0].stamp.Before(cutoff) {
			remove, files = append(remove, files[0]), files[1:]
		}
	}
	if h.maxFiles > 0 && len(files) > h.maxFiles {
		remove = append(remove, files[:len(files)-h.maxFiles]...)
	}
	for _, f := range remove {
		if err := os.Remove(f.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			h.log.Warn().Err(err).Msg("retention: cannot remove rotated file")
			continue
		}
		h.log.Debug().Str("path", f.path).Msg("retention: removed rotated file")
	}
}

// compressFile gzips src to src.gz atomically: it writes src.gz.tmp,
// fsyncs it, renames it into place, and only then removes src. On any
// error the temporary file goes and src stays.
func compressFile(ctx context.Context, src string, mode os.FileMode) (err error) {
	dst := src + gzSuffix
	tmp := dst + tmpSuffix
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("compress: %w", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("compress: %w", err)
	}
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("compress %s: %w", src, err)
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	zw := gzip.NewWriter(out)
	zw.Name, zw.ModTime = filepath.Base(src), st.ModTime()
	if _, err = io.Copy(zw, ctxReader{ctx, in}); err != nil {
		return fmt.Errorf("compress %s: %w", src, err)
	}
	if err = zw.Close(); err != nil {
		return fmt.Errorf("compress %s: %w", src, err)
	}
	if err = out.Sync(); err != nil {
		return fmt.Errorf("compress %s: fsync: %w", src, err)
	}
	if err = out.Close(); err != nil {
		return fmt.Errorf("compress %s: %w", src, err)
	}
	if err = os.Chtimes(tmp, st.ModTime(), st.ModTime()); err != nil {
		return fmt.Errorf("compress %s: %w", src, err)
	}
	if err = os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("compress %s: %w", src, err)
	}
	if serr := syncDir(filepath.Dir(dst)); serr != nil {
		// The .gz is complete; keep the source until the rename is durable.
		return fmt.Errorf("compress %s: fsync directory: %w", src, serr)
	}
	if rerr := os.Remove(src); rerr != nil {
		return fmt.Errorf("compress %s: remove source: %w", src, rerr)
	}
	return nil
}

// ctxReader stops a copy when ctx ends (Close abandons a compression).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
