package main

// End-to-end tests: the real gateway binary, real sockets, real files.
// The binary is built once per test run (without -race: the tests around
// it run under -race, the gateway's own packages have their race tests).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/loadgen"
	"github.com/alertgw/alertgw/internal/schematest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// gatewayBinary builds the gateway once per test process. The binary goes
// to a directory named after this source tree, replaced atomically on every
// run, so that runs leave no trail of temporary directories and two
// checkouts never run each other's build.
func gatewayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		wd, err := os.Getwd()
		if err != nil {
			buildErr = err
			return
		}
		sum := sha256.Sum256([]byte(wd))
		dir := filepath.Join(os.TempDir(), "alertgw-e2e-"+hex.EncodeToString(sum[:6]))
		if err := os.MkdirAll(dir, 0o750); err != nil {
			buildErr = err
			return
		}
		tmp := filepath.Join(dir, fmt.Sprintf("alertgw.%d", os.Getpid()))
		out, err := exec.Command("go", "build", "-o", tmp, ".").CombinedOutput()
		if err != nil {
			os.Remove(tmp)
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		binPath = filepath.Join(dir, "alertgw")
		buildErr = os.Rename(tmp, binPath)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// gateway is a running `alertgw run`.
type gateway struct {
	cmd    *exec.Cmd
	dir    string
	sock   string
	events string
	dead   string
	log    string
	done   chan error
	exited chan struct{} // closed once Wait has returned (after done got its value)
}

// waitLog waits up to 10 s for the gateway's log to hold every one of subs
// (a line is often written just after what start waited for, the socket)
// and fails the test, showing the log, if it does not.
func (g *gateway) waitLog(t *testing.T, what string, subs ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		logged, _ := os.ReadFile(g.log)
		missing := false
		for _, s := range subs {
			missing = missing || !bytes.Contains(logged, []byte(s))
		}
		if !missing {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s:\n%s", what, logged)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shortDir returns a fresh directory short enough for socket paths.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("/tmp", "agwe2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// startGateway runs the gateway with a configuration of one suricata input
// (socketType, extra input keys) and one file output in dir.
func startGateway(t *testing.T, socketType string, extra string) *gateway {
	t.Helper()
	dir := shortDir(t)
	g := &gateway{dir: dir, sock: filepath.Join(dir, "s.sock"), events: filepath.Join(dir, "out", "events.json"),
		dead: filepath.Join(dir, "out", "deadletter.json"), log: filepath.Join(dir, "gateway.log")}
	cfg := fmt.Sprintf(`sensor: e2e
log: {level: info, format: json}
admin: {listen: ""}
pipeline: {shutdown_timeout: 20s}
dead_letter: {path: %s}
inputs:
  - name: suricata
    type: suricata
    socket: %s
    socket_type: %s
%s
outputs:
  - name: events
    type: file
    path: %s
`, g.dead, g.sock, socketType, extra, g.events)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfgPath)
	g.start(t, g.sock)
	return g
}

func (g *gateway) start(t *testing.T, sock string) {
	t.Helper()
	logf, err := os.Create(g.log)
	if err != nil {
		t.Fatal(err)
	}
	g.cmd.Stdout, g.cmd.Stderr = logf, logf
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	g.done, g.exited = make(chan error, 1), make(chan struct{})
	cmd, done, exited := g.cmd, g.done, g.exited
	go func() { done <- cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		// Whether it exited is known through exited, never by reading
		// cmd.ProcessState, which Wait writes in its own goroutine.
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(g.log)
			t.Logf("gateway log:\n%s", b)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if fi, err := os.Lstat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return
		}
		select {
		case err := <-g.done:
			b, _ := os.ReadFile(g.log)
			t.Fatalf("gateway exited at start-up: %v\n%s", err, b)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("gateway did not create its socket")
		}
	}
}

// stop sends SIGTERM and expects a clean exit.
func (g *gateway) stop(t *testing.T) {
	t.Helper()
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-g.done:
		if err != nil {
			b, _ := os.ReadFile(g.log)
			t.Fatalf("gateway exited with %v\n%s", err, b)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("gateway did not stop within 30s of SIGTERM")
	}
	if _, err := os.Lstat(g.sock); !os.IsNotExist(err) {
		t.Errorf("socket %s left behind", g.sock)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func waitLines(t *testing.T, path string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l := readLines(t, path)
		if len(l) >= n {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d lines, want %d", path, len(l), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sendRecords sends each record the way Suricata does: one send() each,
// ending in "\n" (one datagram each, or one stream connection for all).
func sendRecords(t *testing.T, socketType, path string, recs [][]byte) {
	t.Helper()
	network := map[string]string{"dgram": "unixgram", "stream": "unix"}[socketType]
	c, err := net.Dial(network, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, r := range recs {
		if _, err := c.Write(append(slices.Clip(r), '\n')); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
}

func inputRecords(t *testing.T) [][]byte {
	t.Helper()
	var recs [][]byte
	for _, f := range []string{"input-corpus.jsonl", "input-own.jsonl"} {
		b, err := os.ReadFile(filepath.Join("testdata", "e2e", f))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, bytes.Split(bytes.TrimSpace(b), []byte("\n"))...)
	}
	return recs
}

// varying blanks the fields that differ from run to run.
var varying = regexp.MustCompile(`"(id|received)":"[^"]*"`)

func normalizeOutput(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = varying.ReplaceAllString(l, `"$1":"-"`)
	}
	slices.Sort(out) // workers run in parallel: order across batches is not kept
	return out
}

func compareGolden(t *testing.T, name string, got []string) {
	t.Helper()
	path := filepath.Join("testdata", "e2e", name)
	if *update {
		if err := os.WriteFile(path, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readLines(t, path)
	if len(want) != len(got) {
		t.Fatalf("%d events, golden %s has %d (run with -update to regenerate, then review)", len(got), name, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d differs from %s:\n got: %s\nwant: %s", i, name, got[i], want[i])
		}
	}
}

// badRecords are what must land in the dead-letter file, by reason.
var badRecords = []struct {
	raw    []byte
	reason string
}{
	{[]byte(`{"timestamp":"2017-03-06T06:54:10`), "truncated"}, // a record cut short (the decoder tells it from other invalid JSON)
	{[]byte(`{"event_type":"alert","alert":{"signature_id":12,}}`), "invalid_json"},
	{[]byte(`[1,2,3]`), "not_object"},
	{[]byte("{\"timestamp\":\"2026-11-22T10:11:12.000000+0000\",\"event_type\":\"alert\",\"alert\":{\"signature\":\"bad \xff\xfe utf8\"}}"), "invalid_utf8"},
}

func TestE2EGolden(t *testing.T) {
	for _, typ := range []string{"dgram", "stream"} {
		t.Run(typ, func(t *testing.T) {
			// Small limits so that oversize input is cheap to produce.
			g := startGateway(t, typ, "    max_message_size: 8KiB\n    max_line_size: 8KiB")
			recs := inputRecords(t)
			var all [][]byte
			for i, r := range recs {
				all = append(all, r)
				if i < len(badRecords) {
					all = append(all, badRecords[i].raw) // bad input interleaved
				}
			}
			oversize := []byte(`{"timestamp":"2026-11-22T10:11:12.000000+0000","event_type":"alert","payload":"` + strings.Repeat("A", 12000) + `"}`)
			all = append(all, oversize)
			after := []byte(`{"timestamp":"2026-11-22T11:00:00.000000+0000","flow_id":1,"event_type":"alert","src_ip":"10.9.9.9","src_port":1,"dest_ip":"10.9.9.8","dest_port":2,"proto":"UDP","alert":{"action":"allowed","gid":1,"signature_id":1,"rev":1,"signature":"after the bad ones","category":"","severity":3}}`)
			all = append(all, after) // the gateway keeps going
			sendRecords(t, typ, g.sock, all)

			lines := waitLines(t, g.events, len(recs)+1)
			for i, l := range lines {
				_ = i
				schematest.Validate(t, []byte(l))
			}
			compareGolden(t, "golden.jsonl", normalizeOutput(lines)) // the same for both socket types

			wantReasons := map[string]int{}
			for _, b := range badRecords {
				wantReasons[b.reason]++
			}
			if typ == "dgram" {
				wantReasons["truncated"]++ // the oversize datagram
			} else {
				wantReasons["too_large"]++ // the oversize line
			}
			g.stop(t) // the dead-letter file is flushed at the latest on shutdown
			if n := len(readLines(t, g.events)); n != len(recs)+1 {
				t.Errorf("after shutdown: %d events, want %d", n, len(recs)+1)
			}
			dead := readLines(t, g.dead)
			got := map[string]int{}
			for _, l := range dead {
				var d struct {
					Input, Reason, Raw, Error string
					Size                      int
				}
				if err := json.Unmarshal([]byte(l), &d); err != nil {
					t.Fatalf("dead-letter line is not JSON: %v\n%s", err, l)
				}
				got[d.Reason]++
				raw, err := base64.StdEncoding.DecodeString(d.Raw)
				if err != nil || len(raw) != d.Size || d.Input != "suricata" {
					t.Errorf("dead-letter record: raw %d bytes (%v), size %d, input %q", len(raw), err, d.Size, d.Input)
				}
				if len(raw) == 8192 {
					if !bytes.Equal(raw, oversize[:8192]) || !strings.Contains(d.Error, "12082") && d.Reason == "truncated" {
						t.Errorf("%s: dead-lettered %d bytes (%s), want the first 8192 of the record", d.Reason, len(raw), d.Error)
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(wantReasons) {
				t.Errorf("dead-letter reasons %v, want %v", got, wantReasons)
			}
		})
	}
}

// TestE2ESigtermDrains: everything a blocking sender got accepted before
// SIGTERM is written before the gateway exits.
func TestE2ESigtermDrains(t *testing.T) {
	for _, typ := range []string{"dgram", "stream"} {
		t.Run(typ, func(t *testing.T) {
			g := startGateway(t, typ, "")
			gen, err := loadgen.New("suricata", loadgen.Options{Seed: 3, LargeEvery: 97, LargeSize: 16 << 10})
			if err != nil {
				t.Fatal(err)
			}
			const n = 20000
			res, err := loadgen.Send(context.Background(), gen, loadgen.SendOptions{Socket: g.sock, SocketType: typ, Count: n})
			if err != nil || res.Sent != n {
				t.Fatalf("send: %v, %v", res, err)
			}
			g.stop(t) // at once: much of it is still queued
			lines := readLines(t, g.events)
			if len(lines) != n {
				t.Fatalf("%d events written, %d sent", len(lines), n)
			}
			for i := 0; i < len(lines); i += 997 {
				schematest.Validate(t, []byte(lines[i]))
			}
		})
	}
}

// TestE2ESighupReopens: logrotate renames the file, SIGHUP makes the
// gateway write a new one.
func TestE2ESighupReopens(t *testing.T) {
	g := startGateway(t, "dgram", "")
	gen, _ := loadgen.New("suricata", loadgen.Options{Seed: 4})
	send := func(n int) {
		res, err := loadgen.Send(context.Background(), gen, loadgen.SendOptions{Socket: g.sock, Count: n})
		if err != nil || res.Sent != uint64(n) {
			t.Fatalf("send: %v, %v", res, err)
		}
	}
	send(100)
	waitLines(t, g.events, 100)
	rotated := g.events + ".1"
	if err := os.Rename(g.events, rotated); err != nil {
		t.Fatal(err)
	}
	g.cmd.Process.Signal(syscall.SIGHUP)
	// The reopen happens on the output's goroutine; give it the next batch.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(g.events); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no new events file after SIGHUP")
		}
		time.Sleep(20 * time.Millisecond)
	}
	send(50)
	waitLines(t, g.events, 50)
	g.stop(t)
	if n := len(readLines(t, rotated)); n != 100 {
		t.Errorf("rotated file has %d lines, want 100", n)
	}
	if n := len(readLines(t, g.events)); n != 50 {
		t.Errorf("new file has %d lines, want 50", n)
	}
}

// startDefaultGateway runs `alertgw run` without --config in a fresh
// directory, as `make run` does.
func startDefaultGateway(t *testing.T) *gateway {
	t.Helper()
	dir := shortDir(t)
	g := &gateway{dir: dir, sock: filepath.Join(dir, "run", "suricata.sock"), events: filepath.Join(dir, "data", "events.json"),
		log: filepath.Join(dir, "gateway.log")}
	g.cmd = exec.Command(gatewayBinary(t), "run")
	g.cmd.Dir = dir
	// Tests run side by side: no fixed admin port.
	g.cmd.Env = append(os.Environ(), "ALERTGW_ADMIN_LISTEN=127.0.0.1:0", "ALERTGW_CONSOLE_LISTEN=127.0.0.1:0")
	g.start(t, g.sock)
	return g
}

// TestE2EDefaultConfig: `alertgw run` without --config works from a fresh
// directory: ./run/suricata.sock in, ./data/events.json out.
func TestE2EDefaultConfig(t *testing.T) {
	g := startDefaultGateway(t)
	fi, err := os.Lstat(g.sock)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode: %v %v", fi.Mode(), err)
	}
	// The start log says what to paste into suricata.yaml: the socket's
	// absolute path (Suricata would resolve ./run/… against its log dir).
	abs, _ := filepath.Abs(g.sock)
	g.waitLog(t, "the start log does not print the absolute socket path "+abs+" to paste", "filename: "+abs+"}")
	recs := inputRecords(t)[:3]
	sendRecords(t, "dgram", g.sock, recs)
	lines := waitLines(t, g.events, 3)
	for _, l := range lines {
		schematest.Validate(t, []byte(l))
	}
	g.stop(t)
}
