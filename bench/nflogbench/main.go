// Command nflogbench is bench/nflog-vs-ulogd.sh's helper. With -send it is
// the paced UDP sender. Otherwise it runs alertgw's nflog input through the
// real pipeline (workers, native encoding) into a plain buffered file, the
// pieces `alertgw run` wires, with -cpuprofile for profiling the input
// alone; on SIGINT/SIGTERM it drains, then prints its counters as JSON on
// stdout. The benchmark itself runs the real `alertgw run`.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs"
	nfin "github.com/alertgw/alertgw/inputs/nflog"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/pipeline"
	"github.com/alertgw/alertgw/stats"
)

type fileWriter struct {
	f *os.File
	w *bufio.Writer
}

func (fw *fileWriter) Write(_ context.Context, b *outputs.Batch) error {
	_, err := fw.w.Write(b.Encode(format.Native{}).Data)
	return err
}
func (fw *fileWriter) Flush() error { return fw.w.Flush() }
func (fw *fileWriter) Close() error {
	if err := fw.w.Flush(); err != nil {
		return err
	}
	return fw.f.Close()
}

func main() {
	groups := flag.String("groups", "10:allowed,11:blocked", "group:action,…")
	out := flag.String("out", "nflog.json", "output file")
	netns := flag.String("netns", "", "network namespace path")
	sockBuf := flag.Int("socket-buffer", 4<<20, "socket receive buffer, bytes")
	seq := flag.Bool("sequence", true, "number packets to count kernel-side losses")
	workers := flag.Int("workers", 0, "pipeline workers (0: GOMAXPROCS)")
	send := flag.String("send", "", "sender mode: send UDP datagrams to this host and exit")
	ports := flag.String("ports", "7001,7002", "sender mode: destination ports, used in turn")
	count := flag.Int("count", 10000, "sender mode: datagrams to send")
	rate := flag.Int("rate", 10000, "sender mode: datagrams per second")
	batchWait := flag.Duration("batch-wait", nfin.DefaultOptions().BatchWait, "input batch_wait")
	reader := flag.String("reader", nfin.ReaderDirect, "receive path: direct or go-nflog")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *send != "" {
		if err := sendUDP(*send, *ports, *count, *rate); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}

	log := zerolog.New(os.Stderr).With().Timestamp().Logger().Level(zerolog.InfoLevel)
	opts := nfin.DefaultOptions()
	for _, g := range strings.Split(*groups, ",") {
		num, act, _ := strings.Cut(g, ":")
		n, err := strconv.ParseUint(num, 10, 16)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad -groups:", err)
			os.Exit(2)
		}
		opts.Groups = append(opts.Groups, nfin.GroupOptions{Group: uint16(n), Action: act})
	}
	opts.NetNS, opts.SocketBuffer, opts.Sequence, opts.Reader = *netns, config.Size(*sockBuf), *seq, *reader
	opts.BatchWait = *batchWait
	reg := stats.NewRegistry()
	ist := reg.Input("nflog", "nflog")
	in, err := nfin.New(inputs.Env{Name: "nflog", Sensor: "bench", Log: log, Stats: ist}, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ost := reg.Output("file", "file")
	common := pipeline.DefaultDelivery()
	p, err := pipeline.New(pipeline.Options{Sensor: "bench", Workers: *workers, ShutdownTimeout: 30 * time.Second, Log: log},
		[]pipeline.Input{{Name: "nflog", Type: "nflog", Reader: in, Stats: ist, Log: log}},
		[]pipeline.Output{{Name: "file", Type: "file", Writer: &fileWriter{f: f, w: bufio.NewWriterSize(f, 1<<20)},
			Encoder: format.Native{}, Buffer: common.Buffer, Stats: ost, Log: log}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	runErr := p.Run(ctx)
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{ // stdout: nothing to do on error
		"received": ist.Received.Load(), "normalized": ist.Normalized.Load(), "written": ost.Written.Load(),
		"dropped": ist.Dropped.Snapshot(), "failed": ist.Failed.Snapshot(),
	})
	if runErr != nil {
		fmt.Fprintln(os.Stderr, runErr)
		os.Exit(1)
	}
}

// sendUDP sends count datagrams to host, alternating between the two
// ports of ports ("7001,7002": one dropped and one accepted by the bench
// ruleset), paced at rate per second, and prints what went out. The socket
// is unconnected, so port-unreachable answers do not fail later writes.
func sendUDP(host, ports string, count, rate int) error {
	var dsts []*net.UDPAddr
	for _, p := range strings.Split(ports, ",") {
		a, err := net.ResolveUDPAddr("udp", net.JoinHostPort(host, p))
		if err != nil {
			return err
		}
		dsts = append(dsts, a)
	}
	c, err := net.ListenPacket("udp", ":0")
	if err != nil {
		return err
	}
	defer c.Close()
	payload := make([]byte, 64)
	start := time.Now()
	sent := 0
	for i := 0; i < count; i++ {
		if i%32 == 0 {
			if ahead := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); ahead > 0 {
				time.Sleep(ahead)
			}
		}
		if _, err := c.WriteTo(payload, dsts[i%len(dsts)]); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		sent++
	}
	el := time.Since(start)
	fmt.Printf("{\"sent\":%d,\"seconds\":%.3f,\"pps\":%.0f}\n", sent, el.Seconds(), float64(sent)/el.Seconds())
	return nil
}
