package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The receivers.
const (
	peerCount   = "count"
	peerAlertgw = "alertgw"
	peerRsyslog = "rsyslog"
	peerBefore  = "before" // alertgw, an earlier build (-before)
)

// rate is a step's events/s; 0 is "max": a blocking sender as fast as it
// can go.
type rate int

func (r rate) String() string {
	if r == 0 {
		return "max"
	}
	return strconv.Itoa(int(r))
}

func parseRates(s string) ([]rate, error) {
	var out []rate
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "max" {
			out = append(out, 0)
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("rate %q: want events/s or max", f)
		}
		out = append(out, rate(n))
	}
	if len(out) == 0 {
		return nil, errors.New("no rates")
	}
	return out, nil
}

// record is one step's result (one line of ladder.jsonl).
type record struct {
	Peer      string  `json:"peer"`
	Rate      string  `json:"rate"`
	Rep       int     `json:"rep"`
	Requested int     `json:"requested"`
	Sent      int     `json:"sent"`              // accepted by the kernel
	Dropped   int     `json:"dropped_at_sender"` // EAGAIN: no room in the queue
	Delivered int     `json:"delivered"`         // counted or written by the receiver
	Lost      int     `json:"lost"`              // requested − delivered
	CPUs      float64 `json:"cpu_s"`             // the receiver's user + system time
	CPUPerEv  float64 `json:"cpu_us_per_event"`
	EPS       float64 `json:"events_per_s,omitempty"` // max steps: delivered per second end to end
	Load      string  `json:"load"`                   // 1-minute load average before the step
}

var sendOut = regexp.MustCompile(`sent=(\d+) dropped_at_sender=(\d+)`)

