package unixsock

import (
	"context"
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Datagram sockets are read outside Go's network poller.
//
// Go registers every net.Conn with its epoll instance edge-triggered, and
// Linux reports an edge-triggered event for every datagram queued, not only
// for the first: at 20,000 events/s the thread parked in epoll_pwait woke
// 20,000 times a second although the reader, pacing its reads, was not
// waiting on the socket. Those wake-ups (a context switch each, on the
// core the sensor needs) were about half of the gateway's CPU per event at
// ordinary rates. So a datagram socket is kept as a blocking file the
// poller never sees: the reader receives with MSG_DONTWAIT, sleeps between
// paced reads in nanosleep (sleep), and when the queue is empty blocks in
// poll(2) on the socket and an eventfd that cancellation writes to
// (waitReadable; while datagrams come fast, first up to 1 ms in a raw
// ppoll that keeps the reader's P, waitReadableBriefly). A reader then
// costs one wake-up per read, as the count-only loop does.

// pollFreeFile returns a duplicate of f's socket as a file that is not
// registered with the network poller (os.NewFile registers only
// non-blocking descriptors, so the open file description is made blocking;
// every read of it passes MSG_DONTWAIT).
func pollFreeFile(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var dup int
	var derr error
	if err := rc.Control(func(fd uintptr) {
		if dup, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0); derr == nil {
			derr = unix.SetNonblock(dup, false)
		}
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		if dup > 0 {
			unix.Close(dup)
		}
		return nil, fmt.Errorf("duplicate socket: %w", derr)
	}
	return os.NewFile(uintptr(dup), f.Name()), nil
}

// canceller wakes a reader blocked in waitReadable when ctx ends.
type canceller struct {
	efd   int
	stop  func() bool
	woken chan struct{} // closed once the wake-up is written
}

func newCanceller(ctx context.Context) (*canceller, error) {
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	c := &canceller{efd: efd, woken: make(chan struct{})}
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	c.stop = context.AfterFunc(ctx, func() {
		defer close(c.woken)
		_, _ = unix.Write(efd, one)
	})
	return c, nil
}

// close releases the eventfd once the reader is done with it. When the
// context has ended, the wake-up runs in a goroutine of its own: close
// waits for its write, or the write could land in whatever descriptor
// takes the eventfd's number next (a file, a socket).
func (c *canceller) close() {
	if !c.stop() {
		<-c.woken
	}
	unix.Close(c.efd)
}

// waitReadable blocks until the socket fd has a datagram or the reader is
// cancelled (then ctx.Err() is set). EINTR is a spurious wake-up: the
// caller reads, finds nothing and waits again.
func (c *canceller) waitReadable(fd uintptr) error {
	pfd := [2]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(c.efd), Events: unix.POLLIN}}
	if _, err := unix.Poll(pfd[:], -1); err != nil && err != unix.EINTR {
		return fmt.Errorf("poll: %w", err)
	}
	return nil
}

// briefWait bounds waitReadableBriefly.
const briefWait = time.Millisecond

// waitReadableBriefly is waitReadable for at most briefWait, as a raw
// system call: the reader keeps its P (see sleep). It returns when a
// datagram arrives, the reader is cancelled, the time is up or a signal
// (the runtime's preemption) interrupts it; the caller reads again.
func (c *canceller) waitReadableBriefly(fd uintptr) {
	pfd := [2]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(c.efd), Events: unix.POLLIN}}
	ts := unix.NsecToTimespec(int64(briefWait))
	_, _, _ = unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd[0])), uintptr(len(pfd)), uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
}

// sleep pauses the reader's thread for d (the pacer's pause, Config.Linger
// at most; never more than briefWait) in nanosleep: a Go timer would park
// the goroutine and wake it through the scheduler and the poller. It is a
// raw system call, so the reader keeps its P: through an ordinary one the
// runtime hands the P to other goroutines meanwhile, and the reader, awake,
// waited up to 5 ms for one (seen in execution traces at 50,000 events/s),
// longer than the socket's slack. A signal (the runtime's preemption) ends
// the sleep early.
func sleep(d int64) {
	ts := unix.NsecToTimespec(min(d, int64(briefWait)))
	_, _, _ = unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
}
