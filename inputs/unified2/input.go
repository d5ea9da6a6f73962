// Package unified2 is the `unified2` input: it follows a spool directory of
// unified2 files written by Snort or Suricata (mode: spool, like Barnyard2's
// -d DIR -f PREFIX, with a bookmark), or receives unified2 records over a
// Unix datagram socket (mode: socket). Records are aggregated (event +
// packets + extra data) by normalize/unified2 here, in the input, because
// aggregation is stateful; the input emits finished events.
package unified2

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/sigfiles"
	u2 "github.com/alertgw/alertgw/normalize/unified2"
)

// Options of a `type: unified2` block.
type Options struct {
	// Mode is spool (follow a directory of files) or socket (unified2
	// records over a datagram socket, see "Socket mode").
	Mode string `mapstructure:"mode"`

	// Directory is the directory the sensor writes to (spool mode,
	// required; Barnyard2's -d).
	Directory string `mapstructure:"directory"`
	// Prefix is the file name before .<timestamp> (spool mode, required;
	// Barnyard2's -f): snort.u2 (Snort 2 `output unified2: filename
	// snort.u2`), unified2.log (Snort 3), unified2.alert (Suricata).
	Prefix string `mapstructure:"prefix"`
	// NoStamp follows Snort's nostamp file: one file named prefix (no
	// .<timestamp>), rewritten from its start at every Snort start and
	// roll-over (see "Snort's nostamp").
	NoStamp bool `mapstructure:"nostamp"`
	// Bookmark is where the position is kept; default
	// <directory>/.<prefix>.alertgw-bookmark.
	Bookmark string `mapstructure:"bookmark"`
	// Processed is what becomes of a file once every alert in it was
	// delivered and a newer file exists: keep, delete or archive.
	Processed string `mapstructure:"processed"`
	// ArchiveDir is where processed: archive moves files (created if
	// missing).
	ArchiveDir string `mapstructure:"archive_dir"`
	// PollInterval is how often to look for more data at the end of the
	// newest file.
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// IdleFlush emits an event whose packets may still be coming after
	// this long without a new record (py-idstools uses 1 s too).
	IdleFlush time.Duration `mapstructure:"idle_flush"`

	// SocketOptions are socket mode's: socket (a path, a list, globs) and
	// the shared socket options.
	SocketOptions `mapstructure:",squash"`

	// BatchSize is how many alerts are handed to the pipeline at once (and
	// the granularity of the bookmark).
	BatchSize int `mapstructure:"batch_size"`
	// MaxRecord is the longest record: a header claiming more is corrupt,
	// and the rest of the file is skipped.
	MaxRecord config.Size `mapstructure:"max_record"`
	// PacketBytes keeps the first packet, base64, in details.packet.
	PacketBytes bool `mapstructure:"packet_bytes"`
	// Signatures name the maps that give alerts their message and
	// category; reloaded on SIGHUP.
	Signatures sigfiles.Files `mapstructure:"signatures"`
	// DrainWait is how long, at shutdown, to wait for the outputs to
	// acknowledge what was read, so that the last bookmark covers it.
	DrainWait time.Duration `mapstructure:"drain_wait"`
}

// DefaultOptions are the defaults of a unified2 block.
func DefaultOptions() *Options {
	return &Options{
		Mode:         "spool",
		Processed:    "keep",
		PollInterval: 250 * time.Millisecond,
		IdleFlush:    time.Second, // py-idstools' u2eve uses 1 s too
		BatchSize:    256,
		MaxRecord:    u2.DefaultMaxBody,
		PacketBytes:  true,
		DrainWait:    5 * time.Second,

		SocketOptions: defaultSocketOptions(),
	}
}

// Validate checks the options (paths relative to the block).
func (o *Options) Validate() config.Problems {
	var p config.Problems
	switch o.Mode {
	case "spool":
		if o.Directory == "" {
			p.Add("directory", "required in spool mode (the directory Snort writes unified2 files to)")
		}
		if o.Prefix == "" {
			p.Add("prefix", "required in spool mode (file name before .<timestamp>, e.g. snort.u2)")
		}
		if o.NoStamp && o.Processed != "keep" {
			p.Add("processed", "must be keep with nostamp: the one file is the one Snort writes to")
		}
		switch o.Processed {
		case "keep", "delete":
		case "archive":
			if o.ArchiveDir == "" {
				p.Add("archive_dir", "required when processed is archive")
			}
		default:
			p.Add("processed", "must be keep, delete or archive; got %q", o.Processed)
		}
		if o.PollInterval <= 0 {
			p.Add("poll_interval", "must be positive")
		}
	case "socket":
		p = append(p, o.SocketOptions.validate()...)
	default:
		p.Add("mode", "must be spool or socket; got %q", o.Mode)
	}
	if o.BatchSize < 1 || o.BatchSize > 65536 {
		p.Add("batch_size", "must be between 1 and 65536; got %d", o.BatchSize)
	}
	if o.MaxRecord < 64<<10 || o.MaxRecord > 64<<20 {
		p.Add("max_record", "must be between 64KiB and 64MiB")
	}
	return p
}

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the input type.
var Plugin = inputs.Plugin{
	Type:    "unified2",
	Summary: "unified2 records from Snort/Suricata: a spool directory (with bookmark) or a datagram socket",
	Sample:  sample,
	Options: func() any { return DefaultOptions() },
	Files:   newFileReader,
	New:     New,
}

