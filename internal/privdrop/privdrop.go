// Package privdrop switches a gateway started as root to an unprivileged
// user once its sockets are bound and its netlink sockets open, keeping
// only the capabilities still needed (CAP_NET_ADMIN for NFLOG inputs).
//
// Capabilities are per thread in Linux, and a Go process has many threads;
// libcap's cap package (through psx) changes every thread at once.
package privdrop

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"

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

// ErrNotRoot is returned when a drop is configured but the process is not
// root (nothing to drop from, and no way to switch).
var ErrNotRoot = errors.New("run_as is set but alertgw is not running as root")

// Drop switches to t's user and group, dropping every capability but keep
// (in the permitted, effective and bounding sets). It is irreversible.
func Drop(t Target, keep ...cap.Value) (Result, error) {
	if os.Geteuid() != 0 {
		return Result{}, ErrNotRoot
	}
	uid, gid, err := resolve(t)
	if err != nil {
		return Result{}, err
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
	return Result{UID: uid, GID: gid, Kept: keep}, nil
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
