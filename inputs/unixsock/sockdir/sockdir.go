// Package sockdir decides whether a directory is safe to hold the
// gateway's sockets: whether anyone but root and the gateway's own user
// could remove or rename the socket there and put their own in its place,
// so that a sensor sends its alerts to them (or the admin client its token).
//
// A socket's directory is safe when it is owned by a trusted user (root,
// the user the gateway runs as, or the run_as user it will become) and
// nobody else can write it: not world-writable, and group-writable only for
// group root. Every directory above it must be owned by a trusted user too,
// and writable by others only with the sticky bit, which lets nobody but an
// entry's owner (and the directory's) rename it: /tmp (1777, root) is fine
// above a trusted directory, never as the socket's own directory, where
// anyone could claim the name while the gateway is down. Symbolic links in
// the path are followed, and the directories on both sides are checked.
package sockdir

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

var (
	mu       sync.Mutex
	runAsUID = -1
)

// TrustRunAs adds the run_as user, whom the gateway becomes after binding
// its sockets, to the trusted owners; -1 removes it. It is process-wide:
// the gateway has one identity.
func TrustRunAs(uid int) {
	mu.Lock()
	defer mu.Unlock()
	runAsUID = uid
}

// trustedUIDs returns root, the process's user and the run_as user.
func trustedUIDs() []int {
	mu.Lock()
	defer mu.Unlock()
	ids := []int{0, os.Geteuid()}
	if runAsUID >= 0 {
		ids = append(ids, runAsUID)
	}
	return ids
}

// Check refuses a socket directory that someone other than root or the
// gateway's user could change, or that sits below such a directory. The
// error says which directory and why.
func Check(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("socket directory %s: %w", dir, err)
	}
	if err := checkOne(abs, true); err != nil {
		return err
	}
	// The path as written and, if it goes through symbolic links, the
	// real one: a link can be re-pointed by whoever can write its parent.
	chains := [][]string{ancestors(abs)}
	if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
		if err := checkOne(real, true); err != nil {
			return err
		}
		chains = append(chains, ancestors(real))
	}
	for _, chain := range chains {
		for _, d := range chain {
			if err := checkOne(d, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// ancestors lists the directories above abs, up to "/".
func ancestors(abs string) []string {
	var out []string
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		out = append(out, d)
		if d == filepath.Dir(d) {
			return out
		}
	}
}

// describeUIDs names the trusted users other than root.
func describeUIDs(ids []int) string {
	var s string
	for _, id := range ids {
		if id != 0 && !strings.Contains(s, fmt.Sprintf("uid %d", id)) {
			s += fmt.Sprintf(", uid %d", id)
		}
	}
	if s == "" {
		return "the gateway runs as root"
	}
	return s[2:]
}

// checkOne checks one directory: the socket's own (own) or one above it.
func checkOne(dir string, own bool) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("socket directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("socket directory %s is not a directory", dir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil // not a Unix file system: nothing to check against
	}
	what := "socket directory"
	if !own {
		what = "directory above the socket"
	}
	perm := fi.Mode().Perm()
	sticky := fi.Mode()&os.ModeSticky != 0
	trusted := trustedUIDs()
	advice := "use a directory that only root or the gateway's user can write, such as /run/alertgw (see docs/security.md)"
	if !slices.Contains(trusted, int(st.Uid)) {
		return fmt.Errorf("%s %s is owned by uid %d, not by root or the gateway's user (%s): its owner could replace the socket; %s",
			what, dir, st.Uid, describeUIDs(trusted), advice)
	}
	othersWrite := perm&0o002 != 0
	groupWrite := perm&0o020 != 0 && st.Gid != 0
	if !othersWrite && !groupWrite {
		return nil
	}
	who := "everyone (world-writable)"
	if !othersWrite {
		who = fmt.Sprintf("group %d", st.Gid)
	}
	switch {
	case own && sticky:
		return fmt.Errorf("%s %s (%s, sticky) is writable by %s: anyone there can take the socket's name while the gateway is down; %s",
			what, dir, perm, who, advice)
	case own:
		return fmt.Errorf("%s %s (%s) is writable by %s: they could replace the socket; %s", what, dir, perm, who, advice)
	case !sticky:
		return fmt.Errorf("%s %s (%s) is writable by %s without the sticky bit: they could rename the directories below it and put their own socket in its place; %s",
			what, dir, perm, who, advice)
	}
	return nil // sticky: only an entry's owner (trusted, checked below) may rename it
}
