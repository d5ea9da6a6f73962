package unixsock

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/stats"
)

// counter is an Emitter that only counts.
type counter struct{ n atomic.Int64 }

func (c *counter) Messages(b *inputs.Batch)                    { c.n.Add(int64(len(b.Msgs))) }
func (c *counter) Events([]*normalize.Event, func())           {}
func (c *counter) Failed(raw []byte, reason string, err error) {}

var eveRecord = append(bytes.Repeat([]byte(`{"event_type":"alert","x":"0123456789"}`), 29), '\n') // ≈ 1.1 KB

// BenchmarkDgramReceive measures the datagram path (recvmmsg, arena copy,
// hand-off) with a blocking sender on another goroutine: ns/op is per
// datagram, both sides together.
func BenchmarkDgramReceive(b *testing.B) {
	path := filepath.Join(b.TempDir(), "b.sock")
	if len(path) > maxPathLen {
		path = filepath.Join("/tmp", filepath.Base(b.TempDir())+".sock")
	}
	o := DefaultOptions()
	srv, err := Listen(Config{Paths: []string{path}, Options: o, TrimNewline: true, Log: zerolog.Nop(), Stats: &stats.Input{}})
	if err != nil {
		b.Fatal(err)
	}
	c := &counter{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Run(ctx, c) }()
	conn, err := net.Dial("unixgram", path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(eveRecord)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := conn.Write(eveRecord); err != nil {
			b.Fatal(err)
		}
	}
	conn.Close()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if got := c.n.Load(); got != int64(b.N) {
		b.Fatalf("received %d of %d", got, b.N)
	}
}

// BenchmarkLineReader measures stream line splitting and batching, reads
// of 64 KiB as from a busy connection.
func BenchmarkLineReader(b *testing.B) {
	var stream []byte
	for len(stream) < 1<<20 {
		stream = append(stream, eveRecord...)
	}
	lines := bytes.Count(stream, []byte("\n"))
	c := &counter{}
	s := &Server{cfg: Config{Stats: &stats.Input{}}, failLog: zerolog.Nop()}
	out := newHandoff(c, 1<<30, -1)
	defer out.close()
	l := &lineReader{s: s, sk: &socket{path: "bench"}, emit: c, out: out, max: DefaultMaxLineSize, buf: make([]byte, initialLineBuf)}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		for rest := stream; len(rest) > 0; {
			n := copy(l.space(), rest)
			rest = rest[n:]
			l.consume(n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/line")
}
