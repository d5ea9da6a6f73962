package snort

import (
	"context"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/internal/cputime"
	"github.com/alertgw/alertgw/internal/loadgen/snortgen"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/pipeline"
	"github.com/alertgw/alertgw/stats"
)

// send sends n datagrams to path with blocking sendto, as Snort does.
func send(b *testing.B, path string, dgrams [][]byte, n int) {
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		b.Error(err)
		return
	}
	defer c.Close()
	for i := range n {
		if _, err := c.Write(dgrams[i%len(dgrams)]); err != nil {
			b.Error(err)
			return
		}
	}
}

// reportCPU reports the CPU time (receiver and sender together, as both
// run in this process) per alert since start: on a shared machine it
// varies far less than the wall-clock rate.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cputime.Process()-start).Microseconds())/float64(b.N), "cpu-µs/alert")
}

func datagrams(b *testing.B) [][]byte {
	g, err := snortgen.New("snort", 1)
	if err != nil {
		b.Fatal(err)
	}
	out := make([][]byte, 64)
	for i := range out {
		out[i] = g.Next(nil)
	}
	return out
}

// BenchmarkSocketCountOnly is the baseline: a plain loop that receives
// 65,864-byte datagrams into one buffer and counts them, nothing else.
func BenchmarkSocketCountOnly(b *testing.B) {
	path := filepath.Join(b.TempDir(), "snort_alert")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	l.SetReadBuffer(8 << 20)
	dg := datagrams(b)
	buf := make([]byte, 65928)
	b.SetBytes(int64(len(dg[0])))
	b.ResetTimer()
	cpu0 := cputime.Process()
	go send(b, path, dg, b.N)
	for range b.N {
		if _, err := l.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
	reportCPU(b, cpu0)
}

// BenchmarkSocketEndToEnd: the snort input (recvmmsg batches, copy to the
// batch arena), the pipeline's workers decoding every datagram into an
// event (Alertpkt, gopacket, mapping, id, Community ID), native encoding,
// the output queue and an output that counts. The sender blocks like
// Snort, so nothing is lost: the run ends when all b.N were written.
func BenchmarkSocketEndToEnd(b *testing.B) {
	path := filepath.Join(b.TempDir(), "snort_alert")
	o := DefaultOptions()
	o.Socket = Paths{path}
	st := &stats.Input{}
	in, dec, err := Plugin.Build(inputs.Env{Name: "snort", Log: zerolog.Nop(), Stats: st}, o)
	if err != nil {
		b.Fatal(err)
	}
	out := &countOutput{target: int64(b.N), done: make(chan struct{})}
	enc, _ := format.Lookup("native")
	ost := &stats.Output{}
	p, err := pipeline.New(pipeline.Options{Log: zerolog.Nop()},
		[]pipeline.Input{{Name: "snort", Type: "snort", Reader: in, Decoder: dec, Stats: st, Log: zerolog.Nop()}},
		[]pipeline.Output{{Name: "count", Type: "count", Writer: out, Encoder: enc, Buffer: pipeline.DefaultDelivery().Buffer, Stats: ost, Log: zerolog.Nop()}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	dg := datagrams(b)
	b.SetBytes(int64(len(dg[0])))
	b.ResetTimer()
	cpu0 := cputime.Process()
	go send(b, path, dg, b.N)
	<-out.done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
	reportCPU(b, cpu0)
	if f := st.Failed.Total(); f > 0 {
		b.Fatalf("%d datagrams failed", f)
	}
	cancel()
	<-done
}

// countOutput counts delivered events: the end of the end-to-end path
// (decoded, completed, encoded in the native format, queued, written).
type countOutput struct {
	n      atomic.Int64
	target int64
	done   chan struct{}
}

func (c *countOutput) Write(_ context.Context, b *outputs.Batch) error {
	if c.n.Add(int64(len(b.Events))) >= c.target && c.done != nil {
		close(c.done)
		c.done = nil
	}
	return nil
}

func (c *countOutput) Close() error { return nil }

type countEmitter struct {
	n      atomic.Int64
	target int64
	done   chan struct{}
}

func (c *countEmitter) Messages(b *inputs.Batch) {
	if c.n.Add(int64(len(b.Msgs))) == c.target {
		close(c.done)
	}
	if b.Done != nil {
		b.Done()
	}
}
func (c *countEmitter) Events([]*normalize.Event, func()) {}
func (c *countEmitter) Failed([]byte, string, error)      {}

// BenchmarkSocketListenerOnly: the snort input's socket listener with an
// emitter that only counts (no decoding, no pipeline).
func BenchmarkSocketListenerOnly(b *testing.B) {
	path := filepath.Join(b.TempDir(), "snort_alert")
	o := DefaultOptions()
	o.Socket = Paths{path}
	in, err := New(inputs.Env{Name: "snort", Log: zerolog.Nop(), Stats: &stats.Input{}}, o)
	if err != nil {
		b.Fatal(err)
	}
	ce := &countEmitter{target: int64(b.N), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, ce) }()
	dg := datagrams(b)
	b.SetBytes(int64(len(dg[0])))
	b.ResetTimer()
	cpu0 := cputime.Process()
	go send(b, path, dg, b.N)
	<-ce.done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
	reportCPU(b, cpu0)
	cancel()
	<-done
}
