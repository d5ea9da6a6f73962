package unixsock

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs/unixsock/sockdir"
	"github.com/alertgw/alertgw/internal/listenfds"
)

// socket is one bound socket file.
type socket struct {
	path string
	typ  Type
	// heldBy is who else holds the socket open ("systemd" for socket
	// activation): its path is never removed and what is queued at
	// shutdown is left for the next process to read.
	heldBy string
	dev    uint64 // identity of the file we created, so that shutdown
	ino    uint64 // never removes a socket another process put there since
	// dgram is a datagram socket, outside Go's network poller (see
	// pollfree.go); ln the listener of a stream or seqpacket socket.
	dgram *os.File
	ln    *net.UnixListener
	log   zerolog.Logger
	// removeOnce: the file is removed (or the reason it cannot be is
	// logged) once, by whichever of drain and close comes first.
	removeOnce sync.Once
}

// bind creates the socket at path safely:
//
//  1. the parent directory is created (0750) if missing;
//  2. an existing path is refused unless it is a socket nobody listens on
//     (a regular file, directory or symlink is never removed);
//  3. the socket is bound under a temporary name in the same directory,
//     given its mode, group and receive buffer, (stream: listen()s), and
//     only then rename()d onto path, atomically replacing a stale socket.
//
// So a sensor that connects to path always finds a socket with the right
// permissions, and there is no moment when path is missing during a restart
// once the first socket existed.
func bind(path string, c *Config) (*socket, error) {
	if len(path) > maxPathLen {
		return nil, fmt.Errorf("socket %s: path is %d bytes long; Unix socket paths are limited to %d", path, len(path), maxPathLen)
	}
	typ := Type(c.SocketType)
	if ps, err := listenfds.Take(path, sockType(typ)); err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	} else if ps != nil {
		return adopt(path, typ, ps, c)
	}
	dir := filepath.Dir(path)
	gid := -1
	if c.SocketGroup != "" {
		g, err := lookupGroup(c.SocketGroup)
		if err != nil {
			return nil, fmt.Errorf("socket %s: %w", path, err)
		}
		gid = g
	}
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("socket %s: create directory: %w%s", path, err, permissionHint(err, filepath.Dir(dir)))
	}
	// A directory created here goes to socket_group as the socket does:
	// the sensor must be able to enter it (0750) to reach the socket.
	if errors.Is(statErr, fs.ErrNotExist) && gid >= 0 {
		if err := unix.Lchown(dir, -1, gid); err != nil {
			return nil, fmt.Errorf("socket %s: give directory %s to group %s: %w%s", path, dir, c.SocketGroup, err, groupHint(err, c.SocketGroup))
		}
	}
	if err := checkDir(dir); err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	if err := checkExisting(path, typ); err != nil {
		return nil, err
	}

	tmp, err := tempName(dir, path)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_UNIX, sockType(typ)|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
			os.Remove(tmp)
		}
	}()
	// Errors name the socket's path and its directory, never the
	// temporary name: that is what the operator configured and can fix.
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: tmp}); err != nil {
		return nil, fmt.Errorf("socket %s: cannot create a socket in %s: %w%s", path, dir, err, permissionHint(err, dir))
	}
	if err := unix.Chmod(tmp, uint32(os.FileMode(c.SocketMode).Perm())); err != nil {
		return nil, fmt.Errorf("socket %s: set mode %s: %w", path, c.SocketMode, err)
	}
	if gid >= 0 {
		if err := unix.Lchown(tmp, -1, gid); err != nil {
			return nil, fmt.Errorf("socket %s: set group %s: %w%s", path, c.SocketGroup, err, groupHint(err, c.SocketGroup))
		}
	}
	if c.ReceiveBuffer > 0 {
		setReceiveBuffer(fd, int(c.ReceiveBuffer), path, c)
	}
	if typ.connected() {
		if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
			return nil, fmt.Errorf("socket %s: listen: %w", path, err)
		}
	}
	var st unix.Stat_t
	if err := unix.Lstat(tmp, &st); err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	if err := unix.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("socket %s: move into place: %w%s", path, err, permissionHint(err, dir))
	}

	s := &socket{path: path, typ: typ, dev: uint64(st.Dev), ino: st.Ino, log: c.Log}
	f := os.NewFile(uintptr(fd), path)
	ok = true // f owns fd now
	defer f.Close()
	if err := s.wrap(f); err != nil {
		return nil, err
	}
	register(s)
	return s, nil
}

