// Package store is the `store` output: an embedded, indexed event store in
// a directory (store/sqlite), searched by `alertgw search` and the search
// API. It is an ordinary output: its own queue, batching, disk buffer and
// metrics, so a slow store never holds back the outputs beside it.
//
// Retention deletes whole partition files, by age and by a disk budget,
// at start and periodically; files that are not provably the store's are
// never deleted. When the disk is full (or its free space falls below
// min_free) the output pauses: it stops writing, reports not ready, and its
// events wait in its queue until space comes back.
package store

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
	evstore "github.com/alertgw/alertgw/store"
	"github.com/alertgw/alertgw/store/sqlite"
)

// Type is the output type's name in configuration.
const Type = "store"

//go:embed sample.yaml
var sample []byte

// Plugin registers the output type `store`.
var Plugin = outputs.Plugin{
	Type:    Type,
	Sample:  sample,
	Summary: "an embedded, indexed event store (SQLite files per day or hour) for alertgw search and the search API",
	Options: func() any { return DefaultOptions() },
	New: func(env outputs.Env, opts any) (outputs.Output, error) {
		return New(env, opts.(*Options))
	},
}

// Options are the store block's own keys.
type Options struct {
	// Path is the store's directory (required), created with mode 0750.
	// Keep other files out of it: they are reported and left alone, never
	// deleted.
	Path string `mapstructure:"path"`
	// Retention deletes a partition whole once the end of its day (or
	// hour) is longer ago than this: 90d, 2w, 36h; 0 keeps everything.
	Retention evstore.Age `mapstructure:"retention"`
	// MaxBytes is a disk budget for the store's partitions (their
	// databases, WAL and shared memory; not the console's state or other
	// files): while they are larger the oldest partitions are deleted; the
	// newest always stays. 0: none.
	MaxBytes config.Size `mapstructure:"max_bytes"`
	// Partition is day or hour (UTC, by the time the gateway received the
	// event). Hourly partitions make retention finer and a file's indexes
	// smaller, at the cost of more files to search over long ranges.
	Partition string `mapstructure:"partition"`
	// Kinds lists the event kinds to keep (alert, flow, packet, anomaly,
	// event, audit, stats); empty: all. Others are counted as
	// skipped_kind_total.
	Kinds []string `mapstructure:"kinds"`
	// MinFree pauses the output while the store's filesystem has less free
	// space (see "When the disk is full"); 0 turns the check off (a write
	// that finds the disk full still pauses).
	MinFree config.Size `mapstructure:"min_free"`
	// Writers splits each partition into this many files, written in
	// parallel, so that at high rates on several cores the store keeps up
	// where one SQLite writer would not; 0: one per CPU, at most 4.
	Writers int `mapstructure:"writers"`
	// CheckInterval is how often retention, free space and idle files are
	// checked (also at start).
	CheckInterval time.Duration `mapstructure:"check_interval"`
}

// DefaultOptions returns the options with their defaults set.
func DefaultOptions() *Options {
	return &Options{
		Retention: evstore.Age(90 * 24 * time.Hour), Partition: sqlite.Day, MinFree: 64 << 20,
		CheckInterval: time.Minute,
	}
}

var kinds = []string{string(normalize.KindAlert), string(normalize.KindFlow), string(normalize.KindPacket),
	string(normalize.KindAnomaly), string(normalize.KindEvent), string(normalize.KindAudit), string(normalize.KindStats)}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if o.Path == "" {
		p.Add("path", "the store needs a directory, e.g. /var/lib/alertgw/store")
	}
	if o.Retention < 0 {
		p.Add("retention", "must not be negative")
	}
	if o.Partition != sqlite.Day && o.Partition != sqlite.Hour {
		p.Add("partition", "must be day or hour; got %q", o.Partition)
	}
	for i, k := range o.Kinds {
		ok := false
		for _, known := range kinds {
			ok = ok || k == known
		}
		if !ok {
			p.Add(fmt.Sprintf("kinds[%d]", i), "%q is not a kind: %s", k, strings.Join(kinds, ", "))
		}
	}
	if o.Writers < 0 || o.Writers > 16 {
		p.Add("writers", "must be between 0 (one per CPU) and 16; got %d", o.Writers)
	}
	if o.CheckInterval < time.Second {
		p.Add("check_interval", "must be at least 1s; got %s", o.CheckInterval)
	}
	return p
}

// Output writes batches to the store.
type Output struct {
	opts  Options
	log   zerolog.Logger
	stats *stats.Output
	keep  map[normalize.Kind]bool // nil: every kind

	mu      sync.Mutex // the writer, between Write and retention
	w       *sqlite.Writer
	sel     []*normalize.Event
	selIdx  []int
	foreign map[string]bool // reported already

	stop chan struct{}
	done chan struct{}
	free func(dir string) (uint64, error)
}

// New opens the store directory, applies retention once and starts the
// periodic checks.
func New(env outputs.Env, o *Options) (*Output, error) {
	if p := o.Validate(); len(p) > 0 {
		return nil, p.Err()
	}
	if env.Encoder != nil && env.Encoder.Name() != "native" {
		return nil, fmt.Errorf("store: format must be native (the store keeps the native event and searches its fields); got %s", env.Encoder.Name())
	}
	writers := o.Writers
	if writers == 0 {
		writers = min(runtime.NumCPU(), 4)
	}
	w, err := sqlite.OpenWriter(sqlite.WriterOptions{Dir: o.Path, Partition: o.Partition, Shards: writers})
	if err != nil {
		return nil, err
	}
	out := &Output{opts: *o, log: env.Log, stats: env.Stats, w: w, foreign: map[string]bool{},
		stop: make(chan struct{}), done: make(chan struct{}), free: freeBytes}
	if out.stats == nil {
		out.stats = &stats.Output{}
	}
	if len(o.Kinds) > 0 {
		out.keep = map[normalize.Kind]bool{}
		for _, k := range o.Kinds {
			out.keep[normalize.Kind(k)] = true
		}
	}
	out.housekeep(time.Now())
	go out.loop()
	return out, nil
}

