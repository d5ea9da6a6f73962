package unix

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

func batch(n int) *outputs.Batch {
	var evs []*normalize.Event
	for i := range n {
		evs = append(evs, &normalize.Event{ID: fmt.Sprintf("id-%d", i), Kind: normalize.KindFlow})
	}
	return &outputs.Batch{Events: evs}
}

func newOutput(t *testing.T, path, socket string) *Output {
	o := Plugin.Options().(*Options)
	o.Path, o.Socket = path, socket
	if p := o.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	w, err := New(outputs.Env{Name: "unix", Log: zerolog.Nop(), Stats: &stats.Output{}, Encoder: format.Native{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestDatagram(t *testing.T) {
	path := filepath.Join(t.TempDir(), "collector.sock")
	pc, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	b := batch(3)
	if err := newOutput(t, path, "dgram").Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	lines := b.Encode(format.Native{})
	buf := make([]byte, 65536)
	for i := range 3 {
		pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if string(buf[:n]) != string(lines.Line(i)) {
			t.Fatalf("datagram %d: %q, want %q", i, buf[:n], lines.Line(i))
		}
	}
}

func TestStreamAndReceiverRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "collector.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	w := newOutput(t, path, "stream")
	got := make(chan string, 10)
	conns := make(chan net.Conn, 2)
	serve := func(ln net.Listener) {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		conns <- c
		defer c.Close()
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			got <- sc.Text()
		}
	}
	go serve(ln)
	b := batch(2)
	if err := w.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	lines := b.Encode(format.Native{})
	for i := range 2 {
		if l := <-got; l != string(lines.Line(i)) {
			t.Fatalf("line %d: %q", i, l)
		}
	}
	// The collector restarts: its connection and socket go away, and come
	// back. A write to a Unix stream whose peer closed fails at once (EPIPE).
	ln.Close()
	(<-conns).Close()
	time.Sleep(20 * time.Millisecond)
	if err := w.Write(context.Background(), b); err == nil {
		t.Fatal("write to a closed socket succeeded")
	}
	ln, err = net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serve(ln)
	if err := w.Write(context.Background(), b); err != nil {
		t.Fatalf("after the receiver came back: %v", err)
	}
	if l := <-got; l != string(lines.Line(0)) {
		t.Fatalf("after restart: %q", l)
	}
}

func BenchmarkWriteDatagram(b *testing.B) {
	path := filepath.Join(b.TempDir(), "collector.sock")
	pc, err := net.ListenPacket("unixgram", path)
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	o := Plugin.Options().(*Options)
	o.Path = path
	w, _ := New(outputs.Env{Encoder: format.Native{}}, o)
	defer w.Close()
	bt := batch(1000)
	bt.Encode(format.Native{})
	for b.Loop() {
		if err := w.Write(context.Background(), bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