// adopt takes a socket the process was given open (systemd socket
// activation, or the alertgw it took over from on SIGUSR2) instead of
// binding one: the sensor never sees the path go away.
func adopt(path string, typ Type, ps *listenfds.Socket, c *Config) (*socket, error) {
	defer ps.File.Close()
	s := &socket{path: path, typ: typ}
	if ps.From == listenfds.FromSystemd {
		s.heldBy = ps.From
	} else {
		// Ours from now on (the previous process exits): removed at
		// shutdown if the path still names it.
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err == nil {
			s.dev, s.ino = uint64(st.Dev), st.Ino
		}
	}
	if c.ReceiveBuffer > 0 {
		setReceiveBuffer(int(ps.File.Fd()), int(c.ReceiveBuffer), path, c)
	}
	if err := s.wrap(ps.File); err != nil {
		return nil, err
	}
	c.Log.Info().Str("socket", path).Str("from", ps.From).Msg("using the socket passed by " + ps.From + " (not binding a new one)")
	register(s)
	return s, nil
}

func sockType(t Type) int {
	switch t {
	case Stream:
		return unix.SOCK_STREAM
	case SeqPacket:
		return unix.SOCK_SEQPACKET
	}
	return unix.SOCK_DGRAM
}

// wrap makes s's listener or connection from f (which it duplicates).
func (s *socket) wrap(f *os.File) error {
	path, typ := s.path, s.typ
	if typ.connected() {
		l, err := net.FileListener(f)
		if err != nil {
			s.remove()
			return fmt.Errorf("socket %s: %w", path, err)
		}
		s.ln = l.(*net.UnixListener)
		s.ln.SetUnlinkOnClose(false) // remove() decides, knowing the inode
	} else {
		d, err := pollFreeFile(f)
		if err != nil {
			s.remove()
			return fmt.Errorf("socket %s: %w", path, err)
		}
		s.dgram = d
	}
	return nil
}

// checkDir refuses a directory where someone other than root or the
// gateway's user could remove the socket and put their own in its place,
// so that a sensor sends its alerts to them: see package sockdir.
func checkDir(dir string) error { return sockdir.Check(dir) }

// checkExisting refuses to replace anything at path but a stale socket.
func checkExisting(path string, typ Type) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("socket %s: %w", path, err)
	}
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		return fmt.Errorf("socket %s: the path is a symbolic link; refusing to replace it (remove it or choose another path)", path)
	case m.IsDir():
		return fmt.Errorf("socket %s: the path is a directory, not a socket", path)
	case m&fs.ModeSocket == 0:
		return fmt.Errorf("socket %s: the path exists and is not a socket (%s); refusing to remove it", path, describeMode(m))
	}
	// A socket: stale, or another process (a second gateway) serves it.
	network := map[Type]string{Dgram: "unixgram", Stream: "unix", SeqPacket: "unixpacket"}[typ]
	c, err := net.DialTimeout(network, path, 200*time.Millisecond)
	switch {
	case err == nil:
		c.Close()
		return fmt.Errorf("socket %s: another process is listening on it; refusing to take it over", path)
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOENT):
		return nil // stale: nobody bound to it
	case errors.Is(err, syscall.EPROTOTYPE):
		return fmt.Errorf("socket %s: another process is listening on it with a socket type other than %s; refusing to take it over", path, typ)
	default:
		return fmt.Errorf("socket %s: cannot tell whether the existing socket is in use: %w", path, err)
	}
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return m.String()
}

// permissionHint explains EACCES/EPERM on a directory: who alertgw runs as
// and what it needs there.
func permissionHint(err error, dir string) string {
	if !errors.Is(err, unix.EACCES) && !errors.Is(err, unix.EPERM) {
		return ""
	}
	who := strconv.Itoa(os.Geteuid())
	if u, err := user.LookupId(who); err == nil {
		who = u.Username + " (uid " + who + ")"
	}
	return fmt.Sprintf(" (alertgw runs as %s and needs write and search permission on %s)", who, dir)
}

// groupHint explains EPERM on chown to socket_group: only root, or a member
// of the group, may give a file to a group.
func groupHint(err error, group string) string {
	if !errors.Is(err, unix.EPERM) {
		return ""
	}
	return fmt.Sprintf(" (alertgw must run as root or be a member of group %s to give the socket to it)", group)
}

// tempName returns a short unused name in dir for binding before the
// rename. It must fit sun_path too.
func tempName(dir, final string) (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	tmp := filepath.Join(dir, ".agw"+hex.EncodeToString(b[:]))
	if len(tmp) > maxPathLen {
		return "", fmt.Errorf("socket %s: directory path too long for a temporary socket name (%d bytes; limit %d)", final, len(tmp), maxPathLen)
	}
	return tmp, nil
}

