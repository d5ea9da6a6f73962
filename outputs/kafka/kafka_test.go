package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/pipeline"
	"github.com/alertgw/alertgw/stats"
)

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func event(i int) *normalize.Event {
	e := &normalize.Event{
		ID:        fmt.Sprintf("%032x", i),
		Kind:      normalize.KindAlert,
		Timestamp: time.Date(2026, 11, 22, 10, 0, 0, i, time.UTC),
		Received:  time.Now(),
		Source:    normalize.Source{Type: "suricata", Input: "eve", Sensor: "s1"},
		SrcIP:     netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
		DestIP:    netip.MustParseAddr("192.0.2.1"),
		SrcPort:   uint16(1024 + i%1000), DestPort: 80, HasPorts: true,
	}
	e.SetProto(6)
	if i%3 == 1 {
		e.Kind = normalize.KindFlow
	}
	e.CommunityID = normalize.CommunityID(e)
	e.Signature = &normalize.Signature{GID: 1, ID: 2000000 + uint32(i%50), Rev: 1, Name: "ET POLICY test " + strconv.Itoa(i)}
	return e
}

func newOutput(t testing.TB, brokers []string, mod func(*Options)) *Output {
	t.Helper()
	o := Plugin.Options().(*Options)
	o.Brokers = brokers
	// Not the thing under test: a race-instrumented kfake on a loaded
	// machine takes up to a second or two for a batch, and a Write that
	// times out is aborted and redone, which only slows the test down.
	o.Timeout = 10 * time.Second
	if mod != nil {
		mod(o)
	}
	if p := o.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	w, err := New(outputs.Env{Name: "kafka", Log: zerolog.Nop(), Stats: &stats.Output{}, Encoder: format.Native{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// consume reads every record of topics until want distinct event ids were
// seen or the time runs out.
func consume(t *testing.T, brokers []string, want int, topics ...string) (map[string]*kgo.Record, int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond),
		// After a restart from its data directory, kfake has answered a new
		// consumer's first fetch with data the client did not surface for
		// ~30 s (a retriable condition waiting for fresh metadata, then empty
		// incremental fetches): full fetches, and metadata refreshed often.
		kgo.DisableFetchSessions(), kgo.MetadataMinAge(100*time.Millisecond), kgo.MetadataMaxAge(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[string]*kgo.Record{}
	total := 0
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachError(func(tp string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Logf("fetch error %s/%d: %v", tp, p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			total++
			for _, h := range r.Headers {
				if h.Key == "event_id" {
					got[string(h.Value)] = r
				}
			}
		})
	}
	return got, total
}

func TestWriteTopicKeyValue(t *testing.T) {
	c := kfake.MustCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "alertgw-alert", "alertgw-flow"))
	defer c.Close()
	w := newOutput(t, c.ListenAddrs(), nil)
	defer w.Close()
	var evs []*normalize.Event
	for i := range 300 {
		evs = append(evs, event(i))
	}
	b := &outputs.Batch{Events: evs}
	if err := w.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	got, _ := consume(t, c.ListenAddrs(), 300, "alertgw-alert", "alertgw-flow")
	if len(got) != 300 {
		t.Fatalf("consumed %d distinct events, want 300", len(got))
	}
	lines := b.Encode(format.Native{})
	partOf := map[string]int32{}
	for i, e := range evs {
		r := got[e.ID]
		if r.Topic != "alertgw-"+string(e.Kind) {
			t.Fatalf("event %d on topic %s", i, r.Topic)
		}
		if string(r.Key) != e.CommunityID {
			t.Fatalf("event %d key %q, want Community ID %q", i, r.Key, e.CommunityID)
		}
		if string(r.Value) != string(lines.Line(i)) {
			t.Fatalf("event %d value differs:\n%s\n%s", i, r.Value, lines.Line(i))
		}
		// One flow, one partition.
		k := r.Topic + string(r.Key)
		if p, ok := partOf[k]; ok && p != r.Partition {
			t.Fatalf("flow %s split over partitions %d and %d", k, p, r.Partition)
		}
		partOf[k] = r.Partition
	}
}

func TestOversizedRecordIsPermanent(t *testing.T) {
	c := kfake.MustCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "alertgw-alert"))
	defer c.Close()
	w := newOutput(t, c.ListenAddrs(), func(o *Options) { o.MaxRecordSize = 2048 })
	defer w.Close()
	big := event(1)
	big.Kind = normalize.KindAlert
	big.Details = normalize.Details{{Key: "payload", Value: normalize.RawJSON(`"` + string(make([]byte, 0)) + fmt.Sprintf("%04000d", 0) + `"`)}}
	err := w.Write(context.Background(), &outputs.Batch{Events: []*normalize.Event{event(0), big}})
	var pe *outputs.PartialError
	if !errors.As(err, &pe) || len(pe.Failed) != 1 || pe.Failed[0].Index != 1 || !pe.Failed[0].Permanent {
		t.Fatalf("want a permanent failure of event 1 only, got %v (%#v)", err, pe)
	}
}

func TestPermanentClassification(t *testing.T) {
	for _, tc := range []struct {
		err  error
		perm bool
	}{
		{kerr.MessageTooLarge, true},
		{kerr.InvalidRecord, true},
		{kerr.TopicAuthorizationFailed, false}, // the ACL, not the record: wait for the fix
		{fmt.Errorf("wrapped: %w", kerr.RecordListTooLarge), true},
		{kerr.NotLeaderForPartition, false},
		{kerr.RequestTimedOut, false},
		{kgo.ErrRecordTimeout, false},
		{context.DeadlineExceeded, false},
		{errors.New("dial tcp: connection refused"), false},
	} {
		if got := permanent(tc.err); got != tc.perm {
			t.Errorf("permanent(%v) = %v, want %v", tc.err, got, tc.perm)
		}
	}
}

