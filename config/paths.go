package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// How an option uses a path, written in its struct tag `path:"…"`:
//
//	Path string `mapstructure:"path" path:"write"`
//
// `alertgw validate` checks each such path against the file system, so
// that what `run` would refuse is reported before it is started.
const (
	PathRead     = "read"     // a file read at start (GeoIP database, sid-msg.map, TLS CA): must exist and be readable
	PathDir      = "dir"      // a directory read (a spool): must exist
	PathWrite    = "write"    // a file written: its directory must be writable, or creatable
	PathWriteDir = "writedir" // a directory written into (disk buffer, archive): writable, or creatable
	PathSocket   = "socket"   // a socket bound: as PathWrite, and no two inputs may bind the same path
)

// PathUse is one path an option names and how it is used.
type PathUse struct {
	Key  string // key path, e.g. "inputs[0].signatures.sid_msg_map[1]"
	Path string
	Use  string // PathRead, PathDir, …
}

// PathLister is implemented by options whose paths depend on other keys (a
// bookmark that defaults to a file in the spool directory, a socket used
// only in one mode): it lists them with keys relative to the block.
// Tagged fields are listed too, whether or not it is implemented.
type PathLister interface {
	PathUses() []PathUse
}

// PathUses lists the paths target (a pointer to an options struct) names,
// from its `path` tags and its PathLister, with key paths under prefix.
// Empty paths and glob patterns are left out.
func PathUses(target any, prefix string) []PathUse {
	var uses []PathUse
	walkPaths(reflect.ValueOf(target), prefix, &uses)
	if l, ok := target.(PathLister); ok {
		for _, u := range l.PathUses() {
			u.Key = joinPath(prefix, u.Key)
			uses = append(uses, u)
		}
	}
	out := uses[:0]
	for _, u := range uses {
		if u.Path != "" && !strings.ContainsAny(u.Path, "*?[") {
			out = append(out, u)
		}
	}
	return out
}

func walkPaths(v reflect.Value, at string, uses *[]PathUse) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		key := at
		switch {
		case name == "-":
			continue
		case strings.Contains(opts, "squash"):
		case name != "":
			key = joinPath(at, name)
		default:
			key = joinPath(at, strings.ToLower(f.Name))
		}
		fv := v.Field(i)
		use := f.Tag.Get("path")
		switch {
		case use != "" && fv.Kind() == reflect.String:
			*uses = append(*uses, PathUse{Key: key, Path: fv.String(), Use: use})
		case use != "" && fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
			for j := range fv.Len() {
				*uses = append(*uses, PathUse{Key: fmt.Sprintf("%s[%d]", key, j), Path: fv.Index(j).String(), Use: use})
			}
		default:
			walkPaths(fv, key, uses)
			if fv.CanAddr() && fv.Kind() == reflect.Struct {
				if l, ok := fv.Addr().Interface().(PathLister); ok {
					for _, u := range l.PathUses() {
						u.Key = joinPath(key, u.Key)
						*uses = append(*uses, u)
					}
				}
			}
		}
	}
}

// CheckPaths checks each use against the file system as the current user.
// Errors are what `run` would fail on; warnings are what may be fixed by
// the time it starts (a directory that does not exist yet and that this
// user could not create, but systemd's LogsDirectory= or a package may).
func CheckPaths(uses []PathUse) (errs, warns Problems) {
	written := map[string]string{} // absolute path (directories end in /) → key
	for _, u := range uses {
		switch u.Use {
		case PathRead:
			if err := checkReadable(u.Path); err != nil {
				errs.Add(u.Key, "%v", err)
			}
		case PathDir:
			fi, err := os.Stat(u.Path)
			switch {
			case err != nil:
				errs.Add(u.Key, "%v", describe(err))
			case !fi.IsDir():
				errs.Add(u.Key, "%s is not a directory", u.Path)
			}
		case PathWrite, PathSocket:
			abs, _ := filepath.Abs(u.Path)
			if prev, dup := written[abs]; dup {
				if u.Use == PathSocket {
					errs.Add(u.Key, "%s is already bound by %s: two inputs cannot listen on one socket", u.Path, prev)
				} else {
					errs.Add(u.Key, "%s is already written by %s: two writers would interleave in one file", u.Path, prev)
				}
				continue
			}
			written[abs] = u.Key
			if fi, err := os.Lstat(u.Path); err == nil && fi.IsDir() {
				errs.Add(u.Key, "%s is a directory", u.Path)
				continue
			}
			checkWritableDir(&errs, &warns, u.Key, filepath.Dir(u.Path))
		case PathWriteDir:
			abs, _ := filepath.Abs(u.Path)
			if prev, dup := written[abs+"/"]; dup {
				errs.Add(u.Key, "directory %s is already used by %s: each needs its own", u.Path, prev)
				continue
			}
			written[abs+"/"] = u.Key
			checkWritableDir(&errs, &warns, u.Key, u.Path)
		}
	}
	return errs, warns
}

func checkReadable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return describe(err)
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a directory, not a file", path)
	}
	if err := unix.Access(path, unix.R_OK); err != nil {
		return fmt.Errorf("%s cannot be read by %s: %w", path, currentUser(), err)
	}
	return nil
}

// checkWritableDir: dir exists and this user may create files in it, or it
// does not exist and its nearest existing parent lets this user create it
// (the gateway creates the directories it writes to).
func checkWritableDir(errs, warns *Problems, key, dir string) {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		errs.Add(key, "%s is not a directory", dir)
	case err == nil:
		if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
			errs.Add(key, "directory %s is not writable by %s: %v", dir, currentUser(), err)
		}
	case errors.Is(err, fs.ErrNotExist):
		parent := dir
		for {
			next := filepath.Dir(parent)
			if next == parent {
				return
			}
			parent = next
			pfi, err := os.Stat(parent)
			if err != nil {
				continue
			}
			if !pfi.IsDir() {
				errs.Add(key, "%s cannot be created: %s is not a directory", dir, parent)
			} else if err := unix.Access(parent, unix.W_OK|unix.X_OK); err != nil {
				warns.Add(key, "directory %s does not exist and %s cannot create it in %s; fine if something creates it before alertgw starts (systemd's LogsDirectory=/StateDirectory=, a package)", dir, currentUser(), parent)
			}
			return
		}
	default:
		errs.Add(key, "%v", describe(err))
	}
}

// describe turns a stat error into a sentence without Go's "stat " prefix.
func describe(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("%s does not exist", pe.Path)
		case errors.Is(err, fs.ErrPermission):
			return fmt.Errorf("%s cannot be reached by %s: permission denied", pe.Path, currentUser())
		}
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

func currentUser() string {
	uid := strconv.Itoa(os.Geteuid())
	if u, err := user.LookupId(uid); err == nil {
		return u.Username + " (uid " + uid + ")"
	}
	return "uid " + uid
}
