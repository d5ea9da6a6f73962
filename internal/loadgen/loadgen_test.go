package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSuricataRecords(t *testing.T) {
	g, err := New("suricata", Options{Seed: 7, LargeEvery: 10, LargeSize: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	var small, nsmall, large int
	for i := 1; i <= 1000; i++ {
		rec := g.Next(nil)
		if !bytes.HasSuffix(rec, []byte("\n")) || bytes.Count(rec, []byte("\n")) != 1 {
			t.Fatalf("record %d is not one line ending in a newline", i)
		}
		var m map[string]any
		if err := json.Unmarshal(rec, &m); err != nil {
			t.Fatalf("record %d is not JSON: %v\n%s", i, err, rec)
		}
		et, _ := m["event_type"].(string)
		types[et]++
		for _, k := range []string{"timestamp", "flow_id", "src_ip", "dest_ip", "proto", "community_id"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("record %d (%s) has no %s", i, et, k)
			}
		}
		if i%10 == 0 {
			if _, ok := m["payload"]; !ok {
				t.Fatalf("record %d should be the large variant", i)
			}
			large = len(rec)
		} else {
			small += len(rec)
			nsmall++
		}
	}
	for _, et := range []string{"alert", "flow", "dns"} {
		if types[et] < 100 {
			t.Errorf("only %d %s records in 1000: %v", types[et], et, types)
		}
	}
	if avg := small / nsmall; avg < 700 || avg > 1400 {
		t.Errorf("average record is %d bytes, want about 1 KB", avg)
	}
	if large < 30<<10 || large > 40<<10 {
		t.Errorf("large record is %d bytes, want about 32 KiB", large)
	}
}

// TestSuricataAlertsGroup: alerts come from a few noisy hosts (an inbox
// grouped by signature, source and destination has rows of many alerts),
// and some alerts' flows end with a flow record of the same flow_id.
func TestSuricataAlertsGroup(t *testing.T) {
	g, err := New("suricata", Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	type rec struct {
		EventType   string `json:"event_type"`
		FlowID      uint64 `json:"flow_id"`
		SrcIP       string `json:"src_ip"`
		DestIP      string `json:"dest_ip"`
		CommunityID string `json:"community_id"`
		Alert       *struct {
			SID int `json:"signature_id"`
		} `json:"alert"`
		Flow *struct {
			Alerted bool `json:"alerted"`
		} `json:"flow"`
	}
	alerts := map[uint64]rec{}
	groups := map[string]int{}
	var nAlerts, matched int
	for range 5000 {
		var r rec
		if err := json.Unmarshal(g.Next(nil), &r); err != nil {
			t.Fatal(err)
		}
		switch r.EventType {
		case "alert":
			nAlerts++
			alerts[r.FlowID] = r
			groups[fmt.Sprint(r.Alert.SID, r.SrcIP, r.DestIP)]++
		case "flow":
			if a, ok := alerts[r.FlowID]; ok {
				if !r.Flow.Alerted || a.SrcIP != r.SrcIP || a.DestIP != r.DestIP || a.CommunityID != r.CommunityID {
					t.Fatalf("flow record of an alert's flow differs: %+v vs %+v", r, a)
				}
				matched++
			} else if r.Flow.Alerted {
				t.Fatalf("flow %d says alerted but no alert had it", r.FlowID)
			}
		}
	}
	t.Logf("%d alerts in %d groups; %d alerts followed by their flow record", nAlerts, len(groups), matched)
	if len(groups) > nAlerts/3 {
		t.Errorf("%d alerts make %d groups: want far fewer groups than alerts", nAlerts, len(groups))
	}
	if matched < 100 {
		t.Errorf("only %d flow records follow an alert", matched)
	}
}

func TestUnknownGenerator(t *testing.T) {
	if _, err := New("nope", Options{}); err == nil || !strings.Contains(err.Error(), "suricata") {
		t.Fatalf("want an error listing the known generators, got %v", err)
	}
}

func shortDir(t *testing.T) string {
	d, err := os.MkdirTemp("/tmp", "lg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestSendDgramBlocking(t *testing.T) {
	path := filepath.Join(shortDir(t), "r.sock")
	rc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	const n = 2000
	got := make(chan int)
	go func() {
		buf := make([]byte, 1<<20)
		for i := range n {
			if _, err := rc.Read(buf); err != nil {
				got <- i
				return
			}
		}
		got <- n
	}()
	g, _ := New("suricata", Options{Seed: 1})
	res, err := Send(context.Background(), g, SendOptions{Socket: path, Count: n})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != n || res.Dropped != 0 {
		t.Errorf("blocking send: %v", res)
	}
	if r := <-got; r != n {
		t.Errorf("receiver got %d of %d", r, n)
	}
}

func TestSendNonBlockDrops(t *testing.T) {
	// Nobody reads: the kernel queue (max_dgram_qlen) fills and the rest
	// is dropped at the sender, as Suricata in live mode does.
	path := filepath.Join(shortDir(t), "r.sock")
	rc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	g, _ := New("suricata", Options{Seed: 1})
	res, err := Send(context.Background(), g, SendOptions{Socket: path, Count: 5000, NonBlock: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent+res.Dropped != 5000 || res.Dropped == 0 || res.Sent == 0 {
		t.Errorf("non-blocking send into a full queue: %v", res)
	}
}

func TestSendStream(t *testing.T) {
	path := filepath.Join(shortDir(t), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lines := make(chan int)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			lines <- -1
			return
		}
		defer c.Close()
		var all bytes.Buffer
		all.ReadFrom(c)
		lines <- bytes.Count(all.Bytes(), []byte("\n"))
	}()
	g, _ := New("suricata", Options{Seed: 1, LargeEvery: 50})
	res, err := Send(context.Background(), g, SendOptions{Socket: path, SocketType: "stream", Count: 500, NonBlock: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := <-lines; uint64(n) != res.Sent {
		t.Errorf("receiver read %d lines, sender reports %v", n, res)
	}
}

func BenchmarkSuricataNext(b *testing.B) {
	g, _ := New("suricata", Options{Seed: 1})
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = g.Next(buf[:0])
	}
}

func TestSendPacedNeverEarly(t *testing.T) {
	// A paced sender sends record n no earlier than n/rate after the
	// start: the last of 200 records at 20,000/s leaves after ≥ 9.95 ms.
	path := filepath.Join(shortDir(t), "p.sock")
	rc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	go func() {
		buf := make([]byte, 1<<16)
		for {
			if _, err := rc.Read(buf); err != nil {
				return
			}
		}
	}()
	g, _ := New("suricata", Options{Seed: 1})
	const n, rate = 200, 20000
	res, err := Send(context.Background(), g, SendOptions{Socket: path, Count: n, Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != n {
		t.Errorf("paced send: %v", res)
	}
	if min := time.Duration(float64(n-1) / rate * float64(time.Second)); res.Elapsed < min {
		t.Errorf("paced send took %s, less than the %s the rate allows", res.Elapsed, min)
	}
}
