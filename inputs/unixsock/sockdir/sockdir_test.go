package sockdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const nobody = 65534

// mkdir makes dir with mode and owner (uid, gid; -1 keeps them).
func mkdir(t *testing.T, dir string, mode os.FileMode, uid, gid int) string {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil { // Mkdir's mode passes the umask, and drops the sticky bit
		t.Fatal(err)
	}
	if err := os.Lchown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCheck(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving directories to other users needs root; `make test` runs as root")
	}
	t.Cleanup(func() { TrustRunAs(-1) })
	tests := []struct {
		name  string
		build func(t *testing.T, base string) string // returns the socket directory
		runAs int
		want  string // substring of the error; "" for accepted
	}{
		{"root 0750", func(t *testing.T, b string) string { return mkdir(t, b+"/d", 0o750, 0, 0) }, -1, ""},
		{"foreign owner 0750", func(t *testing.T, b string) string { return mkdir(t, b+"/d", 0o750, nobody, nobody) }, -1, "owned by uid 65534"},
		{"foreign owner is the run_as user", func(t *testing.T, b string) string { return mkdir(t, b+"/d", 0o750, nobody, nobody) }, nobody, ""},
		{"world-writable", func(t *testing.T, b string) string { return mkdir(t, b+"/d", 0o777, 0, 0) }, -1, "writable by everyone"},
		{"sticky world-writable (/tmp itself)", func(t *testing.T, b string) string { return mkdir(t, b+"/d", os.ModeSticky|0o777, 0, 0) }, -1, "take the socket's name"},
		{"group-writable, group nobody", func(t *testing.T, b string) string { return mkdir(t, b+"/d", 0o770, 0, nobody) }, -1, "writable by group 65534"},
		{"group-writable, group root", func(t *testing.T, b string) string { return mkdir(t, b+"/d", 0o770, 0, 0) }, -1, ""},
		{"below a world-writable directory", func(t *testing.T, b string) string {
			mkdir(t, b+"/p", 0o777, 0, 0)
			return mkdir(t, b+"/p/d", 0o750, 0, 0)
		}, -1, "without the sticky bit"},
		{"below a sticky world-writable directory (/tmp)", func(t *testing.T, b string) string {
			mkdir(t, b+"/p", os.ModeSticky|0o777, 0, 0)
			return mkdir(t, b+"/p/d", 0o750, 0, 0)
		}, -1, ""},
		{"below a foreign-owned directory", func(t *testing.T, b string) string {
			mkdir(t, b+"/p", 0o755, nobody, nobody)
			return mkdir(t, b+"/p/d", 0o750, 0, 0)
		}, -1, "directory above the socket"},
		{"through a symlink to a foreign-owned directory", func(t *testing.T, b string) string {
			mkdir(t, b+"/real", 0o750, nobody, nobody)
			if err := os.Symlink(b+"/real", b+"/link"); err != nil {
				t.Fatal(err)
			}
			return b + "/link"
		}, -1, "owned by uid 65534"},
		{"a symlink in a world-writable directory", func(t *testing.T, b string) string {
			mkdir(t, b+"/real", 0o750, 0, 0)
			mkdir(t, b+"/open", 0o777, 0, 0)
			if err := os.Symlink(b+"/real", b+"/open/link"); err != nil {
				t.Fatal(err)
			}
			return b + "/open/link"
		}, -1, "without the sticky bit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir() // 0700 root, below /tmp (1777 root)
			if err := os.Chmod(base, 0o755); err != nil {
				t.Fatal(err)
			}
			dir := tt.build(t, base)
			TrustRunAs(tt.runAs)
			defer TrustRunAs(-1)
			err := Check(dir)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("accepted, want an error with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

// Without root, what the tests can build: the process's own directories
// are trusted, a world-writable one is not.
func TestCheckOwnUser(t *testing.T) {
	base := t.TempDir()
	if err := Check(base); err != nil {
		t.Errorf("own directory refused: %v", err)
	}
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := Check(open); err == nil {
		t.Error("world-writable directory accepted")
	}
	if err := Check(filepath.Join(base, "missing")); err == nil {
		t.Error("missing directory accepted")
	}
}
