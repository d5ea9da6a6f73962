// Package privdrop switches a gateway started as root to an unprivileged
// user once its sockets are bound and its netlink sockets open, keeping
// only the capabilities still needed (CAP_NET_ADMIN for NFLOG inputs).
//
// Beyond the user, group and capability sets, it closes the ways back up:
// the capability bounding set is cleared (but for what is kept), so that
// no executed file's capabilities can give any other back, and
// no_new_privs is set, so that no set-uid file or file capability can.
//
// Capabilities are per thread in Linux, and a Go process has many threads;
// libcap's cap package (through psx) changes every thread at once.
package privdrop

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
	"kernel.org/pub/linux/libs/security/libcap/cap"
)

// Target names whom to become.
type Target struct {
	User  string // name or numeric uid
	Group string // name or numeric gid; empty: the user's primary group
}

// Result says what the process runs as after Drop.
type Result struct {
	UID, GID int
	Kept     []cap.Value
}

// Resolve returns the numeric user and group t names, as Drop would switch
// to them, without switching.
func Resolve(t Target) (uid, gid int, err error) { return resolve(t) }

// ErrNotRoot is returned when a drop is configured but the process is not
// root (nothing to drop from, and no way to switch).
var ErrNotRoot = errors.New("run_as is set but alertgw is not running as root")

// Drop switches to t's user and group, dropping every capability but keep
// (in the permitted, effective, inheritable, ambient and bounding sets),
// and sets no_new_privs. It is irreversible.
func Drop(t Target, keep ...cap.Value) (Result, error) {
	if os.Geteuid() != 0 {
		return Result{}, ErrNotRoot
	}
	uid, gid, err := resolve(t)
	if err != nil {
		return Result{}, err
	}
	// The bounding set first, while CAP_SETPCAP is still effective.
	if err := dropBound(keep); err != nil {
		return Result{}, err
	}
	if _, err := cap.GetAmbient(0); err == nil { // the kernel has ambient capabilities
		if err := cap.ResetAmbient(); err != nil {
			return Result{}, fmt.Errorf("clear the ambient capabilities: %w", err)
		}
	}
	// Supplementary groups: none but the target group, so root's groups do
	// not leak into the unprivileged process.
	if err := cap.SetGroups(gid); err != nil {
		return Result{}, fmt.Errorf("set groups to %d: %w", gid, err)
	}
	// SetUID keeps the permitted set, so the wanted capabilities survive
	// the change of uid; everything else is cleared just after.
	if err := cap.SetUID(uid); err != nil {
		return Result{}, fmt.Errorf("set uid to %d: %w", uid, err)
	}
	set := cap.NewSet()
	if len(keep) > 0 {
		if err := set.SetFlag(cap.Permitted, true, keep...); err != nil {
			return Result{}, err
		}
		if err := set.SetFlag(cap.Effective, true, keep...); err != nil {
			return Result{}, err
		}
	}
	if err := set.SetProc(); err != nil {
		return Result{}, fmt.Errorf("limit capabilities to %v: %w", keep, err)
	}
	// On every thread: nothing executed from now on gains privileges.
	if _, err := cap.Prctlw(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return Result{}, fmt.Errorf("set no_new_privs: %w", err)
	}
	return Result{UID: uid, GID: gid, Kept: keep}, nil
}

// dropBound removes from the bounding set every capability not in keep.
// Only those still in it are dropped, so a process started with a reduced
// bounding set (systemd's CapabilityBoundingSet=) needs CAP_SETPCAP only
// if there is something left to drop.
func dropBound(keep []cap.Value) error {
	var drop []cap.Value
	for v := cap.Value(0); v < cap.MaxBits(); v++ {
		if slices.Contains(keep, v) {
			continue
		}
		if in, err := cap.GetBound(v); err == nil && in {
			drop = append(drop, v)
		}
	}
	if len(drop) == 0 {
		return nil
	}
	if err := cap.DropBound(drop...); err != nil {
		return fmt.Errorf("clear the capability bounding set (needs CAP_SETPCAP): %w", err)
	}
	return nil
}

func resolve(t Target) (uid, gid int, err error) {
	if t.User == "" {
		return 0, 0, errors.New("run_as.user is empty")
	}
	u, err := lookupUser(t.User)
	if err != nil {
		return 0, 0, err
	}
	if uid, err = strconv.Atoi(u.Uid); err != nil {
		return 0, 0, fmt.Errorf("user %s: uid %q: %w", t.User, u.Uid, err)
	}
	if uid == 0 {
		return 0, 0, fmt.Errorf("run_as.user %q is root: nothing would be dropped", t.User)
	}
	g := u.Gid
	if t.Group != "" {
		grp, err := lookupGroup(t.Group)
		if err != nil {
			return 0, 0, err
		}
		g = grp.Gid
	}
	if gid, err = strconv.Atoi(g); err != nil {
		return 0, 0, fmt.Errorf("group %s: gid %q: %w", t.Group, g, err)
	}
	return uid, gid, nil
}

func lookupUser(name string) (*user.User, error) {
	if _, err := strconv.Atoi(name); err == nil {
		if u, err := user.LookupId(name); err == nil {
			return u, nil
		}
		return &user.User{Uid: name, Gid: name, Username: name}, nil // numeric ids need no passwd entry
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("run_as.user: %w", err)
	}
	return u, nil
}

func lookupGroup(name string) (*user.Group, error) {
	if _, err := strconv.Atoi(name); err == nil {
		return &user.Group{Gid: name, Name: name}, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return nil, fmt.Errorf("run_as.group: %w", err)
	}
	return g, nil
}
