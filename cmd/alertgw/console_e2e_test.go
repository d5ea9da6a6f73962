package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alertgw/alertgw/internal/pgtest"
)

// TestConsoleRefusesOpenBindWithoutUsers: beyond loopback, no users, no
// console (exit 2 with the way out).
func TestConsoleRefusesOpenBindWithoutUsers(t *testing.T) {
	dir := shortDir(t)
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("console: {users: %s/users}\n", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(gatewayBinary(t), "console", "-c", cfg, "--store", filepath.Join(dir, "store"), "--listen", "0.0.0.0:0").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "reachable from other hosts and the users file") || !strings.Contains(string(out), "alertgw user add") {
		t.Fatalf("console on 0.0.0.0 without users: %v\n%s", err, out)
	}
}

// webClient logs in to a console over plain HTTP.
type webClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newWebClient(t *testing.T, base string) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (w *webClient) get(path string) (int, string) {
	w.t.Helper()
	resp, err := w.c.Get(w.base + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (w *webClient) post(path string, form url.Values) (int, string) {
	w.t.Helper()
	resp, err := w.c.PostForm(w.base+path, form)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var hiddenField = regexp.MustCompile(`name="(token|csrf)" value="([^"]+)"`)

func field(t *testing.T, html, name string) string {
	t.Helper()
	for _, m := range hiddenField.FindAllStringSubmatch(html, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	t.Fatalf("no %s in the page", name)
	return ""
}

func (w *webClient) login(user, password string) string {
	w.t.Helper()
	_, page := w.get("/login")
	code, body := w.post("/login", url.Values{"token": {field(w.t, page, "token")}, "user": {user}, "password": {password}, "next": {"/inbox"}})
	if code != 200 || !strings.Contains(body, `id="whoami">`+user+`<`) {
		w.t.Fatalf("login as %s: %d\n%s", user, code, body)
	}
	return body
}

// TestConsoleOverPostgres: a fleet writes to PostgreSQL through the
// postgres output; `alertgw console --dsn` on another host browses it and
// keeps its triage state in the same database.
func TestConsoleOverPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	dir := shortDir(t)
	bin := gatewayBinary(t)
	g := &gateway{dir: dir, sock: filepath.Join(dir, "s.sock"), log: filepath.Join(dir, "gateway.log")}
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`sensor: fleet-1
admin: {listen: ""}
dead_letter: {path: %[1]s/dead.json}
inputs:
  - {name: suricata, type: suricata, socket: %[2]s}
outputs:
  - {name: db, type: postgres, dsn: "%[3]s"}
`, dir, g.sock, srv.DSN)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	g.cmd = exec.Command(bin, "run", "--config", cfgPath)
	g.start(t, g.sock)
	if out, err := exec.Command(bin, "send", "--socket", g.sock, "--count", "300").CombinedOutput(); err != nil {
		t.Fatalf("alertgw send: %v\n%s", err, out)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		conn.QueryRow(ctx, "SELECT count(*) FROM alertgw_events").Scan(&n)
		if n == 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the table holds %d events, want 300", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	g.stop(t)

	// The central console: its own small config (users only), the events by --dsn.
	users := filepath.Join(dir, "users")
	add := exec.Command(bin, "user", "add", "ana", "--role", "analyst", "--password-stdin", "--users", users)
	add.Stdin = strings.NewReader("a long password\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	central := filepath.Join(dir, "central.yaml")
	if err := os.WriteFile(central, []byte(fmt.Sprintf("log: {format: json}\nconsole: {users: %s}\n", users)), 0o600); err != nil {
		t.Fatal(err)
	}
	clog := filepath.Join(dir, "console.log")
	lf, err := os.Create(clog)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "console", "-c", central, "--dsn", srv.DSN, "--listen", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lf.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(clog)
			t.Logf("console log:\n%s", b)
		}
	})
	w := newWebClient(t, waitConsoleURL(t, clog))
	page := w.login("ana", "a long password")
	m := regexp.MustCompile(`id="alert-count">([0-9,]+)<`).FindStringSubmatch(page)
	if m == nil || m[1] == "0" || !strings.Contains(page, "fleet-1") {
		t.Fatalf("inbox over PostgreSQL shows no alerts:\n%s", page)
	}
	key := regexp.MustCompile(`data-key="([^"]+)"`).FindStringSubmatch(page)
	last := regexp.MustCompile(`name="one" value="[^|]+\|([^"]+)"`).FindStringSubmatch(page)
	if key == nil || last == nil {
		t.Fatal("no inbox row to archive")
	}
	k := strings.ReplaceAll(key[1], "&amp;", "&")
	code, _ := w.post("/triage?action=archive", url.Values{"csrf": {field(t, page, "csrf")}, "one": {k + "|" + last[1]}})
	if code != 200 {
		t.Fatalf("archive: %d", code)
	}
	var who, gkey string
	if err := conn.QueryRow(ctx, "SELECT username, gkey FROM alertgw_console_archive").Scan(&who, &gkey); err != nil || who != "ana" || gkey != k {
		t.Fatalf("triage state in PostgreSQL: %q %q %v", who, gkey, err)
	}
	_, page = w.get("/inbox")
	if strings.Contains(page, `data-key="`+key[1]+`"`) {
		t.Error("archived group still in the inbox")
	}
}
