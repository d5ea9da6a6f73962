// Package unixsock is the listening side of every input that sensors feed
// through Unix sockets: Suricata's eve-log (unix_dgram, unix_stream), Snort's
// alert_unixsock, Barnyard2 and Trisul-style unified2 relays.
//
// The sensor is always the client: it connect()s to a path and send()s; the
// gateway binds the path. So this package owns what is easy to get wrong:
//
//   - safe creation: an existing path is replaced only when it is a stale
//     socket; the socket is bound under a temporary name, given its mode and
//     group, then rename()d onto the final path, so it is never reachable
//     with the wrong permissions; it is removed on shutdown;
//   - datagrams read in batches with recvmmsg(2) outside the Go netpoller
//     (pollfree.go), paced so that each read brings several (pacer.go), into
//     reusable buffers, with MSG_TRUNC detected per message;
//   - newline-delimited streams with several concurrent connections, lines
//     split across reads and a bound on line length;
//   - a drain on shutdown: what the kernel already queued is read before the
//     socket is closed.
//
// Messages are copied out of the receive buffers into one fresh arena per
// batch (the pipeline's decoders may keep sub-slices of them). A datagram
// reader that keeps up normalizes its small batches itself, through the
// pipeline's direct path; otherwise batches go through a bounded hand-off
// buffer to inputs.Emitter.Messages, so that the readers keep draining the
// sockets while the pipeline is busy (see handoff.go).
//
// What cannot be handed on whole is dead-lettered through Emitter.Failed
// (counted in Stats.Failed): a truncated datagram with reason "truncated"
// (its received prefix is the dead-letter record), an over-long stream line
// with reason "too_large" (its first max_line_size bytes). Stats.Dropped is
// left for losses that leave no bytes behind: empty and newline-only
// datagrams (reason "empty"), senders rejected by their credentials.
package unixsock

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs/journal"
	"github.com/alertgw/alertgw/stats"
)

// Type is a socket type.
type Type string

// Socket types.
const (
	Dgram  Type = "dgram"  // one message per datagram (unix_dgram)
	Stream Type = "stream" // newline-delimited messages over connections (unix_stream)
	// SeqPacket is connections of messages, each answered with one byte
	// once the pipeline accepted it: Barnyard2's `alert_unixsock` with
	// "sync" (see seqpacket.go).
	SeqPacket Type = "seqpacket"
)

// connected reports whether t is a listening socket that accepts
// connections.
func (t Type) connected() bool { return t == Stream || t == SeqPacket }

// DropEmpty is the Stats.Dropped reason of empty and newline-only
// datagrams.
const DropEmpty = "empty"

// Defaults shared by the inputs built on this package.
const (
	DefaultMode = 0o660
	// DefaultMaxMessageSize is the largest datagram a default Linux sender
	// can send (net.core.wmem_default = 212992, minus 32 bytes of
	// overhead), rounded up to the buffer size itself: EVE records up to
	// that size arrive whole.
	DefaultMaxMessageSize = 212992
	DefaultMaxLineSize    = 16 << 20
	// DefaultMaxPartialBytes holds four lines of the default max_line_size.
	DefaultMaxPartialBytes = 64 << 20
	DefaultDrainTimeout    = 2 * time.Second
	DefaultMaxConnections  = 64
	DefaultIdleTimeout     = time.Minute
	// RecommendedDgramQlen is the net.unix.max_dgram_qlen below which a
	// warning is logged: systemd's sysctl defaults set 512.
	RecommendedDgramQlen = 512

	maxPathLen = 107 // sizeof(sun_path) - 1 for the terminating NUL
)

