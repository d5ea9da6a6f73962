// Command fleet measures forwarding between gateways and the Kafka input
// with real `alertgw run` processes on loopback (docs/performance/fleet.md):
//
//	go run ./bench/fleet -scenarios forward,kafka,tls -count 1000000
//
// forward   a sensor gateway holding COUNT events in its buffer (central
//
//	down) drains them to a central gateway over mutual TLS with
//	zstd (forward output → forward input → file output); events/s
//	and CPU µs per event of each process.
//
// live      a sensor gateway fed by `alertgw send` (Suricata EVE over a
//
//	stream socket) forwards to the central while it reads: the
//	end-to-end rate, EVE normalization on the sensor included.
//
// kafka     COUNT native events produced into kfake (franz-go's in-process
//
//	Kafka, run by this program), then a central gateway's kafka
//	input drains them into a file output.
//
// tls       the physical limit beside them: the same compressed bytes sent
//
//	over one mutual TLS connection on loopback, nothing decoded.
//
// The machine's load (uptime) is printed with every figure.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/alertgw/alertgw/internal/eventcodec"
	"github.com/alertgw/alertgw/internal/forwardwire"
	"github.com/alertgw/alertgw/internal/loadgen"
	"github.com/alertgw/alertgw/internal/pki"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/eve"
	"github.com/alertgw/alertgw/normalize/native"
	"github.com/alertgw/alertgw/outputs/format"
)

var (
	bin       = flag.String("bin", "bin/alertgw", "the gateway binary")
	count     = flag.Int("count", 500_000, "events per scenario")
	scenarios = flag.String("scenarios", "forward,live,kafka,tls", "comma-separated scenarios")
	buffer    = flag.String("sensor-buffer", "memory", "the sensor's forward output buffer: memory (spilling to disk) or disk")
	batch     = flag.Int("batch", 10000, "the sensor's forward output batch.max_events")
	request   = flag.Int("request-events", 2500, "forward request_events")
	parallel  = flag.Int("parallel", 4, "forward parallel")
	comp      = flag.String("compression", "s2", "forward compression (s2, zstd, gzip, none)")
	keep      = flag.Bool("keep", false, "keep the work directory")
	pprof     = flag.Bool("pprof", false, "write CPU profiles of the gateways to the work directory")
)

