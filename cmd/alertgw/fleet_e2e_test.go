package main

// Fleet end to end: real gateways forwarding to a central one over mutual
// TLS on loopback (docs/fleet.md's guarantees, tested as written).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/pki"
)

// proc is one running gateway process.
type proc struct {
	name string
	cfg  string
	log  string
	cmd  *exec.Cmd
	done chan error
	// exited is closed once Wait has returned (after done got its value).
	exited chan struct{}
}

// startProc runs `alertgw run` on cfg; ready reports when it is serving.
func startProc(t *testing.T, dir, name, cfg string, ready func() bool) *proc {
	t.Helper()
	p := &proc{name: name, cfg: filepath.Join(dir, name+".yaml"), log: filepath.Join(dir, name+".log")}
	if err := os.WriteFile(p.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p.run(t, ready)
	t.Cleanup(func() {
		select { // never cmd.ProcessState: Wait writes it in its own goroutine
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("%s log (tail):\n%s", p.name, b)
		}
	})
	return p
}

func (p *proc) run(t *testing.T, ready func() bool) {
	t.Helper()
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(gatewayBinary(t), "run", "--config", p.cfg)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	p.done, p.exited = make(chan error, 1), make(chan struct{})
	cmd, done, exited := p.cmd, p.done, p.exited
	go func() { done <- cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for !ready() {
		select {
		case err := <-p.done:
			b, _ := os.ReadFile(p.log)
			t.Fatalf("%s exited at start-up: %v\n%s", p.name, err, b)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within 15s", p.name)
		}
	}
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			b, _ := os.ReadFile(p.log)
			t.Errorf("%s exited with %v\n%s", p.name, err, b)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30s", p.name)
	}
}

func listening(addr string) func() bool {
	return func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
}

func socketExists(path string) func() bool {
	return func() bool {
		fi, err := os.Lstat(path)
		return err == nil && fi.Mode()&os.ModeSocket != 0
	}
}

// eveAlert is one EVE alert whose flow_id marks the sensor and sequence.
func eveAlert(sensor, seq int) []byte {
	return fmt.Appendf(nil, `{"timestamp":"2026-03-04T05:06:07.%06d+0000","flow_id":%d,"event_type":"alert","src_ip":"10.%d.%d.%d","src_port":%d,"dest_ip":"192.0.2.1","dest_port":443,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2010935,"rev":3,"signature":"ET POLICY fleet test","category":"Misc activity","severity":3}}`+"\n",
		seq%1000000, marker(sensor, seq), sensor, seq/250%250, seq%250+1, 1024+seq%60000)
}

// marker is never 0: EVE's flow_id 0 means "no flow".
func marker(sensor, seq int) int { return sensor*10_000_000 + seq + 1 }

// centralEvent is what the test reads back of each event.
type centralEvent struct {
	ID     string `json:"id"`
	FlowID int    `json:"flow_id"`
	Source struct {
		Sensor string `json:"sensor"`
	} `json:"source"`
}

// readEvents reads a native JSON lines file: the events by flow id (each
// line kept, duplicates included) and the number of lines.
func readEvents(t *testing.T, path string) (map[int][]string, int) {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return map[int][]string{}, 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int][]string{}
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var e centralEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			continue // a torn last line while the file is being written
		}
		out[e.FlowID] = append(out[e.FlowID], line)
		n++
	}
	return out, n
}

var metricLine = regexp.MustCompile(`(?m)^(alertgw_[a-z_]+)\{([^}]*)\} ([0-9.e+]+)$`)

// metric sums the samples of name whose labels contain every part.
func metric(t *testing.T, addr, name string, parts ...string) float64 {
	t.Helper()
	code, body := httpGet(t, "http://"+addr+"/metrics")
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	var sum float64
	for _, m := range metricLine.FindAllStringSubmatch(body, -1) {
		if m[1] != name {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(m[2], p)
		}
		if ok {
			v, _ := strconv.ParseFloat(m[3], 64)
			sum += v
		}
	}
	return sum
}

