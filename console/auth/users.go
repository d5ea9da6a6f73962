// Package auth is the console's access control: local users with hashed
// passwords kept in a users file, server-side sessions, CSRF tokens, roles
// and the rate limit on failed logins.
package auth

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Role is what a user may do.
type Role string

const (
	// RoleViewer reads every page, searches and exports.
	RoleViewer Role = "viewer"
	// RoleAnalyst also triages: archive, escalate, notes and mutes.
	RoleAnalyst Role = "analyst"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleViewer, RoleAnalyst:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (known: viewer, analyst)", s)
}

// CanTriage reports whether the role may change triage state.
func (r Role) CanTriage() bool { return r == RoleAnalyst }

// User is one line of the users file.
type User struct {
	Name string
	Role Role
	Hash string // argon2id PHC string or bcrypt hash
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// CheckName validates a user name: 1–64 letters, digits, '.', '_', '@', '-',
// not starting with a punctuation mark (names appear in the audit trail and
// in logs, so they are kept plain).
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("invalid user name %q: use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", name)
	}
	return nil
}

const fileHeader = "# alertgw console users, one per line: name:role:password-hash\n# Managed with `alertgw user add|passwd|del`; roles: viewer, analyst.\n"

// ParseUsers reads the users file format: one "name:role:hash" per line,
// blank lines and #-comments ignored.
func ParseUsers(data []byte) ([]User, error) {
	var users []User
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, ok1 := strings.Cut(line, ":")
		role, hash, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("line %d: want name:role:hash", n)
		}
		if err := CheckName(name); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		r, err := ParseRole(role)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if !strings.HasPrefix(hash, "$argon2id$") && !strings.HasPrefix(hash, "$2") {
			return nil, fmt.Errorf("line %d: the password hash must be argon2id or bcrypt", n)
		}
		if seen[name] {
			return nil, fmt.Errorf("line %d: user %q appears twice", n, name)
		}
		seen[name] = true
		users = append(users, User{Name: name, Role: r, Hash: hash})
	}
	return users, sc.Err()
}

// FormatUsers writes users in the file format, sorted by name.
func FormatUsers(users []User) []byte {
	users = slices.Clone(users)
	slices.SortFunc(users, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	var b bytes.Buffer
	b.WriteString(fileHeader)
	for _, u := range users {
		fmt.Fprintf(&b, "%s:%s:%s\n", u.Name, u.Role, u.Hash)
	}
	return b.Bytes()
}

// ReadUsersFile reads path; a missing file is an empty list.
func ReadUsersFile(path string) ([]User, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	users, err := ParseUsers(data)
	if err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	return users, nil
}

// WriteUsersFile replaces path atomically (temporary file, fsync, rename)
// with mode 0600: the hashes are secrets.
//
// The new file keeps the owner and group of the one it replaces (or, for
// the first one, of its directory): `sudo alertgw user del` must not leave
// a file only root can read beside a console that runs as its own user,
// which would then go on with the users it read before.
func WriteUsersFile(path string, users []User) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	owner, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		owner, err = os.Stat(dir)
	}
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".users-*")
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(FormatUsers(users)); err != nil {
		tmp.Close()
		return fmt.Errorf("users file: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("users file: %w", err)
	}
	if st, ok := owner.Sys().(*syscall.Stat_t); ok && (int(st.Uid) != os.Geteuid() || int(st.Gid) != os.Getegid()) {
		if err := tmp.Chown(int(st.Uid), int(st.Gid)); err != nil {
			tmp.Close()
			return fmt.Errorf("users file: give it to uid %d gid %d, as %s is, so that the console can read it: %w", st.Uid, st.Gid, owner.Name(), err)
		}
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("users file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	return nil
}

// Directory is the users file as the running console sees it: it is read
// again when it changes on disk, so `alertgw user add|passwd|del` takes
// effect without a restart (and a deleted user's sessions end).
type Directory struct {
	path string

	mu      sync.Mutex
	users   map[string]User
	file    os.FileInfo // of the version read; a rename gives another file
	checked time.Time
	err     error
	onError func(error) // told once per new failure to read the file (see OnError)
}

// OnError sets f to be told when the file cannot be read (once per new
// error): the users read before stay in force meanwhile, which must not go
// unnoticed (a deleted user could still log in).
func (d *Directory) OnError(f func(error)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.onError = f
}

// NewDirectory reads the users file at path (which may not exist yet).
func NewDirectory(path string) (*Directory, error) {
	d := &Directory{path: path}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.reloadLocked(time.Now()); err != nil {
		return nil, err
	}
	return d, nil
}

// Path is the users file's path.
func (d *Directory) Path() string { return d.path }

// recheckEvery bounds how often the file's metadata is looked at.
const recheckEvery = time.Second

func (d *Directory) reloadLocked(now time.Time) error {
	d.checked = now
	fi, err := os.Stat(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		d.users, d.file, d.err = map[string]User{}, nil, nil
		return nil
	}
	if err != nil {
		d.err = err
		return fmt.Errorf("users file: %w", err)
	}
	if d.file != nil && os.SameFile(fi, d.file) && fi.ModTime().Equal(d.file.ModTime()) && fi.Size() == d.file.Size() {
		return d.err
	}
	list, err := ReadUsersFile(d.path)
	if err != nil {
		// Keep the users we had: a half-edited file must not lock
		// everyone out or let anyone in. The error is reported.
		d.err = err
		return err
	}
	m := make(map[string]User, len(list))
	for _, u := range list {
		m[u.Name] = u
	}
	d.users, d.file, d.err = m, fi, nil
	return nil
}

func (d *Directory) refresh() {
	now := time.Now()
	if now.Sub(d.checked) >= recheckEvery {
		before := d.err
		// An error keeps the previous list; Err and onError report it.
		if err := d.reloadLocked(now); err != nil && d.onError != nil && (before == nil || before.Error() != err.Error()) {
			d.onError(err)
		}
	}
}

// Lookup returns the user named name.
func (d *Directory) Lookup(name string) (User, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.refresh()
	u, ok := d.users[name]
	return u, ok
}

// Len is the number of users.
func (d *Directory) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.refresh()
	return len(d.users)
}

// Err is the last error reading the file (nil when it was read fine).
func (d *Directory) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}
