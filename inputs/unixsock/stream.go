package unixsock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
)

const (
	initialLineBuf = 64 << 10
	minReadSpace   = 4 << 10
)

// serveStream accepts connections until ctx ends; each connection has its
// own goroutine, and Run returns once every one has drained.
func (s *Server) serveStream(ctx context.Context, sk *socket, out *handoff, emit inputs.Emitter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		sk.remove() // new senders fail fast; connected ones are drained
		sk.ln.Close()
	})
	defer stop()

	var wg sync.WaitGroup
	conns := newConnTable(s, sk)
	var err error
	for {
		c, aerr := sk.ln.AcceptUnix()
		if aerr != nil {
			if ctx.Err() != nil {
				break
			}
			if errors.Is(aerr, unix.EMFILE) || errors.Is(aerr, unix.ENFILE) || errors.Is(aerr, unix.ENOBUFS) || errors.Is(aerr, unix.ENOMEM) {
				s.failLog.Error().Err(aerr).Str("socket", sk.path).Msg("accept failed; retrying")
				time.Sleep(100 * time.Millisecond)
				continue
			}
			err = fmt.Errorf("accept: %w", aerr)
			cancel()
			break
		}
		if s.cfg.checksPeers() && !s.connAllowed(sk, c) {
			c.Close()
			continue
		}
		// Each connection may buffer up to max_line_size: bound them, and
		// keep idle ones from locking senders out (conns.go).
		sc := conns.admit(c)
		if sc == nil {
			continue
		}
		wg.Go(func() {
			defer conns.release(sc)
			if sk.typ == SeqPacket {
				s.serveSeqPacketConn(ctx, sk, sc, emit)
				return
			}
			s.serveConn(ctx, sk, sc, out, emit)
		})
	}
	wg.Wait()
	return err
}

// connAllowed checks a new connection's peer (SO_PEERCRED: the credentials
// the peer had when it connected) against allowed_uids/gids.
func (s *Server) connAllowed(sk *socket, c *net.UnixConn) bool {
	rc, err := c.SyscallConn()
	var cred *unix.Ucred
	var cerr error
	if err == nil {
		err = rc.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	}
	if err == nil && cerr == nil && s.cfg.peerAllowed(cred.Uid, cred.Gid) {
		return true
	}
	s.cfg.Stats.ConnectionsClosed.Add(ConnPeerRejected, 1) // a connection, not a message
	ev := s.failLog.Warn().Str("socket", sk.path).Err(errors.Join(err, cerr))
	if cred != nil {
		ev = ev.Int32("pid", cred.Pid).Uint32("uid", cred.Uid).Uint32("gid", cred.Gid)
	}
	ev.Msg("connection from a peer not in allowed_uids/allowed_gids rejected")
	return false
}

// serveConn reads one connection's newline-delimited messages.
func (s *Server) serveConn(ctx context.Context, sk *socket, sc *streamConn, out *handoff, emit inputs.Emitter) {
	c := sc.c
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Unix(1, 0)) }) // closed: nothing to wake
	defer stop()
	lr := &lineReader{s: s, sk: sk, emit: emit, out: out, max: int(s.cfg.MaxLineSize),
		buf: make([]byte, min(initialLineBuf, int(s.cfg.MaxLineSize)+1))}
	defer lr.releaseAll()
	for {
		n, err := c.Read(lr.space())
		if n > 0 {
			sc.read()
			lr.consume(n)
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF):
		case ctx.Err() != nil:
			lr.drain(c)
		default:
			s.failLog.Warn().Err(err).Str("socket", sk.path).Msg("stream connection read failed")
		}
		lr.finish()
		return
	}
}

// lineReader splits a byte stream into lines: lines split across reads are
// joined, blank lines skipped, a line longer than max dead-lettered (its
// first max bytes) and the stream resynchronised at the next newline.
type lineReader struct {
	s          *Server
	sk         *socket
	emit       inputs.Emitter // for failures
	out        *handoff       // for batches
	max        int
	buf        []byte
	start, end int  // unconsumed bytes are buf[start:end]
	skipping   bool // inside an over-long line, discarding up to '\n'
	lines      [][]byte
	// held is what buf holds beyond its initial size, taken from the
	// input's partial-line budget (max_partial_bytes), shared by all its
	// connections: 64 connections may not each hold a 16 MiB line.
	held int
}

// space returns where the next read goes, compacting or growing the buffer
// first. A buffer full of one unfinished line longer than max means that
// line is too large.
func (l *lineReader) space() []byte {
	if len(l.buf)-l.end >= minReadSpace {
		return l.buf[l.end:]
	}
	switch {
	case l.start > 0:
		copy(l.buf, l.buf[l.start:l.end])
		l.end -= l.start
		l.start = 0
	case len(l.buf) < l.max+1:
		size := min(2*len(l.buf), l.max+1)
		if !l.s.partial.take(int64(size - len(l.buf))) {
			// The input's partial lines hold max_partial_bytes already:
			// this line is cut like an over-long one.
			l.overBudget()
			return l.buf[l.end:]
		}
		l.held += size - len(l.buf)
		nb := make([]byte, size)
		copy(nb, l.buf[:l.end])
		l.buf = nb
	}
	if l.end == len(l.buf) { // full, start == 0: more than max bytes without '\n'
		l.tooLarge(l.buf[:l.max])
		l.skipping = true
		l.start, l.end = 0, 0
	}
	return l.buf[l.end:]
}

