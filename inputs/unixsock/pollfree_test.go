package unixsock

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A datagram socket must stay out of Go's network poller: registered
// there, every datagram queued wakes a thread parked in epoll_pwait (the
// registration is edge-triggered, and Linux reports an edge for each
// datagram), whether or not the reader waits on it. The kernel lists what
// an epoll instance watches in /proc/self/fdinfo; the socket's descriptor
// must be in none of the process's.
func TestDgramSocketOutsideThePoller(t *testing.T) {
	srv, rec, path, _ := serve(t, Dgram, "d.sock")
	// The server reads: the socket is live, and the runtime's epoll
	// instance exists (the test's own connection registers with it).
	sendOne(t, path, rec)

	rc, err := srv.socks[0].rawConn()
	if err != nil {
		t.Fatal(err)
	}
	var sockFD int
	if err := rc.Control(func(fd uintptr) { sockFD = int(fd) }); err != nil {
		t.Fatal(err)
	}
	watched, epolls := epollWatched(t)
	if epolls == 0 {
		t.Fatal("found no epoll instance in this process: the check proves nothing")
	}
	if watched[sockFD] {
		t.Fatalf("datagram socket fd %d is registered with the network poller (watched: %v)", sockFD, watched)
	}
}

// epollWatched returns the descriptors the process's epoll instances
// watch, and how many instances there are.
func epollWatched(t *testing.T) (map[int]bool, int) {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	watched, epolls := map[int]bool{}, 0
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || target != "anon_inode:[eventpoll]" {
			continue
		}
		info, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue
		}
		epolls++
		for line := range strings.Lines(string(info)) {
			// "tfd:        7 events:       19 data: ..."
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "tfd:" {
				if n, err := strconv.Atoi(f[1]); err == nil {
					watched[n] = true
				}
			}
		}
	}
	return watched, epolls
}

// A reader blocked in poll(2) on an idle socket stops at once when its
// context ends (the eventfd wakes it), and reads what was queued first.
func TestDgramIdleReaderStopsPromptly(t *testing.T) {
	_, rec, path, stop := serve(t, Dgram, "d.sock")
	sendOne(t, path, rec)
	time.Sleep(50 * time.Millisecond) // idle: the reader is blocked in poll
	if err := stop(); err != nil {
		t.Fatalf("an idle reader: %v", err)
	}
}

// sendOne sends one datagram to the socket at path and waits until rec
// has it.
func sendOne(t *testing.T, path string, rec *recorder) {
	t.Helper()
	c, err := net.Dial("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "the datagram", func() bool { return len(rec.msgs) == 1 })
}

func TestPacerPause(t *testing.T) {
	const linger = time.Millisecond
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	// EVE records of 1.1 KB: what the kernel is charged for n of them.
	const rec = 1100
	tests := []struct {
		name     string
		pause    time.Duration
		rate     float64       // records/s arriving before and at this read
		n        int           // records this read brought
		full     bool          // the read filled its batch
		busy     time.Duration // handling them took
		first    bool          // no read before this one
		idle     bool          // the read came after an idle spell
		min, max time.Duration
	}{
		{name: "first read", pause: linger, rate: 20000, n: 20, first: true, max: 0},
		{name: "pausing off", pause: 0, rate: 20000, n: 20, max: 0},
		{name: "full batch: behind", pause: linger, rate: 20000, n: 20, full: true, max: 0},
		{name: "after an idle spell", pause: linger, rate: 20000, n: 1, idle: true, max: 0},
		{name: "20,000/s: the whole linger", pause: linger, rate: 20000, n: 20, busy: ms(0.1), min: linger, max: linger},
		{name: "50,000/s: a shorter pause", pause: linger, rate: 50000, n: 30, busy: ms(0.2), min: 100 * time.Microsecond, max: ms(0.5)},
		{name: "100,000/s, handling uses the budget: none", pause: linger, rate: 100000, n: 30, busy: ms(0.3), max: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := readPacer{pause: tt.pause}
			now := time.Unix(1000, 0)
			interval := time.Duration(float64(tt.n) / tt.rate * float64(time.Second))
			if !tt.first {
				// Earlier reads at the same rate set the pacer's estimate.
				for range 20 {
					p.after(tt.n, tt.n*rec, false, tt.busy, now)
					now = now.Add(interval)
				}
			}
			if tt.idle {
				now = now.Add(10 * linger)
			}
			got := p.after(tt.n, tt.n*rec, tt.full, tt.busy, now)
			if got < tt.min || got > tt.max {
				t.Errorf("pause %v, want between %v and %v", got, tt.min, tt.max)
			}
		})
	}
}

func TestPacerBusy(t *testing.T) {
	for _, tt := range []struct {
		rate float64 // kernel bytes/s at the last reads
		want bool
	}{
		{0, false},
		{20000 * 2124, false}, // 20,000 EVE records/s: the socket is often empty
		{150000 * 2124, true}, // full rate: the next datagram is microseconds away
	} {
		p := readPacer{pause: time.Millisecond, rate: tt.rate}
		if got := p.busy(); got != tt.want {
			t.Errorf("rate %.0f B/s: busy %v, want %v", tt.rate, got, tt.want)
		}
	}
}

// The brief wait of a busy reader returns by itself on an idle socket
// (after briefWait), so that the reader goes on to block in poll and gives
// its P away; and it returns when a datagram arrives.
func TestWaitReadableBrieflyReturns(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	c, err := newCanceller(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()

	done := make(chan struct{})
	go func() { c.waitReadableBriefly(uintptr(fds[0])); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("waitReadableBriefly on an idle socket did not return")
	}

	if _, err := unix.Write(fds[1], []byte("x")); err != nil {
		t.Fatal(err)
	}
	c.waitReadableBriefly(uintptr(fds[0]))
	var b [8]byte
	if n, _, err := unix.Recvfrom(fds[0], b[:], unix.MSG_DONTWAIT); err != nil || n != 1 {
		t.Fatalf("after the wait: %d bytes, %v", n, err)
	}
}

// TestCancellerNeverWritesAfterClose: the eventfd's wake-up is written by a
// goroutine of its own when the context ends; close must wait for it, or
// the write lands in whatever descriptor reuses the eventfd's number (a
// test once found 8 bytes, 01 00 00 00 00 00 00 00, inside a line a stream
// client sent). A socket pair made right after close takes the freed
// number, and nothing may come through it.
func TestCancellerNeverWritesAfterClose(t *testing.T) {
	for range 300 {
		ctx, cancel := context.WithCancel(context.Background())
		c, err := newCanceller(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		c.close()
		p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Microsecond) // a late wake-up would land now
		var b [16]byte
		n, _ := unix.Read(p[1], b[:])
		unix.Close(p[0])
		unix.Close(p[1])
		if n > 0 {
			t.Fatalf("a closed canceller wrote %x into the descriptor that took its number", b[:n])
		}
	}
}
