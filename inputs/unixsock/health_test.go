package unixsock

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
)

// TestSocketGoneIsNotReady: a socket file removed or replaced while the
// input runs leaves it unreachable, and its stats say so.
func TestSocketGoneIsNotReady(t *testing.T) {
	for _, typ := range []Type{Dgram, Stream} {
		t.Run(string(typ), func(t *testing.T) {
			dir := shortTempDir(t)
			path := filepath.Join(dir, "s.sock")
			cfg := testConfig(t, typ, path)
			srv, err := Listen(cfg)
			if err != nil {
				t.Fatal(err)
			}
			start(t, srv, newRecorder())
			if p := cfg.Stats.Problem(); p != "" {
				t.Fatalf("fresh socket: problem %q", p)
			}
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if p := cfg.Stats.Problem(); !strings.Contains(p, path+" is gone") {
				t.Errorf("removed socket: problem %q", p)
			}
			// Someone else's socket in its place.
			l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if p := cfg.Stats.Problem(); !strings.Contains(p, "was replaced by another file") {
				t.Errorf("replaced socket: problem %q", p)
			}
		})
	}
}

// TestDgramQlenWarningNamesTheSensor: the warning about a short datagram
// queue says what it does to the sensor that actually sends there.
func TestDgramQlenWarningNamesTheSensor(t *testing.T) {
	tests := []struct{ sensor, want, not string }{
		{"suricata", "Suricata in live mode", "Snort"},
		{"snort", "Snort and Barnyard2 send blocking", "Suricata"},
		{"unified2", "unified2 relay", "Suricata"},
		{"", "a sender that does not wait", "Suricata"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		checkDgramQlen(zerolog.New(&buf), tt.sensor, 10)
		if !strings.Contains(buf.String(), tt.want) || strings.Contains(buf.String(), tt.not) || !strings.Contains(buf.String(), "only 10 datagrams") {
			t.Errorf("%q: %s", tt.sensor, buf.String())
		}
		buf.Reset()
		checkDgramQlen(zerolog.New(&buf), tt.sensor, 512)
		if buf.Len() != 0 {
			t.Errorf("%q: warned at 512: %s", tt.sensor, buf.String())
		}
	}
}

// TestWorldWritableDirectories: a socket in a world-writable directory is
// refused; in a sticky one (/tmp) with the reason that applies there (the
// name can be claimed while alertgw is stopped), not a claim that the
// running socket could be replaced.
func TestWorldWritableDirectories(t *testing.T) {
	base := shortTempDir(t)
	sticky := filepath.Join(base, "sticky")
	open := filepath.Join(base, "open")
	for dir, mode := range map[string]os.FileMode{sticky: 0o777 | os.ModeSticky, open: 0o777} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Listen(testConfig(t, Dgram, filepath.Join(sticky, "s.sock")))
	if err == nil || !strings.Contains(err.Error(), "sticky") || !strings.Contains(err.Error(), "take the socket's name while the gateway is down") ||
		strings.Contains(err.Error(), "could replace") {
		t.Errorf("sticky directory: %v", err)
	}
	_, err = Listen(testConfig(t, Dgram, filepath.Join(open, "s.sock")))
	if err == nil || !strings.Contains(err.Error(), "they could replace the socket") {
		t.Errorf("world-writable directory: %v", err)
	}
}

// TestPermissionErrorNamesRealPath: a directory alertgw may not write to
// gives an error naming the configured socket path, the directory and the
// user alertgw runs as, never the temporary name it binds first.
func TestPermissionErrorNamesRealPath(t *testing.T) {
	if os.Getenv("UNIXSOCK_BIND_HELPER") != "" {
		_, err := Listen(testConfig(t, Dgram, os.Getenv("UNIXSOCK_BIND_HELPER")))
		fmt.Fprintf(os.Stderr, "BINDERR:%v\n", err)
		return
	}
	dir := filepath.Join(shortTempDir(t), "ro")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "s.sock")
	var msg string
	if os.Geteuid() != 0 {
		os.Chmod(dir, 0o555)
		_, err := Listen(testConfig(t, Dgram, path))
		if err == nil {
			t.Fatal("bind in a read-only directory succeeded")
		}
		msg = err.Error()
	} else {
		// Root writes anywhere: run this test again as nobody, from a copy
		// of the test binary that nobody may execute.
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(filepath.Dir(dir), "unixsock.test")
		b, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Dir(dir), 0o755)
		cmd := exec.Command(bin, "-test.run=^TestPermissionErrorNamesRealPath$")
		cmd.Env = append(os.Environ(), "UNIXSOCK_BIND_HELPER="+path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, _ := cmd.CombinedOutput()
		m := regexp.MustCompile(`BINDERR:(.*)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("helper: %s", out)
		}
		msg = string(m[1])
	}
	if !strings.Contains(msg, "socket "+path+": cannot create a socket in "+dir) || !strings.Contains(msg, "permission denied") ||
		!strings.Contains(msg, "alertgw runs as") || strings.Contains(msg, ".agw") {
		t.Errorf("error %q should name %s and %s and who alertgw runs as, not the temporary name", msg, path, dir)
	}
}

// TestRootWithoutSocketGroup: started as root without socket_group, the
// gateway says why a sensor running as its own user will be refused, and
// names the key that fixes it.
func TestRootWithoutSocketGroup(t *testing.T) {
	tests := []struct {
		euid  int
		group string
		mode  uint32
		warn  bool
	}{
		{0, "", 0o660, true},
		{0, "suricata", 0o660, false},
		{0, "", 0o666, false}, // anyone may write: nothing to warn about
		{1000, "", 0o660, false},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		cfg := testConfig(t, Dgram, "/run/alertgw/suricata.sock")
		cfg.SocketGroup, cfg.SocketMode = tt.group, config.FileMode(tt.mode)
		warnRootWithoutGroup(zerolog.New(&buf), tt.euid, &cfg, cfg.Paths)
		got := strings.Contains(buf.String(), "socket_group is not set") && strings.Contains(buf.String(), "permission denied") &&
			strings.Contains(buf.String(), "/run/alertgw/suricata.sock")
		if got != tt.warn || (!tt.warn && buf.Len() > 0) {
			t.Errorf("%+v: warned %v: %s", tt, got, buf.String())
		}
	}
}

// TestCreatedDirectoryGetsSocketGroup: the directory alertgw creates for a
// socket goes to socket_group too, or the sensor could not enter it.
func TestCreatedDirectoryGetsSocketGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another group needs root (make test runs as root)")
	}
	dir := filepath.Join(shortTempDir(t), "run", "alertgw")
	cfg := testConfig(t, Dgram, filepath.Join(dir, "s.sock"))
	cfg.SocketGroup = "4243"
	srv, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if gid := fi.Sys().(*syscall.Stat_t).Gid; gid != 4243 || fi.Mode().Perm() != 0o750 {
		t.Errorf("directory %s: group %d mode %v, want 4243 and 0750", dir, gid, fi.Mode().Perm())
	}
}
