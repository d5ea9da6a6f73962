package privdrop

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"kernel.org/pub/linux/libs/security/libcap/cap"
)

// The drop is irreversible, so it runs in a child process: the test binary
// re-executed with ALERTGW_PRIVDROP_CHILD set.
func TestMain(m *testing.M) {
	if os.Getenv("ALERTGW_PRIVDROP_CHILD") != "" {
		child()
		return
	}
	os.Exit(m.Run())
}

// child binds a socket as root, drops to nobody keeping NET_ADMIN when
// asked, and reports what it can still do.
func child() {
	sock := os.Getenv("ALERTGW_PRIVDROP_SOCKET")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		println("bind:", err.Error())
		os.Exit(3)
	}
	defer ln.Close()
	os.Chmod(sock, 0o666) // so the unprivileged child may send to itself below
	var keep []cap.Value
	if os.Getenv("ALERTGW_PRIVDROP_KEEP") == "net_admin" {
		keep = append(keep, cap.NET_ADMIN)
	}
	res, err := Drop(Target{User: "65534", Group: "65534"}, keep...)
	if err != nil {
		println("drop:", err.Error())
		os.Exit(4)
	}
	// A root-only file can no longer be written.
	_, werr := os.OpenFile(os.Getenv("ALERTGW_PRIVDROP_ROOTFILE"), os.O_WRONLY, 0)
	status, _ := os.ReadFile("/proc/self/status")
	os.Stdout.WriteString("uid=" + strconv.Itoa(res.UID) + " caps=" + cap.GetProc().String() + " write_denied=" + boolStr(werr != nil) + "\n")
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "Uid:") || strings.HasPrefix(line, "Gid:") || strings.HasPrefix(line, "Groups:") {
			os.Stdout.WriteString(line + "\n")
		}
	}
	// Every thread, not only the main one: capabilities and no_new_privs
	// are per thread.
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	os.Stdout.WriteString("threads=" + strconv.Itoa(len(tasks)) + "\n")
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		for _, line := range strings.Split(string(b), "\n") {
			for _, key := range []string{"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:"} {
				if strings.HasPrefix(line, key) {
					os.Stdout.WriteString("thread " + strings.Join(strings.Fields(line), " ") + "\n")
				}
			}
		}
	}
	// The socket bound as root still receives.
	if _, err := ln.WriteToUnix([]byte("x"), &net.UnixAddr{Name: sock, Net: "unixgram"}); err != nil {
		os.Stdout.WriteString("socket_write=" + err.Error() + "\n")
	}
	buf := make([]byte, 8)
	ln.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := ln.ReadFromUnix(buf); err != nil || string(buf[:n]) != "x" {
		os.Stdout.WriteString("socket_read_failed\n")
	}
}

func TestDrop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("dropping privileges needs root")
	}
	// The unprivileged child must reach its socket by path: t.TempDir's
	// parent is private, so make a world-searchable directory.
	dir, err := os.MkdirTemp("", "privdrop-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rootFile := filepath.Join(dir, "root-only")
	if err := os.WriteFile(rootFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		keep     string
		wantCaps string
		mask     string // CapPrm, CapEff and CapBnd in /proc/self/status
	}{
		{"", "=", "0000000000000000"},
		{"net_admin", "cap_net_admin=ep", "0000000000001000"}, // bit 12
	}
	for _, tt := range tests {
		t.Run("keep="+tt.keep, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "ALERTGW_PRIVDROP_CHILD=1", "ALERTGW_PRIVDROP_KEEP="+tt.keep,
				"ALERTGW_PRIVDROP_ROOTFILE="+rootFile, "ALERTGW_PRIVDROP_SOCKET="+filepath.Join(dir, "s-"+tt.keep+".sock"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			got := string(out)
			for _, want := range []string{"uid=65534", "caps=" + tt.wantCaps + " ", "write_denied=true", "Uid:\t65534\t65534\t65534\t65534", "Gid:\t65534\t65534\t65534\t65534"} {
				if !strings.Contains(got, want) {
					t.Errorf("child output lacks %q:\n%s", want, got)
				}
			}
			for _, line := range strings.Split(got, "\n") {
				if strings.HasPrefix(line, "Groups:") && strings.TrimSpace(line) != "Groups:" {
					t.Errorf("supplementary groups kept: %q", line)
				}
			}
			// On every thread: the bounding set holds only what is kept,
			// nothing inheritable or ambient, and no_new_privs is set.
			want := map[string]string{"CapInh:": "0000000000000000", "CapPrm:": tt.mask, "CapEff:": tt.mask,
				"CapBnd:": tt.mask, "CapAmb:": "0000000000000000", "NoNewPrivs:": "1"}
			seen := 0
			for _, line := range strings.Split(got, "\n") {
				f := strings.Fields(line)
				if len(f) != 3 || f[0] != "thread" {
					continue
				}
				seen++
				if f[2] != want[f[1]] {
					t.Errorf("%s %s, want %s", f[1], f[2], want[f[1]])
				}
			}
			if seen < 2*len(want) { // a Go process always has several threads
				t.Errorf("read %d thread status lines, want every thread's:\n%s", seen, got)
			}
			if strings.Contains(got, "socket_write=") || strings.Contains(got, "socket_read_failed") {
				t.Errorf("socket bound as root unusable after the drop:\n%s", got)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	for _, tt := range []Target{{User: ""}, {User: "root"}, {User: "no-such-user-alertgw"}, {User: "65534", Group: "no-such-group-alertgw"}} {
		if _, _, err := resolve(tt); err == nil {
			t.Errorf("resolve(%+v): want an error", tt)
		}
	}
	if uid, gid, err := resolve(Target{User: "65534", Group: "65533"}); err != nil || uid != 65534 || gid != 65533 {
		t.Errorf("numeric ids: %d %d %v", uid, gid, err)
	}
}

func boolStr(b bool) string { return strconv.FormatBool(b) }
