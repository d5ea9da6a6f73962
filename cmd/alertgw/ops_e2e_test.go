package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestE2EReload changes the configuration of a running gateway while events
// flow: an unchanged input keeps its socket (same inode) and loses nothing,
// outputs and inputs are added and replaced, and a bad file is rejected
// while the running configuration goes on.
func TestE2EReload(t *testing.T) {
	dir := shortDir(t)
	addr := freePort(t)
	sock, sock2 := filepath.Join(dir, "s.sock"), filepath.Join(dir, "s2.sock")
	events, second := filepath.Join(dir, "events.json"), filepath.Join(dir, "second.json")
	cfgPath := filepath.Join(dir, "config.yaml")
	tokenFile := writeToken(t, dir)
	writeCfg := func(extraInputs, outputs string) {
		cfg := fmt.Sprintf(`sensor: e2e
log: {level: info, format: json}
admin: {listen: "%s", token_file: %s}
dead_letter: {path: %s/dead.json}
inputs:
  - {name: suricata, type: suricata, socket: %s, socket_type: dgram}
%soutputs:
%s`, addr, tokenFile, dir, sock, extraInputs, outputs)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg("", fmt.Sprintf("  - {name: events, type: file, path: %s}\n", events))
	g := &gateway{dir: dir, sock: sock, events: events, log: filepath.Join(dir, "gateway.log")}
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfgPath)
	g.start(t, sock)
	ino := inode(t, sock)

	// A sender that keeps going across the reloads: blocking, like Suricata
	// in offline mode, so every record must arrive.
	const total = 3000
	rec := inputRecords(t)[0]
	var wg sync.WaitGroup
	progress := make(chan int, total)
	wg.Go(func() {
		c, err := net.Dial("unixgram", sock)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		for i := range total {
			if _, err := c.Write(append(rec[:len(rec):len(rec)], '\n')); err != nil {
				t.Errorf("send %d: %v", i, err)
				return
			}
			progress <- i
			time.Sleep(300 * time.Microsecond)
		}
	})
	waitSent := func(n int) {
		for i := range progress {
			if i >= n {
				return
			}
		}
	}

	// 1. SIGHUP: add an output and an input.
	waitSent(500)
	writeCfg(fmt.Sprintf("  - {name: second-eve, type: suricata, socket: %s, socket_type: dgram}\n", sock2),
		fmt.Sprintf("  - {name: events, type: file, path: %s}\n  - {name: second, type: file, path: %s}\n", events, second))
	g.cmd.Process.Signal(syscall.SIGHUP)
	waitLines(t, second, 1)
	if fi, err := os.Lstat(sock2); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("added input's socket: %v", err)
	}

	// 2. `alertgw reload`: replace the events output (new options, same
	// file) and remove the second one and the second input.
	waitSent(1500)
	writeCfg("", fmt.Sprintf("  - {name: events, type: file, path: %s, fsync: always}\n", events))
	if out, err := exec.Command(gatewayBinary(t), "reload", "--addr", addr, "--token-file", tokenFile).CombinedOutput(); err != nil || !strings.Contains(string(out), "reloaded") {
		t.Fatalf("alertgw reload: %v %s", err, out)
	}
	if _, err := os.Lstat(sock2); !os.IsNotExist(err) {
		t.Errorf("removed input's socket still there: %v", err)
	}

	// 3. A bad file is rejected, with its problem, and changes nothing.
	waitSent(2200)
	writeCfg("", "  - {name: events, type: file, pth: /nowhere}\n")
	out, err := exec.Command(gatewayBinary(t), "reload", "--addr", addr, "--token-file", tokenFile).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "outputs[0].pth: unknown key") {
		t.Errorf("bad reload: err=%v out=%s, want it rejected with the key path", err, out)
	}

	wg.Wait()
	lines := waitLines(t, events, total)
	if len(lines) != total {
		t.Errorf("events output has %d lines, want %d (nothing lost, nothing twice)", len(lines), total)
	}
	if got := inode(t, sock); got != ino {
		t.Errorf("the unchanged input's socket was recreated (inode %d → %d)", ino, got)
	}
	if n := len(readLines(t, second)); n == 0 || n >= total {
		t.Errorf("second output wrote %d lines, want some but not all", n)
	}

	// Metrics, readiness and status of the running gateway.
	if code, body := httpGet(t, "http://"+addr+"/metrics"); code != 200 ||
		!strings.Contains(body, fmt.Sprintf(`alertgw_input_received_total{input="suricata",type="suricata"} %d`, total)) {
		t.Errorf("metrics (%d) lack the received count of %d", code, total)
	}
	if code, body := httpGet(t, "http://"+addr+"/readyz"); code != 200 {
		t.Errorf("readyz %d %s", code, body)
	}
	if out, err := exec.Command(gatewayBinary(t), "status", "--addr", addr).CombinedOutput(); err != nil || !strings.Contains(string(out), "suricata") || !strings.Contains(string(out), "ready") {
		t.Errorf("alertgw status: %v\n%s", err, out)
	}
	g.stop(t)
}
