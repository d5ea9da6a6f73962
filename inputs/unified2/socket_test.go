package unified2

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/stats"
)

// Socket mode: an event and its packet in separate datagrams are
// aggregated; several records in one datagram are split; a torn datagram
// is dead-lettered; the last open event is emitted after idle_flush.
func TestSocketMode(t *testing.T) {
	dir := t.TempDir()
	o := DefaultOptions()
	raw := map[string]any{"mode": "socket", "socket": filepath.Join(dir, "u2.sock"), "idle_flush": "50ms"}
	if p := config.Decode(raw, "inputs[0]", o); len(p) > 0 {
		t.Fatal(p.Err())
	}
	st := &stats.Input{}
	in, err := New(inputs.Env{Name: "u2", Log: zerolog.Nop(), Stats: st}, o)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, rec) }()

	recs := snortRecords(t)
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: o.Socket[0], Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	c.Write(recs[0])                                          // event 1
	c.Write(recs[1])                                          // its packet, in another datagram
	c.Write(append(append([]byte{}, recs[2]...), recs[3]...)) // event 2 + packet in one
	c.Write(recs[4][:30])                                     // torn
	c.Write(nil)                                              // empty: counted, nothing else
	c.Write(recs[6])                                          // event 4, left open: idle flush
	c.Close()
	waitFor(t, "3 alerts", func() bool { return rec.count() == 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"1", "2", "4"} {
		if got := string(rec.events[i].Details.Get("event_id")); got != want {
			t.Errorf("alert %d: event_id %s", i, got)
		}
	}
	if rec.events[0].Packet == nil || string(rec.events[0].Details.Get("packets")) != "1" {
		t.Error("event 1 not aggregated with its packet from the next datagram")
	}
	if len(rec.failed) != 1 {
		t.Errorf("failed: %v", rec.failed)
	}
	if _, err := os.Stat(o.Socket[0]); !os.IsNotExist(err) {
		t.Error("socket left behind")
	}
	// Every record once: 5 records and a torn datagram; the packet-only
	// datagram folded into the open event 1, and event 2's packet into
	// event 2: merged, not lost.
	checkIdentity(t, st, rec)
	if st.Received.Load() != 7 || st.Merged.Load() != 2 || st.Dropped.Get("empty") != 1 {
		t.Errorf("received %d merged %d empty %d, want 7, 2 and 1", st.Received.Load(), st.Merged.Load(), st.Dropped.Get("empty"))
	}
	_ = time.Second
}
