package pipeline

import (
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/outputs/format"
)

// Delivery holds the keys every output block has besides its own: how
// the pipeline encodes, queues, batches and retries what it delivers to
// the output (docs/delivery.md).
type Delivery struct {
	// Format is the encoding of the events the output receives: native
	// (docs/schema.md), ecs or ocsf (docs/formats.md).
	Format string `mapstructure:"format"`
	// ECSCompat picks a profile of the ecs format: "" (ECS as alertgw
	// writes it) or "filebeat" (Filebeat's Suricata module's fields too).
	ECSCompat string `mapstructure:"ecs_compat"`
	// Buffer is the output's queue: memory, spilling to disk.
	Buffer Buffer `mapstructure:"buffer"`
	// Batch groups queued events into one Write.
	Batch Batching `mapstructure:"batch"`
	// Retry is the backoff between attempts of a failing Write.
	Retry Retry `mapstructure:"retry"`
}

// Encoder is the encoder of the format and profile (validated already).
func (c *Delivery) Encoder() format.Encoder {
	enc, _ := format.LookupProfile(c.Format, c.ECSCompat)
	return enc
}

// Buffer is an output's queue: memory, spilling to a disk buffer in Path
// when one is given, or disk only (every event written ahead to disk).
// See docs/delivery.md.
type Buffer struct {
	// Type is memory (events wait in memory; with a path they spill to
	// disk when memory is full) or disk (every event is written to disk
	// before the input is told it was accepted).
	Type string `mapstructure:"type"`
	// MaxEvents is how many events wait in memory before spilling (or
	// before when_full applies).
	MaxEvents int `mapstructure:"max_events"`
	// MaxMemoryBytes bounds the bytes the memory queue holds (the events'
	// encodings and the raw messages they were made from), beside
	// max_events: whichever is reached first spills or applies when_full.
	MaxMemoryBytes config.Size `mapstructure:"max_memory_bytes"`
	// MaxBytes bounds the disk buffer's segment files; at least 1MiB.
	MaxBytes config.Size `mapstructure:"max_bytes"`
	// Path is the disk buffer's directory, one per output; required with
	// type: disk.
	Path string `mapstructure:"path" path:"writedir"`
	// WhenFull is what happens when memory (without a path) or the disk
	// buffer is full: block holds the inputs back, drop_newest drops the
	// incoming batch, drop_oldest the oldest waiting events (a whole
	// segment on disk). Every drop is counted by reason.
	WhenFull string `mapstructure:"when_full"`
	// Sync is when the disk buffer calls fsync: always, interval or never
	// (see "The disk buffer").
	Sync string `mapstructure:"sync"`
	// SyncInterval is the time between two fsyncs with sync: interval.
	SyncInterval time.Duration `mapstructure:"sync_interval"`
}

// Batching groups queued events into one Write.
type Batching struct {
	// MaxEvents is the most events one Write receives when queued batches
	// are joined or the disk buffer is read; one batch larger than it (a
	// forward request, a Kafka fetch) is written whole.
	MaxEvents int `mapstructure:"max_events"`
	// Linger is how long to wait for a batch to fill; 0 lingers not, but
	// under a steady flow of small batches writes at most once a
	// millisecond (an idle output writes at once).
	Linger time.Duration `mapstructure:"linger"`
}

// Retry is the backoff between attempts of a failing Write: exponential
// from Initial to Max, with jitter so that many gateways do not retry in
// step. Transient failures are retried until they succeed (or shutdown
// leaves the events in the disk buffer); permanent ones are dead-lettered.
type Retry struct {
	// Initial is the first backoff after a failed Write.
	Initial time.Duration `mapstructure:"initial"`
	// Max caps the backoff, which doubles after each failure.
	Max time.Duration `mapstructure:"max"`
}

// Buffer types and queue policies.
const (
	BufferMemory       = "memory"
	BufferDisk         = "disk"
	WhenFullBlock      = "block"
	WhenFullDropNewest = "drop_newest"
	WhenFullDropOldest = "drop_oldest"
)

// DefaultMaxMemoryBytes is buffer.max_memory_bytes by default: 100,000
// events of the usual 1-2 KB fit, 64 KiB events stop at about 2,000.
const DefaultMaxMemoryBytes = 256 << 20

// DefaultDelivery returns the defaults of the delivery keys.
func DefaultDelivery() *Delivery {
	return &Delivery{
		Format: "native",
		Buffer: Buffer{Type: BufferMemory, MaxEvents: 100_000, MaxMemoryBytes: DefaultMaxMemoryBytes, MaxBytes: 1 << 30, WhenFull: WhenFullBlock,
			Sync: "interval", SyncInterval: time.Second},
		Batch: Batching{MaxEvents: 1000},
		Retry: Retry{Initial: 100 * time.Millisecond, Max: 30 * time.Second},
	}
}

// Validate implements config.Validator.
func (c *Delivery) Validate() config.Problems {
	var p config.Problems
	if _, err := format.Lookup(c.Format); err != nil {
		p.Add("format", "%v", err)
	} else if _, err := format.LookupProfile(c.Format, c.ECSCompat); err != nil {
		p.Add("ecs_compat", "%v", err)
	}
	switch c.Buffer.Type {
	case BufferMemory:
	case BufferDisk:
		if c.Buffer.Path == "" {
			p.Add("buffer.path", "a disk buffer needs a directory")
		}
	default:
		p.Add("buffer.type", "must be memory or disk; got %q", c.Buffer.Type)
	}
	if c.Buffer.MaxEvents < 1 || c.Buffer.MaxEvents > 100_000_000 {
		p.Add("buffer.max_events", "must be between 1 and 100000000; got %d", c.Buffer.MaxEvents)
	}
	if c.Buffer.MaxMemoryBytes < 64<<10 || c.Buffer.MaxMemoryBytes > 1<<40 {
		p.Add("buffer.max_memory_bytes", "must be between 64KiB and 1TiB; got %d", c.Buffer.MaxMemoryBytes)
	}
	if c.Buffer.Path != "" && c.Buffer.MaxBytes < 1<<20 {
		p.Add("buffer.max_bytes", "must be at least 1MiB; got %d", c.Buffer.MaxBytes)
	}
	switch c.Buffer.WhenFull {
	case WhenFullBlock, WhenFullDropNewest, WhenFullDropOldest:
	default:
		p.Add("buffer.when_full", "must be block, drop_newest or drop_oldest; got %q", c.Buffer.WhenFull)
	}
	switch c.Buffer.Sync {
	case "always", "interval", "never":
	default:
		p.Add("buffer.sync", "must be always, interval or never; got %q", c.Buffer.Sync)
	}
	if c.Batch.MaxEvents < 1 || c.Batch.MaxEvents > 1_000_000 {
		p.Add("batch.max_events", "must be between 1 and 1000000; got %d", c.Batch.MaxEvents)
	}
	if c.Batch.Linger < 0 || c.Batch.Linger > time.Minute {
		p.Add("batch.linger", "must be between 0 and 1m; got %s", c.Batch.Linger)
	}
	if c.Retry.Initial <= 0 || c.Retry.Max < c.Retry.Initial {
		p.Add("retry", "need 0 < initial <= max; got initial %s, max %s", c.Retry.Initial, c.Retry.Max)
	}
	return p
}
