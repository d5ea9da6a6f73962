package admin

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/stats"
)

const testToken = "0123456789abcdef0123456789abcdef-test"

// accessServer serves an endpoint on loopback TCP (with token when given)
// and on a Unix socket; it returns both clients' base URLs and the count
// of reloads run.
func accessServer(t *testing.T, token string) (tcp string, unixClient *http.Client, reloads *atomic.Int32) {
	t.Helper()
	reg := stats.NewRegistry()
	reg.Input("eve", "suricata").Up.Store(true)
	s, err := New("127.0.0.1:0", reg, "v-test", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	reloads = new(atomic.Int32)
	s.SetReload(func() error { reloads.Add(1); return nil })
	if token != "" {
		s.SetToken(token)
	}
	sock := filepath.Join(t.TempDir(), "admin.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	s.AddSocket(ln)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	unixClient = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	return "http://" + s.Addr(), unixClient, reloads
}

type request struct {
	contentType, auth, origin, fetchSite, host, body string
}

func do(t *testing.T, c *http.Client, method, url string, r request) (int, string) {
	t.Helper()
	body := r.body
	if body == "" && method == http.MethodPost {
		body = "{}"
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"Content-Type": r.contentType, "Authorization": r.auth, "Origin": r.origin, "Sec-Fetch-Site": r.fetchSite} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	if r.host != "" {
		req.Host = r.host
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Who may reload: on TCP only with the token, on the socket without;
// everywhere only as a JSON, same-origin request.
func TestReloadAccess(t *testing.T) {
	const jsonCT = "application/json"
	bearer := "Bearer " + testToken
	tests := []struct {
		name   string
		token  string // configured admin token
		socket bool   // over the Unix socket
		req    request
		want   int
	}{
		{"tcp, no token configured", "", false, request{contentType: jsonCT}, http.StatusForbidden},
		{"tcp, no token configured, one sent anyway", "", false, request{contentType: jsonCT, auth: bearer}, http.StatusForbidden},
		{"tcp, token missing", testToken, false, request{contentType: jsonCT}, http.StatusUnauthorized},
		{"tcp, wrong token", testToken, false, request{contentType: jsonCT, auth: "Bearer " + strings.Repeat("x", len(testToken))}, http.StatusUnauthorized},
		{"tcp, token as basic auth", testToken, false, request{contentType: jsonCT, auth: "Basic " + testToken}, http.StatusUnauthorized},
		{"tcp, token", testToken, false, request{contentType: jsonCT, auth: bearer}, http.StatusOK},
		{"tcp, token, JSON with charset", testToken, false, request{contentType: "application/json; charset=utf-8", auth: bearer}, http.StatusOK},
		{"tcp, token, form post", testToken, false, request{contentType: "application/x-www-form-urlencoded", auth: bearer, body: "a=b"}, http.StatusUnsupportedMediaType},
		{"tcp, token, multipart form", testToken, false, request{contentType: "multipart/form-data; boundary=x", auth: bearer}, http.StatusUnsupportedMediaType},
		{"tcp, token, text/plain", testToken, false, request{contentType: "text/plain", auth: bearer}, http.StatusUnsupportedMediaType},
		{"tcp, token, no content type", testToken, false, request{auth: bearer}, http.StatusUnsupportedMediaType},
		{"tcp, token, body not JSON", testToken, false, request{contentType: jsonCT, auth: bearer, body: "reload=1"}, http.StatusBadRequest},
		{"tcp, token, cross-site browser request", testToken, false, request{contentType: jsonCT, auth: bearer, fetchSite: "cross-site", origin: "https://evil.example"}, http.StatusForbidden},
		{"tcp, token, other origin", testToken, false, request{contentType: jsonCT, auth: bearer, origin: "https://evil.example"}, http.StatusForbidden},
		{"tcp, rebound DNS name", testToken, false, request{contentType: jsonCT, auth: bearer, host: "evil.example:9477"}, http.StatusMisdirectedRequest},
		{"socket, no token", "", true, request{contentType: jsonCT}, http.StatusOK},
		{"socket, form post", "", true, request{contentType: "application/x-www-form-urlencoded", body: "a=b"}, http.StatusUnsupportedMediaType},
		{"socket, cross-site browser request", "", true, request{contentType: jsonCT, fetchSite: "cross-site", origin: "https://evil.example"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tcp, uc, reloads := accessServer(t, tt.token)
			c, url := http.DefaultClient, tcp+"/-/reload"
			if tt.socket {
				c, url = uc, "http://localhost/-/reload"
			}
			code, body := do(t, c, http.MethodPost, url, tt.req)
			if code != tt.want {
				t.Errorf("status %d (%q), want %d", code, strings.TrimSpace(body), tt.want)
			}
			if ran := reloads.Load() == 1; ran != (tt.want == http.StatusOK) {
				t.Errorf("reload ran: %v, want %v", ran, tt.want == http.StatusOK)
			}
			if code == http.StatusUnauthorized && !strings.Contains(body, "token") {
				t.Errorf("refusal does not say why: %q", body)
			}
		})
	}
}

// Read-only routes stay open (probes, Prometheus) on both listeners, but
// only for loopback names on a loopback listener.
func TestReadOnlyRoutesOpen(t *testing.T) {
	tcp, uc, _ := accessServer(t, testToken)
	for _, path := range []string{"/metrics", "/healthz", "/readyz", "/status"} {
		if code, _ := do(t, http.DefaultClient, http.MethodGet, tcp+path, request{}); code != http.StatusOK {
			t.Errorf("GET %s over TCP: %d", path, code)
		}
		if code, _ := do(t, uc, http.MethodGet, "http://localhost"+path, request{}); code != http.StatusOK {
			t.Errorf("GET %s over the socket: %d", path, code)
		}
		if code, _ := do(t, http.DefaultClient, http.MethodGet, tcp+path, request{host: "localhost"}); code != http.StatusOK {
			t.Errorf("GET %s with Host localhost: %d", path, code)
		}
		if code, _ := do(t, http.DefaultClient, http.MethodGet, tcp+path, request{host: "rebound.example"}); code != http.StatusMisdirectedRequest {
			t.Errorf("GET %s with Host rebound.example: %d, want 421", path, code)
		}
	}
	// GET never reloads.
	if code, _ := do(t, http.DefaultClient, http.MethodGet, tcp+"/-/reload", request{}); code == http.StatusOK {
		t.Error("GET /-/reload accepted")
	}
}

// Whatever the counters' names or a future error text carry, configured
// secrets and URL passwords never appear in /status and /readyz.
func TestStatusRedacted(t *testing.T) {
	reg := stats.NewRegistry()
	in := reg.Input("eve", "suricata")
	in.Up.Store(true)
	out := reg.Output("https://siem:hunter2-pass@siem.example/x token=sup3r-s3cret-value", "http")
	out.Capacity.Store(10)
	s, err := New("127.0.0.1:0", reg, "v", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	s.AddSecrets("sup3r-s3cret-value", "x") // too short to redact: not an error, ignored
	s.SetToken(testToken)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Serve(ctx)
	for _, path := range []string{"/status", "/readyz", "/metrics"} {
		_, body := do(t, http.DefaultClient, http.MethodGet, "http://"+s.Addr()+path, request{})
		if path == "/metrics" {
			continue // label values are names, checked end to end
		}
		for _, secret := range []string{"hunter2-pass", "sup3r-s3cret-value", testToken} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows %q:\n%s", path, secret, body)
			}
		}
		if path == "/status" && !strings.Contains(body, "[redacted]") {
			t.Errorf("%s: nothing redacted:\n%s", path, body)
		}
	}
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, content string
		mode          os.FileMode
		want          string // token, or "" for an error
	}{
		{"ok", testToken + "\n", 0o600, testToken},
		{"group-readable", testToken, 0o640, testToken},
		{"world-readable", testToken, 0o644, ""},
		{"short", "abc\n", 0o600, ""},
		{"two lines", testToken + "\n" + testToken + "\n", 0o600, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadTokenFile(write(tt.name, tt.content, tt.mode))
			if got != tt.want || (err == nil) != (tt.want != "") {
				t.Errorf("ReadTokenFile = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := ReadTokenFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9477": true, "127.1.2.3:1": true, "[::1]:9477": true, "localhost:9477": true,
		"0.0.0.0:9477": false, ":9477": false, "[::]:9477": false, "10.0.0.5:9477": false, "9477": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