// overBudget dead-letters the partial line that could not grow (its first
// bytes, reason line_budget) and skips the rest of it.
func (l *lineReader) overBudget() {
	st := l.s.cfg.Stats
	st.Received.Add(1)
	l.s.failLog.Warn().Str("socket", l.sk.path).Int("bytes", l.end).Int64("max_partial_bytes", l.s.partial.max).
		Msg("partial line dead-lettered: the input's connections hold max_partial_bytes in unfinished lines already; raise max_partial_bytes")
	err := fmt.Errorf("line not finished after %d bytes while the input's unfinished lines held max_partial_bytes (%d); its first %d bytes are kept, the rest up to the next newline is skipped",
		l.end, l.s.partial.max, l.end-l.start)
	l.emit.Failed(append([]byte(nil), l.buf[l.start:l.end]...), ReasonLineBudget, &normalize.Error{Reason: ReasonLineBudget, Err: err})
	l.skipping = true
	l.start, l.end = 0, 0
	l.shrink()
}

// shrink gives back what the buffer grew by once it holds nothing, so that
// a connection that sent one big line does not keep its buffer.
func (l *lineReader) shrink() {
	if l.held == 0 || l.start != l.end {
		return
	}
	l.s.partial.give(int64(l.held))
	l.held = 0
	l.buf = make([]byte, min(initialLineBuf, l.max+1))
	l.start, l.end = 0, 0
}

func (l *lineReader) releaseAll() {
	l.s.partial.give(int64(l.held))
	l.held = 0
}

// consume splits the n bytes just read into lines and hands them on.
func (l *lineReader) consume(n int) {
	l.s.cfg.Stats.Bytes.Add(uint64(n))
	l.end += n
	for {
		i := bytes.IndexByte(l.buf[l.start:l.end], '\n')
		if i < 0 {
			break
		}
		line := l.buf[l.start : l.start+i]
		l.start += i + 1
		if l.skipping {
			l.skipping = false // the tail of an over-long line
			continue
		}
		l.add(line)
	}
	if l.skipping || l.start == l.end {
		l.start, l.end = 0, 0
		l.shrink()
	}
	l.flush()
}

// add takes one line without its '\n'. The limit applies to the line as
// sent ('\r' included), the same whether or not it ended the stream.
func (l *lineReader) add(line []byte) {
	if len(line) > l.max {
		l.tooLarge(line[:l.max])
		return
	}
	line = bytes.TrimRight(line, "\r")
	if len(bytes.TrimSpace(line)) == 0 {
		return // blank lines separate nothing (files end with one)
	}
	l.s.cfg.Stats.Received.Add(1)
	l.lines = append(l.lines, line)
}

// flush copies the collected lines, which point into the read buffer, into
// one fresh arena and hands them on as a batch.
func (l *lineReader) flush() {
	if len(l.lines) == 0 {
		return
	}
	total := 0
	for _, ln := range l.lines {
		total += len(ln)
	}
	msgs := arenaCopy(l.lines)
	clear(l.lines)
	l.lines = l.lines[:0]
	l.out.put(l.s.batch(msgs), total, false)
}

func (l *lineReader) tooLarge(prefix []byte) {
	l.s.cfg.Stats.Received.Add(1)
	l.s.failLog.Warn().Str("socket", l.sk.path).Int("max_line_size", l.max).
		Msg("over-long line dead-lettered (its first max_line_size bytes); raise max_line_size")
	err := fmt.Errorf("line longer than max_line_size (%d bytes); its first %d bytes are kept, the rest up to the next newline is skipped", l.max, len(prefix))
	l.emit.Failed(append([]byte(nil), prefix...), normalize.ReasonTooLarge, &normalize.Error{Reason: normalize.ReasonTooLarge, Err: err})
}

// finish hands on a last line that had no newline (the sender closed the
// connection after it).
func (l *lineReader) finish() {
	if !l.skipping && l.start < l.end {
		l.add(l.buf[l.start:l.end])
		l.start, l.end = 0, 0
	}
	l.flush()
}

// drain reads, without waiting, what the connection still has queued at
// shutdown.
func (l *lineReader) drain(c *net.UnixConn) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	deadline := time.Now().Add(l.s.cfg.DrainTimeout)
	for time.Now().Before(deadline) {
		var n int
		var rerr error
		if err := rc.Control(func(fd uintptr) {
			for {
				n, rerr = unix.Read(int(fd), l.space())
				if rerr != unix.EINTR {
					return
				}
			}
		}); err != nil || rerr != nil || n <= 0 {
			return
		}
		l.consume(n)
	}
}

// ReasonLineBudget is the dead-letter reason of a stream line cut because
// the input's unfinished lines held max_partial_bytes.
const ReasonLineBudget = "line_budget"

// byteBudget is a count of bytes shared by goroutines, bounded by max.
type byteBudget struct {
	used atomic.Int64
	max  int64
}

// take reserves n bytes if they fit.
func (b *byteBudget) take(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *byteBudget) give(n int64) {
	if n != 0 {
		b.used.Add(-n)
	}
}
