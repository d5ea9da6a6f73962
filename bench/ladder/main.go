// Command ladder is the live-sensor ladder (`make bench-ladder`, issue 18):
// what a Suricata in live mode sees of a receiver. A paced non-blocking
// sender (`alertgw send --nonblock --rate`: MSG_DONTWAIT, a record the
// socket has no room for is lost, as Suricata drops it) sends EVE records
// into a unix datagram socket created with net.unix.max_dgram_qlen=QLEN in a
// private network namespace. Three receivers take turns, interleaved rate →
// repetition → receiver so that machine noise hits each alike:
//
//   - count: bench/countrecv, a count-only recvmmsg loop (the physical limit);
//   - alertgw: the gateway, suricata dgram input → file output;
//   - rsyslog: Debian's rsyslog (imuxsock → mmjsonparse → omfile), unpacked
//     privately under the work directory (never installed as a service).
//
// Per step it records the events lost (requested − delivered: dropped at the
// sender or inside the receiver) and the receiver's CPU time per delivered
// event, then prints the medians per receiver and rate with the ratios
// alertgw/count. The rate "max" is a blocking sender as fast as it can go:
// the throughput end to end, nothing lost.
//
// usage (root, for the namespace):
//
//	ladder -alertgw bin/alertgw -countrecv bin/countrecv [-rates 20000,50000,100000] [-reps 3] [-before OLD-ALERTGW]
//
// As root it re-executes itself in a new network namespace (unshare --net)
// and sets max_dgram_qlen there; the host's value is left alone.
package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

//go:embed alertgw.yaml.in
var alertgwConfig string

//go:embed rsyslog.conf.in
var rsyslogConfig string

// netnsEnv marks the re-executed process inside its own namespace.
const netnsEnv = "AGW_LADDER_NETNS" // not ALERTGW_*: the gateway reads those as configuration

type options struct {
	alertgw, countrecv string
	before             string // another alertgw binary, receiver "before"
	beforeConfig       string // receiver "before"'s config template (@DIR@ is its directory)
	rates              []rate
	reps               int
	seconds            float64
	qlen               int
	peers              []string
	dir                string
	rsyslogRoot        string
	blast              int
	pprof              bool
	settle             time.Duration
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "ladder:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "ladder:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("ladder", flag.ContinueOnError)
	o := &options{}
	var rates, peers string
	fs.StringVar(&o.alertgw, "alertgw", "bin/alertgw", "the alertgw binary (receiver and sender)")
	fs.StringVar(&o.before, "before", "", "another alertgw binary (an earlier build) to run as receiver \"before\", for a before/after table in one run")
	fs.StringVar(&o.beforeConfig, "before-config", "", "a config template for receiver \"before\" (@DIR@: its run directory; default: bench/ladder/alertgw.yaml.in), to compare two configurations of one build in one run")
	fs.StringVar(&o.countrecv, "countrecv", "bin/countrecv", "the count-only receiver (go build ./bench/countrecv)")
	fs.StringVar(&rates, "rates", "20000,50000,100000", "events/s per step, comma-separated; max: a blocking sender as fast as it goes")
	fs.IntVar(&o.reps, "reps", 3, "repetitions of every rate and receiver")
	fs.Float64Var(&o.seconds, "seconds", 10, "seconds per step")
	fs.IntVar(&o.qlen, "qlen", 1024, "net.unix.max_dgram_qlen in the private namespace (0: leave it)")
	fs.StringVar(&peers, "peers", "count,alertgw,rsyslog", "receivers, in the order they take turns")
	fs.StringVar(&o.dir, "dir", "/tmp/alertgw-ladder", "work directory (results: ladder.jsonl, ladder.md)")
	fs.StringVar(&o.rsyslogRoot, "rsyslog-root", "", "where Debian's rsyslog package is unpacked (default DIR/rsyslog-root)")
	fs.IntVar(&o.blast, "blast", 1_000_000, "events of a max step")
	fs.BoolVar(&o.pprof, "pprof", false, "write a CPU profile of every alertgw step to DIR/alertgw-RATE-REP.pprof")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "a receiver whose output stopped growing this long is done")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if o.rates, err = parseRates(rates); err != nil {
		return nil, err
	}
	for p := range strings.SplitSeq(peers, ",") {
		switch p = strings.TrimSpace(p); p {
		case peerCount, peerAlertgw, peerRsyslog, peerBefore:
			o.peers = append(o.peers, p)
		case "":
		default:
			return nil, fmt.Errorf("unknown receiver %q (count, alertgw, rsyslog, before)", p)
		}
	}
	if o.before != "" && !slices.Contains(o.peers, peerBefore) {
		o.peers = append(o.peers, peerBefore)
	}
	if slices.Contains(o.peers, peerBefore) && o.before == "" {
		return nil, errors.New("receiver before needs -before BINARY")
	}
	if len(o.peers) == 0 || o.reps < 1 || o.seconds <= 0 {
		return nil, errors.New("need at least one receiver, one repetition and a positive -seconds")
	}
	if o.beforeConfig != "" {
		b, err := os.ReadFile(o.beforeConfig)
		if err != nil {
			return nil, fmt.Errorf("-before-config: %w", err)
		}
		o.beforeConfig = string(b)
	}
	if o.rsyslogRoot == "" {
		o.rsyslogRoot = filepath.Join(o.dir, "rsyslog-root")
	}
	return o, nil
}

