// Command countrecv is the benchmark's baseline: a plain receive-and-count
// loop on a Unix datagram socket, nothing decoded or written. It shows what
// the machine and the kernel allow, to compare the gateway with.
//
//	countrecv -socket /tmp/x.sock -count 1000000
//
// It prints the datagrams and bytes received and the rate measured from
// the first datagram to the last, then exits (after -count datagrams, or
// after -idle without any).
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

func main() {
	path := flag.String("socket", "/tmp/countrecv.sock", "datagram socket to bind")
	count := flag.Int("count", 0, "exit after this many datagrams (0: only on idle)")
	idle := flag.Duration("idle", 3*time.Second, "exit after this long without a datagram (once one arrived)")
	flag.Parse()

	os.Remove(*path)
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: *path, Net: "unixgram"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "countrecv:", err)
		os.Exit(1)
	}
	defer c.Close()
	buf := make([]byte, 212992)
	var n, bytes int
	var first, last time.Time
	for *count == 0 || n < *count {
		if n > 0 {
			if err := c.SetReadDeadline(time.Now().Add(*idle)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		k, err := c.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			fmt.Fprintln(os.Stderr, "countrecv:", err)
			os.Exit(1)
		}
		last = time.Now()
		if n == 0 {
			first = last
		}
		n++
		bytes += k
	}
	el := last.Sub(first).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(n-1) / el
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fmt.Fprintln(os.Stderr, "getrusage:", err)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("received=%d bytes=%d elapsed=%.3fs datagrams_per_s=%.0f cpu_s=%.2f rss_mb=%.1f\n",
		n, bytes, el, rate, cpu.Seconds(), float64(ru.Maxrss)/1024)
}
