// Package nflog is the `nflog` input: packets that nftables (`log group N`)
// or iptables (`-j NFLOG`) log to NFLOG groups, read over netlink with
// florianl/go-nflog and normalized into events of kind "packet".
//
// The input normalizes packets itself and hands events to the pipeline
// (Emitter.Events) instead of raw messages: go-nflog delivers parsed
// attributes, not bytes, so re-serializing them for a Decoder would only add
// a copy. Each group's receive goroutine owns a Decoder (its gopacket parser
// is reused, and decoding allocates nothing); events are written into
// slab-allocated Records and a batcher groups them for the pipeline.
package nflog

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	gonflog "github.com/florianl/go-nflog/v2"
	"github.com/mdlayher/netlink"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	nfdec "github.com/alertgw/alertgw/normalize/nflog"
	"github.com/alertgw/alertgw/stats"
)

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the input type.
var Plugin = inputs.Plugin{
	Type:    "nflog",
	Summary: "firewall packet logs from nftables/iptables NFLOG groups (netlink; needs CAP_NET_ADMIN)",
	Sample:  sample,
	Options: func() any { return DefaultOptions() },
	Files: func(opts any) (inputs.FileReader, error) {
		return NewCaptureReader(opts.(*Options))
	},
	New: func(env inputs.Env, opts any) (inputs.Input, error) {
		return New(env, opts.(*Options))
	},
}

// Drop reasons this input counts in Stats.Dropped.
const (
	DropENOBUFS        = "enobufs"         // the kernel overran our socket buffer
	DropSeqGap         = "seq_gap"         // packets missing from a group's sequence
	DropFilteredFamily = "filtered_family" // a family the configuration excludes
	DropShutdown       = "shutdown"        // received while stopping
	DropRecvError      = "recv_error"      // other receive errors
	DropOtherGroup     = "other_group"     // a packet of a group this input did not bind
)

// lost counts messages lost on their way to the gateway, which it learns
// of without reading them (sequence gaps, overruns, unreadable
// datagrams): as received and dropped, so that received = normalized +
// failed + dropped holds.
func lost(st *stats.Input, reason string, n uint64) {
	st.Received.Add(n)
	st.Dropped.Add(reason, n)
}

// overrun counts an ENOBUFS. With sequence numbers the gap that follows
// counts the lost packets exactly (seq_gap), so the overrun itself is only
// logged; without them it counts as one lost message, a lower bound.
func (in *Input) overrun(st *stats.Input) {
	if !in.opts.Sequence {
		lost(st, DropENOBUFS, 1)
	}
}

// Input reads NFLOG groups.
type Input struct {
	env      inputs.Env
	opts     *Options
	labeler  *nfdec.Labeler
	copyMode uint8
	families [256]bool
	log      zerolog.Logger
	warnLog  zerolog.Logger // rate-limited, for per-packet problems

	// Opened by New, in the configured namespace, so that run_as can drop
	// privileges before Run (binding needs CAP_NET_ADMIN only, which the
	// gateway keeps for nflog inputs; entering a namespace needs more).
	names     *ifaceNames
	direct    *directReader    // reader direct: the socket, every group bound
	handles   []*gonflog.Nflog // reader go-nflog: one socket per group, bound by Run
	closeOnce sync.Once
}

// New checks the options and the privilege the input needs, and opens the
// sockets (binding the groups with the direct reader), so that a missing
// capability or a group owned by another logger fails at start-up. It does
// not read: Run does.
func New(env inputs.Env, opts *Options) (*Input, error) {
	if probs := opts.Validate(); len(probs) > 0 {
		return nil, probs.Err()
	}
	lab, err := opts.labeler()
	if err != nil {
		return nil, err
	}
	mode, _ := copyMode(opts.CopyMode)
	if err := requireNetAdmin(); err != nil {
		return nil, err
	}
	in := &Input{env: env, opts: opts, labeler: lab, copyMode: mode, log: env.Log,
		warnLog: env.Log.Sample(&zerolog.BurstSampler{Burst: 5, Period: 10 * time.Second})}
	for _, f := range opts.Families {
		in.families[familyNumbers[f]] = true
	}
	if err := in.open(); err != nil {
		return nil, err
	}
	return in, nil
}

