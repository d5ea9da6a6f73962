// Package pgtest starts a throw-away PostgreSQL cluster for tests: initdb
// into a temporary directory, pg_ctl start on a free port of 127.0.0.1,
// stopped and removed when the test ends. As root it runs the server as the
// "postgres" user, since PostgreSQL refuses to run as root.
// scripts/deps.d/postgres.sh names the Debian package when the binaries are
// missing, and `make test` installs it.
package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Server is a running cluster.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	data string
	as   string // user to run as; "" for the current one
	// Port is the TCP port on 127.0.0.1.
	Port int
	// DSN connects as the superuser "alertgw" to database "postgres".
	DSN string
}

func binDir(t testing.TB) string {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p)
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(matches) == 0 {
		t.Fatal("PostgreSQL server binaries not found: install Debian's postgresql (make deps)")
	}
	return filepath.Dir(matches[len(matches)-1])
}

// Start initialises and starts a cluster for the test t.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, bin: binDir(t)}
	dir, err := os.MkdirTemp("", "alertgw-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s.dir, s.data = dir, filepath.Join(dir, "data")
	t.Cleanup(func() { s.Stop("immediate"); os.RemoveAll(dir) })
	if err := os.Mkdir(s.data, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal("running as root needs a postgres user to run the server (Debian's postgresql package creates it)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(s.data, uid, gid); err != nil {
			t.Fatal(err)
		}
		s.as = "postgres"
	}
	s.Port = freePort(t)
	s.run("initdb", "-D", s.data, "-A", "trust", "-U", "alertgw", "-E", "UTF8", "--no-sync", "--no-instructions")
	s.Start()
	s.DSN = fmt.Sprintf("postgres://alertgw@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
	return s
}

func (s *Server) run(prog string, args ...string) {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(s.bin, prog), args...)
	if s.as != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.as, "--", filepath.Join(s.bin, prog)}, args...)...)
	}
	cmd.Dir = s.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
}

// Start starts the (stopped) server again.
func (s *Server) Start() {
	s.t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c full_page_writes=off", s.Port, s.data)
	s.run("pg_ctl", "-D", s.data, "-o", opts, "-l", filepath.Join(s.data, "log"), "-w", "-t", "30", "start")
}

// Stop stops the server: "fast" disconnects clients and shuts down
// cleanly, "immediate" is a crash.
func (s *Server) Stop(mode string) {
	if _, err := os.Stat(filepath.Join(s.data, "postmaster.pid")); err != nil {
		return
	}
	s.run("pg_ctl", "-D", s.data, "-m", mode, "-w", "-t", "30", "stop")
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
