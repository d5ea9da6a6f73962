package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/internal/pgtest"
	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/pipeline"
	"github.com/alertgw/alertgw/stats"
)

func event(i int) *normalize.Event {
	e := &normalize.Event{
		ID:        fmt.Sprintf("%032x", i),
		Kind:      normalize.KindAlert,
		Action:    normalize.ActionAllowed,
		Timestamp: time.Date(2026, 11, 22, 10, 0, 0, i*1000, time.UTC),
		Received:  time.Now().UTC(),
		Source:    normalize.Source{Type: "suricata", Input: "eve", Sensor: "s1"},
		SrcIP:     netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
		DestIP:    netip.MustParseAddr("2001:db8::1"),
		SrcPort:   uint16(1024 + i%1000), DestPort: 443, HasPorts: true,
		FlowID:   1<<63 + uint64(i),
		AppProto: "tls",
	}
	e.SetProto(6)
	e.CommunityID = normalize.CommunityID(e)
	e.Signature = &normalize.Signature{GID: 1, ID: 2000000 + uint32(i%50), Rev: 2, Name: "ET POLICY test", Category: "Policy", Priority: 3}
	e.Details = normalize.Details{{Key: "tls", Value: normalize.RawJSON(`{"sni":"example.org"}`)}}
	return e
}

func newOutput(t testing.TB, dsn string) *Output {
	t.Helper()
	o := Plugin.Options().(*Options)
	o.DSN = dsn
	o.Timeout = 5 * time.Second
	if p := o.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	w, err := New(outputs.Env{Name: "pg", Log: zerolog.Nop(), Stats: &stats.Output{}, Encoder: format.Native{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func queryRow(t testing.TB, dsn, sql string, dst ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql).Scan(dst...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func batch(from, to int) *outputs.Batch {
	var evs []*normalize.Event
	for i := from; i < to; i++ {
		evs = append(evs, event(i))
	}
	return &outputs.Batch{Events: evs}
}

func TestCopyMigrationAndColumns(t *testing.T) {
	s := pgtest.Start(t)
	w := newOutput(t, s.DSN)
	if err := w.Write(context.Background(), batch(0, 500)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// A second gateway (or a restart) finds the table migrated already.
	w2 := newOutput(t, s.DSN)
	if err := w2.Write(context.Background(), batch(500, 600)); err != nil {
		t.Fatal(err)
	}
	w2.Close()

	var n, version, indexes int
	queryRow(t, s.DSN, `SELECT count(*) FROM alertgw_events`, &n)
	queryRow(t, s.DSN, `SELECT max(version) FROM alertgw_migrations WHERE tbl = 'alertgw_events'`, &version)
	queryRow(t, s.DSN, `SELECT count(*) FROM pg_indexes WHERE tablename = 'alertgw_events'`, &indexes)
	if n != 600 || version != 2 || indexes != 8 {
		t.Fatalf("rows %d, migration %d, indexes %d; want 600, 2, 8", n, version, indexes)
	}
	want := event(7)
	var (
		id, kind, community, sig, sni, flowID string
		ts                                    time.Time
		src, dst                              netip.Addr
		sport, dport, prio                    int32
		proto                                 int16
		sid                                   int64
	)
	queryRow(t, s.DSN, `SELECT id, ts, kind, src_ip, src_port, dest_ip, dest_port, proto, community_id, signature_id, signature, priority, flow_id::text, event->'details'->'tls'->>'sni'
		FROM alertgw_events WHERE id = '`+want.ID+`'`,
		&id, &ts, &kind, &src, &sport, &dst, &dport, &proto, &community, &sid, &sig, &prio, &flowID, &sni)
	if id != want.ID || !ts.Equal(want.Timestamp) || kind != "alert" || src != want.SrcIP || dst != want.DestIP ||
		sport != int32(want.SrcPort) || dport != 443 || proto != 6 || community != want.CommunityID ||
		sid != int64(want.Signature.ID) || sig != want.Signature.Name || prio != 3 || flowID != fmt.Sprint(want.FlowID) || sni != "example.org" {
		t.Fatalf("row differs from the event: %v %v %v %v %v %v %v %v %v %v %v %v %v %v", id, ts, kind, src, sport, dst, dport, proto, community, sid, sig, prio, flowID, sni)
	}
}

// TestBadEventDeadLettered: PostgreSQL refuses NUL characters in text and
// jsonb; only that event is reported, permanently, the rest go in.
func TestBadEventDeadLettered(t *testing.T) {
	s := pgtest.Start(t)
	w := newOutput(t, s.DSN)
	defer w.Close()
	b := batch(0, 10)
	b.Events[4].Signature.Name = "bad\x00name"
	err := w.Write(context.Background(), b)
	var pe *outputs.PartialError
	if !errors.As(err, &pe) || len(pe.Failed) != 1 || pe.Failed[0].Index != 4 || !pe.Failed[0].Permanent {
		t.Fatalf("want event 4 failed permanently, got %v", err)
	}
	var n int
	queryRow(t, s.DSN, `SELECT count(*) FROM alertgw_events`, &n)
	if n != 9 {
		t.Fatalf("%d rows, want 9", n)
	}
}

// TestServerRestartMidStream stops the server while events flow and
// starts it again: every event is in the table (duplicates allowed: at
// least once), none lost.
func TestServerRestartMidStream(t *testing.T) {
	const n = 10_000
	s := pgtest.Start(t)
	w := newOutput(t, s.DSN)
	st := &stats.Output{Name: "pg"}
	buf := pipeline.DefaultDelivery().Buffer
	buf.MaxEvents, buf.Path = 1000, t.TempDir()
	p, err := pipeline.New(pipeline.Options{Workers: 2, Log: zerolog.Nop(), ShutdownTimeout: 10 * time.Second},
		[]pipeline.Input{{Name: "eve", Type: "suricata", Reader: &testutil.Events{N: n, Size: 50, Pause: 2 * time.Millisecond, Make: event}, Stats: &stats.Input{}, Log: zerolog.Nop()}},
		[]pipeline.Output{{Name: "pg", Type: "postgres", Writer: w, Encoder: format.Native{}, Buffer: buf,
			Batch: pipeline.Batching{MaxEvents: 500}, Retry: pipeline.Retry{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}, Stats: st, Log: zerolog.Nop()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(ctx) })
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (written %d, queued %d)", what, st.Written.Load(), st.Queued.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait("some rows", func() bool { return st.Written.Load() >= 1000 })
	s.Stop("fast")
	time.Sleep(time.Second)
	s.Restart()
	wait("every event", func() bool { return st.Written.Load() >= n })
	cancel()
	wg.Wait()
	if st.Retried.Load() == 0 {
		t.Fatal("no retries: the server was never seen down")
	}
	var distinct, rows int
	queryRow(t, s.DSN, `SELECT count(DISTINCT id), count(*) FROM alertgw_events`, &distinct, &rows)
	if distinct != n {
		t.Fatalf("%d distinct events in the table, want %d", distinct, n)
	}
	t.Logf("%d rows for %d events (%d duplicates), %d retries", rows, n, rows-n, st.Retried.Load())
}

func BenchmarkCopy(b *testing.B) {
	s := pgtest.Start(b)
	w := newOutput(b, s.DSN)
	defer w.Close()
	bt := batch(0, 1000)
	bt.Encode(format.Native{})
	b.ResetTimer()
	for b.Loop() {
		if err := w.Write(context.Background(), bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
