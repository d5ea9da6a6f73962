package auth

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestPasswordHashAndCheck(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not an argon2id PHC string with the documented parameters", h)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("from htpasswd"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, hash, password string
		ok                   bool
		bad                  bool
	}{
		{"argon2id right", h, "correct horse battery", true, false},
		{"argon2id wrong", h, "correct horse batterY", false, false},
		{"argon2id empty", h, "", false, false},
		{"bcrypt right", string(bc), "from htpasswd", true, false},
		{"bcrypt wrong", string(bc), "from htpassw", false, false},
		{"garbage", "plain-text-password", "plain-text-password", false, true},
		{"argon2i", strings.Replace(h, "argon2id", "argon2i", 1), "correct horse battery", false, true},
		{"huge memory", strings.Replace(h, "m=19456", "m=99999999", 1), "x", false, true},
		{"zero time", strings.Replace(h, "t=2", "t=0", 1), "x", false, true},
		{"short salt", "$argon2id$v=19$m=19456,t=2,p=1$YWI$" + strings.Repeat("A", 43), "x", false, true},
		{"bad bcrypt", "$2a$10$short", "x", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := CheckPassword(tc.hash, tc.password)
			if ok != tc.ok || (err != nil) != tc.bad {
				t.Errorf("CheckPassword = %v, %v; want %v, error %v", ok, err, tc.ok, tc.bad)
			}
		})
	}
}

