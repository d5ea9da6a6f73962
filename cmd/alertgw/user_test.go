package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alertgw/alertgw/console/auth"
)

func runUser(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	c := userCmd()
	var out bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&out)
	c.SetIn(strings.NewReader(stdin))
	c.SetArgs(args)
	err := c.Execute()
	return out.String(), err
}

func TestUserCommand(t *testing.T) {
	file := filepath.Join(t.TempDir(), "console", "users")
	if out, err := runUser(t, "a long password\n", "add", "alice", "--role", "analyst", "--password-stdin", "--users", file); err != nil || !strings.Contains(out, "added alice (analyst)") {
		t.Fatalf("add: %v %s", err, out)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("users file %v %v", fi, err)
	}
	users, _ := auth.ReadUsersFile(file)
	if len(users) != 1 || !strings.HasPrefix(users[0].Hash, "$argon2id$") {
		t.Fatalf("users %+v", users)
	}
	if ok, _ := auth.CheckPassword(users[0].Hash, "a long password"); !ok {
		t.Fatal("the stored hash does not check the password")
	}
	old := users[0].Hash

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"exists", "another password\n", []string{"add", "alice", "--password-stdin"}, `user "alice" exists`},
		{"short", "short\n", []string{"add", "bob", "--password-stdin"}, "at least 10 characters"},
		{"role", "a long password\n", []string{"add", "bob", "--role", "admin", "--password-stdin"}, `unknown role "admin"`},
		{"name", "a long password\n", []string{"add", "<b>", "--password-stdin"}, "invalid user name"},
		{"no tty", "", []string{"add", "bob"}, "not a terminal"},
		{"missing", "a long password\n", []string{"passwd", "nobody", "--password-stdin"}, `no user "nobody"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runUser(t, tc.stdin, append(tc.args, "--users", file)...)
			var ee *exitError
			if err == nil || !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want exit 2 with %q", err, tc.want)
			}
		})
	}

	if _, err := runUser(t, "the new password\n", "passwd", "alice", "--role", "viewer", "--password-stdin", "--users", file); err != nil {
		t.Fatal(err)
	}
	users, _ = auth.ReadUsersFile(file)
	if users[0].Hash == old || users[0].Role != auth.RoleViewer {
		t.Fatalf("passwd did not change hash and role: %+v", users[0])
	}
	if out, err := runUser(t, "", "list", "--users", file); err != nil || !strings.Contains(out, "alice  viewer") {
		t.Fatalf("list: %v %q", err, out)
	}
	if _, err := runUser(t, "", "del", "alice", "--users", file); err != nil {
		t.Fatal(err)
	}
	if users, _ = auth.ReadUsersFile(file); len(users) != 0 {
		t.Fatalf("after del: %+v", users)
	}
}
