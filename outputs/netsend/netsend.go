// Package netsend sends messages over a datagram or stream socket for the
// outputs that forward to sockets (syslog, unix, graphite): it dials
// lazily, redials after a failure, frames messages on streams and reports
// per message what went wrong on datagrams.
package netsend

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/alertgw/alertgw/outputs"
)

// Framing of messages on a stream.
const (
	FrameOctetCounting = "octet_counting" // RFC 6587 3.4.1: "LEN SP MSG"
	FrameNewline       = "newline"        // MSG LF (messages must not contain LF)
)

// Conn is one destination socket.
type Conn struct {
	Network string // udp, tcp, unix, unixgram, tls
	Address string
	TLS     *tls.Config
	Timeout time.Duration
	Framing string // streams only

	c   net.Conn
	buf []byte
}

// Datagram reports whether each message goes in its own datagram.
func (c *Conn) Datagram() bool { return c.Network == "udp" || c.Network == "unixgram" }

func (c *Conn) dial() error {
	if c.c != nil {
		return nil
	}
	d := net.Dialer{Timeout: c.Timeout}
	var err error
	switch c.Network {
	case "tls":
		c.c, err = tls.DialWithDialer(&d, "tcp", c.Address, c.TLS)
	default:
		c.c, err = d.Dial(c.Network, c.Address)
	}
	if err != nil {
		c.c = nil
		return fmt.Errorf("dial %s %s: %w", c.Network, c.Address, err)
	}
	return nil
}

// Close closes the socket; the next Send dials again.
func (c *Conn) Close() error {
	if c.c == nil {
		return nil
	}
	err := c.c.Close()
	c.c = nil
	return err
}

// Send sends msgs. On a stream they are framed and written in one go; an
// error means the batch must be sent again (the receiver may have some of
// it: at least once). On datagrams each message is sent alone; a message
// too large for a datagram is a permanent failure of that message only.
func (c *Conn) Send(msgs [][]byte) error {
	if err := c.dial(); err != nil {
		return err
	}
	deadline := time.Now().Add(c.Timeout)
	if c.Timeout > 0 {
		if err := c.c.SetWriteDeadline(deadline); err != nil {
			c.Close() // a connection that refuses a deadline is no use: dial again
			return fmt.Errorf("%s %s: %w", c.Network, c.Address, err)
		}
	}
	if !c.Datagram() {
		b := c.buf[:0]
		for _, m := range msgs {
			b = c.frame(b, m)
		}
		c.buf = b
		if _, err := c.c.Write(b); err != nil {
			c.Close()
			return fmt.Errorf("write %s %s: %w", c.Network, c.Address, err)
		}
		return nil
	}
	var pe outputs.PartialError
	for i, m := range msgs {
		_, err := c.c.Write(m)
		if err == nil {
			continue
		}
		if errors.Is(err, syscall.EMSGSIZE) {
			pe.Failed = append(pe.Failed, outputs.ItemFailure{Index: i, Permanent: true, Reason: "too_large", Detail: fmt.Sprintf("%d bytes do not fit a datagram: %v", len(m), err)})
			continue
		}
		c.Close()
		for j := i; j < len(msgs); j++ {
			pe.Failed = append(pe.Failed, outputs.ItemFailure{Index: j, Reason: "send_error", Detail: err.Error()})
		}
		if i == 0 && len(pe.Failed) == len(msgs) {
			return fmt.Errorf("send %s %s: %w", c.Network, c.Address, err)
		}
		break
	}
	if len(pe.Failed) > 0 {
		return &pe
	}
	return nil
}

func (c *Conn) frame(b, m []byte) []byte {
	if c.Framing == FrameNewline {
		return append(append(b, m...), '\n')
	}
	b = strconv.AppendInt(b, int64(len(m)), 10)
	b = append(b, ' ')
	return append(b, m...)
}