func run(o *options) error {
	if os.Getuid() == 0 && os.Getenv(netnsEnv) == "" && o.qlen > 0 {
		// Prepare outside the namespace (apt needs the network), then
		// run the steps inside it.
		if err := prepare(o); err != nil {
			return err
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		cmd := exec.Command("unshare", append([]string{"--net", "--", self}, os.Args[1:]...)...)
		cmd.Env = append(os.Environ(), netnsEnv+"=1")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		return cmd.Run()
	}
	qlen := "host's"
	if os.Getenv(netnsEnv) != "" {
		if err := os.WriteFile("/proc/sys/net/unix/max_dgram_qlen", []byte(strconv.Itoa(o.qlen)), 0); err != nil {
			return fmt.Errorf("set max_dgram_qlen: %w", err)
		}
		qlen = strconv.Itoa(o.qlen)
	} else {
		if err := prepare(o); err != nil {
			return err
		}
		if b, err := os.ReadFile("/proc/sys/net/unix/max_dgram_qlen"); err == nil {
			qlen = strings.TrimSpace(string(b)) + " (host's: not root, no private namespace)"
		}
	}
	bins := []string{o.alertgw, o.countrecv}
	if o.before != "" {
		bins = append(bins, o.before)
	}
	for _, bin := range bins {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%w (make build; go build -o bin/countrecv ./bench/countrecv)", err)
		}
	}
	var err error
	if o.alertgw, err = filepath.Abs(o.alertgw); err != nil {
		return err
	}
	if o.countrecv, err = filepath.Abs(o.countrecv); err != nil {
		return err
	}
	if o.before != "" {
		if o.before, err = filepath.Abs(o.before); err != nil {
			return err
		}
	}
	results, err := os.Create(filepath.Join(o.dir, "ladder.jsonl"))
	if err != nil {
		return err
	}
	defer results.Close()
	fmt.Fprintf(os.Stderr, "ladder: %d CPUs, load %s, max_dgram_qlen %s, %g s per step, %d reps, receivers %s\n",
		cpus(), loadavg(), qlen, o.seconds, o.reps, strings.Join(o.peers, " "))
	var recs []record
	for _, r := range o.rates {
		for rep := range o.reps {
			for _, peer := range o.peers {
				rec, err := step(o, peer, r, rep)
				if err != nil {
					return fmt.Errorf("%s at %s, rep %d: %w", peer, r, rep, err)
				}
				line, _ := json.Marshal(rec)
				fmt.Println(string(line))
				if _, err := results.Write(append(line, '\n')); err != nil {
					return fmt.Errorf("results: %w", err)
				}
				recs = append(recs, rec)
			}
		}
	}
	table := summary(recs, o.peers, o.rates)
	head := fmt.Sprintf("\nmax_dgram_qlen %s, %g s per step, %d reps, load %s at the end; lost = requested − delivered (median, max); CPU µs per delivered event (median); max: events/s end to end (median)\n",
		qlen, o.seconds, o.reps, loadavg())
	fmt.Print(head + table)
	return os.WriteFile(filepath.Join(o.dir, "ladder.md"), []byte(head+table), 0o644)
}