func (o *Output) loop() {
	defer close(o.done)
	t := time.NewTicker(o.opts.CheckInterval)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case now := <-t.C:
			o.housekeep(now)
		}
	}
}

// housekeep applies retention, closes idle partitions, reports foreign
// files and updates the figures.
func (o *Output) housekeep(now time.Time) {
	parts, foreign, err := sqlite.Scan(o.opts.Path)
	if err != nil {
		o.log.Error().Err(err).Msg("store: cannot scan the store directory")
		return
	}
	for _, f := range foreign {
		if !o.foreign[f.Name] {
			o.foreign[f.Name] = true
			o.log.Warn().Str("file", f.Name).Str("reason", f.Reason).Str("dir", o.opts.Path).
				Msg("store: a file in the store directory is not a partition of this store; it is left alone")
		}
	}
	policy := sqlite.RetentionPolicy{MaxAge: time.Duration(o.opts.Retention), MaxBytes: int64(o.opts.MaxBytes)}
	removed := map[time.Time]bool{}
	for _, r := range policy.Expired(parts, now) {
		o.mu.Lock()
		o.w.ClosePartition(r.Files)
		err := sqlite.Remove(o.opts.Path, r.Partition)
		o.mu.Unlock()
		if err != nil {
			o.log.Error().Err(err).Strs("files", r.Files).Msg("store: retention could not delete a partition")
			continue
		}
		removed[r.Start] = true
		o.stats.Figures.Add("removed_partitions_total", 1)
		o.stats.Figures.Add("removed_bytes_total", r.Bytes)
		o.log.Info().Str("partition", r.Start.Format(time.RFC3339)).Str("reason", r.Reason).Int64("bytes", r.Bytes).
			Strs("files", r.Files).Msg("store: retention deleted a partition")
	}
	var n, bytes int64
	for _, p := range parts {
		if !removed[p.Start] {
			n++
			bytes += p.Bytes
		}
	}
	o.stats.Figures.Set("partitions", n)
	o.stats.Figures.Set("bytes", bytes)
	o.stats.Figures.Set("foreign_files", int64(len(foreign)))
	o.mu.Lock()
	o.w.CloseIdle(10 * time.Minute)
	o.mu.Unlock()
}

// nativeEncoder is the format the store keeps.
var nativeEncoder format.Encoder = format.Native{}

// errFull is the pause: the pipeline retries the batch with backoff while
// it holds the events in the output's queue.
var errFull = errors.New("store: disk full")

// Write implements outputs.Output.
func (o *Output) Write(ctx context.Context, b *outputs.Batch) error {
	if err := o.checkSpace(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sel, o.selIdx = o.sel[:0], o.selIdx[:0]
	for i, e := range b.Events {
		if o.keep == nil || o.keep[e.Kind] {
			o.sel = append(o.sel, e)
			o.selIdx = append(o.selIdx, i)
		}
	}
	if skipped := len(b.Events) - len(o.sel); skipped > 0 {
		o.stats.Figures.Add("skipped_kind_total", int64(skipped))
	}
	if len(o.sel) == 0 {
		return nil
	}
	lines := b.Encode(nativeEncoder)
	failed, err := o.w.Write(ctx, o.sel, func(i int) []byte { return lines.Line(o.selIdx[i]) })
	if err == nil {
		o.stats.Resume()
		return nil
	}
	if isFull(err) {
		o.pause(fmt.Sprintf("disk full writing %s", o.opts.Path))
		err = fmt.Errorf("%w: %v", errFull, err)
	}
	if len(failed) == len(o.sel) {
		return err
	}
	pe := &outputs.PartialError{}
	for _, i := range failed {
		pe.Failed = append(pe.Failed, outputs.ItemFailure{Index: o.selIdx[i], Reason: "store", Detail: err.Error()})
	}
	return pe
}

func (o *Output) pause(reason string) {
	if o.stats.PausedFor() == "" {
		o.log.Warn().Str("reason", reason).Msg("store: paused; events wait in the output's queue until space comes back")
	}
	o.stats.Pause(reason)
}

// checkSpace pauses the output while the store's filesystem has less than
// min_free bytes free, and resumes it when space comes back.
func (o *Output) checkSpace() error {
	if o.opts.MinFree == 0 {
		return nil
	}
	free, err := o.free(o.opts.Path)
	if err != nil {
		return nil // cannot tell: let the write find out
	}
	if free < uint64(o.opts.MinFree) {
		o.pause(fmt.Sprintf("%d bytes free on the store's filesystem, below min_free %d", free, uint64(o.opts.MinFree)))
		return fmt.Errorf("%w: %d bytes free, min_free is %d", errFull, free, uint64(o.opts.MinFree))
	}
	if o.stats.PausedFor() != "" {
		o.log.Info().Uint64("free_bytes", free).Msg("store: space is back; resuming")
		o.stats.Resume()
	}
	return nil
}

func freeBytes(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// isFull tells a full disk from other failures: SQLite reports SQLITE_FULL
// (13), the OS ENOSPC or EDQUOT.
func isFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "database or disk is full") || strings.Contains(s, "SQLITE_FULL")
}

// Close stops the checks and closes the store.
func (o *Output) Close() error {
	close(o.stop)
	<-o.done
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.w.Close()
}

// Dir returns the store directory of a store block's options, for the
// search command.
func Dir(opts *Options) string { return filepath.Clean(opts.Path) }