// open creates the sockets in the configured namespace: the interface-name
// cache's, and either the direct reader's (with every group bound, so that
// a group owned by another logger fails at start-up) or go-nflog's.
func (in *Input) open() error {
	netns, closeNS, err := in.openNetNS()
	if err != nil {
		return err
	}
	defer closeNS()
	in.names = newIfaceNames(netns, in.opts.IfaceRefresh, in.log)
	if in.opts.Reader == ReaderGoNflog {
		for _, g := range in.opts.Groups {
			h, err := in.openGoNflog(netns, g.Group)
			if err != nil {
				in.closeAll()
				return err
			}
			in.handles = append(in.handles, h)
		}
		return nil
	}
	if in.direct, err = in.bindDirect(netns, in.names); err != nil {
		in.closeAll()
		return err
	}
	return nil
}

// Close releases the netlink sockets New opened (Run releases them itself
// when it returns). It is safe to call more than once.
func (in *Input) Close() error {
	in.closeOnce.Do(in.closeAll)
	return nil
}

func (in *Input) closeAll() {
	for _, h := range in.handles {
		h.Close()
	}
	in.handles = nil
	if in.direct != nil {
		in.direct.conn.Close()
	}
	in.names.close()
}

// ErrNoNetAdmin is returned when the process lacks CAP_NET_ADMIN.
var ErrNoNetAdmin = errors.New("the nflog input needs CAP_NET_ADMIN to bind NFLOG groups: run alertgw as root, " +
	"or grant the capability (systemd: AmbientCapabilities=CAP_NET_ADMIN; or setcap cap_net_admin+ep on the binary), " +
	"or remove the nflog input")

// requireNetAdmin checks the effective capability set, so that a missing
// privilege is reported clearly at start-up instead of as EPERM later.
func requireNetAdmin() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return nil // cannot tell: let the bind say
	}
	if data[0].Effective&(1<<unix.CAP_NET_ADMIN) == 0 {
		return ErrNoNetAdmin
	}
	return nil
}

// Run reads until ctx ends (the go-nflog reader binds its groups here).
func (in *Input) Run(ctx context.Context, emit inputs.Emitter) error {
	if in.opts.Reader == ReaderGoNflog {
		return in.runGoNflog(ctx, emit)
	}
	return in.runDirect(ctx, emit)
}

// openNetNS opens the configured namespace; fd 0 means the current one.
func (in *Input) openNetNS() (fd int, closeFn func(), err error) {
	if in.opts.NetNS == "" {
		return 0, func() {}, nil
	}
	f, err := os.Open(in.opts.NetNS)
	if err != nil {
		return 0, nil, fmt.Errorf("network namespace: %w", err)
	}
	return int(f.Fd()), func() { f.Close() }, nil
}

// runGoNflog reads with go-nflog's receive loop: one goroutine per group
// calls hook, which hands events to a batcher goroutine.
func (in *Input) runGoNflog(ctx context.Context, emit inputs.Emitter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { in.names.watch(ctx) })

	events := make(chan *normalize.Event, 4*in.opts.BatchSize)
	batcherDone := make(chan struct{})
	go func() {
		defer close(batcherDone)
		in.batch(ctx, events, emit)
	}()
	defer func() {
		cancel()
		in.Close()
		<-batcherDone
		wg.Wait()
	}()
	for i, g := range in.opts.Groups {
		if err := in.register(ctx, in.handles[i], g.Group, events); err != nil {
			return err
		}
	}
	in.log.Info().Int("groups", len(in.handles)).Str("copy_mode", in.opts.CopyMode).Str("reader", ReaderGoNflog).Msg("NFLOG groups bound")
	<-ctx.Done()
	return nil
}

// openGoNflog opens go-nflog's socket for one group.
func (in *Input) openGoNflog(netns int, group uint16) (*gonflog.Nflog, error) {
	cfg := &gonflog.Config{
		Group:    group,
		Copymode: in.copyMode,
		Bufsize:  in.opts.CopyRange, // go-nflog's "Bufsize" is the copy range
		QThresh:  in.opts.QThreshold,
		Timeout:  uint32(in.opts.Timeout / (10 * time.Millisecond)),
		NetNS:    netns,
	}
	if in.opts.Sequence {
		cfg.Flags |= gonflog.FlagSeq
	}
	h, err := gonflog.Open(cfg)
	if err != nil {
		return nil, fmt.Errorf("nflog group %d: open netlink socket: %w", group, err)
	}
	if err := in.setSocketBuffer(h.Con, group); err != nil {
		in.log.Warn().Err(err).Uint16("group", group).Msg("cannot set the socket receive buffer")
	}
	return h, nil
}

