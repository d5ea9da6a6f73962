// Command auditd measures the CPU the auditd input costs the gateway under
// a real auditd: it starts a private auditd (af_unix plugin on a temporary
// socket), audits execve for one login uid only, runs a paced loop of
// execve calls in a separate process under that login uid, and reads the
// events with the auditd input, encoding each in the native format as an
// output would. It reports events/s and its own CPU (user+system) as a
// share of one core, with auditd's for comparison.
//
// Run as root: go run ./bench/auditd -rate 1000 -duration 10s
// (bench/auditd-cpu.sh does that). It removes its rule and stops its
// auditd by PID on exit, and restores the kernel's audit "enabled" flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/auditd"
	"github.com/alertgw/alertgw/internal/cputime"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

func main() {
	rate := flag.Int("rate", 1000, "execve calls per second")
	dur := flag.Duration("duration", 10*time.Second, "how long the loop runs (at most 5m)")
	format := flag.String("format", "string", "af_unix format: string or binary")
	batchDelay := flag.Duration("batch-delay", 25*time.Millisecond, "the input's batch_delay")
	loop := flag.Bool("loop", false, "internal: be the execve loop")
	prof := flag.String("cpuprofile", "", "write the gateway side's CPU profile here")
	flag.Parse()
	if *prof != "" && !*loop {
		f, err := os.Create(*prof)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if *loop {
		os.Exit(execLoop(*rate, *dur))
	}
	if err := run(*rate, min(*dur, 5*time.Minute), *format, *batchDelay); err != nil {
		fmt.Fprintln(os.Stderr, "bench/auditd:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// execLoop runs /bin/true rate times a second for d, paced, one at a time
// or a few in flight. It is its own process, so its cost is not counted.
func execLoop(rate int, d time.Duration) int {
	interval := time.Second / time.Duration(rate)
	end := time.Now().Add(d)
	next := time.Now()
	n := 0
	sem := make(chan struct{}, 8)
	for time.Now().Before(end) {
		sem <- struct{}{}
		go func() {
			_ = exec.Command("/bin/true").Run()
			<-sem
		}()
		n++
		next = next.Add(interval)
		if w := time.Until(next); w > 0 {
			time.Sleep(w)
		}
	}
	for range cap(sem) {
		sem <- struct{}{}
	}
	fmt.Fprintf(os.Stderr, "loop: %d execve in %s\n", n, d)
	return 0
}

type counter struct {
	events atomic.Uint64
	failed atomic.Uint64
	buf    []byte
}

func (c *counter) Messages(*inputs.Batch) {}
func (c *counter) Events(evs []*normalize.Event, done func()) {
	for _, ev := range evs {
		c.buf = format.Native{}.AppendEvent(c.buf[:0], ev)
		c.buf = append(c.buf, '\n')
	}
	c.events.Add(uint64(len(evs)))
	if done != nil {
		done()
	}
}
func (c *counter) Failed([]byte, string, error) { c.failed.Add(1) }

func cpu(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func auditctl(args ...string) (string, error) {
	out, err := exec.Command("auditctl", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("auditctl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func run(rate int, dur time.Duration, fmtName string, batchDelay time.Duration) (err error) {
	if os.Geteuid() != 0 {
		return errors.New("needs root (starts auditd, adds an audit rule)")
	}
	status, err := auditctl("-s")
	if err != nil {
		return err
	}
	enabled := "0"
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, "pid "); ok && strings.TrimSpace(v) != "0" {
			return fmt.Errorf("an audit daemon (pid %s) already runs; not taking over", strings.TrimSpace(v))
		}
		if v, ok := strings.CutPrefix(l, "enabled "); ok {
			enabled = strings.TrimSpace(v)
		}
	}
	defer func() { _, _ = auditctl("-e", enabled) }()

	dir, err := os.MkdirTemp("", "alertgw-bench-auditd")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "audispd_events")
	plugins := filepath.Join(dir, "plugins.d")
	if err := os.Mkdir(plugins, 0o700); err != nil {
		return err
	}
	conf := fmt.Sprintf("local_events = yes\nwrite_logs = no\nlog_file = %s/audit.log\nlog_format = ENRICHED\nflush = NONE\nfreq = 0\n"+
		"max_log_file = 8\nnum_logs = 2\nmax_log_file_action = IGNORE\nspace_left = 2\nspace_left_action = IGNORE\n"+
		"admin_space_left = 1\nadmin_space_left_action = IGNORE\ndisk_full_action = IGNORE\ndisk_error_action = IGNORE\n"+
		"name_format = NONE\nq_depth = 20000\noverflow_action = SYSLOG\nplugin_dir = %s\nend_of_event_timeout = 2\n", dir, plugins)
	if err := os.WriteFile(filepath.Join(dir, "auditd.conf"), []byte(conf), 0o600); err != nil {
		return err
	}
	plugin := fmt.Sprintf("active = yes\ndirection = out\npath = builtin_af_unix\ntype = builtin\nargs = 0600 %s\nformat = %s\n", sock, fmtName)
	if err := os.WriteFile(filepath.Join(plugins, "af_unix.conf"), []byte(plugin), 0o600); err != nil {
		return err
	}
	ad := exec.Command("auditd", "-f", "-c", dir)
	if err := ad.Start(); err != nil {
		return fmt.Errorf("start auditd: %w", err)
	}
	defer func() {
		_ = ad.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = ad.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = ad.Process.Kill()
			<-done
		}
	}()
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i > 200 {
			return errors.New("auditd did not create its socket")
		}
		time.Sleep(50 * time.Millisecond)
	}

	auid := 800000 + os.Getpid()%100000
	rule := []string{"always,exit", "-F", "arch=b64", "-S", "execve", "-F", fmt.Sprintf("auid=%d", auid), "-k", "alertgw-bench"}
	if _, err := auditctl(append([]string{"-a"}, rule...)...); err != nil {
		return err
	}
	defer func() { _, _ = auditctl(append([]string{"-d"}, rule...)...) }()

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	st := &stats.Input{Name: "bench", Type: "auditd"}
	opts := auditd.Plugin.Options().(*auditd.Options)
	opts.Socket, opts.Format, opts.BatchDelay = sock, fmtName, batchDelay
	opts.Labels = []auditd.LabelRule{{Label: "bench", Keys: []string{"alertgw-bench"}}}
	in, err := auditd.New(inputs.Env{Name: "bench", Sensor: "bench", Log: zerolog.New(os.Stderr).Level(zerolog.WarnLevel), Stats: st}, opts)
	if err != nil {
		return err
	}
	c := &counter{}
	inDone := make(chan error, 1)
	inCtx, stopIn := context.WithCancel(ctx)
	go func() { inDone <- in.Run(inCtx, c) }()
	time.Sleep(300 * time.Millisecond)

	self, _ := os.Executable()
	lp := exec.CommandContext(ctx, "/bin/sh", "-c", fmt.Sprintf(`echo %d > /proc/self/loginuid && exec "$0" -loop -rate %d -duration %s`, auid, rate, dur), self)
	lp.Stderr = os.Stderr
	cpu0, ad0, t0 := cputime.Process(), cpu(ad.Process.Pid), time.Now()
	if err := lp.Run(); err != nil {
		stopIn()
		if inErr := <-inDone; inErr != nil {
			err = errors.Join(err, fmt.Errorf("input: %w", inErr))
		}
		return fmt.Errorf("execve loop: %w", err)
	}
	// Let the last events through (EOE or the 2 s timeout).
	time.Sleep(500 * time.Millisecond)
	wall := time.Since(t0)
	used, adUsed := cputime.Process()-cpu0, cpu(ad.Process.Pid)-ad0
	stopIn()
	if err := <-inDone; err != nil {
		return err
	}
	n := c.events.Load()
	fmt.Printf("auditd bench: format=%s rate=%d/s duration=%s batch_delay=%s\n", fmtName, rate, dur, batchDelay)
	fmt.Printf("  events: %d (%.0f/s), failed %d, sequence gaps %d\n", n, float64(n)/wall.Seconds(), c.failed.Load(), st.Dropped.Get(auditd.DropSequenceGap))
	fmt.Printf("  gateway (auditd input + native encode): %.2f%% of one core (%s CPU in %s), %.1f us CPU/event\n",
		100*used.Seconds()/wall.Seconds(), used.Round(time.Millisecond), wall.Round(time.Millisecond), float64(used.Microseconds())/float64(max(n, 1)))
	fmt.Printf("  auditd (for comparison): %.2f%% of one core\n", 100*adUsed.Seconds()/wall.Seconds())
	return nil
}
