package nflog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	nfdec "github.com/alertgw/alertgw/normalize/nflog"
)

// The direct reader binds each group with NFULNL_MSG_CONFIG messages (the
// same sequence go-nflog sends, minus the PF_UNBIND that on pre-3.17
// kernels unbinds the family for every other logger too), then reads the
// socket itself into one reused buffer. Compared with go-nflog's loop it
// makes one recvmsg per datagram instead of two (peek, then read),
// allocates neither a page per datagram nor a pointer per attribute, and
// batches in the reading goroutine, so a packet costs no channel hand-off.

const (
	nfnlSubsysULOG = 4
	msgConfig      = nfnlSubsysULOG<<8 | 1
	cfgCmd         = 1
	cfgMode        = 2
	cfgTimeout     = 4
	cfgQThresh     = 5
	cfgFlags       = 6
	cmdBind        = 1
	cmdPFBind      = 3
	flagSeq        = 0x0001
	recvBufSize    = 256 << 10 // > the kernel's largest batch (nlbufsiz ≤ 128 KiB) and any one packet
)

// runDirect binds every group on one socket and reads it in one goroutine:
// one wake-up, one batch and one trip through the pipeline serve all the
// groups' packets, which matters at low rates where each wake-up carries
// few packets.
func (in *Input) runDirect(ctx context.Context, emit inputs.Emitter) error {
	var wg sync.WaitGroup
	r := in.direct
	wg.Go(func() { in.names.watch(ctx) })
	wg.Go(func() { r.run(ctx, emit) })
	in.log.Info().Int("groups", len(r.states)).Str("copy_mode", in.opts.CopyMode).Str("reader", ReaderDirect).Msg("NFLOG groups bound")
	<-ctx.Done()
	wg.Wait() // the reader has handed on its last batch
	in.Close()
	return nil
}

// bindDirect opens a NETLINK_NETFILTER socket in the namespace and binds
// and configures every group on it (a socket may own several groups).
func (in *Input) bindDirect(netns int, names nfdec.IfaceResolver) (*directReader, error) {
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: netns})
	if err != nil {
		return nil, fmt.Errorf("nflog: open netlink socket: %w", err)
	}
	if err := in.setSocketBuffer(conn, in.opts.Groups[0].Group); err != nil {
		in.log.Warn().Err(err).Msg("cannot set the socket receive buffer")
	}
	// PF_BIND matters only before Linux 3.17 (later kernels ignore it);
	// errors are not fatal.
	for _, f := range in.opts.Families {
		_, _ = configure(conn, familyNumbers[f], 0, attr(cfgCmd, []byte{cmdPFBind}))
	}
	r := &directReader{conn: conn, dec: nfdec.NewDecoder(in.labeler, names), in: in}
	for _, g := range in.opts.Groups {
		early, err := in.bindGroup(conn, g.Group)
		r.early = append(r.early, early...)
		if err != nil {
			conn.Close()
			return nil, err
		}
		r.states = append(r.states, &groupState{in: in, group: g.Group, dec: r.dec})
	}
	return r, nil
}

// bindGroup binds and configures one group on conn, returning packets of
// other groups that arrived meanwhile.
func (in *Input) bindGroup(conn *netlink.Conn, group uint16) ([][]byte, error) {
	fail := func(what string, err error) error {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("nflog group %d: %s: %w (the kernel said EPERM: the process lacks CAP_NET_ADMIN in this network namespace, "+
				"or another process such as ulogd already owns the group; see /proc/net/netfilter/nfnetlink_log)", group, what, err)
		}
		return fmt.Errorf("nflog group %d: %s: %w", group, what, err)
	}
	// One message binds and configures: the kernel handles the command
	// first, then the other attributes, so no packet can arrive with the
	// default settings in between (and interleave with our acks).
	mode := make([]byte, 6) // struct nfulnl_msg_config_mode { __be32 copy_range; __u8 copy_mode; __u8 _pad; }
	binary.BigEndian.PutUint32(mode, in.opts.CopyRange)
	mode[4] = in.copyMode
	attrs := []netlink.Attribute{attr(cfgCmd, []byte{cmdBind}), attr(cfgMode, mode)}
	if in.opts.Sequence {
		attrs = append(attrs, attr(cfgFlags, binary.BigEndian.AppendUint16(nil, flagSeq)))
	}
	if t := uint32(in.opts.Timeout / (10 * time.Millisecond)); t > 0 {
		attrs = append(attrs, attr(cfgTimeout, binary.BigEndian.AppendUint32(nil, t)))
	}
	if in.opts.QThreshold > 0 {
		attrs = append(attrs, attr(cfgQThresh, binary.BigEndian.AppendUint32(nil, in.opts.QThreshold)))
	}
	early, err := configure(conn, unix.AF_UNSPEC, group, attrs...)
	if err != nil {
		return early, fail("bind", err)
	}
	return early, nil
}