// TestE2EFleet: three sensor gateways forward to one central gateway over
// mutual TLS on loopback while the central is SIGKILLed and restarted in the
// middle of the stream. Every event arrives at every central output, with
// the sensor's identity from its certificate; what arrives twice is the same
// event (same id, same bytes), no more than the batches in flight at the
// kill. A sensor with a certificate from another CA is refused and counted.
func TestE2EFleet(t *testing.T) {
	dir := shortDir(t)
	pkiDir := filepath.Join(dir, "pki")
	if _, err := pki.WriteLab(pkiDir, "central", []string{"127.0.0.1"}, "sensor-0", "sensor-1", "sensor-2"); err != nil {
		t.Fatal(err)
	}
	rogueDir := filepath.Join(dir, "rogue-pki")
	if _, err := pki.WriteLab(rogueDir, "x", nil, "sensor-0"); err != nil {
		t.Fatal(err)
	}
	fwdAddr, adminAddr := freePort(t), freePort(t)
	all, alerts := filepath.Join(dir, "central", "all.json"), filepath.Join(dir, "central", "alerts.json")
	// Two outputs: one memory-buffered, one disk-buffered. The receiver
	// answers a batch once both have it (the file output reports lines
	// written once the kernel has them).
	central := startProc(t, dir, "central", fmt.Sprintf(`sensor: central
log: {level: info, format: json}
admin: {listen: "%s"}
dead_letter: {path: %s/central/dead.json}
inputs:
  - name: fleet
    type: forward
    listen: %s
    tls: {cert_file: %s/central.pem, key_file: %s/central.key, client_ca_file: %s/ca.pem}
outputs:
  - {name: all, type: file, path: %s}
  - name: alerts
    type: file
    path: %s
    buffer: {type: disk, path: %s/central/buf-alerts, sync: never}
`, adminAddr, dir, fwdAddr, pkiDir, pkiDir, pkiDir, all, alerts, dir), listening(fwdAddr))

	const sensors, perSensor, requestEvents, parallel = 3, 4000, 200, 2
	socks := make([]string, sensors+1)
	var senders []*proc
	rogueAdmin := freePort(t)
	for i := 0; i <= sensors; i++ {
		name, certDir, admin := fmt.Sprintf("sensor-%d", i), pkiDir, ""
		if i == sensors { // the rogue: a certificate named sensor-0 from another CA
			name, certDir, admin = "rogue", rogueDir, rogueAdmin
		}
		cert := fmt.Sprintf("sensor-%d", i%sensors)
		socks[i] = filepath.Join(dir, name+".sock")
		senders = append(senders, startProc(t, dir, name, fmt.Sprintf(`sensor: %s
log: {level: info, format: json}
admin: {listen: "%s"}
pipeline: {journal: {path: %s/%s-journal}}
dead_letter: {path: %s/%s-dead.json}
inputs:
  - {name: eve, type: suricata, socket: %s, socket_type: stream}
outputs:
  - name: central
    type: forward
    urls: [https://%s]
    tls: {ca_file: %s/ca.pem, cert_file: %s/%s.pem, key_file: %s/%s.key}
    request_events: %d
    parallel: %d
    timeout: 10s
    buffer: {type: disk, path: %s/%s-buf, sync: never}
    batch: {max_events: 1000}
    retry: {initial: 50ms, max: 500ms}
`, name, admin, dir, name, dir, name, socks[i], fwdAddr, pkiDir, certDir, cert, certDir, cert, requestEvents, parallel, dir, name), socketExists(socks[i])))
	}

	// Each sensor's Suricata writes its alerts; the central dies while
	// they flow and comes back.
	var wg sync.WaitGroup
	sent := make([]chan int, sensors+1)
	for i := 0; i <= sensors; i++ {
		sent[i] = make(chan int, perSensor)
		wg.Go(func() {
			c, err := net.Dial("unix", socks[i])
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			w := bufio.NewWriter(c)
			n := perSensor
			if i == sensors {
				n = 100
			}
			for seq := range n {
				w.Write(eveAlert(i, seq))
				if seq%100 == 99 {
					w.Flush()
					sent[i] <- seq
					time.Sleep(15 * time.Millisecond) // ~6,000 events/s per sensor: the stream lasts ~0.7 s
				}
			}
			w.Flush()
		})
	}
	for s := range sent[0] {
		if s >= perSensor/3 {
			break
		}
	}
	t0 := time.Now()
	central.kill(t)
	time.Sleep(300 * time.Millisecond) // the sensors fail, retry and buffer on disk
	central.run(t, listening(fwdAddr))
	t.Logf("central killed and restarted in %s", time.Since(t0).Round(time.Millisecond))
	wg.Wait()
	t.Logf("sensors sent everything %s after the kill", time.Since(t0).Round(time.Millisecond))

	// Every event of the three sensors arrives at both outputs.
	deadline := time.Now().Add(45 * time.Second)
	var allEv, alertEv map[int][]string
	var nAll, nAlerts int
	for {
		allEv, nAll = readEvents(t, all)
		alertEv, nAlerts = readEvents(t, alerts)
		if len(allEv) >= sensors*perSensor && len(alertEv) >= sensors*perSensor || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("central had everything %s after the kill", time.Since(t0).Round(time.Millisecond))
	for _, out := range []struct {
		name  string
		byID  map[int][]string
		lines int
	}{{"all", allEv, nAll}, {"alerts", alertEv, nAlerts}} {
		missing, dups := 0, 0
		for s := range sensors {
			for seq := range perSensor {
				copies := out.byID[marker(s, seq)]
				if len(copies) == 0 {
					missing++
					continue
				}
				var first centralEvent
				json.Unmarshal([]byte(copies[0]), &first)
				if first.Source.Sensor != fmt.Sprintf("sensor-%d", s) {
					t.Fatalf("%s: event of sensor-%d recorded as %q", out.name, s, first.Source.Sensor)
				}
				for _, c := range copies[1:] {
					// Only the sensor's own redelivery: the same event, id and all.
					if c != copies[0] {
						t.Fatalf("%s: two different events for one record:\n%s\n%s", out.name, copies[0], c)
					}
					dups++
				}
			}
		}
		// docs/fleet.md: what arrives twice is at most the batches in
		// flight when the receiver died (parallel requests of
		// request_events per sensor), plus, for a disk-buffered output,
		// one output batch written but not yet marked done.
		bound := sensors*parallel*requestEvents + 1000
		t.Logf("%s: %d lines, %d events, %d missing, %d duplicates (bound %d)", out.name, out.lines, len(out.byID), missing, dups, bound)
		if missing > 0 {
			t.Errorf("%s: %d events lost", out.name, missing)
		}
		if dups > bound {
			t.Errorf("%s: %d duplicates, more than the documented bound %d", out.name, dups, bound)
		}
		for s := range out.byID {
			if s/10_000_000 == sensors {
				t.Errorf("%s: an event of the rogue sensor arrived", out.name)
				break
			}
		}
	}

	// The rogue's certificate is refused and counted; its events wait in
	// its own buffer.
	if n := metric(t, adminAddr, "alertgw_input_forward_refused_total", `reason="unknown_authority"`); n < 1 {
		t.Errorf("refused unknown_authority = %v, want ≥ 1", n)
	}
	if n := metric(t, rogueAdmin, "alertgw_output_queued_events"); n != 100 {
		t.Errorf("the refused sensor holds %v events, want its 100", n)
	}
	for _, p := range senders[:sensors] {
		p.stop(t)
	}
	central.stop(t)
	t.Logf("stopped %s after the kill", time.Since(t0).Round(time.Millisecond))
	if os.Getenv("FLEET_KEEP") != "" {
		exec.Command("cp", "-r", dir, os.Getenv("FLEET_KEEP")).Run()
	}
}
