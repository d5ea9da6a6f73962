// Command countrecv is the benchmarks' baseline: a plain receive-and-count
// loop on a Unix datagram socket, nothing decoded or written. It shows what
// the machine and the kernel allow, to compare the gateway with.
//
//	countrecv -socket /tmp/x.sock -count 1000000
//
// By default it reads with blocking recvmmsg(2) calls of up to -batch
// datagrams (MSG_WAITFORONE: it returns what is there as soon as one
// arrived), the cheapest way to drain a socket: the physical limit of the
// live-sensor ladder (bench/ladder). -mode read reads one datagram per call
// through Go's netpoller instead.
//
// It prints the datagrams and bytes received, the rate measured from the
// first datagram to the last and its own CPU time, then exits (after
// -count datagrams, or after -idle without any).
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// counter is what a receive loop found.
type counter struct {
	n, bytes    int
	first, last time.Time
}

func (c *counter) add(k, bytes int) {
	c.last = time.Now()
	if c.n == 0 {
		c.first = c.last
	}
	c.n += k
	c.bytes += bytes
}

func main() {
	path := flag.String("socket", "/tmp/countrecv.sock", "datagram socket to bind")
	count := flag.Int("count", 0, "exit after this many datagrams (0: only on idle)")
	idle := flag.Duration("idle", 3*time.Second, "exit after this long without a datagram (once one arrived)")
	mode := flag.String("mode", "mmsg", "mmsg (blocking recvmmsg) or read (one datagram per read, Go netpoller)")
	batch := flag.Int("batch", 64, "mmsg: most datagrams per recvmmsg")
	flag.Parse()

	_ = os.Remove(*path)
	var c counter
	var err error
	switch *mode {
	case "mmsg":
		err = recvMmsg(*path, *count, *idle, max(*batch, 1), &c)
	case "read":
		err = recvRead(*path, *count, *idle, &c)
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	_ = os.Remove(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "countrecv:", err)
		os.Exit(1)
	}
	el := c.last.Sub(c.first).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(c.n-1) / el
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fmt.Fprintln(os.Stderr, "getrusage:", err)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("received=%d bytes=%d elapsed=%.3fs datagrams_per_s=%.0f cpu_s=%.3f rss_mb=%.1f\n",
		c.n, c.bytes, el, rate, cpu.Seconds(), float64(ru.Maxrss)/1024)
}

// recvRead reads one datagram per call through the netpoller.
func recvRead(path string, count int, idle time.Duration, c *counter) error {
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, 212992)
	for count == 0 || c.n < count {
		if c.n > 0 {
			if err := conn.SetReadDeadline(time.Now().Add(idle)); err != nil {
				return err
			}
		}
		k, err := conn.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil
			}
			return err
		}
		c.add(1, k)
	}
	return nil
}

// mmsghdr is struct mmsghdr of recvmmsg(2).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// slot is each datagram's receive buffer: larger than any benchmark record.
const slot = 16 << 10

// recvMmsg reads with blocking recvmmsg calls on its own thread. A 100 ms
// receive timeout lets it notice the idle limit.
func recvMmsg(path string, count int, idle time.Duration, batch int, c *counter) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return err
	}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100_000}); err != nil {
		return err
	}
	hs := make([]mmsghdr, batch)
	iov := make([]unix.Iovec, batch)
	data := make([]byte, batch*slot)
	for i := range hs {
		iov[i].Base = &data[i*slot]
		iov[i].SetLen(slot)
		hs[i].hdr.Iov = &iov[i]
		hs[i].hdr.SetIovlen(1)
	}
	for count == 0 || c.n < count {
		for i := range hs {
			hs[i].len = 0
		}
		r, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hs[0])), uintptr(len(hs)),
			unix.MSG_WAITFORONE, 0, 0)
		switch errno {
		case 0:
		case unix.EAGAIN, unix.EINTR:
			if c.n > 0 && time.Since(c.last) > idle {
				return nil
			}
			continue
		default:
			return fmt.Errorf("recvmmsg: %w", errno)
		}
		k, bytes := int(r), 0
		for i := range k {
			bytes += int(hs[i].len)
		}
		c.add(k, bytes)
	}
	return nil
}
