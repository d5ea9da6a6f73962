package unixsock

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
)

// mmsghdr is struct mmsghdr of recvmmsg(2); Go pads it like C does.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// maxRecvArea bounds the receive buffers of one socket: BatchSize buffers
// of MaxMessageSize each (only the pages datagrams touch become resident).
const maxRecvArea = 32 << 20

// dgramReader reads one datagram socket in batches.
type dgramReader struct {
	s    *Server
	sk   *socket
	rc   syscall.RawConn
	emit inputs.Emitter // for failures
	out  *handoff       // for batches
	size int            // receive buffer size per datagram
	buf  []byte
	iovs []unix.Iovec
	hdrs []mmsghdr
	oob  []byte   // one SCM_CREDENTIALS control message per datagram, when peers are checked
	kept [][]byte // the datagrams of one batch that go on (reused)
	// shrunk holds one batch's datagrams as Config.Shrink made them (reused).
	shrunk []byte
	pacer  readPacer
}

// credSpace is the control buffer of one datagram: a cmsghdr and a ucred.
var credSpace = unix.CmsgSpace(unix.SizeofUcred)

func (s *Server) serveDgram(ctx context.Context, sk *socket, out *handoff, emit inputs.Emitter) error {
	rc, err := sk.rawConn()
	if err != nil {
		return err
	}
	size := int(s.cfg.MaxMessageSize)
	vlen := max(1, min(s.cfg.BatchSize, maxRecvArea/size))
	r := &dgramReader{s: s, sk: sk, rc: rc, emit: emit, out: out, size: size,
		buf: make([]byte, vlen*size), iovs: make([]unix.Iovec, vlen), hdrs: make([]mmsghdr, vlen),
		pacer: readPacer{pause: s.cfg.Linger}}
	for i := range r.hdrs {
		r.iovs[i].Base = &r.buf[i*size]
		r.iovs[i].SetLen(size)
		r.hdrs[i].hdr.Iov = &r.iovs[i]
		r.hdrs[i].hdr.SetIovlen(1)
	}
	if s.cfg.checksPeers() {
		// The kernel attaches each sender's real pid, uid and gid.
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1) }); err != nil || serr != nil {
			return fmt.Errorf("socket %s: SO_PASSCRED: %w", sk.path, errors.Join(err, serr))
		}
		r.oob = make([]byte, vlen*credSpace)
	}

	restoreNice, err := setReaderNice(s.cfg.ReaderNice)
	if err != nil {
		return fmt.Errorf("socket %s: %w", sk.path, err)
	}
	defer restoreNice()
	cancel, err := newCanceller(ctx)
	if err != nil {
		return fmt.Errorf("socket %s: %w", sk.path, err)
	}
	defer cancel.close()

	for ctx.Err() == nil {
		var n int
		var errno syscall.Errno
		var werr error
		err := rc.Control(func(fd uintptr) {
			for spun := false; ; spun = true {
				if n, errno = r.recv(fd); errno != unix.EAGAIN || ctx.Err() != nil {
					return
				}
				if !spun && r.pacer.busy() {
					// At a high rate the next datagram is microseconds
					// away: wait for it keeping the P rather than
					// blocking in poll, which gives the P away.
					cancel.waitReadableBriefly(fd)
					continue
				}
				if werr = cancel.waitReadable(fd); werr != nil {
					return
				}
			}
		})
		if err != nil || werr != nil {
			return fmt.Errorf("read: %w", errors.Join(err, werr))
		}
		if errno == unix.EAGAIN {
			break // cancelled while waiting
		}
		if errno == unix.ENOMEM || errno == unix.ENOBUFS {
			// The kernel is short of memory: transient, and the data
			// stays queued. Retry rather than stop the input.
			s.failLog.Error().Err(errno).Str("socket", sk.path).Msg("recvmmsg failed; retrying")
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if errno != 0 {
			return fmt.Errorf("recvmmsg: %w", errno)
		}
		got := time.Now()
		received := r.handle(n)
		now := time.Now()
		if d := r.pacer.after(n, received, n == len(r.hdrs), now.Sub(got), now); d > 0 {
			sleep(int64(d))
		}
	}
	if sk.heldBy != "" || handingOver.Load() {
		// The socket outlives this process (systemd holds it, or the new
		// process took it over): what is queued is read by the next one.
		return nil
	}
	r.drain()
	return nil
}

// recv runs one non-blocking recvmmsg. MSG_TRUNC makes each msg_len the
// datagram's real length even when it did not fit, which is reported.
func (r *dgramReader) recv(fd uintptr) (int, syscall.Errno) {
	for i := range r.hdrs {
		r.hdrs[i].hdr.Flags = 0
		r.hdrs[i].len = 0
		if r.oob != nil {
			r.hdrs[i].hdr.Control = &r.oob[i*credSpace]
			r.hdrs[i].hdr.SetControllen(credSpace)
		}
	}
	for {
		// A raw call: MSG_DONTWAIT never blocks, and the copy is bounded
		// (BatchSize datagrams, 64 by default). Through an ordinary call
		// the runtime may hand the reader's P to a worker meanwhile, and
		// the reader then waits for one in the global run queue: up to
		// 15 ms at full rate in execution traces.
		n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(len(r.hdrs)),
			unix.MSG_DONTWAIT|unix.MSG_TRUNC, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(n), 0
	}
}