func attr(typ uint16, data []byte) netlink.Attribute { return netlink.Attribute{Type: typ, Data: data} }

// configure sends one NFULNL_MSG_CONFIG message and waits for its ack.
// Packets of groups bound earlier on the same socket may arrive before the
// ack: they are returned (whole netlink messages) for the reader to handle
// first, rather than lost or mistaken for a bad reply.
func configure(conn *netlink.Conn, family uint8, group uint16, attrs ...netlink.Attribute) ([][]byte, error) {
	body, err := netlink.MarshalAttributes(attrs)
	if err != nil {
		return nil, err
	}
	hdr := []byte{family, 0, byte(group >> 8), byte(group)} // nfgenmsg; res_id is big-endian
	req, err := conn.Send(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(msgConfig), Flags: netlink.Request | netlink.Acknowledge},
		Data:   append(hdr, body...),
	})
	if err != nil {
		return nil, err
	}
	var early [][]byte
	for {
		msgs, err := conn.Receive()
		if err != nil {
			return early, err // an error ack (EPERM, EBUSY …) comes back as err
		}
		for _, m := range msgs {
			switch {
			case m.Header.Type == netlink.Error && m.Header.Sequence == req.Header.Sequence:
				return early, nil // success ack
			case m.Header.Type == netlink.HeaderType(nfdec.MsgPacket):
				if b, err := m.MarshalBinary(); err == nil {
					early = append(early, b)
				}
			}
		}
	}
}

// directReader reads the input's socket: every group's packets.
type directReader struct {
	in     *Input
	conn   *netlink.Conn
	dec    *nfdec.Decoder // shared by the groups: one goroutine uses it
	states []*groupState
	early  [][]byte // packet messages that arrived while binding

	batch    []*normalize.Event
	deadline bool // a read deadline is set to flush a partial batch
	errRun   int
	dgrams   uint64 // datagrams read: packets per datagram shows the kernel's batching
	packets  uint64
}

func (r *directReader) run(ctx context.Context, emit inputs.Emitter) {
	st := r.in.env.Stats
	rc, err := r.conn.SyscallConn()
	if err != nil {
		r.in.log.Error().Err(err).Msg("NFLOG socket unusable")
		return
	}
	// Cancelling ctx wakes a blocked read by moving the deadline to the past.
	// (An error means the socket is closed already: nothing to wake.)
	stop := context.AfterFunc(ctx, func() { _ = r.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	defer func() {
		r.in.log.Info().Int("groups", len(r.states)).Uint64("packets", r.packets).Uint64("datagrams", r.dgrams).Msg("NFLOG socket closed")
	}()
	buf := make([]byte, recvBufSize)
	r.batch = make([]*normalize.Event, 0, r.in.opts.BatchSize)
	for _, m := range r.early {
		r.datagram(m, time.Now())
	}
	r.early = nil
	r.flush(emit)
	for {
		var n, flags int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, _, flags, _, rerr = unix.Recvmsg(int(fd), buf, nil, unix.MSG_DONTWAIT)
			return rerr != unix.EAGAIN // false: wait until readable (or the deadline)
		})
		if ctx.Err() != nil {
			r.flush(emit)
			return
		}
		if errors.Is(err, os.ErrDeadlineExceeded) { // time to hand on a partial batch
			r.flush(emit)
			r.setDeadline(ctx, time.Time{})
			continue
		}
		if err != nil {
			r.flush(emit)
			r.in.log.Error().Err(err).Msg("NFLOG socket unusable: no longer read")
			return
		}
		if rerr != nil {
			if r.recvError(rerr) {
				return
			}
			continue
		}
		r.errRun = 0
		if flags&unix.MSG_TRUNC != 0 {
			lost(st, normalize.ReasonTruncated, 1)
			r.in.warnLog.Warn().Int("size", n).Msg("NFLOG datagram larger than the receive buffer: dropped")
			continue
		}
		r.dgrams++
		r.datagram(buf[:n], time.Now())
		switch {
		case len(r.batch) >= r.in.opts.BatchSize, len(r.batch) > 0 && r.in.opts.BatchWait <= 0:
			r.flush(emit)
			if r.deadline {
				r.setDeadline(ctx, time.Time{})
			}
		case len(r.batch) > 0 && !r.deadline:
			r.setDeadline(ctx, time.Now().Add(r.in.opts.BatchWait))
		}
	}
}