// register binds the group and starts go-nflog's receive loop with this
// input's hook.
func (in *Input) register(ctx context.Context, h *gonflog.Nflog, group uint16, events chan<- *normalize.Event) error {
	g := &groupReader{groupState: newGroupState(in, group, in.names), events: events, ctx: ctx}
	if err := h.RegisterWithErrorFunc(ctx, g.hook, g.onError); err != nil {
		if errors.Is(err, syscall.EPERM) || isPermission(err) {
			return fmt.Errorf("nflog group %d: %w (the kernel said EPERM: the process lacks CAP_NET_ADMIN in this network namespace, "+
				"or another process such as ulogd already owns the group; see /proc/net/netfilter/nfnetlink_log)", group, err)
		}
		return fmt.Errorf("nflog group %d: bind: %w", group, err)
	}
	return nil
}

// isPermission recognizes EPERM also in go-nflog's bind errors, which
// format the cause with %v and so lose the error chain.
func isPermission(err error) bool {
	return err != nil && (errors.Is(err, os.ErrPermission) || strings.Contains(err.Error(), "operation not permitted"))
}

// setSocketBuffer sets SO_RCVBUFFORCE (root may exceed net.core.rmem_max),
// falling back to SO_RCVBUF.
func (in *Input) setSocketBuffer(conn *netlink.Conn, group uint16) error {
	size := int(in.opts.SocketBuffer)
	if size == 0 {
		return nil
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	var got int
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size)
		if serr != nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, size)
		}
		got, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
	}); err != nil {
		return err
	}
	in.log.Debug().Uint16("group", group).Int("requested", size).Int("effective", got).Msg("socket receive buffer")
	return serr
}

// groupState is what one group's reader keeps between packets: its
// decoder (not shared: the gopacket parser is reused), the slab events are
// carved from, and the last sequence number.
type groupState struct {
	in    *Input
	group uint16
	dec   *nfdec.Decoder

	slab    []nfdec.Record
	lastSeq uint32
	haveSeq bool
}

const slabSize = 64

func newGroupState(in *Input, group uint16, names nfdec.IfaceResolver) *groupState {
	return &groupState{in: in, group: group, dec: nfdec.NewDecoder(in.labeler, names)}
}

// packet counts, checks the sequence, filters by family and decodes one
// packet message. It returns nil for a packet the configuration excludes.
func (g *groupState) packet(a *nfdec.Attrs, now time.Time) *normalize.Event {
	st := g.in.env.Stats
	st.Received.Add(1)
	st.Bytes.Add(uint64(len(a.Payload)))
	if a.HasSeq {
		if g.haveSeq {
			if gap := a.Seq - g.lastSeq - 1; gap != 0 && gap < 1<<31 {
				lost(st, DropSeqGap, uint64(gap))
				g.in.warnLog.Warn().Uint16("group", g.group).Uint32("missing", gap).Msg("NFLOG sequence gap: the kernel dropped packets")
			}
		}
		g.lastSeq, g.haveSeq = a.Seq, true
	}
	if fam := nfdec.FamilyOf(a); fam != nfdec.FamilyUnspec && !g.in.families[fam] {
		st.Dropped.Add(DropFilteredFamily, 1)
		return nil
	}
	if len(g.slab) == 0 {
		// Records are never reused: the events point into them until every
		// output has written them, and the GC frees a slab after its last.
		g.slab = make([]nfdec.Record, slabSize)
	}
	r := &g.slab[0]
	g.slab = g.slab[1:]
	g.dec.Decode(a, now, r)
	return &r.Event
}

// groupReader is the go-nflog reader's per-group state.
type groupReader struct {
	*groupState
	events chan<- *normalize.Event
	ctx    context.Context
	errRun int
}

// hook runs on go-nflog's receive goroutine for every packet message.
func (g *groupReader) hook(attr gonflog.Attribute) int {
	var a nfdec.Attrs
	fromGoNflog(&attr, g.group, &a)
	g.errRun = 0
	ev := g.packet(&a, time.Now())
	if ev == nil {
		return 0
	}
	select {
	case g.events <- ev:
	case <-g.ctx.Done():
		g.in.env.Stats.Dropped.Add(DropShutdown, 1)
	}
	return 0
}

