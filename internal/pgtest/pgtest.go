// Package pgtest runs a throw-away PostgreSQL server for tests.
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

// Server is a throw-away PostgreSQL cluster: initdb into a temporary
// directory, pg_ctl start on a free port on 127.0.0.1, stopped and removed
// after the test. As root it runs as the "postgres" user, since the server
// refuses to run as root. scripts/deps.d/postgres.sh names the Debian
// package when the binaries are missing.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	data string
	port int
	as   string // user to run as; "" for the current one
	DSN  string // postgres://alertgw@127.0.0.1:<port>/postgres?sslmode=disable
}

func pgBin(t testing.TB) string {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p)
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(matches) == 0 {
		t.Fatal("PostgreSQL server binaries not found: install Debian's postgresql (make deps)")
	}
	return filepath.Dir(matches[len(matches)-1])
}

// Start starts a server for the test; it is stopped and removed after it.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, bin: pgBin(t)}
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
		// The postgres user must reach its data directory inside ours.
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(s.data, uid, gid); err != nil {
			t.Fatal(err)
		}
		s.as = "postgres"
	}
	s.port = freePort(t)
	s.run("initdb", "-D", s.data, "-A", "trust", "-U", "alertgw", "-E", "UTF8", "--no-sync", "--no-instructions")
	s.start()
	s.DSN = fmt.Sprintf("postgres://alertgw@127.0.0.1:%d/postgres?sslmode=disable", s.port)
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

// Restart starts a stopped server again on the same port.
func (s *Server) Restart() { s.start() }

func (s *Server) start() {
	s.t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c full_page_writes=off", s.port, s.data)
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
