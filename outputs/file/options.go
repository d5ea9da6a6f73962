package file

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/alertgw/alertgw/config"
)

// Fsync policies: how often written data is forced to stable storage.
const (
	FsyncNever    = "never"    // leave it to the kernel (fastest; a power cut loses the page cache)
	FsyncInterval = "interval" // at most every fsync_interval, and on Close
	FsyncAlways   = "always"   // after every batch (slowest; nothing acknowledged is lost)
)

// Compression of rotated files.
const (
	CompressNone = "none"
	CompressGzip = "gzip"
)

// Options configure a file output. Paths in Validate's problems are
// relative to the output block ("rotate.max_size").
type Options struct {
	// Path is the active file (required); it always has this name, rotated
	// files are written beside it. Missing directories are created with
	// mode 0750.
	Path string `mapstructure:"path" path:"write"`
	// Mode is the mode of the files the output creates (the active file
	// and .gz files), exact, not reduced by the umask; it must include
	// 0600.
	Mode config.FileMode `mapstructure:"mode"`
	// BufferSize is the user-space write buffer (4KiB to 1GiB): lines are
	// handed to the kernel in whole lines, at most this many bytes at a
	// time.
	BufferSize config.Size `mapstructure:"buffer_size"`
	// Fsync is when written data is forced to disk: never, interval or
	// always (see "fsync trade-offs").
	Fsync string `mapstructure:"fsync"`
	// FsyncInterval bounds the time between two fsyncs while data is
	// pending, with fsync: interval (at least 10ms).
	FsyncInterval time.Duration `mapstructure:"fsync_interval"`

	// Rotate starts a new file by size or time.
	Rotate Rotate `mapstructure:"rotate"`
	// Retention removes old rotated files; it needs rotate set.
	Retention Retention `mapstructure:"retention"`
}

// Rotate says when the active file is closed and renamed.
type Rotate struct {
	// MaxSize rotates before a line would take the file past it; 0: never.
	MaxSize config.Size `mapstructure:"max_size"`
	// Interval rotates at every multiple of it, aligned to the UTC clock
	// (1h rotates on the hour, 24h at midnight UTC); 0: never.
	Interval time.Duration `mapstructure:"interval"`
	// Compress is none or gzip; gzip compresses rotated files in the
	// background.
	Compress string `mapstructure:"compress"`
}

// Retention removes old rotated files. The active file is never removed.
type Retention struct {
	// MaxAge removes rotated files older than this (by the time in their
	// name); 0: keep.
	MaxAge time.Duration `mapstructure:"max_age"`
	// MaxFiles keeps at most this many rotated files, the newest; 0: all.
	MaxFiles int `mapstructure:"max_files"`
}

// DefaultOptions returns the options with their defaults set.
func DefaultOptions() *Options {
	return &Options{
		Mode:          0o640,
		BufferSize:    1 << 20,
		Fsync:         FsyncInterval,
		FsyncInterval: time.Second,
		Rotate:        Rotate{Compress: CompressNone},
	}
}

// Limits that catch typos (a buffer of 1 TiB, an interval of 1ns).
const (
	minBufferSize  = 4 << 10
	maxBufferSize  = 1 << 30
	minInterval    = time.Second
	minMaxSize     = 4 << 10
	maxRetainFiles = 1_000_000
)

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	switch {
	case strings.TrimSpace(o.Path) == "":
		p.Add("path", "is required: the file to write JSON lines to")
	case strings.HasSuffix(o.Path, "/") || filepath.Base(o.Path) == "." || filepath.Base(o.Path) == "..":
		p.Add("path", "must name a file, not a directory; got %q", o.Path)
	}
	if o.Mode > 0o777 {
		p.Add("mode", "must be permission bits only (e.g. \"0640\"); got %s", o.Mode)
	} else if o.Mode&0o600 != 0o600 {
		p.Add("mode", "must let the owner read and write (0600 at least); got %s", o.Mode)
	}
	if o.BufferSize < minBufferSize || o.BufferSize > maxBufferSize {
		p.Add("buffer_size", "must be between 4KiB and 1GiB; got %d bytes", uint64(o.BufferSize))
	}
	switch o.Fsync {
	case FsyncNever, FsyncAlways:
	case FsyncInterval:
		if o.FsyncInterval < 10*time.Millisecond {
			p.Add("fsync_interval", "must be at least 10ms; got %s", o.FsyncInterval)
		}
	default:
		p.Add("fsync", "must be never, interval or always; got %q", o.Fsync)
	}
	if o.Rotate.MaxSize != 0 && o.Rotate.MaxSize < minMaxSize {
		p.Add("rotate.max_size", "must be 0 (no size rotation) or at least 4KiB; got %d bytes", uint64(o.Rotate.MaxSize))
	}
	if o.Rotate.Interval < 0 || (o.Rotate.Interval != 0 && o.Rotate.Interval < minInterval) {
		p.Add("rotate.interval", "must be 0 (no time rotation) or at least 1s; got %s", o.Rotate.Interval)
	} else if o.Rotate.Interval > 0 && (o.Rotate.Interval%time.Second != 0) {
		p.Add("rotate.interval", "must be a whole number of seconds; got %s", o.Rotate.Interval)
	}
	switch o.Rotate.Compress {
	case CompressNone, CompressGzip:
	case "":
		o.Rotate.Compress = CompressNone
	default:
		p.Add("rotate.compress", "must be none or gzip; got %q", o.Rotate.Compress)
	}
	if o.Retention.MaxAge < 0 {
		p.Add("retention.max_age", "must not be negative; got %s", o.Retention.MaxAge)
	}
	if o.Retention.MaxFiles < 0 || o.Retention.MaxFiles > maxRetainFiles {
		p.Add("retention.max_files", "must be between 0 (keep all) and %d; got %d", maxRetainFiles, o.Retention.MaxFiles)
	}
	if (o.Retention.MaxAge > 0 || o.Retention.MaxFiles > 0) && o.Rotate.MaxSize == 0 && o.Rotate.Interval == 0 {
		p.Add("retention", "applies to rotated files only: set rotate.max_size or rotate.interval too")
	}
	return p
}
