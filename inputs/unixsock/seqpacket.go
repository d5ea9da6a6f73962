package unixsock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/sys/unix"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
)

// SeqPacketReply is the byte each message of a seqpacket connection is
// answered with. Barnyard2 reads one byte and ignores its value.
const SeqPacketReply = 1

// serveSeqPacketConn serves one connection of a seqpacket socket, the way
// Barnyard2's `output alert_unixsock: PATH sync` expects: it connect()s a
// SOCK_SEQPACKET socket, send()s one alert and blocks in read() for a
// one-byte reply "which indicates remote end has processed alerts" before
// it sends the next; send and read errors are fatal to it in that mode.
//
// So each message goes to the pipeline alone and is answered only once the
// pipeline acknowledged it (every output accepted the event: written,
// queued in a disk buffer, or dead-lettered), which makes Barnyard2 wait
// while the outputs are behind instead of sending into a full queue, and a
// reply mean "taken". A message that cannot be read whole (longer than
// max_message_size) is dead-lettered and answered too: Barnyard2 must not
// hang on it. At shutdown a message already taken is answered once the
// pipeline acknowledged it (within drain_timeout) before the connection is
// closed.
func (s *Server) serveSeqPacketConn(ctx context.Context, sk *socket, sc *streamConn, emit inputs.Emitter) {
	c := sc.c
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Unix(1, 0)) }) // closed: nothing to wake
	defer stop()
	buf := make([]byte, int(s.cfg.MaxMessageSize))
	for {
		n, _, flags, _, err := c.ReadMsgUnix(buf, nil)
		switch {
		case err == nil && n == 0 && flags&unix.MSG_TRUNC == 0:
			return // the peer closed the connection (a zero-length read)
		case errors.Is(err, io.EOF):
			return
		case err != nil && ctx.Err() != nil:
			s.drainSeqPacket(ctx, sk, c, emit, buf)
			return
		case err != nil:
			s.failLog.Warn().Err(err).Str("socket", sk.path).Msg("seqpacket connection read failed")
			return
		}
		sc.read() // a sender, not an idle connection (max_connections, idle_timeout)
		if !s.seqPacketMessage(ctx, sk, c, emit, buf[:n], flags&unix.MSG_TRUNC != 0) {
			return
		}
	}
}

// seqPacketMessage hands one message on, waits for its acknowledgement and
// answers it; false when the connection is to be closed.
func (s *Server) seqPacketMessage(ctx context.Context, sk *socket, c *net.UnixConn, emit inputs.Emitter, m []byte, truncated bool) bool {
	s.cfg.Stats.Received.Add(1)
	s.cfg.Stats.Bytes.Add(uint64(len(m)))
	if truncated {
		s.failLog.Warn().Str("socket", sk.path).Int("max_message_size", len(m)).
			Msg("message longer than max_message_size dead-lettered (its first max_message_size bytes)")
		err := fmt.Errorf("seqpacket message longer than max_message_size (%d bytes): the rest was discarded by the kernel", len(m))
		emit.Failed(append([]byte(nil), m...), normalize.ReasonTruncated, &normalize.Error{Reason: normalize.ReasonTruncated, Err: err})
		return s.reply(sk, c)
	}
	var msg []byte
	if s.cfg.Shrink != nil {
		msg = s.cfg.Shrink(nil, m)
	} else {
		msg = append([]byte(nil), m...)
	}
	acked := make(chan struct{})
	emit.Messages(&inputs.Batch{Msgs: [][]byte{msg}, Received: time.Now(), Done: func() { close(acked) }})
	select {
	case <-acked:
	case <-ctx.Done():
		// Shutting down: the pipeline drains what it took; answer once
		// it has, so that the sender does not count it as lost.
		t := time.NewTimer(s.cfg.DrainTimeout)
		defer t.Stop()
		select {
		case <-acked:
		case <-t.C:
			s.failLog.Warn().Str("socket", sk.path).Msg("seqpacket message not acknowledged within drain_timeout at shutdown; closing without a reply")
			return false
		}
	}
	return s.reply(sk, c)
}

// drainSeqPacket takes, at shutdown, the messages the connection already
// holds (without waiting for more), within drain_timeout.
func (s *Server) drainSeqPacket(ctx context.Context, sk *socket, c *net.UnixConn, emit inputs.Emitter, buf []byte) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	deadline := time.Now().Add(s.cfg.DrainTimeout)
	for time.Now().Before(deadline) {
		var n, flags int
		var rerr error
		if err := rc.Control(func(fd uintptr) {
			for {
				n, _, flags, _, rerr = unix.Recvmsg(int(fd), buf, nil, unix.MSG_DONTWAIT)
				if rerr != unix.EINTR {
					return
				}
			}
		}); err != nil || rerr != nil || (n == 0 && flags&unix.MSG_TRUNC == 0) {
			return
		}
		if !s.seqPacketMessage(ctx, sk, c, emit, buf[:n], flags&unix.MSG_TRUNC != 0) {
			return
		}
	}
}

// reply answers one message; false when the peer is gone.
func (s *Server) reply(sk *socket, c *net.UnixConn) bool {
	err := c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err == nil {
		_, err = c.Write([]byte{SeqPacketReply})
	}
	if err != nil {
		s.failLog.Warn().Err(err).Str("socket", sk.path).Msg("seqpacket reply failed; closing the connection")
		return false
	}
	return true
}
