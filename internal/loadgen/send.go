package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// SendOptions say where and how to send.
type SendOptions struct {
	Socket     string
	SocketType string  // dgram | stream
	Count      int     // records to send; 0: until ctx ends
	Rate       float64 // records per second; 0: as fast as the socket takes them
	// NonBlock sends with MSG_DONTWAIT like Suricata in live mode: a record
	// the socket has no room for (EAGAIN) is dropped and counted, never
	// retried.
	NonBlock bool
	// SendBuffer sets SO_SNDBUF (SO_SNDBUFFORCE as root); 0 leaves the
	// kernel default (net.core.wmem_default), as Suricata does. For
	// datagrams it bounds how many records can wait in the receiver's
	// queue: about 93 of 1.1 KB with the default 212992 bytes.
	SendBuffer int
}

// Result is what a send achieved.
type Result struct {
	Sent    uint64 // records the kernel accepted
	Dropped uint64 // records dropped at the sender (EAGAIN with NonBlock)
	Bytes   uint64
	Elapsed time.Duration
}

// Rate returns the records sent per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

func (r Result) String() string {
	return fmt.Sprintf("sent %d, dropped at sender %d, %d bytes, elapsed %s, %.0f events/s",
		r.Sent, r.Dropped, r.Bytes, r.Elapsed.Round(time.Millisecond), r.Rate())
}

// Send connects to o.Socket and sends records from g until o.Count are
// done (sent or dropped) or ctx ends. Any send error other than EAGAIN in
// non-blocking mode stops it.
func Send(ctx context.Context, g Generator, o SendOptions) (Result, error) {
	network := "unixgram"
	switch o.SocketType {
	case "", "dgram":
	case "stream":
		network = "unix"
	default:
		return Result{}, fmt.Errorf("socket type %q: want dgram or stream", o.SocketType)
	}
	c, err := net.Dial(network, o.Socket)
	if err != nil {
		return Result{}, fmt.Errorf("connect: %w", err)
	}
	defer c.Close()
	rc, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return Result{}, err
	}
	if o.SendBuffer > 0 {
		var serr error
		cerr := rc.Control(func(fd uintptr) {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, o.SendBuffer); serr != nil {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, o.SendBuffer)
			}
		})
		if serr = errors.Join(cerr, serr); serr != nil {
			return Result{}, fmt.Errorf("set send buffer: %w", serr)
		}
	}
	s := &sender{rc: rc, stream: network == "unix", nonblock: o.NonBlock}

	var res Result
	start := time.Now()
	var buf []byte
	for o.Count == 0 || res.Sent+res.Dropped < uint64(o.Count) {
		if (res.Sent+res.Dropped)&255 == 0 && ctx.Err() != nil {
			break
		}
		if o.Rate > 0 {
			pace(start, res.Sent+res.Dropped, o.Rate)
		}
		buf = g.Next(buf[:0])
		sent, err := s.send(buf)
		if err != nil {
			res.Elapsed = time.Since(start)
			return res, fmt.Errorf("send record %d: %w", res.Sent+res.Dropped+1, err)
		}
		if sent {
			res.Sent++
			res.Bytes += uint64(len(buf))
		} else {
			res.Dropped++
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// pace sleeps until record n is due at rate per second. Sleeping in steps
// of at least 200µs keeps the timer cost low; records due meanwhile go out
// back to back, as a sensor's bursts do.
func pace(start time.Time, n uint64, rate float64) {
	due := start.Add(time.Duration(float64(n) / rate * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		time.Sleep(max(d, 200*time.Microsecond))
	}
}

type sender struct {
	rc       syscall.RawConn
	stream   bool
	nonblock bool
}

// send sends one record. It reports false when the record was dropped
// (EAGAIN in non-blocking mode).
func (s *sender) send(b []byte) (bool, error) {
	if s.nonblock {
		var n int
		var serr error
		if err := s.rc.Control(func(fd uintptr) { n, serr = sendOnce(fd, b) }); err != nil {
			return false, err
		}
		if errors.Is(serr, unix.EAGAIN) {
			return false, nil
		}
		if serr != nil {
			return false, serr
		}
		if !s.stream || n == len(b) {
			return true, nil
		}
		// A partial stream write cannot be dropped without corrupting
		// the stream: finish the record, waiting.
		b = b[n:]
	}
	for len(b) > 0 {
		var n int
		var serr error
		err := s.rc.Write(func(fd uintptr) bool {
			n, serr = sendOnce(fd, b)
			return !errors.Is(serr, unix.EAGAIN)
		})
		if err != nil {
			return false, err
		}
		if serr != nil {
			return false, serr
		}
		if !s.stream {
			return true, nil
		}
		b = b[n:]
	}
	return true, nil
}

func sendOnce(fd uintptr, b []byte) (int, error) {
	for {
		n, err := unix.SendmsgN(int(fd), b, nil, nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}