// lookupGroup resolves a group name or number.
func lookupGroup(g string) (int, error) {
	if n, err := strconv.Atoi(g); err == nil && n >= 0 {
		return n, nil
	}
	gr, err := user.LookupGroup(g)
	if err != nil {
		return 0, fmt.Errorf("unknown group %q: %w", g, err)
	}
	return strconv.Atoi(gr.Gid)
}

// setReceiveBuffer sets SO_RCVBUF. As root SO_RCVBUFFORCE passes
// net.core.rmem_max; otherwise the kernel silently caps the value, so what
// was granted is read back and logged. (Linux doubles the value for its own
// book-keeping and reports the doubled size.)
func setReceiveBuffer(fd, size int, path string, c *Config) {
	forced := false
	if os.Geteuid() == 0 {
		forced = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) == nil
	}
	if !forced {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, size); err != nil {
			c.Log.Warn().Err(err).Str("socket", path).Int("requested", size).Msg("cannot set the receive buffer")
			return
		}
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	ev := c.Log.Info()
	if err == nil && got < size {
		ev = c.Log.Warn() // capped by net.core.rmem_max
	}
	ev.Str("socket", path).Int("requested", size).Int("granted", got).Bool("forced", forced).
		Msg("receive buffer (the kernel reports twice the usable size; without root it is capped by net.core.rmem_max)")
}

// check reports an error when the socket file is no longer the one bound
// here.
func (s *socket) check() error {
	var st unix.Stat_t
	err := unix.Lstat(s.path, &st)
	switch {
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("socket %s is gone (removed after alertgw created it): senders cannot reach this input; restart alertgw to create it again", s.path)
	case err != nil:
		return fmt.Errorf("socket %s: %w", s.path, err)
	case s.ino == 0 && st.Mode&unix.S_IFMT != unix.S_IFSOCK:
		// A socket systemd bound: its file's identity is not known here,
		// only that it must still be a socket.
		return fmt.Errorf("socket %s was replaced by a file that is not a socket: senders no longer reach this input", s.path)
	case s.ino == 0:
	case uint64(st.Dev) != s.dev || st.Ino != s.ino:
		return fmt.Errorf("socket %s was replaced by another file after alertgw created it: senders no longer reach this input; restart alertgw", s.path)
	}
	return nil
}

// remove deletes the socket file if it is still the one bound here, unless
// someone else holds the socket (systemd) or hands it on (SIGUSR2). When it
// cannot (after run_as, the gateway's user may not write a root-owned
// directory), it says why: the file stays, and the next start replaces it
// as a stale socket.
func (s *socket) remove() {
	if s.heldBy != "" || handingOver.Load() || s.ino == 0 {
		return
	}
	s.removeOnce.Do(func() {
		var st unix.Stat_t
		if err := unix.Lstat(s.path, &st); err != nil {
			return
		}
		if uint64(st.Dev) != s.dev || st.Ino != s.ino || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
			return // another process's socket now: not ours to remove
		}
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn().Err(err).Str("socket", s.path).Int("uid", os.Geteuid()).
				Msg("socket file left behind at shutdown: the gateway's user cannot remove it from its directory (after run_as, make the directory writable by the run_as user, e.g. owned by it); the next start replaces the stale socket")
		}
	})
}

// close closes the socket and removes its file.
func (s *socket) close() error {
	unregister(s)
	s.remove()
	if s.ln != nil {
		return s.ln.Close()
	}
	return s.dgram.Close()
}

// rawConn is the socket's syscall.RawConn.
func (s *socket) rawConn() (syscall.RawConn, error) {
	if s.ln != nil {
		return s.ln.SyscallConn()
	}
	return s.dgram.SyscallConn()
}

// ListenStream binds a stream socket at path as the inputs' sockets are
// bound (a directory nobody else can change, a stale socket replaced, the
// mode set before the socket is reachable), for the gateway's own servers:
// the admin endpoint's socket. Closing the listener removes the file.
func ListenStream(path string, mode config.FileMode, log zerolog.Logger) (net.Listener, error) {
	c := &Config{Options: Options{SocketType: string(Stream), SocketMode: mode}, Log: log}
	c.fill()
	if probs := c.Options.Validate(); len(probs) > 0 {
		return nil, fmt.Errorf("socket %s: %w", path, probs.Err())
	}
	sk, err := bind(path, c)
	if err != nil {
		return nil, err
	}
	return &ownedListener{UnixListener: sk.ln, sk: sk}, nil
}

// ownedListener removes its socket file when closed.
type ownedListener struct {
	*net.UnixListener
	sk *socket
}

func (l *ownedListener) Close() error { return l.sk.close() }