func TestUsersFileFormat(t *testing.T) {
	good := "# comment\n\nbob:viewer:$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\nalice:analyst:$2y$10$abcdefghijklmnopqrstuv\n"
	users, err := ParseUsers([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].Name != "bob" || users[0].Role != RoleViewer || users[1].Role != RoleAnalyst {
		t.Fatalf("parsed %+v", users)
	}
	again, err := ParseUsers(FormatUsers(users))
	if err != nil || len(again) != 2 || again[0].Name != "alice" {
		t.Fatalf("round trip: %+v %v (want sorted by name)", again, err)
	}
	for _, tc := range []struct{ name, text, want string }{
		{"no hash", "bob:viewer\n", "line 1: want name:role:hash"},
		{"bad role", "bob:admin:$argon2id$x\n", `line 1: unknown role "admin"`},
		{"bad name", "<b>:viewer:$argon2id$x\n", "line 1: invalid user name"},
		{"plain password", "bob:viewer:secret\n", "line 1: the password hash must be argon2id or bcrypt"},
		{"twice", "bob:viewer:$2y$x\nbob:analyst:$2y$y\n", `line 2: user "bob" appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseUsers([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDirectoryFollowsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "users")
	d, err := NewDirectory(path)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 0 {
		t.Fatal("a missing file must be an empty directory")
	}
	if err := WriteUsersFile(path, []User{{Name: "alice", Role: RoleAnalyst, Hash: "$2y$10$x"}}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("users file mode %v %v, want 0600", fi.Mode(), err)
	}
	d.checked = time.Time{} // skip the recheck interval
	if u, ok := d.Lookup("alice"); !ok || u.Role != RoleAnalyst {
		t.Fatalf("alice not seen after the file was written: %+v %v", u, ok)
	}
	// Same size, different content, written by rename: must be noticed.
	if err := WriteUsersFile(path, []User{{Name: "alice", Role: RoleViewer, Hash: "$2y$10$y"}}); err != nil {
		t.Fatal(err)
	}
	d.checked = time.Time{}
	if u, _ := d.Lookup("alice"); u.Role != RoleViewer || u.Hash != "$2y$10$y" {
		t.Fatalf("change not seen: %+v", u)
	}
	// A broken file keeps the previous users and reports the error, once.
	var told []error
	d.OnError(func(err error) { told = append(told, err) })
	if err := os.WriteFile(path, []byte("alice:root:x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		d.checked = time.Time{}
		if _, ok := d.Lookup("alice"); !ok || d.Err() == nil {
			t.Fatalf("a broken users file must keep the previous list and report: ok=%v err=%v", ok, d.Err())
		}
	}
	if len(told) != 1 {
		t.Errorf("OnError told %d times, want once: %v", len(told), told)
	}
}

// TestUsersFileKeepsItsOwner: `sudo alertgw user …` rewrites the users file
// with the owner and group it had (or, the first time, its directory's),
// so that a console running as its own user can still read it; a file it
// could not read would leave the users read before in force.
func TestUsersFileKeepsItsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to another user (CI runs as root)")
	}
	const uid, gid = 65534, 65534 // nobody, nogroup
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir, path string) // who owns what before the write
	}{
		{"replaces a file", func(t *testing.T, dir, path string) {
			if err := WriteUsersFile(path, []User{{Name: "bob", Role: RoleViewer, Hash: "$2y$10$x"}}); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(path, uid, gid); err != nil {
				t.Fatal(err)
			}
		}},
		{"first file, in the console's directory", func(t *testing.T, dir, path string) {
			if err := os.Chown(dir, uid, gid); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "users")
			tc.setup(t, dir, path)
			if err := WriteUsersFile(path, []User{{Name: "alice", Role: RoleAnalyst, Hash: "$2y$10$y"}}); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*syscall.Stat_t)
			if st.Uid != uid || st.Gid != gid || fi.Mode().Perm() != 0o600 {
				t.Errorf("users file %d:%d %v, want %d:%d 0600", st.Uid, st.Gid, fi.Mode().Perm(), uid, gid)
			}
		})
	}
}

func TestSessions(t *testing.T) {
	s := NewSessions(time.Hour, 8*time.Hour, 3)
	now := time.Unix(1_700_000_000, 0)
	tok, sess := s.Create(Session{User: "alice", Role: RoleAnalyst}, now)
	if len(sess.CSRF) < 40 || len(tok) < 40 || tok == sess.CSRF {
		t.Fatalf("weak tokens %q %q", tok, sess.CSRF)
	}
	if got, ok := s.Get(tok, now.Add(59*time.Minute)); !ok || got.User != "alice" {
		t.Fatal("live session not found")
	}
	if _, ok := s.Get(tok+"x", now); ok {
		t.Fatal("a wrong token found a session")
	}
	// Used within the idle time, it lives on until the absolute limit.
	for i := 2; i <= 8; i++ {
		if _, ok := s.Get(tok, now.Add(time.Duration(i)*59*time.Minute)); !ok {
			t.Fatalf("session ended early at step %d", i)
		}
	}
	if _, ok := s.Get(tok, now.Add(8*time.Hour+time.Second)); ok {
		t.Fatal("session outlived its absolute lifetime")
	}
	tok2, _ := s.Create(Session{User: "bob"}, now)
	if _, ok := s.Get(tok2, now.Add(61*time.Minute)); ok {
		t.Fatal("idle session still alive")
	}
	// The bound evicts the least recently used.
	a, _ := s.Create(Session{User: "a"}, now)
	b, _ := s.Create(Session{User: "b"}, now.Add(time.Second))
	c, _ := s.Create(Session{User: "c"}, now.Add(2*time.Second))
	s.Get(a, now.Add(3*time.Second))
	d, _ := s.Create(Session{User: "d"}, now.Add(4*time.Second))
	for tok, want := range map[string]bool{a: true, b: false, c: true, d: true} {
		if _, ok := s.Get(tok, now.Add(5*time.Second)); ok != want {
			t.Errorf("after eviction: session present=%v, want %v", ok, want)
		}
	}
	s.Delete(a)
	if _, ok := s.Get(a, now.Add(5*time.Second)); ok {
		t.Error("deleted session still found")
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(3, time.Minute)
	now := time.Unix(1_700_000_000, 0)
	for i := range 3 {
		if ok, _ := l.Allow("ip:1", now); !ok {
			t.Fatalf("refused after %d failures", i)
		}
		l.Fail("ip:1", now.Add(time.Duration(i)*time.Second))
	}
	ok, wait := l.Allow("ip:1", now.Add(10*time.Second))
	if ok || wait != 50*time.Second {
		t.Fatalf("after 3 failures: allow=%v wait=%v, want refused for 50s", ok, wait)
	}
	if ok, _ := l.Allow("ip:2", now); !ok {
		t.Error("another key is limited too")
	}
	if ok, _ := l.Allow("ip:1", now.Add(time.Minute)); !ok {
		t.Error("still refused once the window passed")
	}
	l.Fail("ip:3", now)
	l.Succeed("ip:3")
	if n := l.Fail("ip:3", now); n != 1 {
		t.Errorf("a success did not clear the count: %d", n)
	}
}

func FuzzParseUsers(f *testing.F) {
	f.Add([]byte("alice:analyst:$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n# x\n"))
	f.Add([]byte("bob:viewer:$2y$10$abc\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := ParseUsers(data)
		if err != nil {
			return
		}
		again, err := ParseUsers(FormatUsers(users))
		if err != nil || len(again) != len(users) {
			t.Fatalf("formatted users do not parse back: %v", err)
		}
	})
}

func FuzzCheckPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "pw")
	f.Add("$2a$04$abcdefghijklmnopqrstuuMmVhj6nMBQxTjpR0wSOmlXqVhmmqCqG", "pw")
	f.Fuzz(func(t *testing.T, hash, password string) {
		// Only cheap parameters reach the hash: the fuzzer must not spend
		// its time in argon2 with large memory.
		if strings.Contains(hash, "argon2id") {
			if p, err := parseArgon2id(hash); err == nil && (p.memory > 8192 || p.time > 1 || p.threads > 1) {
				return
			}
		}
		if strings.HasPrefix(hash, "$2") {
			if c, err := bcrypt.Cost([]byte(hash)); err == nil && c > 4 {
				return
			}
		}
		CheckPassword(hash, password) // must not panic
	})
}
