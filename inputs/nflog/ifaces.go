package nflog

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// ifaceNames resolves ifindex → name for the namespace the input logs in.
// Lookups read an immutable map through an atomic pointer (no lock on the
// hot path). The map is replaced when rtnetlink announces a link change and,
// rate-limited, when an unknown index shows up (a notification may have
// been lost, or the link appeared before the watch started).
//
// Both rtnetlink sockets are opened by newIfaceNames, in the input's
// namespace, so that entering a namespace (CAP_SYS_ADMIN) happens at start-up,
// before the gateway drops privileges (run_as).
type ifaceNames struct {
	interval time.Duration
	log      zerolog.Logger
	names    atomic.Pointer[map[uint32]string]
	dump     *netlink.Conn // RTM_GETLINK dumps; nil when it could not be opened
	notify   *netlink.Conn // RTMGRP_LINK notifications; nil likewise

	mu   sync.Mutex // serializes dumps and their rate limit
	last time.Time
}

func newIfaceNames(netns int, interval time.Duration, log zerolog.Logger) *ifaceNames {
	c := &ifaceNames{interval: interval, log: log}
	empty := map[uint32]string{}
	c.names.Store(&empty)
	var err error
	if c.notify, err = netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: netns, Groups: unix.RTMGRP_LINK}); err != nil {
		log.Warn().Err(err).Msg("cannot follow link changes; interface names refresh on unknown indexes only")
		c.notify = nil
	}
	if c.dump, err = netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: netns}); err != nil {
		log.Warn().Err(err).Msg("cannot list network interfaces; interface names will be missing")
		c.dump = nil
	}
	// The dump after subscribing cannot miss a change made in between.
	if err := c.refresh(); err != nil {
		log.Warn().Err(err).Msg("cannot list network interfaces")
	}
	return c
}

// close releases both sockets (watch also closes notify when ctx ends).
func (c *ifaceNames) close() {
	if c.notify != nil {
		c.notify.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dump != nil {
		c.dump.Close()
		c.dump = nil
	}
}

// IfaceName implements nflog.IfaceResolver.
func (c *ifaceNames) IfaceName(index uint32) string {
	if n, ok := (*c.names.Load())[index]; ok {
		return n
	}
	c.mu.Lock()
	due := time.Since(c.last) >= c.interval
	if due {
		c.last = time.Now()
	}
	c.mu.Unlock()
	if due {
		if err := c.refresh(); err != nil {
			c.log.Warn().Err(err).Msg("cannot list network interfaces; interface names will be missing")
		}
	}
	return (*c.names.Load())[index]
}

// refresh re-reads every link with an RTM_GETLINK dump.
func (c *ifaceNames) refresh() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dump == nil {
		return fmt.Errorf("rtnetlink: no socket")
	}
	req := netlink.Message{
		Header: netlink.Header{Type: unix.RTM_GETLINK, Flags: netlink.Request | netlink.Dump},
		Data:   make([]byte, unix.SizeofIfInfomsg),
	}
	msgs, err := c.dump.Execute(req)
	if err != nil {
		return fmt.Errorf("rtnetlink link dump: %w", err)
	}
	m := make(map[uint32]string, len(msgs))
	for _, msg := range msgs {
		if idx, name, ok := parseLink(msg.Data); ok {
			m[idx] = name
		}
	}
	c.names.Store(&m)
	return nil
}

// watch follows RTM_NEWLINK/RTM_DELLINK notifications until ctx ends.
func (c *ifaceNames) watch(ctx context.Context) {
	conn := c.notify
	if conn == nil {
		return
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	for {
		msgs, err := conn.Receive()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			// ENOBUFS here means we missed notifications: re-read all.
			c.log.Debug().Err(err).Msg("link notifications: re-reading interfaces")
			if err := c.refresh(); err != nil {
				c.log.Warn().Err(err).Msg("cannot list network interfaces")
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		old := *c.names.Load()
		m := make(map[uint32]string, len(old)+1)
		for k, v := range old {
			m[k] = v
		}
		for _, msg := range msgs {
			idx, name, ok := parseLink(msg.Data)
			if !ok {
				continue
			}
			switch msg.Header.Type {
			case unix.RTM_NEWLINK:
				m[idx] = name
			case unix.RTM_DELLINK:
				delete(m, idx)
			}
		}
		c.names.Store(&m)
	}
}

// parseLink reads ifinfomsg.ifi_index and IFLA_IFNAME.
func parseLink(b []byte) (uint32, string, bool) {
	if len(b) < unix.SizeofIfInfomsg {
		return 0, "", false
	}
	idx := binary.NativeEndian.Uint32(b[4:8])
	ad, err := netlink.NewAttributeDecoder(b[unix.SizeofIfInfomsg:])
	if err != nil {
		return 0, "", false
	}
	for ad.Next() {
		if ad.Type() == unix.IFLA_IFNAME {
			return idx, string(bytes.TrimRight(ad.Bytes(), "\x00")), true
		}
	}
	return 0, "", false
}
