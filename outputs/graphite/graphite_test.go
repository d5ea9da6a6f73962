package graphite

import (
	"bufio"
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

func events() *outputs.Batch {
	mk := func(input string, kind normalize.Kind, action normalize.Action, proto uint8, sid uint32) *normalize.Event {
		e := &normalize.Event{Kind: kind, Action: action, Source: normalize.Source{Input: input}}
		e.SetProto(proto)
		if sid != 0 {
			e.Signature = &normalize.Signature{GID: 1, ID: sid}
		}
		return e
	}
	return &outputs.Batch{Events: []*normalize.Event{
		mk("eve", normalize.KindAlert, normalize.ActionAllowed, 6, 2000001),
		mk("eve", normalize.KindAlert, normalize.ActionAllowed, 6, 2000001),
		mk("eve", normalize.KindAlert, normalize.ActionBlocked, 17, 2000002),
		mk("fw.log", normalize.KindPacket, normalize.ActionBlocked, 6, 0),
	}}
}

func newOutput(t *testing.T, addr string) *Output {
	o := Plugin.Options().(*Options)
	o.Address, o.Interval = addr, time.Hour // flushed by hand
	if p := o.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	w, err := New(outputs.Env{Name: "graphite", Sensor: "sensor.1", Log: zerolog.Nop(), Stats: &stats.Output{}, Encoder: format.Native{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func accept(t *testing.T, ln net.Listener, n int) chan []string {
	got := make(chan []string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		sc := bufio.NewScanner(c)
		var lines []string
		for len(lines) < n && sc.Scan() {
			lines = append(lines, sc.Text())
		}
		got <- lines
	}()
	return got
}

func TestCountersPlaintext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := accept(t, ln, 5)
	w := newOutput(t, ln.Addr().String())
	defer w.Close()
	w.Write(context.Background(), events())
	if err := w.flush(time.Unix(1795341600, 0)); err != nil {
		t.Fatal(err)
	}
	lines := <-got
	slices.Sort(lines)
	want := []string{
		"alertgw.sensor_1.events.eve.alert.allowed.tcp 2 1795341600",
		"alertgw.sensor_1.events.eve.alert.blocked.udp 1 1795341600",
		"alertgw.sensor_1.events.fw_log.packet.blocked.tcp 1 1795341600",
		"alertgw.sensor_1.signatures.1_2000001 2 1795341600",
		"alertgw.sensor_1.signatures.1_2000002 1 1795341600",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestKeptWhileDown: points of an interval when Graphite is down go with
// the next flush, with their own timestamps.
func TestKeptWhileDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	w := newOutput(t, addr)
	defer w.Close()
	w.Write(context.Background(), events())
	if err := w.flush(time.Unix(100, 0)); err == nil {
		t.Fatal("flush to a closed port succeeded")
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port taken meanwhile: %v", err)
	}
	defer ln.Close()
	got := accept(t, ln, 9)
	w.Write(context.Background(), &outputs.Batch{Events: events().Events[:3]})
	if err := w.flush(time.Unix(110, 0)); err != nil {
		t.Fatal(err)
	}
	lines := <-got
	var at100, at110 int
	for _, l := range lines {
		switch {
		case strings.HasSuffix(l, " 100"):
			at100++
		case strings.HasSuffix(l, " 110"):
			at110++
		}
	}
	if at100 != 5 || at110 != 4 {
		t.Fatalf("points %v", lines)
	}
}

func BenchmarkCount(b *testing.B) {
	o := Plugin.Options().(*Options)
	o.Address, o.Interval = "127.0.0.1:1", time.Hour
	w, _ := New(outputs.Env{Log: zerolog.Nop()}, o)
	defer func() { close(w.stop); <-w.done }()
	bt := events()
	for b.Loop() {
		w.Write(context.Background(), bt)
	}
	b.ReportMetric(float64(b.N*len(bt.Events))/b.Elapsed().Seconds(), "events/s")
}