// setDeadline sets (or clears, with the zero time) the read deadline that
// ends a partial batch. Checking ctx after setting it closes the race with
// the cancel callback, which must win.
func (r *directReader) setDeadline(ctx context.Context, t time.Time) {
	// The socket is ours until Run returns: only a closed one refuses a
	// deadline, and then the next read fails and says so.
	_ = r.conn.SetReadDeadline(t)
	r.deadline = !t.IsZero()
	if ctx.Err() != nil {
		_ = r.conn.SetReadDeadline(time.Unix(1, 0))
	}
}

// datagram handles one recvmsg buffer: one or more netlink messages (a
// kernel batch ends with NLMSG_DONE).
func (r *directReader) datagram(b []byte, now time.Time) {
	st := r.in.env.Stats
	for len(b) > 0 {
		msg, typ, rest, err := nfdec.NextMessage(b)
		if err != nil {
			lost(st, normalize.ReasonMalformed, 1)
			r.in.warnLog.Warn().Err(err).Msg("malformed netlink datagram: rest dropped")
			return
		}
		b = rest
		if typ != nfdec.MsgPacket {
			continue // NLMSG_DONE ends a batch; acks and errors of our own config
		}
		var a nfdec.Attrs
		if err := nfdec.ParseMessage(msg, &a); err != nil {
			lost(st, normalize.ReasonMalformed, 1)
			r.in.warnLog.Warn().Err(err).Msg("malformed NFLOG message dropped")
			continue
		}
		r.packets++
		g := r.state(a.Group)
		if g == nil {
			lost(st, DropOtherGroup, 1) // cannot happen: the kernel sends only what we bound
			continue
		}
		if ev := g.packet(&a, now); ev != nil {
			r.batch = append(r.batch, ev)
		}
	}
}

func (r *directReader) state(group uint16) *groupState {
	for _, g := range r.states {
		if g.group == group {
			return g
		}
	}
	return nil
}

func (r *directReader) flush(emit inputs.Emitter) {
	if len(r.batch) == 0 {
		return
	}
	emit.Events(r.batch, nil) // the pipeline owns the slice from here
	r.batch = make([]*normalize.Event, 0, r.in.opts.BatchSize)
}

// recvError handles a recvmsg error; it returns true when reading cannot
// go on (the socket was closed).
func (r *directReader) recvError(err error) bool {
	st := r.in.env.Stats
	switch {
	case errors.Is(err, unix.ENOBUFS):
		r.in.overrun(st)
		r.in.warnLog.Warn().Msg("NFLOG overrun (ENOBUFS): the kernel dropped packets; raise socket_buffer, or turn on sequence to count them")
		return false
	case errors.Is(err, unix.EINTR):
		return false
	case errors.Is(err, unix.EBADF), errors.Is(err, os.ErrClosed):
		return true
	}
	lost(st, DropRecvError, 1)
	r.in.warnLog.Error().Err(err).Msg("NFLOG receive error; still reading")
	r.errRun++
	if r.errRun > 3 {
		time.Sleep(min(time.Duration(r.errRun)*10*time.Millisecond, time.Second)) // no busy loop on a persistent error
	}
	return false
}