// onError handles a receive error of the go-nflog reader. ENOBUFS means the kernel dropped
// messages because our socket buffer was full: count, log, keep reading.
// Only the end of ctx stops the loop.
func (g *groupReader) onError(err error) int {
	if g.ctx.Err() != nil {
		return 1
	}
	st := g.in.env.Stats
	if errors.Is(err, unix.ENOBUFS) {
		g.in.overrun(st)
		g.in.warnLog.Warn().Uint16("group", g.group).Msg("NFLOG overrun (ENOBUFS): the kernel dropped packets; raise socket_buffer, or turn on sequence to count them")
		return 0
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return 0
	}
	lost(st, DropRecvError, 1)
	g.in.warnLog.Error().Err(err).Uint16("group", g.group).Msg("NFLOG receive error; still reading")
	g.errRun++
	if g.errRun > 3 {
		time.Sleep(min(time.Duration(g.errRun)*10*time.Millisecond, time.Second)) // no busy loop on a persistent error
	}
	return 0
}

// batch groups events for the pipeline: it waits for one, then collects
// more for up to batch_wait or until batch_size, so that the pipeline (and a
// file output's write()) runs once per batch rather than once per packet.
// The kernel flushes every packet at once by default (the rules' threshold
// is 1), so without this each packet would cost a trip through every stage.
func (in *Input) batch(ctx context.Context, events <-chan *normalize.Event, emit inputs.Emitter) {
	max, wait := in.opts.BatchSize, in.opts.BatchWait
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var first *normalize.Event
		select {
		case first = <-events:
		case <-ctx.Done():
			in.drain(events, emit)
			return
		}
		b := make([]*normalize.Event, 1, max)
		b[0] = first
		if wait > 0 {
			timer.Reset(wait)
		}
	fill:
		for len(b) < max {
			select {
			case e := <-events:
				b = append(b, e)
				continue
			default:
			}
			if wait <= 0 {
				break
			}
			select {
			case e := <-events:
				b = append(b, e)
			case <-timer.C:
				break fill
			case <-ctx.Done():
				break fill
			}
		}
		timer.Stop()
		emit.Events(b, nil)
	}
}

// drain hands on what was queued when the input stopped.
func (in *Input) drain(events <-chan *normalize.Event, emit inputs.Emitter) {
	var b []*normalize.Event
	for {
		select {
		case e := <-events:
			b = append(b, e)
		default:
			if len(b) > 0 {
				emit.Events(b, nil)
			}
			return
		}
	}
}

// fromGoNflog copies go-nflog's pointer fields into Attrs. go-nflog does
// not pass the nfgenmsg family on; nfdec infers it.
func fromGoNflog(s *gonflog.Attribute, group uint16, a *nfdec.Attrs) {
	*a = nfdec.Attrs{Group: group}
	if s.HwProtocol != nil {
		a.HasPacketHdr, a.HwProtocol = true, *s.HwProtocol
		if s.Hook != nil {
			a.Hook = *s.Hook
		}
	}
	if s.Mark != nil {
		a.Mark = *s.Mark
	}
	if s.Timestamp != nil {
		a.Timestamp = *s.Timestamp
	}
	if s.InDev != nil {
		a.InDev = *s.InDev
	}
	if s.OutDev != nil {
		a.OutDev = *s.OutDev
	}
	if s.PhysInDev != nil {
		a.PhysInDev = *s.PhysInDev
	}
	if s.PhysOutDev != nil {
		a.PhysOutDev = *s.PhysOutDev
	}
	if s.HwAddr != nil {
		a.HwAddr = *s.HwAddr
	}
	if s.HwType != nil {
		a.HwType, a.HasHwTyp = *s.HwType, true
	}
	if s.HwHeader != nil {
		a.HwHeader = *s.HwHeader
	}
	if s.Layer2Hdr != nil {
		a.L2Hdr = *s.Layer2Hdr
	}
	if s.Payload != nil {
		a.Payload = *s.Payload
	}
	if s.Prefix != nil {
		// A read-only view of the string: the decoder only compares and
		// copies it.
		a.Prefix = unsafe.Slice(unsafe.StringData(*s.Prefix), len(*s.Prefix))
	}
	if s.UID != nil {
		a.UID, a.HasUID = *s.UID, true
	}
	if s.GID != nil {
		a.GID, a.HasGID = *s.GID, true
	}
	if s.Seq != nil {
		a.Seq, a.HasSeq = *s.Seq, true
	}
	if s.SeqGlobal != nil {
		a.SeqGlobal, a.HasSeqGl = *s.SeqGlobal, true
	}
	if s.VLAN != nil {
		a.VLANProto, a.VLANTCI, a.HasVLAN = s.VLAN.Proto, s.VLAN.TCI, true
	}
	if s.CtInfo != nil {
		a.CtInfo, a.HasCtInfo = *s.CtInfo, true
	}
}
