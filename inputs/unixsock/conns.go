package unixsock

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Reasons a stream connection was closed by the gateway
// (Stats.ConnectionsClosed).
const (
	ConnIdleTimeout  = "idle_timeout"  // sent nothing within idle_timeout of connecting
	ConnEvicted      = "evicted"       // closed to make room for a new connection
	ConnRefused      = "refused"       // new connection closed: every slot busy with an active sender
	ConnPeerRejected = "peer_rejected" // sender not in allowed_uids/allowed_gids
)

// connTable bounds the connections of one stream socket, so that clients
// that connect and never send cannot lock real senders out (2,000 idle
// local clients once made a real Suricata get EPIPE and lose everything):
//
//   - a connection that sends nothing within idle_timeout is closed;
//   - when max_connections are open, a new connection takes the place of
//     the one idle longest: first one that never sent anything (the oldest),
//     else one quiet for at least idle_timeout; only when every connection
//     is an active sender is the new one refused.
//
// Closing is lossless: the gateway shuts down its receiving side
// (shutdown(SHUT_RD)), after which the sender's writes fail with EPIPE
// (Suricata then reconnects and sends again), and the connection's reader
// still reads, to EOF, everything the sender wrote before.
type connTable struct {
	s     *Server
	sk    *socket
	max   int
	idle  time.Duration
	mu    sync.Mutex
	conns map[*streamConn]struct{}
}

// streamConn is one admitted connection.
type streamConn struct {
	c        *net.UnixConn
	opened   time.Time
	lastRead atomic.Int64 // UnixNano of the last read that returned bytes; 0: none yet
	timer    *time.Timer  // the idle timeout; nil without one
}

// read records that the connection sent something.
func (sc *streamConn) read() { sc.lastRead.Store(time.Now().UnixNano()) }

func newConnTable(s *Server, sk *socket) *connTable {
	return &connTable{s: s, sk: sk, max: s.cfg.MaxConnections, idle: s.cfg.IdleTimeout, conns: map[*streamConn]struct{}{}}
}

// admit takes a new connection, making room if the table is full; nil
// means it was refused (and closed).
func (t *connTable) admit(c *net.UnixConn) *streamConn {
	now := time.Now()
	t.mu.Lock()
	if len(t.conns) >= t.max {
		v, never := t.victim(now)
		if v == nil {
			t.mu.Unlock()
			c.Close()
			t.s.cfg.Stats.ConnectionsClosed.Add(ConnRefused, 1)
			t.s.failLog.Warn().Str("socket", t.sk.path).Int("max_connections", t.max).
				Msg("stream connections at max_connections, all of them active senders: new connection refused; raise max_connections")
			return nil
		}
		t.closeLocked(v, ConnEvicted)
		idleFor := now.Sub(v.opened)
		if !never {
			idleFor = now.Sub(time.Unix(0, v.lastRead.Load()))
		}
		t.s.failLog.Warn().Str("socket", t.sk.path).Int("max_connections", t.max).Bool("never_sent", never).
			Dur("idle", idleFor.Round(time.Millisecond)).
			Msg("stream connections at max_connections: closed the connection idle longest to admit a new one")
	}
	sc := &streamConn{c: c, opened: now}
	t.conns[sc] = struct{}{}
	t.s.cfg.Stats.Connections.Add(1)
	if t.idle > 0 {
		sc.timer = time.AfterFunc(t.idle, func() { t.idleCheck(sc) })
	}
	t.mu.Unlock()
	return sc
}

// victim picks the connection to close for a new one: never sent anything
// (oldest first), else quiet for at least idle_timeout (quiet longest
// first); nil when every connection is an active sender. A connection with
// bytes waiting in its receive queue is an active sender, whatever its
// reader has read yet (a busy host may not have run the reader since the
// sender connected and wrote).
func (t *connTable) victim(now time.Time) (*streamConn, bool) {
	for {
		v, never := t.quietest(now)
		if v == nil || !v.pending() {
			return v, never
		}
		v.read()
	}
}

// pending reports whether the connection has bytes not read yet.
func (sc *streamConn) pending() bool {
	rc, err := sc.c.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	if err := rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }); err != nil {
		return false // closed: nothing pending
	}
	return n > 0
}

// quietest is the connection idle longest, preferring one that never sent.
func (t *connTable) quietest(now time.Time) (v *streamConn, never bool) {
	var best int64
	for sc := range t.conns {
		last := sc.lastRead.Load()
		n := last == 0
		if !n && (t.idle <= 0 || now.Sub(time.Unix(0, last)) < t.idle) {
			continue // an active sender
		}
		key := last
		if n {
			key = sc.opened.UnixNano()
		}
		if v == nil || (n && !never) || (n == never && key < best) {
			v, never, best = sc, n, key
		}
	}
	return v, never
}

// idleCheck closes a connection that has sent nothing since it was opened.
func (t *connTable) idleCheck(sc *streamConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.conns[sc]; !ok || sc.lastRead.Load() != 0 {
		return
	}
	t.closeLocked(sc, ConnIdleTimeout)
	t.s.failLog.Info().Str("socket", t.sk.path).Dur("idle_timeout", t.idle).
		Msg("stream connection closed: it sent nothing within idle_timeout")
}

// closeLocked removes sc from the table and shuts down its receiving side:
// its reader reads what was already sent, then sees EOF.
func (t *connTable) closeLocked(sc *streamConn, reason string) {
	delete(t.conns, sc)
	t.s.cfg.Stats.Connections.Add(-1)
	t.s.cfg.Stats.ConnectionsClosed.Add(reason, 1)
	if sc.timer != nil {
		sc.timer.Stop()
	}
	if rc, err := sc.c.SyscallConn(); err == nil {
		// A closed socket has nothing left to shut: the error changes nothing.
		_ = rc.Control(func(fd uintptr) { _ = unix.Shutdown(int(fd), unix.SHUT_RD) })
	}
}

// release forgets a connection whose reader is done.
func (t *connTable) release(sc *streamConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if sc.timer != nil {
		sc.timer.Stop()
	}
	if _, ok := t.conns[sc]; ok {
		delete(t.conns, sc)
		t.s.cfg.Stats.Connections.Add(-1)
	}
}
