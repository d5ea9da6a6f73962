package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/internal/pgtest"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	pgout "github.com/alertgw/alertgw/outputs/postgres"
	"github.com/alertgw/alertgw/stats"
	"github.com/alertgw/alertgw/store"
	"github.com/alertgw/alertgw/store/storetest"
)

// write stores evs through the postgres output, as a gateway does.
func write(t testing.TB, dsn string, evs []*normalize.Event) {
	t.Helper()
	o := pgout.Plugin.Options().(*pgout.Options)
	o.DSN = dsn
	w, err := pgout.New(outputs.Env{Name: "pg", Log: zerolog.Nop(), Stats: &stats.Output{}, Encoder: format.Native{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := 0; i < len(evs); i += 100 {
		if err := w.Write(context.Background(), &outputs.Batch{Events: evs[i:min(i+100, len(evs))]}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConformance: the same events, the same queries, the same answers as
// the in-memory matcher (and so as the SQLite store, which passes the same
// suite).
func TestConformance(t *testing.T) {
	srv := pgtest.Start(t)
	from := time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC)
	to := from.Add(6 * time.Hour)
	evs := append(storetest.Events(300, 7, from, to), storetest.Varied(from, to)...)
	write(t, srv.DSN, evs)
	rd, err := Open(context.Background(), Options{DSN: srv.DSN})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	storetest.Run(t, rd, evs, storetest.Lines(evs), from, to)

	// The events went into daily partitions (21:00 to 03:00 spans two days).
	conn, _ := pgx.Connect(context.Background(), srv.DSN)
	defer conn.Close(context.Background())
	var n int
	conn.QueryRow(context.Background(), `SELECT count(*) FROM alertgw_events_p20261120`).Scan(&n)
	if n == 0 || n == len(evs) {
		t.Errorf("partition of 2026-11-20 holds %d of %d events", n, len(evs))
	}
}

func TestOpenRefusesUnmigratedTable(t *testing.T) {
	srv := pgtest.Start(t)
	if _, err := Open(context.Background(), Options{DSN: srv.DSN}); err == nil || !strings.Contains(err.Error(), "no table") {
		t.Errorf("missing table: %v", err)
	}
	conn, err := pgx.Connect(context.Background(), srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `CREATE TABLE alertgw_events (id text, ts timestamptz, event jsonb)`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), Options{DSN: srv.DSN}); err == nil || !strings.Contains(err.Error(), "migration 1") {
		t.Errorf("table at migration 1: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	srv := pgtest.Start(t)
	now := time.Now().UTC()
	evs := storetest.Events(50, 1, now.Add(-time.Hour), now)
	write(t, srv.DSN, evs)
	rd, err := Open(context.Background(), Options{DSN: srv.DSN})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	res, err := rd.Events(context.Background(), store.EventsRequest{Filter: store.Filter{Timeout: time.Nanosecond}})
	if err != nil || !res.TimedOut {
		t.Errorf("1 ns timeout: %+v %v", res, err)
	}
	res, err = rd.Events(context.Background(), store.EventsRequest{})
	if err != nil || len(res.Events) != 50 {
		t.Errorf("last 24 h by default: %d events, %v", len(res.Events), err)
	}
}
