package unixsock

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// threadNices returns the nice value of each of the process's threads
// (field 19 of /proc/self/task/TID/stat), by thread id.
func threadNices(t *testing.T) map[int]int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int{}
	for _, task := range tasks {
		b, err := os.ReadFile(filepath.Join("/proc/self/task", task.Name(), "stat"))
		if err != nil {
			continue // the thread ended meanwhile
		}
		// The command name (field 2) may hold spaces: count from its ')'.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		nice, err := strconv.Atoi(fields[16]) // field 19 of stat
		if err != nil {
			t.Fatalf("stat of thread %s: %v", task.Name(), err)
		}
		tid, _ := strconv.Atoi(task.Name())
		out[tid] = nice
	}
	return out
}

func countNice(nices map[int]int, n int) int {
	c := 0
	for _, v := range nices {
		if v == n {
			c++
		}
	}
	return c
}

// TestReaderNice runs a datagram reader with reader_nice -7: while it
// runs exactly one thread of the process has that nice value, the
// datagrams arrive, and once the input stops no thread keeps it (the
// raised priority never passes to other goroutines). Several rounds, since
// the reader may land on any thread, the main one included.
func TestReaderNice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a negative nice value needs root (make test runs as root)")
	}
	const nice = -7
	if n := countNice(threadNices(t), nice); n != 0 {
		t.Fatalf("%d threads have nice %d before the input starts", n, nice)
	}
	for range 5 {
		_, rec, path, stop := serve(t, Dgram, "n.sock", func(c *Config) { c.ReaderNice = nice })
		c, err := net.Dial("unixgram", path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			if _, err := c.Write([]byte(`{"n":` + strconv.Itoa(i) + "}\n")); err != nil {
				t.Fatal(err)
			}
		}
		rec.waitFor(t, "100 datagrams", func() bool { return len(rec.msgs) == 100 })
		c.Close()
		if n := countNice(threadNices(t), nice); n != 1 {
			t.Errorf("%d threads have nice %d while the input runs, want 1 (the reader's)", n, nice)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for countNice(threadNices(t), nice) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("a thread keeps nice %d after the input stopped", nice)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestReaderNiceRefusedWithoutPrivilege starts this test binary as an
// unprivileged user, where Listen with reader_nice -5 must fail at once
// and say what is missing.
func TestReaderNiceRefusedWithoutPrivilege(t *testing.T) {
	if os.Getenv("ALERTGW_TEST_NICE_CHILD") != "" {
		o := DefaultOptions()
		o.ReaderNice = -5
		srv, err := Listen(Config{Paths: []string{filepath.Join(os.TempDir(), "never-bound.sock")}, Options: o})
		if err == nil {
			srv.Close()
			os.Exit(3)
		}
		os.Stdout.WriteString(err.Error())
		os.Exit(0)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to start the check as another user")
	}
	// A copy the unprivileged user may execute (go test's build directory
	// is root's alone).
	bin := filepath.Join(shortTempDir(t), "unixsock.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestReaderNiceRefusedWithoutPrivilege$")
	cmd.Env = append(os.Environ(), "ALERTGW_TEST_NICE_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v (output %q)", err, out)
	}
	if !strings.Contains(string(out), "CAP_SYS_NICE") {
		t.Errorf("error without privilege = %q, want it to name CAP_SYS_NICE", out)
	}
}
