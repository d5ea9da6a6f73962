package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EHealthTellsTheTruth runs the gateway with an output whose
// destination refuses connections: within admin.failure_grace the gateway
// is ready but the output is degraded; past it, /readyz answers 503 with
// the reason, `alertgw status` prints it and exits 1, and the metrics say
// 0. When the destination comes up, the buffered events are delivered and
// it is ready again. A socket file removed under the running input makes
// it not ready too.
func TestE2EHealthTellsTheTruth(t *testing.T) {
	dir := shortDir(t)
	addr := freePort(t)
	dest := freePort(t) // nothing listens there yet: connection refused
	sock := filepath.Join(dir, "s.sock")
	events := filepath.Join(dir, "events.json")
	cfg := fmt.Sprintf(`sensor: e2e
log: {level: info, format: json}
admin: {listen: "%s", failure_grace: 2s}
dead_letter: {path: %s/dead.json}
inputs:
  - {name: suricata, type: suricata, socket: %s}
outputs:
  - {name: events, type: file, path: %s}
  - name: collector
    type: http
    url: http://%s/ingest
    retry: {initial: 50ms, max: 200ms}
`, addr, dir, sock, events, dest)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gateway{dir: dir, sock: sock, events: events, log: filepath.Join(dir, "gateway.log")}
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfgPath)
	g.start(t, sock)
	waitAdmin(t, addr)

	// The admin endpoint can answer a moment before the input's reader
	// runs ("input suricata: not running", truthfully): wait for ready.
	waitReady(t, addr)
	code, body := httpGet(t, "http://"+addr+"/readyz")
	if code != 200 || strings.TrimSpace(body) != "ready" {
		t.Fatalf("before any event: readyz %d %q", code, body)
	}
	sendRecords(t, "dgram", sock, inputRecords(t)[:5])
	waitLines(t, events, 5)

	// Within the grace period: ready, degraded, with the reason. The file
	// output may have its lines a moment before the collector's first
	// attempt has failed, so wait for that (well within the 2 s grace).
	waitFor(t, 1500*time.Millisecond, "the collector's first failed attempt", func() bool {
		code, body = httpGet(t, "http://"+addr+"/readyz")
		return strings.Contains(body, "degraded")
	})
	if code != 200 || !strings.Contains(body, "degraded: output collector: failing for") || !strings.Contains(body, "connection refused") {
		t.Errorf("within the grace period: readyz %d %q", code, body)
	}

	// Past it: not ready, everywhere.
	time.Sleep(2500 * time.Millisecond)
	code, body = httpGet(t, "http://"+addr+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "output collector: failing for") ||
		!strings.Contains(body, "longer than the 2s grace period") || !strings.Contains(body, "connection refused") {
		t.Errorf("past the grace period: readyz %d %q", code, body)
	}
	out, err := exec.Command(gatewayBinary(t), "status", "--addr", addr).CombinedOutput()
	t.Logf("alertgw status:\n%s", out)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("alertgw status exited %v, want 1", err)
	}
	for _, want := range []string{"NOT READY", "not ready: output collector: failing for", "RATE/s", "LAST EVENT", "FAILING", "failing", "for "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("alertgw status lacks %q:\n%s", want, out)
		}
	}
	if _, m := httpGet(t, "http://"+addr+"/metrics"); !strings.Contains(m, `alertgw_output_ready{output="collector",type="http"} 0`) ||
		!strings.Contains(m, `alertgw_output_ready{output="events",type="file"} 1`) || !strings.Contains(m, "alertgw_ready 0") {
		t.Errorf("metrics do not say the collector is not ready")
	}

	// The destination comes up: everything buffered is delivered, ready.
	got := make(chan int, 100)
	ln, err := net.Listen("tcp", dest)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 1<<20)
		n, _ := readAll(r, b)
		got <- strings.Count(string(b[:n]), "\n")
	})}
	go srv.Serve(ln)
	defer srv.Close()
	delivered := 0
	for delivered < 5 {
		select {
		case n := <-got:
			delivered += n
		case <-time.After(10 * time.Second):
			t.Fatalf("the collector got %d events, want 5", delivered)
		}
	}
	waitReady(t, addr)

	// The input's socket removed under it: not ready, with the path.
	if err := os.Remove(sock); err != nil {
		t.Fatal(err)
	}
	code, body = httpGet(t, "http://"+addr+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "input suricata: socket "+sock+" is gone") {
		t.Errorf("socket removed: readyz %d %q", code, body)
	}
	g.cmd.Process.Kill()
}

func readAll(r *http.Request, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Body.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// waitAdmin waits for the admin endpoint to answer.
func waitAdmin(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("admin endpoint %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitReady waits for /readyz to answer 200.
func waitReady(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := httpGet(t, "http://"+addr+"/readyz")
		if code == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 10s: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