// Input is a configured unified2 input.
type Input struct {
	env    inputs.Env
	opts   *Options
	mapper *u2.Mapper
	sock   *socketListener // socket mode
}

// New builds the input; in socket mode it binds the sockets now.
func New(env inputs.Env, o any) (inputs.Input, error) {
	opts := o.(*Options)
	m, err := newMapper(opts)
	if err != nil {
		return nil, err
	}
	if m.Sigs != nil {
		n, c := m.Sigs.Tables().Len()
		env.Log.Info().Int("signatures", n).Int("classifications", c).Msg("signature maps loaded")
	}
	in := &Input{env: env, opts: opts, mapper: m}
	switch opts.Mode {
	case "spool":
		st, err := os.Stat(opts.Directory)
		if err != nil {
			return nil, fmt.Errorf("spool directory: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("spool directory %s is not a directory", opts.Directory)
		}
		if opts.Processed == "archive" {
			if err := os.MkdirAll(opts.ArchiveDir, 0o750); err != nil {
				return nil, fmt.Errorf("archive directory: %w", err)
			}
		}
		// The bookmark is what makes a restart resume instead of reading
		// the spool again: its directory is created like the others, and
		// one it cannot write to fails the start, not the first write.
		if err := ensureWritableDir(filepath.Dir(opts.BookmarkPath())); err != nil {
			return nil, fmt.Errorf("bookmark %s: %w", opts.BookmarkPath(), err)
		}
	case "socket":
		l, err := newSocketListener(env, &opts.SocketOptions)
		if err != nil {
			return nil, err
		}
		in.sock = l
	}
	return in, nil
}

// ensureWritableDir creates dir (0750) if needed and checks that a file
// can be created in it.
func ensureWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".alertgw-write-test*")
	if err != nil {
		return fmt.Errorf("directory %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// newMapper makes the mapper of the options, with their signature maps.
func newMapper(opts *Options) (*u2.Mapper, error) {
	sigs, err := sigfiles.Load(opts.Signatures)
	if err != nil {
		return nil, err
	}
	return &u2.Mapper{NoPacketBytes: !opts.PacketBytes, Sigs: sigs}, nil
}

// BookmarkPath is where the spool bookmark lives.
func (o *Options) BookmarkPath() string {
	if o.Bookmark != "" {
		return o.Bookmark
	}
	return filepath.Join(o.Directory, "."+o.Prefix+".alertgw-bookmark")
}

// Run reads until ctx ends.
func (in *Input) Run(ctx context.Context, emit inputs.Emitter) error {
	if in.sock != nil {
		return in.sock.run(ctx, emit, in.mapper, in.opts, in.env.Stats)
	}
	s := &Spool{
		Dir: in.opts.Directory, Prefix: in.opts.Prefix, NoStamp: in.opts.NoStamp, BookmarkPath: in.opts.BookmarkPath(),
		Processed: in.opts.Processed, ArchiveDir: in.opts.ArchiveDir,
		Poll: in.opts.PollInterval, IdleFlush: in.opts.IdleFlush, BatchSize: in.opts.BatchSize,
		MaxRecord: int(in.opts.MaxRecord), InputName: in.env.Name, Mapper: in.mapper,
		Log: in.env.Log, Stats: in.env.Stats, DrainWait: in.opts.DrainWait,
	}
	return s.Run(ctx, emit)
}

// Reopen reads the signature maps again (SIGHUP); on error the previous
// ones stay in use.
func (in *Input) Reopen() error {
	if in.mapper.Sigs == nil {
		return nil
	}
	if err := sigfiles.Reload(in.mapper.Sigs, in.opts.Signatures); err != nil {
		return err
	}
	in.env.Log.Info().Msg("signature maps reloaded")
	return nil
}

// Close releases the sockets of socket mode; spool mode closes its files
// as it goes.
func (in *Input) Close() error {
	if in.sock != nil {
		return in.sock.srv.Close()
	}
	return nil
}

// PathUses implements config.PathLister: which paths the input uses
// depends on its mode.
func (o *Options) PathUses() []config.PathUse {
	if o.Mode == "socket" {
		var uses []config.PathUse
		for i, s := range o.Socket {
			uses = append(uses, config.PathUse{Key: fmt.Sprintf("socket[%d]", i), Path: s, Use: config.PathSocket})
		}
		return uses
	}
	uses := []config.PathUse{
		{Key: "directory", Path: o.Directory, Use: config.PathDir},
		{Key: "bookmark", Path: o.BookmarkPath(), Use: config.PathWrite},
	}
	if o.Processed == "archive" {
		uses = append(uses, config.PathUse{Key: "archive_dir", Path: o.ArchiveDir, Use: config.PathWriteDir})
	}
	return uses
}
