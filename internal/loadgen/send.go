package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
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
	var pc *pacer
	if o.Rate > 0 {
		pc = newPacer(o.Rate)
		defer pc.close()
	}
	start := time.Now()
	if pc != nil {
		pc.start = start
	}
	var buf []byte
	for o.Count == 0 || res.Sent+res.Dropped < uint64(o.Count) {
		if (res.Sent+res.Dropped)&255 == 0 && ctx.Err() != nil {
			break
		}
		if pc != nil {
			pc.wait(res.Sent + res.Dropped)
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

// pacer spaces records evenly at a rate, each one sent when it is due, as a
// sensor's alerts follow its packets. Go's time.Sleep wakes up to a
// millisecond late (the runtime's timers ride on epoll's millisecond
// timeout), which would turn pacing into bursts of rate/1000 records: more
// than the ~93 datagrams a default send buffer lets wait at 100,000/s, so
// the sender would drop whatever the receiver does. The pacer therefore
// sleeps with nanosleep(2) on its own OS thread with 1 µs of timer slack;
// records that are overdue (the thread was descheduled) go out back to
// back, never skipped.
type pacer struct {
	start    time.Time
	interval float64 // nanoseconds per record
}

func newPacer(rate float64) *pacer {
	runtime.LockOSThread()
	// The default timer slack (50 µs) is as long as the gap between two
	// records at 20,000/s.
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1000, 0, 0, 0)
	return &pacer{interval: 1e9 / rate}
}

// wait returns once record n is due.
func (p *pacer) wait(n uint64) {
	due := p.start.Add(time.Duration(float64(n) * p.interval))
	for {
		d := time.Until(due)
		if d <= 0 {
			return
		}
		ts := unix.NsecToTimespec(int64(d))
		_ = unix.Nanosleep(&ts, nil) // EINTR: the loop sleeps the rest
	}
}

// close restores the thread's default timer slack (0 means the default)
// and gives the thread back to the runtime.
func (p *pacer) close() {
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 0, 0, 0, 0) // 0: back to the thread's default
	runtime.UnlockOSThread()
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
