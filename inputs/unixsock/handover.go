package unixsock

import (
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The bound sockets of the process, for a graceful re-exec (SIGUSR2) that
// hands them to the new process.
var (
	liveMu sync.Mutex
	live   = map[*socket]bool{}
	// handingOver is set once the sockets are handed to a new process:
	// from then on stopping inputs neither removes their paths nor drains
	// their queues (the new process reads them).
	handingOver atomic.Bool
)

func register(s *socket) {
	liveMu.Lock()
	live[s] = true
	liveMu.Unlock()
}

func unregister(s *socket) {
	liveMu.Lock()
	delete(live, s)
	liveMu.Unlock()
}

// HandOver returns a duplicate of every bound socket, and the path each is
// bound to, for a new process to inherit (exec.Cmd.ExtraFiles); from then
// on stopping the inputs leaves the sockets' paths and queues to it. The
// caller closes the files once the new process has started. Stream
// sockets are handed over as listeners: connections accepted already stay
// with this process, which reads them until its inputs stop.
func HandOver() (paths []string, files []*os.File, err error) {
	liveMu.Lock()
	defer liveMu.Unlock()
	for s := range live {
		rc, err := s.rawConn()
		if err != nil {
			return nil, nil, err
		}
		var dup int
		var derr error
		if err := rc.Control(func(fd uintptr) { dup, derr = unix.Dup(int(fd)) }); err != nil || derr != nil {
			for _, f := range files {
				f.Close()
			}
			if err == nil {
				err = derr
			}
			return nil, nil, err
		}
		paths = append(paths, s.path)
		files = append(files, os.NewFile(uintptr(dup), s.path))
	}
	handingOver.Store(true)
	return paths, files, nil
}

// CancelHandOver makes stopping inputs remove their paths and drain their
// queues again (the new process failed to start).
func CancelHandOver() { handingOver.Store(false) }