// Options are the socket settings shared by the inputs built on this
// package. Inputs embed them with `mapstructure:",squash"` and set their own
// defaults (Suricata: dgram; Snort: dgram only, 65 928-byte datagrams).
type Options struct {
	// SocketType is dgram (one message per datagram: Suricata's
	// unix_dgram, Snort, Barnyard2), stream (newline-delimited messages
	// over any number of connections: Suricata's unix_stream) or, where
	// the input offers it, seqpacket (Barnyard2's acknowledged sync mode).
	SocketType string `mapstructure:"socket_type"`
	// SocketMode is the permission bits of the socket file, set before
	// the socket appears at its path. The sender needs write permission;
	// the owner must keep read and write.
	SocketMode config.FileMode `mapstructure:"socket_mode"`
	// SocketGroup is the group name or number owning the socket file (the
	// group the sensor runs as); empty: the gateway's group. Needs root or
	// membership of the group.
	SocketGroup string `mapstructure:"socket_group"`
	// ReceiveBuffer is SO_RCVBUF in bytes (SO_RCVBUFFORCE as root, so
	// net.core.rmem_max does not cap it); 0 keeps the kernel default. The
	// granted size is logged. On Linux a datagram socket's queue is bounded
	// by net.unix.max_dgram_qlen and the sender's send buffer rather than
	// by this: see inputs/suricata/README.md.
	ReceiveBuffer config.Size `mapstructure:"receive_buffer"`
	// MaxMessageSize is the largest datagram read whole; a larger one is
	// truncated by the kernel, counted and dead-lettered.
	MaxMessageSize config.Size `mapstructure:"max_message_size"`
	// MaxLineSize is the longest stream line (without its newline); a
	// longer one is dead-lettered.
	MaxLineSize config.Size `mapstructure:"max_line_size"`
	// MaxPartialBytes bounds the bytes all stream connections of the input
	// hold together in unfinished lines (beyond 64 KiB each): a line that
	// would take more is dead-lettered with reason line_budget.
	MaxPartialBytes config.Size `mapstructure:"max_partial_bytes"`
	// AllowedUIDs, when it or allowed_gids is set, admits only senders
	// whose uid is listed (or whose gid is in allowed_gids), checked with
	// the kernel's credentials (SCM_CREDENTIALS per datagram, SO_PEERCRED
	// per stream connection); others are counted and refused.
	AllowedUIDs []uint32 `mapstructure:"allowed_uids"`
	// AllowedGIDs admits senders whose gid is listed; see allowed_uids.
	AllowedGIDs []uint32 `mapstructure:"allowed_gids"`
	// MaxConnections is the most stream connections at once (each may
	// buffer up to max_line_size), 1-65536. When all are taken, a new
	// connection takes the place of the one idle longest (one that never
	// sent first); only when every one is an active sender is it refused.
	MaxConnections int `mapstructure:"max_connections"`
	// IdleTimeout closes a stream connection that sends nothing for this
	// long after connecting; one quiet this long may also make room for a
	// new connection when max_connections are taken. 0: never (then only
	// connections that never sent make room).
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// ReaderNice is the nice value (-20 to 19) of the thread that reads a
	// datagram socket; 0 leaves it at the process's. A negative value
	// lets the reader take a CPU from the gateway's other threads as soon
	// as datagrams arrive, so that a sender that never waits (Suricata in
	// live mode) loses less on a busy host. A negative value needs root
	// or CAP_SYS_NICE: without, the input does not start.
	ReaderNice int `mapstructure:"reader_nice"`
}

// checksPeers reports whether senders are filtered by credentials.
func (o *Options) checksPeers() bool { return len(o.AllowedUIDs)+len(o.AllowedGIDs) > 0 }

// peerAllowed reports whether a sender with these credentials may send.
func (o *Options) peerAllowed(uid, gid uint32) bool {
	return slices.Contains(o.AllowedUIDs, uid) || slices.Contains(o.AllowedGIDs, gid)
}

// DefaultOptions returns Options with the package defaults.
func DefaultOptions() Options {
	return Options{
		SocketType:      string(Dgram),
		SocketMode:      DefaultMode,
		MaxMessageSize:  DefaultMaxMessageSize,
		MaxLineSize:     DefaultMaxLineSize,
		MaxPartialBytes: DefaultMaxPartialBytes,
		MaxConnections:  DefaultMaxConnections,
		IdleTimeout:     DefaultIdleTimeout,
	}
}

// Validate checks the options; paths are relative to the input's block.
func (o *Options) Validate() config.Problems {
	var probs config.Problems
	switch Type(o.SocketType) {
	case Dgram, Stream, SeqPacket:
	default:
		probs.Add("socket_type", "must be dgram, stream or seqpacket, not %q", o.SocketType)
	}
	if o.SocketMode&0o600 != 0o600 {
		probs.Add("socket_mode", "%s does not let the owner read and write the socket", o.SocketMode)
	}
	if o.SocketMode&0o7000 != 0 {
		probs.Add("socket_mode", "%s: setuid, setgid and sticky bits mean nothing on a socket", o.SocketMode)
	}
	if o.SocketGroup != "" {
		if _, err := lookupGroup(o.SocketGroup); err != nil {
			probs.Add("socket_group", "%v", err)
		}
	}
	if o.ReceiveBuffer > 1<<30 {
		probs.Add("receive_buffer", "%d bytes is more than 1GiB", uint64(o.ReceiveBuffer))
	}
	if o.MaxMessageSize < 1024 || o.MaxMessageSize > 64<<20 {
		probs.Add("max_message_size", "must be between 1KiB and 64MiB, not %d", uint64(o.MaxMessageSize))
	}
	if o.MaxLineSize < 1024 || o.MaxLineSize > 1<<30 {
		probs.Add("max_line_size", "must be between 1KiB and 1GiB, not %d", uint64(o.MaxLineSize))
	}
	if o.MaxPartialBytes < o.MaxLineSize || o.MaxPartialBytes > 1<<40 {
		probs.Add("max_partial_bytes", "must be at least max_line_size (%d) and at most 1TiB, not %d", uint64(o.MaxLineSize), uint64(o.MaxPartialBytes))
	}
	if o.MaxConnections < 1 || o.MaxConnections > 65536 {
		probs.Add("max_connections", "must be between 1 and 65536, not %d", o.MaxConnections)
	}
	if o.ReaderNice < -20 || o.ReaderNice > 19 {
		probs.Add("reader_nice", "must be between -20 and 19, not %d", o.ReaderNice)
	} else if o.ReaderNice != 0 && Type(o.SocketType) != Dgram {
		probs.Add("reader_nice", "applies to socket_type dgram only (a stream sender waits for the reader instead of losing messages)")
	}
	if o.IdleTimeout < 0 || (o.IdleTimeout > 0 && o.IdleTimeout < 100*time.Millisecond) {
		probs.Add("idle_timeout", "must be 0 (never) or at least 100ms, not %s", o.IdleTimeout)
	}
	return probs
}

