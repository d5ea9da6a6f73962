// Package listenfds finds sockets a process was given open instead of
// binding them itself: by systemd socket activation (LISTEN_PID,
// LISTEN_FDS, LISTEN_FDNAMES: sd_listen_fds(3)), or by an alertgw that
// re-executes itself on SIGUSR2 and hands its sockets to the new process
// (AGW_LISTEN_FDS, AGW_LISTEN_FDNAMES; not ALERTGW_*, which configure). Either way the descriptors
// start at 3.
//
// Sockets from systemd are matched by what they are bound to
// (getsockname), not by the order or the names the unit gives them (an
// alertgw handing over names each socket by its path): a socket input whose path is
// /run/alertgw/suricata.sock takes the passed socket bound to that path,
// if its type matches.
package listenfds

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Who passed the sockets.
const (
	FromSystemd = "systemd"
	FromUpgrade = "upgrade" // the alertgw this one took over from
)

// Environment variables of a handover between two alertgw processes.
const (
	EnvFDs   = "AGW_LISTEN_FDS"
	EnvNames = "AGW_LISTEN_FDNAMES"
)

const firstFD = 3

// Socket is one passed socket.
type Socket struct {
	File *os.File
	Path string // the Unix path it is bound to ("" for other families)
	Type int    // unix.SOCK_DGRAM, unix.SOCK_STREAM, …
	Name string // LISTEN_FDNAMES' name, if any
	From string
}

var (
	once   sync.Once
	mu     sync.Mutex
	passed []*Socket
)

// load reads the environment once and unsets it, so that processes the
// gateway starts do not believe they were given the sockets.
func load() {
	once.Do(func() {
		if pid, err := strconv.Atoi(os.Getenv("LISTEN_PID")); err == nil && pid == os.Getpid() {
			passed = append(passed, collect(os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_FDNAMES"), FromSystemd, firstFD)...)
		}
		if n := os.Getenv(EnvFDs); n != "" {
			passed = append(passed, collect(n, os.Getenv(EnvNames), FromUpgrade, firstFD+len(passed))...)
		}
		for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", EnvFDs, EnvNames} {
			os.Unsetenv(k)
		}
	})
}

func collect(count, names, from string, first int) []*Socket {
	n, err := strconv.Atoi(count)
	if err != nil || n <= 0 {
		return nil
	}
	nameList := strings.Split(names, ":")
	var out []*Socket
	for i := range n {
		fd := first + i
		unix.CloseOnExec(fd)
		s := &Socket{File: os.NewFile(uintptr(fd), fmt.Sprintf("fd%d", fd)), From: from}
		if i < len(nameList) {
			s.Name = nameList[i]
		}
		if t, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err == nil {
			s.Type = t
		}
		if from == FromUpgrade {
			// alertgw binds under a temporary name and renames the socket
			// into place: the name it hands over is the path.
			s.Path = s.Name
		} else if sa, err := unix.Getsockname(fd); err == nil {
			if ua, ok := sa.(*unix.SockaddrUnix); ok {
				s.Path = ua.Name
			}
		}
		out = append(out, s)
	}
	return out
}

// Take returns the passed socket bound to path with socket type typ and
// removes it from the passed ones; nil when there is none. A socket bound
// to path with another type is an error: the unit and the configuration
// disagree.
func Take(path string, typ int) (*Socket, error) {
	load()
	mu.Lock()
	defer mu.Unlock()
	for i, s := range passed {
		if s.Path != path {
			continue
		}
		if s.Type != typ {
			return nil, fmt.Errorf("the socket %s passed by %s has type %s, the configuration wants %s", path, s.From, typeName(s.Type), typeName(typ))
		}
		passed = append(passed[:i], passed[i+1:]...)
		return s, nil
	}
	return nil, nil
}

// Unused returns the passed sockets nothing took, and forgets them: the
// caller closes them (and says so).
func Unused() []*Socket {
	load()
	mu.Lock()
	defer mu.Unlock()
	out := passed
	passed = nil
	return out
}

// Env returns the environment that hands files to a process started with
// them as its ExtraFiles (descriptors 3, 4, …), each named by the path it
// is bound to.
func Env(paths []string) []string {
	return []string{EnvFDs + "=" + strconv.Itoa(len(paths)), EnvNames + "=" + strings.Join(paths, ":")}
}

func typeName(t int) string {
	switch t {
	case unix.SOCK_DGRAM:
		return "dgram"
	case unix.SOCK_STREAM:
		return "stream"
	case unix.SOCK_SEQPACKET:
		return "seqpacket"
	}
	return strconv.Itoa(t)
}