func main() {
	flag.Parse()
	dir, err := os.MkdirTemp("", "agwfleet")
	check(err)
	if *keep || *pprof {
		fmt.Fprintln(os.Stderr, "work directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	_, err = pki.WriteLab(filepath.Join(dir, "pki"), "central", []string{"127.0.0.1"}, "sensor-1")
	check(err)
	for _, s := range strings.Split(*scenarios, ",") {
		sdir := filepath.Join(dir, s)
		check(os.MkdirAll(sdir, 0o750))
		switch s {
		case "forward":
			forward(dir, sdir, false)
		case "live":
			forward(dir, sdir, true)
		case "kafka":
			kafka(sdir)
		case "tls":
			tlsLimit(dir)
		default:
			fmt.Fprintln(os.Stderr, "unknown scenario", s)
			os.Exit(2)
		}
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func load() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// gateway is a running `alertgw run`.
type gateway struct {
	cmd   *exec.Cmd
	admin string
}

func start(dir, name, cfg string) *gateway {
	admin := freePort()
	cfg = strings.ReplaceAll(cfg, "ADMIN", admin)
	path := filepath.Join(dir, name+".yaml")
	check(os.WriteFile(path, []byte(cfg), 0o600))
	args := []string{"run", "--config", path}
	if *pprof {
		args = append(args, "--cpuprofile", filepath.Join(dir, name+".pprof"))
	}
	cmd := exec.Command(*bin, args...)
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	check(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	check(cmd.Start())
	g := &gateway{cmd: cmd, admin: admin}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get("http://" + admin + "/healthz"); err == nil {
			resp.Body.Close()
			return g
		}
		if time.Now().After(deadline) {
			check(fmt.Errorf("%s did not start (see %s.log)", name, filepath.Join(dir, name)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the gateway with SIGINT, or SIGKILL after 30 s. Its exit
// status is not the benchmark's business (a killed process has none).
func (g *gateway) stop() {
	_ = g.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = g.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = g.cmd.Process.Kill()
		<-done
	}
}

var sample = regexp.MustCompile(`(?m)^(alertgw_[a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$`)

// metric sums the samples of name in the gateway's /metrics.
func (g *gateway) metric(name string) float64 {
	resp, err := http.Get("http://" + g.admin + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, m := range sample.FindAllStringSubmatch(string(b), -1) {
		if m[1] == name {
			v, _ := strconv.ParseFloat(m[3], 64)
			sum += v
		}
	}
	return sum
}

// cpu is the process's user+system CPU time.
func (g *gateway) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", g.cmd.Process.Pid))
	check(err)
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer ln.Close()
	return ln.Addr().String()
}

func waitFor(what string, timeout time.Duration, cond func() bool) {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			check(fmt.Errorf("timed out waiting for %s", what))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func centralConfig(root, sdir, fwd string) string {
	return fmt.Sprintf(`sensor: central
log: {level: warn, format: json}
admin: {listen: "ADMIN"}
dead_letter: {path: %[2]s/central-dead.json}
inputs:
  - name: fleet
    type: forward
    listen: %[3]s
    tls: {cert_file: %[1]s/pki/central.pem, key_file: %[1]s/pki/central.key, client_ca_file: %[1]s/pki/ca.pem}
outputs:
  - {name: events, type: file, path: %[2]s/central-events.json, fsync: never}
`, root, sdir, fwd)
}

// forward runs the forward (drain) or live scenario.
func forward(root, sdir string, live bool) {
	fwd := freePort()
	sock := filepath.Join(sdir, "sensor.sock")
	buf := fmt.Sprintf("{type: memory, max_events: 100000, path: %s/sensor-buf, max_bytes: 8GiB}", sdir)
	if *buffer == "disk" {
		buf = fmt.Sprintf("{type: disk, path: %s/sensor-buf, max_bytes: 8GiB}", sdir)
	}
	sensorCfg := fmt.Sprintf(`sensor: sensor-1
log: {level: warn, format: json}
admin: {listen: "ADMIN"}
pipeline: {journal: {path: %[2]s/sensor-journal}}
dead_letter: {path: %[2]s/sensor-dead.json}
inputs:
  - {name: eve, type: suricata, socket: %[3]s, socket_type: stream}
outputs:
  - name: central
    type: forward
    urls: [https://%[4]s]
    tls: {ca_file: %[1]s/pki/ca.pem, cert_file: %[1]s/pki/sensor-1.pem, key_file: %[1]s/pki/sensor-1.key}
    compression: %[5]s
    request_events: %[6]d
    parallel: %[7]d
    buffer: %[8]s
    batch: {max_events: %[9]d}
    retry: {initial: 50ms, max: 200ms}
`, root, sdir, sock, fwd, *comp, *request, *parallel, buf, *batch)
	sensor := start(sdir, "sensor", sensorCfg)
	defer func() { sensor.stop() }()
	send := func() {
		out, err := exec.Command(*bin, "send", "--socket", sock, "--socket-type", "stream", "--count", strconv.Itoa(*count), "--pregenerate", "20000").CombinedOutput()
		if err != nil {
			check(fmt.Errorf("send: %v\n%s", err, out))
		}
	}
	n := float64(*count)
	if !live {
		send()
		waitFor("the sensor to hold every event", 10*time.Minute, func() bool { return sensor.metric("alertgw_output_queued_events") >= n })
		// Restart the sensor: what it holds is on disk now (a memory
		// buffer spills at shutdown), and the measurement (and profile)
		// covers the draining only.
		sensor.stop()
		sensor = start(sdir, "sensor", sensorCfg)
		waitFor("the sensor to replay its buffer", time.Minute, func() bool { return sensor.metric("alertgw_output_queued_events") >= n })
	}
	central := start(sdir, "central", centralConfig(root, sdir, fwd))
	defer central.stop()
	s0, c0, t0 := sensor.cpu(), central.cpu(), time.Now()
	if live {
		go send()
	}
	waitFor("the central to write every event", 10*time.Minute, func() bool { return central.metric("alertgw_output_written_total") >= n })
	el := time.Since(t0)
	s1, c1 := sensor.cpu(), central.cpu()
	name := "forward (drain the sensor's buffer)"
	if live {
		name = "live (alertgw send → sensor → central)"
	}
	fmt.Printf("%-40s %9.0f events/s  sensor %5.2f µs/event  central %5.2f µs/event  (%d events in %.2fs, sensor buffer %s, load %s)\n",
		name, n/el.Seconds(), us(s1-s0, n), us(c1-c0, n), *count, el.Seconds(), *buffer, load())
}

func us(d time.Duration, n float64) float64 { return float64(d.Microseconds()) / n }

// kafka fills kfake with native events and drains them with a central
// gateway's kafka input.
func kafka(sdir string) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "alertgw-alert"))
	check(err)
	defer c.Close()
	brokers := c.ListenAddrs()[0]
	lines := nativeLines(20000)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ProducerBatchCompression(kgo.Lz4Compression()),
		kgo.MaxBufferedRecords(1<<20), kgo.ProducerBatchMaxBytes(1<<20))
	check(err)
	ctx := context.Background()
	for i := 0; i < *count; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: "alertgw-alert", Value: lines[i%len(lines)]}, func(_ *kgo.Record, err error) { check(err) })
	}
	check(cl.Flush(ctx))
	cl.Close()
	central := start(sdir, "central", fmt.Sprintf(`sensor: central
log: {level: warn, format: json}
admin: {listen: "ADMIN"}
dead_letter: {path: %[1]s/central-dead.json}
inputs:
  - {name: bus, type: kafka, brokers: [%[2]s], topics: [alertgw-alert], group: bench}
outputs:
  - {name: events, type: file, path: %[1]s/central-events.json, fsync: never}
`, sdir, brokers))
	defer central.stop()
	c0, t0, self0 := central.cpu(), time.Now(), selfCPU()
	n := float64(*count)
	waitFor("the central to write every event", 10*time.Minute, func() bool { return central.metric("alertgw_output_written_total") >= n })
	el := time.Since(t0)
	fmt.Printf("%-40s %9.0f events/s  central %5.2f µs/event  kfake (this program) %5.2f µs/event  (%d events in %.2fs, load %s)\n",
		"kafka (kfake → kafka input → file)", n/el.Seconds(), us(central.cpu()-c0, n), us(selfCPU()-self0, n), *count, el.Seconds(), load())
}

func selfCPU() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	check(err)
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100
}

// nativeLines renders n native events from the load generator's EVE
// records, as the kafka output of a sensor would write them.
func nativeLines(n int) [][]byte {
	g, err := loadgen.New("suricata", loadgen.Options{Seed: 1})
	check(err)
	out := make([][]byte, 0, n)
	for i := 0; len(out) < n; i++ {
		rec := g.Next(nil)
		var ev normalize.Event
		if (eve.Decoder{}).Decode(rec, &ev) != nil {
			continue
		}
		ev.ID = fmt.Sprintf("%032x", i)
		ev.Received = time.Now().UTC()
		ev.Source.Input, ev.Source.Sensor = "eve", "sensor-1"
		if ev.Timestamp.IsZero() {
			ev.Timestamp = ev.Received
		}
		if ev.Action == "" {
			ev.Action = normalize.ActionUnknown
		}
		out = append(out, format.Native{}.AppendEvent(nil, &ev))
	}
	return out
}

// tlsLimit sends the bytes the forward scenario sends — batches of the
// codec, zstd-compressed — over one mutual TLS connection, as fast as the
// connection takes them, counting nothing but bytes.
func tlsLimit(root string) {
	lines := nativeLines(20000)
	var evs []*normalize.Event
	for _, l := range lines[:*request] {
		var e normalize.Event
		check((native.Decoder{}).Decode(l, &e))
		evs = append(evs, &e)
	}
	raw := forwardwire.AppendHeader(nil, len(evs))
	for _, e := range evs {
		raw = forwardwire.AppendRecord(raw, eventcodec.AppendEvent(nil, e))
	}
	body, err := forwardwire.Compress(nil, raw, *comp)
	check(err)
	srvCert, err := tls.LoadX509KeyPair(filepath.Join(root, "pki", "central.pem"), filepath.Join(root, "pki", "central.key"))
	check(err)
	cliCert, err := tls.LoadX509KeyPair(filepath.Join(root, "pki", "sensor-1.pem"), filepath.Join(root, "pki", "sensor-1.key"))
	check(err)
	pool := x509.NewCertPool()
	ca, _ := os.ReadFile(filepath.Join(root, "pki", "ca.pem"))
	pool.AppendCertsFromPEM(ca)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})
	check(err)
	defer ln.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		check(err)
		n, _ := io.Copy(io.Discard, bufio.NewReaderSize(c, 1<<20))
		got <- n
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cliCert}})
	check(err)
	batches := *count / *request
	t0 := time.Now()
	for range batches {
		_, err := c.Write(body)
		check(err)
	}
	c.Close()
	<-got
	el := time.Since(t0)
	fmt.Printf("%-40s %9.0f events/s  (%d bytes per %d events: %.0f B/event on the wire, %.0f MB/s, load %s)\n",
		"tls (the same bytes, nothing decoded)", float64(batches**request)/el.Seconds(), len(body), *request,
		float64(len(body))/float64(*request), float64(len(body)*batches)/el.Seconds()/1e6, load())
}