// ValidatePath checks a socket path or glob; key is its key in the block.
func ValidatePath(key, path string) config.Problems {
	var probs config.Problems
	switch {
	case path == "":
		probs.Add(key, "a socket path is required")
	case len(path) > maxPathLen:
		probs.Add(key, "%d bytes long: Unix socket paths are limited to %d bytes", len(path), maxPathLen)
	case strings.HasSuffix(path, "/"):
		probs.Add(key, "%q names a directory, not a socket", path)
	default:
		if _, err := filepath.Match(path, ""); err != nil {
			probs.Add(key, "bad glob pattern %q: %v", path, err)
		}
	}
	return probs
}

// Config is what Listen needs: the decoded options plus what the input
// knows.
type Config struct {
	// Paths are socket paths. A path with glob characters is expanded at
	// start-up (see ExpandPaths): one socket is bound per match.
	Paths []string
	Options
	// TrimNewline removes a trailing "\n" (and "\r") from every datagram:
	// Suricata ends each one with a newline. Binary inputs leave it false.
	TrimNewline bool
	// BatchSize is the most datagrams read by one recvmmsg call and handed
	// on as one batch; 0: 64.
	BatchSize int
	// HandoffBytes bounds the messages read but not yet taken by the
	// pipeline (see handoff); 0: DefaultHandoffBytes.
	HandoffBytes int
	// Linger is how long a small batch may wait for more before it goes
	// to the pipeline (fewer, larger batches at moderate rates); 0:
	// DefaultLinger; negative: never wait.
	Linger time.Duration
	// Shrink, when not nil, appends a datagram to dst in the form the
	// input's decoder will be given: for fixed-size binary sensors whose
	// datagrams are mostly padding (Snort's 65,864 bytes carry ~500
	// useful ones), so that only the useful bytes are copied and kept.
	// It must return the datagram verbatim when it does not shrink it,
	// and never fail: the decoder dead-letters what it cannot read.
	Shrink func(dst, datagram []byte) []byte
	// Sensor is the input type (suricata, snort, unified2), for messages
	// that depend on how that sensor sends.
	Sensor string
	// DrainTimeout bounds the read of what is still queued at shutdown.
	DrainTimeout time.Duration
	// Journal, when not nil, gets every batch of messages as soon as it is
	// read, before it is handed on (see package inputs/journal).
	Journal *journal.Journal
	Log     zerolog.Logger
	Stats   *stats.Input
}

func (c *Config) fill() {
	if c.SocketType == "" {
		c.SocketType = string(Dgram)
	}
	if c.SocketMode == 0 {
		c.SocketMode = DefaultMode
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.MaxLineSize == 0 {
		c.MaxLineSize = DefaultMaxLineSize
	}
	if c.MaxPartialBytes == 0 {
		c.MaxPartialBytes = max(DefaultMaxPartialBytes, c.MaxLineSize)
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 64
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.HandoffBytes <= 0 {
		c.HandoffBytes = DefaultHandoffBytes
	}
	if c.Linger == 0 {
		c.Linger = DefaultLinger
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.Stats == nil {
		c.Stats = &stats.Input{}
	}
}

// ExpandPaths turns patterns into socket paths. A plain path is kept as is.
// A pattern whose last element is literal ("/var/log/snort/*/snort_alert")
// is expanded over existing directories: one socket per matching
// directory. A pattern whose last element has glob characters
// ("/var/log/snort/*_snort_alert") matches existing files, which must be
// sockets (stale ones from a previous run, or ones an administrator
// created). A pattern that matches nothing is an error: a sensor would
// otherwise be silently unheard.
func ExpandPaths(patterns []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range patterns {
		var matches []string
		switch {
		case !hasMeta(p):
			matches = []string{p}
		case !hasMeta(filepath.Base(p)):
			dirs, err := filepath.Glob(filepath.Dir(p))
			if err != nil {
				return nil, fmt.Errorf("socket pattern %q: %w", p, err)
			}
			for _, d := range dirs {
				if fi, err := os.Stat(d); err == nil && fi.IsDir() {
					matches = append(matches, filepath.Join(d, filepath.Base(p)))
				}
			}
		default:
			m, err := filepath.Glob(p)
			if err != nil {
				return nil, fmt.Errorf("socket pattern %q: %w", p, err)
			}
			matches = m
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("socket pattern %q matches nothing", p)
		}
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out, nil
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }
