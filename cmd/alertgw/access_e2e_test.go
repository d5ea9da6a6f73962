package main

// End-to-end tests of who may do what (issue 14, items 7 and 8): socket
// directories someone else could change are refused, and after run_as the
// gateway keeps no capability it does not need.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const nobodyID = 65534

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (other users' directories, run_as); `make test` runs as root")
	}
}

// ownedDir makes dir with mode, owned by uid:gid.
func ownedDir(t *testing.T, dir string, mode os.FileMode, uid, gid int) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return dir
}

// suricataConfig is a configuration with one suricata dgram input on sock
// and one file output in outDir; extra is added at the top level.
func suricataConfig(t *testing.T, dir, sock, outDir, extra string) string {
	t.Helper()
	cfg := fmt.Sprintf(`sensor: e2e
log: {level: info, format: json}
admin: {listen: ""}
dead_letter: {path: %s/dead.json}
%s
inputs:
  - {name: suricata, type: suricata, socket: %s, socket_type: dgram}
outputs:
  - {name: events, type: file, path: %s/events.json}
`, outDir, extra, sock, outDir)
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A socket directory owned by another user (here nobody, 0750) is refused
// at start: that user could replace the socket with their own and receive
// the sensor's alerts. Before the check it was accepted.
func TestE2EForeignSocketDirRefused(t *testing.T) {
	needRoot(t)
	dir := shortDir(t)
	foreign := ownedDir(t, filepath.Join(dir, "foreign"), 0o750, nobodyID, nobodyID)
	sock := filepath.Join(foreign, "s.sock")
	cfg := suricataConfig(t, dir, sock, dir, "")
	bin := gatewayBinary(t) // built first: the timeout is the gateway's
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "run", "--config", cfg).CombinedOutput()
	if err == nil {
		t.Fatalf("gateway started with a socket directory owned by uid %d:\n%s", nobodyID, out)
	}
	if !bytes.Contains(out, []byte("owned by uid 65534")) {
		t.Errorf("the error does not say who owns the directory:\n%s", out)
	}
	if _, err := os.Lstat(sock); err == nil {
		t.Errorf("socket %s created in the foreign directory", sock)
	}
}

// procStatus returns every thread's /proc status lines of interest.
func procStatus(t *testing.T, pid int) []string {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no threads of %d: %v", pid, err)
	}
	var lines []string
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue // a thread that just ended
		}
		for _, l := range strings.Split(string(b), "\n") {
			for _, key := range []string{"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:"} {
				if strings.HasPrefix(l, key) {
					lines = append(lines, strings.Join(strings.Fields(l), " "))
				}
			}
		}
	}
	return lines
}

// With run_as, the running gateway (every thread) has no capability at all,
// not even in its bounding set, and no_new_privs set. At shutdown it
// removes its socket when the directory lets the run_as user do so, and
// says why not when it does not.
func TestE2ERunAsDropsEverything(t *testing.T) {
	needRoot(t)
	tests := []struct {
		name      string
		sockOwner int // uid owning the socket directory
		removed   bool
	}{
		{"socket directory owned by the run_as user", nobodyID, true},
		{"root-owned socket directory", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := shortDir(t)
			if err := os.Chmod(dir, 0o755); err != nil { // the unprivileged gateway must reach its files
				t.Fatal(err)
			}
			sockDir := ownedDir(t, filepath.Join(dir, "run"), 0o755, tt.sockOwner, tt.sockOwner)
			outDir := ownedDir(t, filepath.Join(dir, "out"), 0o755, nobodyID, nobodyID)
			sock := filepath.Join(sockDir, "s.sock")
			cfg := suricataConfig(t, dir, sock, outDir, fmt.Sprintf("run_as: {user: %q}", fmt.Sprint(nobodyID)))
			g := startDroppedGateway(t, dir, sock, outDir, cfg)

			lines := procStatus(t, g.cmd.Process.Pid)
			want := map[string]string{
				"Uid:": "65534 65534 65534 65534", "Gid:": "65534 65534 65534 65534", "Groups:": "",
				"CapInh:": "0000000000000000", "CapPrm:": "0000000000000000", "CapEff:": "0000000000000000",
				"CapBnd:": "0000000000000000", "CapAmb:": "0000000000000000", "NoNewPrivs:": "1",
			}
			for _, l := range lines {
				key, val, _ := strings.Cut(l, " ") // "Groups:" alone: no supplementary groups
				if val != want[key] {
					t.Errorf("thread status %q, want %s %s", l, key, want[key])
				}
			}

			g.cmd.Process.Signal(os.Interrupt)
			select {
			case err := <-g.done:
				if err != nil {
					t.Fatalf("gateway exited with %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("gateway did not stop")
			}
			_, err := os.Lstat(sock)
			logged, _ := os.ReadFile(g.log)
			left := bytes.Contains(logged, []byte("socket file left behind"))
			switch {
			case tt.removed && err == nil:
				t.Errorf("socket %s left behind although its directory is the run_as user's", sock)
			case !tt.removed && err != nil:
				t.Errorf("socket removed from a root-owned directory after the drop?! %v", err)
			case !tt.removed && !left:
				t.Errorf("socket left behind without a log line saying why:\n%s", logged)
			case tt.removed && left:
				t.Errorf("logged a socket left behind, yet it was removable:\n%s", logged)
			}
		})
	}
}

// 2,000 local clients that connect to a stream socket and never send
// cannot keep a real sender out (issue 14, item 5): before, they held all
// 64 connections and the sender's writes failed with EPIPE. Here they take
// every slot first, and 2,000 more keep coming while `alertgw send` (which
// writes like Suricata's unix_stream output, and fails on EPIPE) sends;
// every record must arrive, and the closed idle connections are counted.
func TestE2EIdleStreamClientsCannotLockOut(t *testing.T) {
	dir := shortDir(t)
	addr := freePort(t)
	sock := filepath.Join(dir, "s.sock")
	events := filepath.Join(dir, "events.json")
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`sensor: e2e
log: {level: info, format: json}
admin: {listen: "%s"}
dead_letter: {path: %s/dead.json}
inputs:
  - {name: suricata, type: suricata, socket: %s, socket_type: stream}
outputs:
  - {name: events, type: file, path: %s}
`, addr, dir, sock, events)), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gateway{dir: dir, sock: sock, events: events, log: filepath.Join(dir, "gateway.log")}
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfg)
	g.start(t, sock)

	const idle, total = 2000, 20000
	dial := func(n int, every time.Duration) {
		for range n {
			time.Sleep(every)
			c, err := net.Dial("unix", sock)
			if err != nil {
				t.Errorf("idle client: %v", err)
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}
	dial(idle, 0)
	// Once the gateway accepted them all, every slot is an idle client's
	// (it accepts in order). Without eviction the count never shows: go on
	// after a while, the sender is what the test is about.
	evicted := `alertgw_input_connections_closed_total{input="suricata",reason="evicted",type="suricata"}`
	if !hasMetric(t, addr, evicted, 10*time.Second, idle-64) {
		t.Errorf("the idle clients were not counted as evicted")
	}

	var wg sync.WaitGroup
	// The later ones keep coming, one a millisecond, while the sender
	// connects and sends.
	wg.Go(func() { dial(idle, time.Millisecond) })
	out, err := exec.Command(gatewayBinary(t), "send", "--socket", sock, "--socket-type", "stream",
		"--count", fmt.Sprint(total), "--rate", "20000").CombinedOutput()
	wg.Wait()
	if err != nil {
		t.Fatalf("the sender was locked out: %v\n%s", err, out)
	}
	if lines := waitLines(t, events, total); len(lines) != total {
		t.Errorf("%d events written, want %d", len(lines), total)
	}
	// The sender's connection took one idle client's place; all the later
	// idle clients replaced idle ones too, never the sender (one fewer if
	// the sender was done and gone before they all came).
	if !hasMetric(t, addr, evicted, 30*time.Second, 2*idle+1-64, 2*idle-64) {
		t.Errorf("metrics never counted %d (or %d) evicted connections", 2*idle+1-64, 2*idle-64)
	}
	if code, body := httpGet(t, "http://"+addr+"/metrics"); code != 200 || strings.Contains(body, `reason="refused"`) {
		t.Errorf("metrics (%d) count refused connections:\n%s", code, grepLines(body, "connections"))
	}
	g.stop(t)
}

// hasMetric waits up to wait until the gateway's /metrics has a line
// "name value" for one of values.
func hasMetric(t *testing.T, addr, name string, wait time.Duration, values ...int) bool {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		_, body := httpGet(t, "http://"+addr+"/metrics")
		lines := strings.Split(body, "\n")
		for _, v := range values {
			if slices.Contains(lines, fmt.Sprintf("%s %d", name, v)) {
				return true
			}
		}
		if time.Now().After(deadline) {
			t.Logf("metrics lack %s at %v:\n%s", name, values, grepLines(body, name[:strings.IndexByte(name+"{", '{')]))
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// startDroppedGateway runs a gateway whose config has run_as, waits for it
// to drop its privileges (just after the sockets are bound) and checks that
// it still delivers: three records from sock reach outDir/events.json.
func startDroppedGateway(t *testing.T, dir, sock, outDir, cfg string) *gateway {
	t.Helper()
	g := &gateway{dir: dir, sock: sock, events: filepath.Join(outDir, "events.json"), log: filepath.Join(dir, "gateway.log")}
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfg)
	g.start(t, sock)
	g.waitLog(t, "no privilege drop logged", "dropped privileges")
	sendRecords(t, "dgram", sock, inputRecords(t)[:3])
	waitLines(t, g.events, 3)
	return g
}
