package unixsock

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
	"kernel.org/pub/linux/libs/security/libcap/cap"
)

// setReaderNice gives the calling goroutine a thread of its own with nice
// value n (Options.ReaderNice) until restore is called; 0 changes nothing.
//
// Why: on a host with few cores a datagram reader that keeps up is mostly
// asleep between reads, and when datagrams arrive it competes for a CPU
// with the gateway's other threads (the workers, the outputs, the garbage
// collector) and with the sender itself. A wait longer than the sender's
// slack (about 90 EVE datagrams: 1.8 ms at 50,000 events/s) loses
// datagrams at a sender that never waits. A lower nice value makes the
// kernel run the reader first. The live-sensor ladder measured 24-32 %
// fewer datagrams lost at 50,000/s and 37-46 % fewer at 100,000/s with
// -15 (docs/performance/ladder.md).
//
// restore puts the thread's nice value back before it unlocks the thread,
// so the raised priority never passes to other goroutines. (Ending the
// goroutine locked would not do: Go ends such a thread, except the main
// thread, which it parks with its priority.) Raising a nice value back is
// always allowed; should it fail all the same, the thread stays locked to
// the ending goroutine.
func setReaderNice(n int) (restore func(), err error) {
	if n == 0 {
		return func() {}, nil
	}
	runtime.LockOSThread()
	tid := unix.Gettid()
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid) // the kernel's 20 - nice
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("reader_nice %d: read the thread's nice value: %w", n, err)
	}
	if err := unix.Setpriority(unix.PRIO_PROCESS, tid, n); err != nil {
		runtime.UnlockOSThread()
		return nil, niceError(n, err)
	}
	return func() {
		if unix.Setpriority(unix.PRIO_PROCESS, tid, 20-prio) == nil {
			runtime.UnlockOSThread()
		}
	}, nil
}

// checkReaderNice tells at start-up whether a reader may take nice value
// n: a value below 0 needs CAP_SYS_NICE (root has it) or an RLIMIT_NICE
// that allows it (20 - n at most). It changes nothing: a thread made and
// dropped for a trial could be the main thread, which Go never ends.
func checkReaderNice(n int) error {
	if n >= 0 {
		return nil
	}
	if on, err := cap.GetProc().GetFlag(cap.Effective, cap.SYS_NICE); err == nil && on {
		return nil
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NICE, &lim); err == nil && lim.Cur >= uint64(20-n) {
		return nil
	}
	return niceError(n, unix.EPERM)
}

func niceError(n int, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("reader_nice %d: %w: a negative value needs root or CAP_SYS_NICE (systemd: AmbientCapabilities=CAP_SYS_NICE)", n, err)
	}
	return fmt.Errorf("reader_nice %d: %w", n, err)
}