// TestBrokerRestartMidStream stops the cluster while events flow, keeps it
// down a while (the output spills to its disk buffer), brings it back on the
// same port and data: every event arrives.
func TestBrokerRestartMidStream(t *testing.T) {
	const n = 20_000
	port := freePort(t)
	data := t.TempDir()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(data), kfake.SeedTopics(3, "alertgw-alert", "alertgw-flow")}
	c := kfake.MustCluster(opts...)
	brokers := c.ListenAddrs()
	// A Write in flight when the broker goes away fails after Timeout and
	// is retried: the outage below lasts longer than that.
	w := newOutput(t, brokers, func(o *Options) { o.Timeout = 3 * time.Second })
	st := &stats.Output{Name: "kafka"}
	def := pipeline.DefaultDelivery()
	buf := def.Buffer
	buf.MaxEvents, buf.Path = 2000, t.TempDir()
	p, err := pipeline.New(pipeline.Options{Workers: 2, Log: zerolog.Nop(), ShutdownTimeout: 10 * time.Second},
		[]pipeline.Input{{Name: "eve", Type: "suricata", Reader: &testutil.Events{N: n, Size: 100, Pause: 2 * time.Millisecond, Make: event}, Stats: &stats.Input{}, Log: zerolog.Nop()}},
		[]pipeline.Output{{Name: "kafka", Type: "kafka", Writer: w, Encoder: format.Native{}, Buffer: buf,
			Retry: pipeline.Retry{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}, Stats: st, Log: zerolog.Nop()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(ctx) })

	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(120 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (written %d, queued %d, spilled %d)", what, st.Written.Load(), st.Queued.Load(), st.Spilled.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait("some events delivered", func() bool { return st.Written.Load() >= 3000 })
	c.Close()
	before := st.Written.Load()
	time.Sleep(5 * time.Second) // down: writes fail, the queue fills and spills
	t.Logf("written before close %d, after 5s down %d", before, st.Written.Load())
	if before >= n {
		t.Fatal("the stream ended before the broker went down; slow the input")
	}
	c = kfake.MustCluster(opts...)
	defer c.Close()
	wait("every event delivered", func() bool { return st.Written.Load() >= n })
	cancel()
	wg.Wait()

	got, total := consume(t, brokers, n, "alertgw-alert", "alertgw-flow")
	for i := range n {
		if _, ok := got[fmt.Sprintf("%032x", i)]; !ok {
			rawFetch(t, brokers, "alertgw-alert", "alertgw-flow")
			t.Fatalf("event %d lost (have %d distinct of %d, %d records)", i, len(got), n, total)
		}
	}
	t.Logf("%d events, %d records consumed (%d duplicates: at least once), %d retries, %d spilled to disk",
		n, total, total-n, st.Retried.Load(), st.Spilled.Load())
	if st.Retried.Load() == 0 {
		t.Fatal("no retries: the broker was never seen down")
	}
}

func BenchmarkWrite(b *testing.B) {
	c := kfake.MustCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "alertgw-alert", "alertgw-flow"))
	defer c.Close()
	w := newOutput(b, c.ListenAddrs(), func(o *Options) { o.Timeout = 10 * time.Second })
	defer w.Close()
	const batch = 1000
	var evs []*normalize.Event
	for i := range batch {
		evs = append(evs, event(i))
	}
	enc := (&outputs.Batch{Events: evs}).Encode(format.Native{})
	b.SetBytes(int64(len(enc.Data)))
	b.ResetTimer()
	for b.Loop() {
		if err := w.Write(context.Background(), &outputs.Batch{Events: evs}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

// rawFetch logs what the broker holds in each partition (session-less
// Fetch v11 from offset 0: high watermark, log start, batches) when a
// consume comes up short, telling a broker that lost data from a client
// that did not surface it.
func rawFetch(t *testing.T, brokers []string, topics ...string) {
	cl, _ := kgo.NewClient(kgo.SeedBrokers(brokers...))
	defer cl.Close()
	for _, tp := range topics {
		for p := int32(0); p < 3; p++ {
			req := kmsg.NewPtrFetchRequest()
			req.Version = 11
			req.MaxWaitMillis = 100
			req.MaxBytes = 50 << 20
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = tp
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition = p
			rp.FetchOffset = 0
			rp.PartitionMaxBytes = 10 << 20
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			resp, err := req.RequestWith(context.Background(), cl)
			if err != nil {
				t.Logf("raw fetch %s/%d: %v", tp, p, err)
				continue
			}
			for _, rtp := range resp.Topics {
				for _, pp := range rtp.Partitions {
					b := pp.RecordBatches
					var first []int64
					nb := 0
					for len(b) >= 12 && nb < 1000000 {
						var rb kmsg.RecordBatch
						if err := rb.ReadFrom(b); err != nil {
							t.Logf("  batch %d: %v (%d bytes left)", nb, err, len(b))
							break
						}
						if nb < 3 {
							first = append(first, rb.FirstOffset, int64(rb.NumRecords))
						}
						nb++
						b = b[12+int(rb.Length):]
					}
					t.Logf("raw fetch %s/%d: err %d hwm %d lso %d logstart %d bytes %d batches %d first(off,n) %v", tp, pp.Partition, pp.ErrorCode,
						pp.HighWatermark, pp.LastStableOffset, pp.LogStartOffset, len(pp.RecordBatches), nb, first)
				}
			}
		}
	}
}
