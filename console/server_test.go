package console

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/alertgw/alertgw/console/auth"
	"github.com/alertgw/alertgw/console/triage"
	"github.com/alertgw/alertgw/store"
	"github.com/alertgw/alertgw/store/api"
)

// testConsole is a console on 127.0.0.1:0 with its own users file and
// triage database.
type testConsole struct {
	t     *testing.T
	srv   *Server
	base  string
	users string
	log   *strings.Builder
}

func newTestConsole(t *testing.T, users []auth.User, mod func(*Options)) *testConsole {
	t.Helper()
	return newTestConsoleWith(t, users, mod, nil, "")
}

func newTestConsoleWith(t *testing.T, users []auth.User, mod func(*Options), rd store.Reader, triageDir string) *testConsole {
	t.Helper()
	dir := t.TempDir()
	if triageDir == "" {
		triageDir = filepath.Join(dir, "console")
	}
	usersPath := filepath.Join(dir, "users")
	if users != nil {
		if err := auth.WriteUsersFile(usersPath, users); err != nil {
			t.Fatal(err)
		}
	}
	tri, err := triage.OpenSQLite(context.Background(), triageDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tri.Close() })
	opts := DefaultOptions()
	opts.Listen = "127.0.0.1:0"
	opts.Users = usersPath
	if mod != nil {
		mod(opts)
	}
	logBuf := &strings.Builder{}
	srv, err := New(*opts, Deps{Store: rd, API: apiFor(rd), Triage: tri, Log: zerolog.New(&syncWriter{b: logBuf}), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return &testConsole{t: t, srv: srv, base: srv.URL(), users: usersPath, log: logBuf}
}

// apiFor mounts the store's search API as alertgw does (/api/search/…).
func apiFor(rd store.Reader) http.Handler {
	if rd == nil {
		return nil
	}
	return http.StripPrefix("/api/search", api.New(rd, api.Options{}))
}

type syncWriter struct{ b *strings.Builder }

func (w *syncWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return w.b.Write(p)
}

// client is a browser: a cookie jar, no automatic redirects.
type client struct {
	t   *testing.T
	c   *http.Client
	tc  *testConsole
	hdr http.Header
}

func (tc *testConsole) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: tc.t, tc: tc, hdr: http.Header{}, c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.tc.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.hdr {
		req.Header[k] = v
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) get(path string) (*http.Response, string) { return c.do("GET", path, nil) }
func (c *client) post(path string, form url.Values) (*http.Response, string) {
	return c.do("POST", path, form)
}

var hiddenRe = regexp.MustCompile(`name="(token|csrf)" value="([^"]+)"`)

func formToken(t *testing.T, html, name string) string {
	t.Helper()
	for _, m := range hiddenRe.FindAllStringSubmatch(html, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	t.Fatalf("no %s field in the page:\n%s", name, html)
	return ""
}

func (c *client) login(user, password string) (*http.Response, string) {
	c.t.Helper()
	_, page := c.get("/login")
	return c.post("/login", url.Values{"token": {formToken(c.t, page, "token")}, "user": {user}, "password": {password}, "next": {"/mutes"}})
}

// mustHash hashes with bcrypt's lowest cost: the console checks bcrypt
// hashes as well as argon2id ones (auth tests cover both), and argon2id's
// real parameters cost a second per check under the race detector.
func mustHash(t *testing.T, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestLoginLogout(t *testing.T) {
	tc := newTestConsole(t, []auth.User{
		{Name: "alice", Role: auth.RoleAnalyst, Hash: mustHash(t, "alice-password")},
		{Name: "victor", Role: auth.RoleViewer, Hash: mustHash(t, "victor-password")},
	}, nil)
	if tc.srv.LoginLink() != "" {
		t.Error("a login link exists although users do")
	}
	c := tc.client()
	resp, _ := c.get("/mutes")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=%2Fmutes") {
		t.Fatalf("unauthenticated page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := c.login("alice", "wrong-password")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong user name or password") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	resp, _ = c.login("alice", "alice-password")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mutes" {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sc *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			sc = ck
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure without TLS", sc)
	}
	resp, body = c.get("/mutes")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="whoami">alice<`) {
		t.Fatalf("after login: %d", resp.StatusCode)
	}
	for h, want := range map[string]string{
		"Content-Security-Policy": "script-src 'self'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
	} {
		if !strings.Contains(resp.Header.Get(h), want) {
			t.Errorf("header %s = %q, want %q", h, resp.Header.Get(h), want)
		}
	}
	// Log out needs the CSRF token.
	if resp, _ := c.post("/logout", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout without CSRF token: %d, want 403", resp.StatusCode)
	}
	resp, _ = c.post("/logout", url.Values{"csrf": {formToken(t, body, "csrf")}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout %d", resp.StatusCode)
	}
	if resp, _ := c.get("/mutes"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout the page answered %d, want a redirect to the login", resp.StatusCode)
	}
	// The old cookie value is dead on the server too (not just deleted in the browser).
	c2 := tc.client()
	u, _ := url.Parse(tc.base)
	c2.c.Jar.SetCookies(u, []*http.Cookie{sc})
	if resp, _ := c2.get("/mutes"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a logged-out session cookie still works: %d", resp.StatusCode)
	}

	// A viewer reads but cannot triage.
	v := tc.client()
	v.login("victor", "victor-password")
	_, body = v.get("/mutes")
	if strings.Contains(body, `id="mute-form"`) {
		t.Error("a viewer is offered the mute form")
	}
	resp, body = v.post("/mutes", url.Values{"csrf": {formToken(t, body, "csrf")}, "query": {"dest_port:53"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "can read and search but not triage") {
		t.Errorf("viewer adding a mute: %d", resp.StatusCode)
	}

	// Failures and logins are logged with the client address.
	logMu.Lock()
	logs := tc.log.String()
	logMu.Unlock()
	for _, want := range []string{`"reason":"wrong password"`, `"client":"127.0.0.1"`, `"message":"console: login"`, `"message":"console: logout"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

func TestLoginFormNeedsItsToken(t *testing.T) {
	tc := newTestConsole(t, []auth.User{{Name: "alice", Role: auth.RoleAnalyst, Hash: mustHash(t, "alice-password")}}, nil)
	c := tc.client()
	resp, _ := c.post("/login", url.Values{"user": {"alice"}, "password": {"alice-password"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without the form token: %d, want 403", resp.StatusCode)
	}
	// A cross-site POST is refused before anything else.
	c.hdr.Set("Sec-Fetch-Site", "cross-site")
	resp, _ = c.login("alice", "alice-password")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site login: %d, want 403", resp.StatusCode)
	}
	c.hdr = http.Header{"Origin": {"http://evil.example"}}
	if resp, _ := c.login("alice", "alice-password"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login with a foreign Origin: %d, want 403", resp.StatusCode)
	}
}

func TestCrossOriginTriageRefused(t *testing.T) {
	tc := newTestConsole(t, []auth.User{{Name: "alice", Role: auth.RoleAnalyst, Hash: mustHash(t, "alice-password")}}, nil)
	c := tc.client()
	c.login("alice", "alice-password")
	_, body := c.get("/mutes")
	csrf := formToken(t, body, "csrf")
	c.hdr.Set("Origin", "http://evil.example")
	if resp, _ := c.post("/mutes", url.Values{"csrf": {csrf}, "query": {"dest_port:53"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST with a valid token: %d, want 403", resp.StatusCode)
	}
	c.hdr = http.Header{}
	if resp, _ := c.post("/mutes", url.Values{"csrf": {"forged"}, "query": {"dest_port:53"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST with a wrong CSRF token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := c.post("/mutes", url.Values{"csrf": {csrf}, "query": {"dest_port:53"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("POST with the token: %d, want 303", resp.StatusCode)
	}
}

func TestFailedLoginsAreLimited(t *testing.T) {
	tc := newTestConsole(t, []auth.User{{Name: "alice", Role: auth.RoleAnalyst, Hash: mustHash(t, "alice-password")}}, nil)
	c := tc.client()
	for i := range ipFailures {
		if resp, _ := c.login("alice", "guess"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, resp.StatusCode)
		}
	}
	resp, body := c.login("alice", "alice-password")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed logins from your address") {
		t.Fatalf("after %d failures the right password answered %d", ipFailures, resp.StatusCode)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(tc.log.String(), "too many failed logins from this address") {
		t.Error("the refusal is not logged")
	}
}

func TestUserFileChangesEndSessions(t *testing.T) {
	tc := newTestConsole(t, []auth.User{{Name: "alice", Role: auth.RoleAnalyst, Hash: mustHash(t, "alice-password")}}, nil)
	c := tc.client()
	c.login("alice", "alice-password")
	if resp, _ := c.get("/mutes"); resp.StatusCode != 200 {
		t.Fatal("not logged in")
	}
	// alertgw user passwd alice: the session ends.
	if err := auth.WriteUsersFile(tc.users, []auth.User{{Name: "alice", Role: auth.RoleAnalyst, Hash: mustHash(t, "new-password!")}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the users file is looked at once a second
	if resp, _ := c.get("/mutes"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("session survived a password change: %d", resp.StatusCode)
	}
}

func TestLoginLink(t *testing.T) {
	tc := newTestConsole(t, nil, nil)
	link := tc.srv.LoginLink()
	if !strings.HasPrefix(link, tc.base+"/login/link?token=") {
		t.Fatalf("login link %q", link)
	}
	bad := tc.client()
	if resp, _ := bad.get("/login/link?token=nope"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong link token: %d", resp.StatusCode)
	}
	c := tc.client()
	resp, _ := c.get(strings.TrimPrefix(link, tc.base))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inbox" {
		t.Fatalf("link login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := c.get("/mutes")
	if resp.StatusCode != 200 || !strings.Contains(body, "start-up login link") {
		t.Fatalf("link session: %d", resp.StatusCode)
	}
	// The first user ends the link and its sessions.
	if err := auth.WriteUsersFile(tc.users, []auth.User{{Name: "alice", Role: auth.RoleAnalyst, Hash: mustHash(t, "alice-password")}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if resp, _ := c.get("/mutes"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("link session alive after a user was added: %d", resp.StatusCode)
	}
	if resp, _ := tc.client().get(strings.TrimPrefix(link, tc.base)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("link works after a user was added: %d", resp.StatusCode)
	}
}

func TestBeyondLoopbackNeedsUsers(t *testing.T) {
	dir := t.TempDir()
	tri, err := triage.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tri.Close()
	opts := DefaultOptions()
	opts.Listen = "0.0.0.0:0"
	opts.Users = filepath.Join(dir, "users")
	_, err = New(*opts, Deps{Triage: tri, Log: zerolog.Nop()})
	if err == nil || !strings.Contains(err.Error(), "reachable from other hosts and the users file") {
		t.Fatalf("New beyond loopback without users: %v", err)
	}
	if err := auth.WriteUsersFile(opts.Users, []auth.User{{Name: "alice", Role: auth.RoleViewer, Hash: "$2y$10$x"}}); err != nil {
		t.Fatal(err)
	}
	s, err := New(*opts, Deps{Triage: tri, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if s.LoginLink() != "" {
		t.Error("login link beyond loopback")
	}
	s.ln.Close()
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "/inbox",
		"/search?q=a":          "/search?q=a",
		"//evil.example/x":     "/inbox",
		"/\\evil.example":      "/inbox",
		"https://evil.example": "/inbox",
		"javascript:alert(1)":  "/inbox",
		"/x\r\nSet-Cookie: a":  "/inbox",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMutesValidateAndEscape(t *testing.T) {
	tc := newTestConsole(t, []auth.User{{Name: "alice", Role: auth.RoleAnalyst, Hash: mustHash(t, "alice-password")}}, nil)
	c := tc.client()
	c.login("alice", "alice-password")
	_, body := c.get("/mutes")
	csrf := formToken(t, body, "csrf")
	resp, body := c.post("/mutes", url.Values{"csrf": {csrf}, "query": {"src_ip:10.0.0.0/33"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Query error at position 8") {
		t.Fatalf("bad query: %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `value="src_ip:10.0.0.0/33"`) {
		t.Error("the refused query is not kept in the form")
	}
	resp, body = c.post("/mutes", url.Values{"csrf": {csrf}, "query": {"nosuchfield:1"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "unknown field") {
		t.Errorf("unknown field: %d", resp.StatusCode)
	}
	hostile := `signature.name:"<script>alert(1)</script>"`
	if resp, _ := c.post("/mutes", url.Values{"csrf": {csrf}, "query": {hostile}, "comment": {`<img src=x onerror=alert(1)>`}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("hostile mute: %d", resp.StatusCode)
	}
	_, body = c.get("/mutes")
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
		t.Error("mute query or comment rendered as HTML")
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Error("escaped mute text missing")
	}
	_, body = c.get("/audit")
	if !strings.Contains(body, "<td>mute</td>") || strings.Contains(body, "<script>alert") {
		t.Errorf("audit trail lacks the escaped mute:\n%s", body)
	}
}
