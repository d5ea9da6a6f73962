package unixsock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/eventid"
	"github.com/alertgw/alertgw/inputs/journal"
)

// Server is a set of bound sockets of one input, all of one type.
type Server struct {
	cfg     Config
	partial byteBudget // bytes of unfinished stream lines beyond each connection's first 64 KiB
	socks   []*socket
	failLog zerolog.Logger // rate-limited, for per-message problems
	once    sync.Once
}

// Listen expands the paths and binds every socket now, so that a bad path
// fails at start-up. Run reads them; Close releases them if Run never runs.
func Listen(cfg Config) (*Server, error) {
	cfg.fill()
	if probs := cfg.Options.Validate(); len(probs) > 0 {
		return nil, probs.Err()
	}
	if err := checkReaderNice(cfg.ReaderNice); err != nil {
		return nil, err
	}
	paths, err := ExpandPaths(cfg.Paths)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, failLog: cfg.Log.Sample(&zerolog.BurstSampler{Burst: 5, Period: 10 * time.Second})}
	s.partial.max = int64(cfg.MaxPartialBytes)
	for _, p := range paths {
		sk, err := bind(p, &s.cfg)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.socks = append(s.socks, sk)
		cfg.Log.Info().Str("socket", absPath(p)).Str("type", cfg.SocketType).Str("mode", cfg.SocketMode.String()).
			Str("group", cfg.SocketGroup).Msg("listening")
	}
	if Type(cfg.SocketType) == Dgram {
		CheckDgramQlen(cfg.Log, cfg.Sensor)
	}
	warnRootWithoutGroup(cfg.Log, os.Geteuid(), &cfg, s.AbsPaths())
	cfg.Stats.SetCheck(s.checkSockets)
	return s, nil
}

// warnRootWithoutGroup warns when the gateway runs as root and no
// socket_group is set: the socket is then root's, in a directory only
// root may enter (created 0750), and a sensor running as its own user
// (Suricata with run-as or --user; Snort with -u and -g) gets "permission
// denied" with no hint of why.
func warnRootWithoutGroup(log zerolog.Logger, euid int, cfg *Config, paths []string) {
	if euid != 0 || cfg.SocketGroup != "" || cfg.SocketMode.Perm()&0o006 == 0o006 {
		return
	}
	log.Warn().Strs("sockets", paths).Str("mode", cfg.SocketMode.String()).
		Msg("alertgw runs as root and socket_group is not set: the socket belongs to root:root, so a sensor running as its own user (Suricata with run-as or --user, Snort with -u) gets \"permission denied\" connecting; set socket_group to the sensor's group (e.g. socket_group: suricata), see the input's documentation")
}

// checkSockets tells whether every socket file is still the one bound
// here: a socket removed (a cleanup script, a tmpfiles rule, rm -rf on the
// directory) or replaced by another file leaves the input running but
// unreachable, so it must not count as ready.
func (s *Server) checkSockets() error {
	for _, sk := range s.socks {
		if err := sk.check(); err != nil {
			return err
		}
	}
	return nil
}

// absPath is p made absolute, for messages: a sensor resolves a relative
// path against its own directory, not alertgw's, so only the absolute one
// can be pasted into its configuration.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// AbsPaths returns the bound socket paths, absolute.
func (s *Server) AbsPaths() []string {
	out := s.Paths()
	for i, p := range out {
		out[i] = absPath(p)
	}
	return out
}

// Paths returns the bound socket paths.
func (s *Server) Paths() []string {
	out := make([]string, len(s.socks))
	for i, sk := range s.socks {
		out[i] = sk.path
	}
	return out
}

// Close closes every socket and removes its file. Run does it itself.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		for _, sk := range s.socks {
			err = errors.Join(err, sk.close())
		}
	})
	return err
}

// Run reads every socket until ctx ends, then reads what the kernel still
// queued (bounded by DrainTimeout), closes the sockets and removes their
// files.
func (s *Server) Run(ctx context.Context, emit inputs.Emitter) error {
	defer s.Close()
	h := newHandoff(emit, s.cfg.HandoffBytes, s.cfg.Linger)
	defer h.close() // after the readers: what they read is handed on
	errs := make(chan error, len(s.socks))
	var wg sync.WaitGroup
	for _, sk := range s.socks {
		wg.Go(func() {
			var err error
			if sk.typ.connected() {
				err = s.serveStream(ctx, sk, h, emit)
			} else {
				err = s.serveDgram(ctx, sk, h, emit)
			}
			if err != nil {
				errs <- fmt.Errorf("socket %s: %w", sk.path, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	var err error
	for e := range errs {
		err = errors.Join(err, e)
	}
	return err
}

// ReadDgramQlen returns net.unix.max_dgram_qlen of the current network
// namespace.
func ReadDgramQlen() (int, error) {
	b, err := os.ReadFile("/proc/sys/net/unix/max_dgram_qlen")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// CheckDgramQlen warns when net.unix.max_dgram_qlen is low. The kernel
// queues at most that many datagrams per socket (the value is read when the
// socket is created); what happens to the rest depends on the sensor, named
// by sensor (an input type: suricata, snort, unified2).
func CheckDgramQlen(log zerolog.Logger, sensor string) {
	q, err := ReadDgramQlen()
	if err != nil {
		log.Debug().Err(err).Msg("cannot read net.unix.max_dgram_qlen")
		return
	}
	checkDgramQlen(log, sensor, q)
}

// qlenEffect says what a full datagram queue does to each sensor.
var qlenEffect = map[string]string{
	"suricata": "Suricata in live mode sends without waiting (MSG_DONTWAIT) and drops the records that do not fit during bursts",
	"snort":    "Snort and Barnyard2 send blocking: a full queue stalls the sensor (Snort's packet thread) during bursts",
	"unified2": "a unified2 relay that sends without waiting drops the records that do not fit; one that waits is stalled",
}

func checkDgramQlen(log zerolog.Logger, sensor string, q int) {
	if q >= RecommendedDgramQlen {
		return
	}
	effect, ok := qlenEffect[sensor]
	see := " (see the " + sensor + " input's documentation)"
	if !ok {
		effect, see = "a sender that does not wait drops what does not fit; one that waits is stalled", ""
	}
	log.Warn().Int("max_dgram_qlen", q).Int("recommended", RecommendedDgramQlen).Str("sensor", sensor).
		Msgf("net.unix.max_dgram_qlen is low: the kernel queues only %d datagrams per socket, and %s; set `sysctl -w net.unix.max_dgram_qlen=%d` (systemd's default) before starting alertgw%s",
			q, effect, RecommendedDgramQlen, see)
}

// batch makes the batch of messages just read. With a journal, they are
// appended to it first; the batch carries the function that acknowledges
// them and their origin in the journal (the ids of their events). A batch
// that cannot be journaled goes on without: counted and logged.
func (s *Server) batch(msgs [][]byte) *inputs.Batch {
	b := &inputs.Batch{Msgs: msgs, Received: time.Now()}
	j := s.cfg.Journal
	if j == nil {
		return b
	}
	seq, origin, err := j.Append(msgs)
	if errors.Is(err, journal.ErrNotOpen) {
		return b // taking over from another process: opened once it has gone
	}
	if err != nil {
		s.cfg.Stats.JournalErrors.Add(1)
		s.failLog.Error().Err(err).Int("messages", len(msgs)).
			Msg("journal append failed: these messages are not protected against a crash until the disk buffers have them")
		return b
	}
	b.Durable = j.AckFunc(seq)
	b.Origins = []eventid.Run{{N: len(msgs), Origin: origin}}
	return b
}
