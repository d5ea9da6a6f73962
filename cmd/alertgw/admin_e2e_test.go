package main

// The admin endpoint's access control with the real binary (issue 14,
// item 6): an unauthenticated reload is refused, so are form posts and
// cross-origin requests; the token of admin.token_file and the admin
// socket work, for `alertgw reload` too; /status, /readyz and /metrics
// never show a configured secret.

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeToken writes an admin token file (0600) in dir.
func writeToken(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "admin-token")
	if err := os.WriteFile(p, []byte("7f3c1e0b9a8d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const e2eToken = "7f3c1e0b9a8d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5"

func postReload(t *testing.T, url string, header map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func TestE2EAdminAccess(t *testing.T) {
	dir := shortDir(t)
	addr := freePort(t)
	sock, adminSock := filepath.Join(dir, "s.sock"), filepath.Join(dir, "admin", "admin.sock")
	tokenFile := writeToken(t, dir)
	// Outputs with credentials, pointed at a closed port so that they fail
	// (and would show their errors, were status to show them).
	secrets := []string{"bearer-Secret-4f1d2a", "splunk-Token-93bb7c", "url-Password-1a2b3c", "es-Password-77aa11"}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(`sensor: e2e
log: {level: info, format: json}
pipeline: {shutdown_timeout: 2s}
admin: {listen: "%[1]s", token_file: %[2]s, socket: %[3]s}
dead_letter: {path: %[4]s/dead.json}
inputs:
  - {name: suricata, type: suricata, socket: %[5]s, socket_type: dgram}
outputs:
  - {name: events, type: file, path: %[4]s/events.json}
  - {name: siem, type: http, url: "http://user:%[8]s@127.0.0.1:1/in", bearer_token: %[6]s, retry: {initial: 50ms, max: 100ms}}
  - {name: splunk, type: splunk_hec, url: "http://127.0.0.1:1", token: %[7]s, retry: {initial: 50ms, max: 100ms}}
  - {name: es, type: elasticsearch, urls: ["http://127.0.0.1:1"], username: elastic, password: %[9]s, retry: {initial: 50ms, max: 100ms}}
`, addr, tokenFile, adminSock, dir, sock, secrets[0], secrets[1], secrets[2], secrets[3])), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gateway{dir: dir, sock: sock, events: filepath.Join(dir, "events.json"), log: filepath.Join(dir, "gateway.log")}
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfgPath)
	g.start(t, sock)
	sendRecords(t, "dgram", sock, inputRecords(t)[:5])
	waitLines(t, g.events, 5)

	reload := "http://" + addr + "/-/reload"
	auth := "Bearer " + e2eToken
	json := "application/json"
	for _, c := range []struct {
		name   string
		header map[string]string
		body   string
		want   int
	}{
		{"no token", map[string]string{"Content-Type": json}, "{}", http.StatusUnauthorized},
		{"wrong token", map[string]string{"Content-Type": json, "Authorization": "Bearer " + strings.Repeat("0", len(e2eToken))}, "{}", http.StatusUnauthorized},
		{"form post, as a web page sends it", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": auth}, "x=1", http.StatusUnsupportedMediaType},
		{"cross-origin", map[string]string{"Content-Type": json, "Authorization": auth, "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, "{}", http.StatusForbidden},
		{"token, JSON", map[string]string{"Content-Type": json, "Authorization": auth}, "{}", http.StatusOK},
	} {
		if code, body := postReload(t, reload, c.header, c.body); code != c.want {
			t.Errorf("%s: POST /-/reload %d %q, want %d", c.name, code, strings.TrimSpace(body), c.want)
		}
	}

	// alertgw reload: refused without the token, works with it, and
	// through the socket (read from the configuration) without one.
	bin := gatewayBinary(t)
	if out, err := exec.Command(bin, "reload", "--addr", addr, "--socket", "").CombinedOutput(); err == nil || !strings.Contains(string(out), "token") {
		t.Errorf("alertgw reload without the token: %v %s, want a refusal naming the token", err, out)
	}
	if out, err := exec.Command(bin, "reload", "--addr", addr, "--socket", "", "--token-file", tokenFile).CombinedOutput(); err != nil || !strings.Contains(string(out), "reloaded") {
		t.Errorf("alertgw reload --token-file: %v %s", err, out)
	}
	if out, err := exec.Command(bin, "reload", "-c", cfgPath, "--addr", "127.0.0.1:1").CombinedOutput(); err != nil || !strings.Contains(string(out), "reloaded") {
		t.Errorf("alertgw reload -c (the admin socket): %v %s", err, out)
	}
	if fi, err := os.Stat(adminSock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin socket %v, want mode 0600", err)
	}

	// No secret in what the endpoint shows, once the outputs failed.
	time.Sleep(500 * time.Millisecond)
	for _, path := range []string{"/status", "/readyz", "/metrics", "/healthz"} {
		_, body := httpGet(t, "http://"+addr+path)
		for _, s := range append(secrets, e2eToken) {
			if strings.Contains(body, s) {
				t.Errorf("%s shows the secret %q", path, s)
			}
		}
	}
	logged, _ := os.ReadFile(g.log)
	for _, s := range append(secrets, e2eToken) {
		if bytes.Contains(logged, []byte(s)) {
			t.Errorf("the log shows the secret %q", s)
		}
	}
	// The failing outputs cannot drain: the exit status says so, which
	// is not what this test is about.
	g.cmd.Process.Signal(os.Interrupt)
	select {
	case <-g.done:
	case <-time.After(30 * time.Second):
		t.Fatal("gateway did not stop")
	}
	if _, err := os.Lstat(adminSock); !os.IsNotExist(err) {
		t.Errorf("admin socket left behind: %v", err)
	}
}

// An admin endpoint beyond loopback without a token is announced loudly
// at start, and reload is refused on it.
func TestE2EAdminBeyondLoopbackWarns(t *testing.T) {
	dir := shortDir(t)
	port := freePort(t)[len("127.0.0.1:"):]
	sock := filepath.Join(dir, "s.sock")
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(`sensor: e2e
log: {level: info, format: json}
admin: {listen: "0.0.0.0:%s"}
dead_letter: {path: %s/dead.json}
inputs:
  - {name: suricata, type: suricata, socket: %s}
outputs:
  - {name: events, type: file, path: %s/events.json}
`, port, dir, sock, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gateway{dir: dir, sock: sock, log: filepath.Join(dir, "gateway.log")}
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfgPath)
	g.start(t, sock)
	g.waitLog(t, "no warning about the open admin endpoint", `"level":"warn"`, "beyond loopback without admin.token_file")
	if code, body := postReload(t, "http://127.0.0.1:"+port+"/-/reload", map[string]string{"Content-Type": "application/json"}, "{}"); code != http.StatusForbidden {
		t.Errorf("reload without a token configured: %d %q, want 403", code, body)
	}
	g.stop(t)
}
