package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/internal/pgtest"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/stats"
	"github.com/alertgw/alertgw/store"
	pgstore "github.com/alertgw/alertgw/store/postgres"
	"github.com/alertgw/alertgw/store/storetest"
)

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func writeEvents(t *testing.T, w *Output, evs []*normalize.Event) {
	t.Helper()
	for i := 0; i < len(evs); i += 50 {
		if err := w.Write(context.Background(), &outputs.Batch{Events: evs[i:min(i+50, len(evs))]}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrationOfExistingTable: a table written before partitioning (its
// migration 1 rows, event as jsonb) becomes the partition of everything up
// to the day after its newest row, with its rows searchable; new events go
// to daily partitions.
func TestMigrationOfExistingTable(t *testing.T) {
	s := pgtest.Start(t)
	ctx := context.Background()
	conn := connect(t, s.DSN)
	if err := migrateTo(ctx, conn, "alertgw_events", 1); err != nil {
		t.Fatal(err)
	}
	old := time.Now().UTC().AddDate(0, 0, -3).Truncate(time.Hour)
	for i, ip := range []string{"10.1.1.1", "10.1.1.2", "192.0.2.9"} {
		if _, err := conn.Exec(ctx, `INSERT INTO alertgw_events (id, ts, received, kind, action, src_ip, signature_id, event)
			VALUES ($1, $2, $2, 'alert', 'allowed', $3, 2001219, $4)`, "old-"+ip, old.Add(time.Duration(i)*time.Minute), ip,
			`{"schema":1,"id":"old-`+ip+`","kind":"alert"}`); err != nil {
			t.Fatal(err)
		}
	}

	w := newOutput(t, s.DSN)
	now := time.Now().UTC()
	evs := storetest.Events(100, 3, now.Add(-time.Hour), now)
	writeEvents(t, w, evs)
	w.Close()

	var partitioned bool
	var legacyRows, version int
	var eventType string
	queryRow(t, s.DSN, `SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'alertgw_events'::regclass)`, &partitioned)
	queryRow(t, s.DSN, `SELECT count(*) FROM alertgw_events_legacy`, &legacyRows)
	queryRow(t, s.DSN, `SELECT max(version) FROM alertgw_migrations WHERE tbl = 'alertgw_events'`, &version)
	queryRow(t, s.DSN, `SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'alertgw_events'::regclass AND attname = 'event'`, &eventType)
	if !partitioned || legacyRows != 3 || version != 2 || eventType != "json" {
		t.Fatalf("partitioned %v, legacy rows %d, version %d, event %s", partitioned, legacyRows, version, eventType)
	}
	parts, err := listPartitions(ctx, conn, "alertgw_events")
	if err != nil {
		t.Fatal(err)
	}
	if parts[0].name != "alertgw_events_legacy" || !parts[0].from.IsZero() || !parts[0].to.Equal(day(old).AddDate(0, 0, 1)) {
		t.Errorf("legacy partition %+v", parts[0])
	}

	rd, err := pgstore.Open(ctx, pgstore.Options{DSN: s.DSN})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	res, err := rd.Events(ctx, store.EventsRequest{Filter: store.Filter{Query: query.MustParse("src_ip:10.0.0.0/8 signature.id:2001219"),
		From: old.Add(-time.Hour), To: now.Add(time.Minute)}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	oldFound := 0
	for _, e := range res.Events {
		if e.Time.Before(now.Add(-2 * time.Hour)) {
			oldFound++
		}
	}
	if oldFound != 2 {
		t.Errorf("found %d of the 2 old events in 10/8 by field", oldFound)
	}
}

// TestRetentionDropsPartitions: partitions older than retention, and the
// oldest beyond max_bytes, are dropped whole, freeing their space.
func TestRetentionDropsPartitions(t *testing.T) {
	s := pgtest.Start(t)
	ctx := context.Background()
	now := time.Now().UTC()
	o := Plugin.Options().(*Options)
	o.DSN, o.Retention = s.DSN, store.Age(3*24*time.Hour)
	st := &stats.Output{}
	w, err := New(outputs.Env{Name: "pg", Log: zerolog.Nop(), Stats: st, Encoder: format.Native{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.now = func() time.Time { return now.AddDate(0, 0, -10) } // no retention while writing the past
	for d := 6; d >= 0; d-- {
		from := day(now).AddDate(0, 0, -d)
		writeEvents(t, w, storetest.Events(50, uint64(d+1), from, from.Add(12*time.Hour)))
	}
	conn := connect(t, s.DSN)
	size := func() (n int64) {
		parts, err := listPartitions(ctx, conn, "alertgw_events")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			n += p.bytes
		}
		return n
	}
	before := size()
	var rows int
	queryRow(t, s.DSN, `SELECT count(*) FROM alertgw_events`, &rows)
	if rows != 350 {
		t.Fatalf("%d rows written", rows)
	}

	w.now = func() time.Time { return now }
	w.retention(ctx)
	queryRow(t, s.DSN, `SELECT count(*) FROM alertgw_events`, &rows)
	// Days -3 to today stay: day -3 ended (at day -2, 00:00) less than
	// three days ago.
	if rows != 200 {
		t.Errorf("%d rows after a 3-day retention, want 200", rows)
	}
	var gone bool
	queryRow(t, s.DSN, `SELECT to_regclass('alertgw_events_p`+day(now).AddDate(0, 0, -4).Format("20060102")+`') IS NULL`, &gone)
	if !gone {
		t.Error("the partition of 4 days ago is still there")
	}
	after := size()
	// Days -6 to -4, and -10 to -8 (created ahead while the clock said
	// day -10, empty).
	if after >= before || st.Figures.Snapshot()["removed_partitions_total"] != 6 {
		t.Errorf("size %d → %d, figures %v", before, after, st.Figures.Snapshot())
	}

	// A budget smaller than the table drops the oldest; today stays.
	w.opts.Retention, w.opts.MaxBytes = 0, 1
	w.retention(ctx)
	queryRow(t, s.DSN, `SELECT count(*) FROM alertgw_events`, &rows)
	if rows != 50 {
		t.Errorf("%d rows after a 1-byte budget, want today's 50", rows)
	}
	// Writing goes on: the partitions a batch needs are created again.
	writeEvents(t, w, storetest.Events(10, 99, day(now).AddDate(0, 0, -1), day(now).AddDate(0, 0, -1).Add(time.Hour)))
	queryRow(t, s.DSN, `SELECT count(*) FROM alertgw_events`, &rows)
	if rows != 60 {
		t.Errorf("%d rows after writing into a dropped day again", rows)
	}
}