// drain reads what is queued at shutdown: the path is removed first so that
// new senders fail fast, then datagrams are read without waiting until the
// queue is empty or DrainTimeout passes.
func (r *dgramReader) drain() {
	r.sk.remove()
	deadline := time.Now().Add(r.s.cfg.DrainTimeout)
	for time.Now().Before(deadline) {
		var n int
		var errno syscall.Errno
		if err := r.rc.Control(func(fd uintptr) { n, errno = r.recv(fd) }); err != nil || errno != 0 || n == 0 {
			return
		}
		r.handle(n)
	}
	r.s.failLog.Warn().Str("socket", r.sk.path).Dur("drain_timeout", r.s.cfg.DrainTimeout).
		Msg("datagrams still arriving after the drain timeout; the rest is left unread")
}

// handle copies the n datagrams just received into a fresh arena and hands
// them on. Truncated datagrams are dead-lettered, never parsed. It returns
// the bytes received.
func (r *dgramReader) handle(n int) int {
	st := r.s.cfg.Stats
	total := 0
	for i := range n {
		total += min(int(r.hdrs[i].len), r.size)
	}
	st.Received.Add(uint64(n))
	st.Bytes.Add(uint64(total))

	shrink := r.s.cfg.Shrink
	r.shrunk = r.shrunk[:0]
	size := 0
	for i := range n {
		full := int(r.hdrs[i].len)
		got := min(full, r.size)
		data := r.buf[i*r.size : i*r.size+got]
		if r.oob != nil && !r.peerAllowed(i) {
			continue
		}
		if r.hdrs[i].hdr.Flags&unix.MSG_TRUNC != 0 || full > r.size {
			r.truncated(data, full)
			continue
		}
		if r.s.cfg.TrimNewline {
			data = trimNewline(data)
		}
		if len(data) == 0 {
			// An empty (or newline-only) datagram carries no message, and
			// no bytes to dead-letter: counted, so that received adds up.
			st.Dropped.Add(DropEmpty, 1)
			continue
		}
		if shrink != nil {
			// Earlier slices keep the old array if this one grows it.
			start := len(r.shrunk)
			r.shrunk = shrink(r.shrunk, data)
			data = r.shrunk[start:]
		}
		r.kept = append(r.kept, data)
		size += len(data)
	}
	if len(r.kept) == 0 {
		return total
	}
	msgs := arenaCopy(r.kept)
	clear(r.kept)
	r.kept = r.kept[:0]
	if cap(r.shrunk) > 4<<20 {
		r.shrunk = nil
	}
	// Into the journal (the page cache) before anything else can lose them.
	b := r.s.batch(msgs)
	// A read that did not fill the batch kept up: its batch may take the
	// pipeline's direct path.
	r.out.put(b, size, n < len(r.hdrs))
	return total
}

// peerAllowed checks datagram i's sender against allowed_uids/gids. A
// rejected datagram is counted and logged; its bytes go nowhere.
func (r *dgramReader) peerAllowed(i int) bool {
	h := &r.hdrs[i].hdr
	pid, uid, gid, ok := parseCred(r.oob[i*credSpace : i*credSpace+int(h.Controllen)])
	if ok && r.s.cfg.peerAllowed(uid, gid) {
		return true
	}
	r.s.cfg.Stats.Dropped.Add("peer_rejected", 1)
	r.s.failLog.Warn().Str("socket", r.sk.path).Bool("credentials", ok).Int32("pid", pid).Uint32("uid", uid).Uint32("gid", gid).
		Msg("datagram from a sender not in allowed_uids/allowed_gids rejected")
	return false
}

// parseCred reads the SCM_CREDENTIALS message of one datagram's control
// data, without allocating.
func parseCred(b []byte) (pid int32, uid, gid uint32, ok bool) {
	hdr := unix.SizeofCmsghdr
	if len(b) < hdr+unix.SizeofUcred {
		return 0, 0, 0, false
	}
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	if h.Level != unix.SOL_SOCKET || h.Type != unix.SCM_CREDENTIALS {
		return 0, 0, 0, false
	}
	c := (*unix.Ucred)(unsafe.Pointer(&b[unix.CmsgLen(0)]))
	return c.Pid, c.Uid, c.Gid, true
}

func (r *dgramReader) truncated(prefix []byte, full int) {
	err := fmt.Errorf("datagram of %d bytes is larger than max_message_size (%d); only its first %d bytes were received", full, r.size, len(prefix))
	r.s.failLog.Warn().Str("socket", r.sk.path).Int("size", full).Int("max_message_size", r.size).
		Msg("truncated datagram dead-lettered; raise max_message_size")
	r.emit.Failed(append([]byte(nil), prefix...), normalize.ReasonTruncated, &normalize.Error{Reason: normalize.ReasonTruncated, Err: err})
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