// prepare makes the work directory and unpacks rsyslog when it is a
// receiver: its libraries are ordinary Debian packages (installed when
// missing); rsyslog itself is only unpacked, never installed or started as
// a service.
func prepare(o *options) error {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	need := false
	for _, p := range o.peers {
		need = need || p == peerRsyslog
	}
	if !need || exists(filepath.Join(o.rsyslogRoot, "usr/sbin/rsyslogd")) {
		return nil
	}
	if os.Getuid() != 0 {
		return fmt.Errorf("rsyslog is not unpacked in %s and unpacking it needs root (or leave it out: -peers count,alertgw)", o.rsyslogRoot)
	}
	fmt.Fprintln(os.Stderr, "ladder: unpacking Debian's rsyslog into", o.rsyslogRoot)
	libs := []string{"libestr0", "libfastjson4", "liblognorm5"}
	if exec.Command("dpkg", append([]string{"-s"}, libs...)...).Run() != nil {
		if err := sh("", "apt-get", "update", "-qq"); err != nil {
			return err
		}
		if err := sh("", "apt-get", append([]string{"install", "-y", "-qq", "--no-install-recommends"}, libs...)...); err != nil {
			return err
		}
	}
	pkgs := filepath.Join(o.dir, "pkgs")
	_ = os.RemoveAll(pkgs)
	if err := os.MkdirAll(pkgs, 0o755); err != nil {
		return err
	}
	if err := sh(pkgs, "apt-get", "download", "-qq", "rsyslog"); err != nil {
		return err
	}
	debs, _ := filepath.Glob(filepath.Join(pkgs, "rsyslog_*.deb"))
	if len(debs) == 0 {
		return errors.New("apt-get download rsyslog left no package")
	}
	return sh("", "dpkg-deb", "-x", debs[0], o.rsyslogRoot)
}

func sh(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func cpus() int {
	n := 0
	b, _ := os.ReadFile("/proc/cpuinfo")
	for l := range strings.Lines(string(b)) {
		if strings.HasPrefix(l, "processor") {
			n++
		}
	}
	return n
}

// loadavg is the 1-minute load average.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// procCPU is a live process's user + system CPU time.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields start after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// clockTicks is sysconf(_SC_CLK_TCK): 100 on every Linux this runs on.
const clockTicks = 100

// lineCounter counts the lines of a growing file, reading only what is new.
type lineCounter struct {
	path  string
	off   int64
	lines int
	buf   []byte
}

func (c *lineCounter) count() int {
	f, err := os.Open(c.path)
	if err != nil {
		return c.lines
	}
	defer f.Close()
	if c.buf == nil {
		c.buf = make([]byte, 1<<20)
	}
	for {
		n, err := f.ReadAt(c.buf, c.off)
		for _, b := range c.buf[:n] {
			if b == '\n' {
				c.lines++
			}
		}
		c.off += int64(n)
		if err != nil || n == 0 {
			if !errors.Is(err, io.EOF) && err != nil {
				fmt.Fprintln(os.Stderr, "ladder: read", c.path, err)
			}
			return c.lines
		}
	}
}

// stop sends SIGTERM to the process and waits up to d for it to exit (the
// gateway drains first), then kills it. A receiver that failed to exit
// cleanly is reported: its figures are suspect.
func stop(cmd *exec.Cmd, done <-chan error, d time.Duration) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			fmt.Fprintf(os.Stderr, "ladder: %s exited after SIGTERM: %v\n", cmd.Path, err)
		}
	case <-time.After(d):
		_ = cmd.Process.Kill()
		err := <-done
		fmt.Fprintf(os.Stderr, "ladder: %s killed, still running %s after SIGTERM (%v)\n", cmd.Path, d, err)
	}
}