// step runs one receiver at one rate once.
func step(o *options, peer string, r rate, rep int) (record, error) {
	rec := record{Peer: peer, Rate: r.String(), Rep: rep, Load: loadavg()}
	d := filepath.Join(o.dir, peer)
	if err := os.RemoveAll(d); err != nil {
		return rec, err
	}
	if err := os.MkdirAll(filepath.Join(d, "work"), 0o755); err != nil {
		return rec, err
	}
	sock, out := filepath.Join(d, "eve.sock"), filepath.Join(d, "out.json")
	var cmd *exec.Cmd
	switch peer {
	case peerCount:
		cmd = exec.Command(o.countrecv, "-socket", sock, "-idle", o.settle.String())
	case peerAlertgw, peerBefore:
		cfg, tmpl := filepath.Join(d, "alertgw.yaml"), alertgwConfig
		if peer == peerBefore && o.beforeConfig != "" {
			tmpl = o.beforeConfig
		}
		if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(tmpl, "@DIR@", d)), 0o644); err != nil {
			return rec, err
		}
		args := []string{"run", "--config", cfg}
		if o.pprof {
			args = append(args, "--cpuprofile", filepath.Join(o.dir, fmt.Sprintf("%s-%s-%d.pprof", peer, r, rep)))
		}
		bin := o.alertgw
		if peer == peerBefore {
			bin = o.before
		}
		cmd = exec.Command(bin, args...)
	case peerRsyslog:
		cfg := filepath.Join(d, "rsyslog.conf")
		if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(rsyslogConfig, "@DIR@", d)), 0o644); err != nil {
			return rec, err
		}
		cmd = exec.Command(filepath.Join(o.rsyslogRoot, "usr/sbin/rsyslogd"), "-n", "-f", cfg, "-i", filepath.Join(d, "pid"),
			"-M", filepath.Join(o.rsyslogRoot, "usr/lib/x86_64-linux-gnu/rsyslog"))
	}
	logf, err := os.Create(filepath.Join(d, "daemon.log"))
	if err != nil {
		return rec, err
	}
	defer logf.Close()
	var stdout strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, logf
	if err := cmd.Start(); err != nil {
		return rec, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	exited := false
	defer func() {
		if !exited {
			stop(cmd, done, 5*time.Second)
		}
	}()
	if err := waitSocket(sock, done, logf.Name()); err != nil {
		exited = errors.Is(err, errExited)
		return rec, fmt.Errorf("%s: %w", peer, err)
	}
	time.Sleep(500 * time.Millisecond) // let it finish starting
	cpu0, err := procCPU(cmd.Process.Pid)
	if err != nil {
		return rec, err
	}

	n := int(float64(r) * o.seconds)
	args := []string{"send", "--socket", sock, "--pregenerate", "20000"}
	if r == 0 {
		n = o.blast
	} else {
		args = append(args, "--nonblock", "--rate", strconv.Itoa(int(r)))
	}
	args = append(args, "--count", strconv.Itoa(n))
	rec.Requested = n
	t0 := time.Now()
	sent, err := exec.Command(o.alertgw, args...).Output()
	if err != nil {
		return rec, fmt.Errorf("alertgw send: %w", err)
	}
	m := sendOut.FindSubmatch(sent)
	if m == nil {
		return rec, fmt.Errorf("alertgw send printed %q", sent)
	}
	rec.Sent, _ = strconv.Atoi(string(m[1]))
	rec.Dropped, _ = strconv.Atoi(string(m[2]))

	if peer == peerCount {
		// It exits once idle for -settle and reports its own figures.
		select {
		case err := <-done:
			exited = true
			if err != nil {
				return rec, fmt.Errorf("countrecv: %w", err)
			}
		case <-time.After(time.Minute):
			return rec, errors.New("countrecv did not stop")
		}
		var el, eps, rss float64
		_, err := fmt.Sscanf(stdout.String(), "received=%d bytes=%d elapsed=%fs datagrams_per_s=%f cpu_s=%f rss_mb=%f",
			&rec.Delivered, new(int), &el, &eps, &rec.CPUs, &rss)
		if err != nil {
			return rec, fmt.Errorf("countrecv printed %q: %w", stdout.String(), err)
		}
		if r == 0 {
			rec.EPS = eps
		}
	} else {
		lc := &lineCounter{path: out}
		last, lastChange := -1, time.Now()
		for {
			k := lc.count()
			if k != last {
				last, lastChange = k, time.Now()
			}
			if k >= rec.Sent || time.Since(lastChange) >= o.settle {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		cpu1, err := procCPU(cmd.Process.Pid)
		if err != nil {
			return rec, err
		}
		rec.CPUs = (cpu1 - cpu0).Seconds()
		rec.Delivered = last
		if r == 0 {
			rec.EPS = float64(last) / lastChange.Sub(t0).Seconds()
		}
		stop(cmd, done, 30*time.Second)
		exited = true
		rec.Delivered = lc.count() // what a drain at shutdown still wrote
		// Counted: the lines themselves are not needed, and a run leaves
		// up to a gigabyte per step (the record and daemon.log stay).
		if err := os.Remove(out); err != nil && !errors.Is(err, os.ErrNotExist) {
			return rec, err
		}
	}
	rec.Lost = rec.Requested - rec.Delivered
	if rec.Delivered > 0 {
		rec.CPUPerEv = round2(rec.CPUs / float64(rec.Delivered) * 1e6)
	}
	rec.CPUs = round2(rec.CPUs)
	rec.EPS = float64(int(rec.EPS))
	return rec, nil
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

var errExited = errors.New("exited")

// waitSocket waits for the receiver to bind its socket.
func waitSocket(sock string, done <-chan error, logName string) error {
	for range 200 {
		if exists(sock) {
			return nil
		}
		select {
		case err := <-done:
			return fmt.Errorf("%w before making its socket (%v): %s", errExited, err, tail(logName))
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("made no socket in 10 s: %s", tail(logName))
}

func tail(name string) string {
	b, _ := os.ReadFile(name)
	if len(b) > 400 {
		b = b[len(b)-400:]
	}
	return string(b)
}
