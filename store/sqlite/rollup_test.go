package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
	"github.com/alertgw/alertgw/store/storetest"
)

// rollupRows returns a rollup table's rows as sorted text, for comparing.
func rollupRows(t *testing.T, db *sql.DB, r *rollup, table string) string {
	t.Helper()
	rs, err := db.Query("SELECT quote(bucket), " + strings.Join(quoteEach(r.cols), ", ") + ", n, first_ts, last_ts FROM " + table +
		" ORDER BY 1, " + strings.Join(quoteEach(r.cols), ", "))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var b strings.Builder
	vals := make([]any, len(r.cols)+4)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func quoteEach(cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = "quote(" + c + ")"
	}
	return out
}

func rollupByName(t *testing.T, table string) *rollup {
	for _, r := range rollups {
		if r.table == table {
			return r
		}
	}
	t.Fatalf("no rollup %s", table)
	return nil
}

func openRW(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", WriteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestRollupsMatchEvents: the rollups the writer keeps batch by batch hold
// exactly what a rebuild from the events gives, and the upsert finds its
// row through the index (not a scan of the bucket).
func TestRollupsMatchEvents(t *testing.T) {
	evs, lines, _, _ := testEvents(3000)
	dir := t.TempDir()
	w, err := OpenWriter(WriterOptions{Dir: dir, Partition: Day})
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, evs, lines, 97) // keys repeat across batches: updates and inserts
	w.Close()
	db := openRW(t, filepath.Join(dir, "alertgw-20261120-0.db"))
	for _, r := range rollups {
		got := rollupRows(t, db, r, r.table)
		if got == "" {
			t.Fatalf("%s is empty", r.table)
		}
		if _, err := db.Exec("CREATE TEMP TABLE want AS SELECT * FROM " + r.table + " WHERE 0"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(strings.Replace(r.rebuild(), "INSERT INTO "+r.table, "INSERT INTO temp.want", 1)); err != nil {
			t.Fatal(err)
		}
		if want := rollupRows(t, db, r, "temp.want"); got != want {
			t.Errorf("%s differs from a rebuild:\n got %.2000s\nwant %.2000s", r.table, got, want)
		}
		if _, err := db.Exec("DROP TABLE temp.want"); err != nil {
			t.Fatal(err)
		}
		// The figures readers weigh the rollup by.
		var rows, n, metaRows, metaN int64
		if err := db.QueryRow("SELECT count(*), sum(n), (SELECT v FROM meta WHERE k = 'rows:' || ?1), (SELECT v FROM meta WHERE k = 'n:' || ?1) FROM "+r.table,
			r.table).Scan(&rows, &n, &metaRows, &metaN); err != nil {
			t.Fatal(err)
		}
		if rows != metaRows || n != metaN {
			t.Errorf("%s: %d rows counting %d events; meta says %d and %d", r.table, rows, n, metaRows, metaN)
		}
		var plan strings.Builder
		args := make([]any, 4+len(r.cols))
		rs, err := db.Query("EXPLAIN QUERY PLAN "+r.update, args...)
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var id, parent, unused int
			var detail string
			rs.Scan(&id, &parent, &unused, &detail)
			plan.WriteString(detail + "\n")
		}
		rs.Close()
		if !strings.Contains(plan.String(), "USING INDEX "+r.table+"_key") || strings.Count(plan.String(), "=") < 2 {
			t.Errorf("%s upsert plan: %s", r.table, plan.String())
		}
	}
}

// TestGroupsReadRollups: groupings and histograms that a rollup answers
// are read from it (a count changed in the rollup shows), others from the
// events; the edges of a window that are not whole buckets from the events.
func TestGroupsReadRollups(t *testing.T) {
	defer func(m int64) { minEventsPerRow = m }(minEventsPerRow)
	minEventsPerRow = 0 // the generated alerts have nearly a key each: use the rollup all the same
	evs, lines, from, to := testEvents(500)
	dir := t.TempDir()
	w, err := OpenWriter(WriterOptions{Dir: dir, Partition: Day})
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, evs, lines, 200)
	w.Close()
	rd, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ctx := context.Background()
	count := func(q string, by ...string) int64 {
		t.Helper()
		res, err := rd.Groups(ctx, store.GroupsRequest{Filter: store.Filter{Query: query.MustParse(q), From: from, To: to}, By: by, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total
	}
	hist := func(q string) int64 {
		t.Helper()
		res, err := rd.Histogram(ctx, store.HistogramRequest{Filter: store.Filter{Query: query.MustParse(q), From: from, To: to}, Interval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, b := range res.Buckets {
			n += b.Count
		}
		return n
	}
	var addr string
	for _, e := range evs {
		if e.Kind == "alert" && e.SrcIP.IsValid() {
			addr = e.SrcIP.String()
			break
		}
	}
	oneSource := count("kind:alert src_ip:"+addr, "signature.id", "dest_ip")
	inbox := count("kind:alert", "signature.id", "src_ip", "dest_ip")
	kinds := count("", "kind")
	ports := count("kind:alert", "dest_port")
	textual := count(`kind:alert "ssh scan"`, "signature.id")
	h := hist("action:blocked")
	// Inflate every rollup row tenfold behind the reader's back (a new
	// connection; the reader sees the file change).
	for _, name := range []string{"alertgw-20261120-0.db", "alertgw-20261121-0.db"} {
		db := openRW(t, filepath.Join(dir, name))
		for _, r := range rollups {
			if _, err := db.Exec("UPDATE " + r.table + " SET n = n * 10"); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"inbox (hour rollup)", count("kind:alert", "signature.id", "src_ip", "dest_ip"), inbox * 10},
		{"kinds (minute rollup)", count("", "kind"), kinds * 10},
		{"dest_port (not in a rollup)", count("kind:alert", "dest_port"), ports},
		{"one source (the events' index)", count("kind:alert src_ip:"+addr, "signature.id", "dest_ip"), oneSource},
		{"full text (not in a rollup)", count(`kind:alert "ssh scan"`, "signature.id"), textual},
		{"histogram (minute rollup)", hist("action:blocked"), h * 10},
		{"inbox where the rollup does not condense", func() int64 {
			minEventsPerRow = 1 << 40
			defer func() { minEventsPerRow = 0 }()
			return count("kind:alert", "signature.id", "src_ip", "dest_ip")
		}(), inbox},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	// A window with partial hours at both ends: the edges come from the
	// events (counted once), the whole hours from the rollup (tenfold).
	res, err := rd.Groups(ctx, store.GroupsRequest{Filter: store.Filter{Query: query.MustParse("kind:alert"),
		From: from.Add(30 * time.Minute), To: to.Add(-30 * time.Minute)}, By: []string{"signature.id"}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var edges, whole int64
	for _, e := range evs {
		if e.Kind != "alert" {
			continue
		}
		switch ts := e.Timestamp; {
		case ts.Before(from.Add(30*time.Minute)) || !ts.Before(to.Add(-30*time.Minute)):
		case ts.Before(from.Add(time.Hour)) || !ts.Before(to.Add(-time.Hour)):
			edges++
		default:
			whole++
		}
	}
	if res.Total != edges+10*whole {
		t.Errorf("partial window: %d, want %d edge + 10×%d whole-hour alerts", res.Total, edges, whole)
	}
}

// TestVersion1Partition: a partition written before the rollups (schema
// version 1) is searched by scanning its events, and gets its rollups,
// rebuilt, when a writer opens it again.
func TestVersion1Partition(t *testing.T) {
	evs, lines, from, to := testEvents(300)
	dir := t.TempDir()
	w, err := OpenWriter(WriterOptions{Dir: dir, Partition: Day})
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, evs, lines, 100)
	w.Close()
	// Make both files what version 1 wrote.
	for _, name := range []string{"alertgw-20261120-0.db", "alertgw-20261121-0.db"} {
		db := openRW(t, filepath.Join(dir, name))
		for _, r := range rollups {
			if _, err := db.Exec("DROP TABLE " + r.table); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec("PRAGMA user_version = 1"); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	rd, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	queries := []string{"", "kind:alert", "-kind:alert", "action:blocked", "src_ip:10.0.0.0/8"}
	storetest.RunQueries(t, rd, evs, lines, from, to, queries)
	if t.Failed() {
		t.Fatal("version 1 files are not read as before")
	}
	// Retention counts them as partitions (to expire), not foreign files.
	if parts, foreign, err := Scan(dir); err != nil || len(parts) != 2 || len(foreign) != 0 {
		t.Fatalf("Scan: %d partitions, foreign %v, %v; want the 2 version 1 files", len(parts), foreign, err)
	}
	// The writer upgrades the file it opens (the later day, written next).
	w, err = OpenWriter(WriterOptions{Dir: dir, Partition: Day})
	if err != nil {
		t.Fatal(err)
	}
	more := storetest.Events(50, 99, to.Add(-time.Hour), to)
	moreLines := storetest.Lines(more)
	writeAll(t, w, more, moreLines, 50)
	w.Close()
	db := openRW(t, filepath.Join(dir, "alertgw-20261121-0.db"))
	var ver int
	if err := db.QueryRow("PRAGMA user_version").Scan(&ver); err != nil || ver != SchemaVersion {
		t.Fatalf("after the writer opened it: version %d %v", ver, err)
	}
	if rollupRows(t, db, rollupByName(t, "rollup_minute"), "rollup_minute") == "" {
		t.Error("rollup_minute not rebuilt")
	}
	db.Close()
	// Upgrade does the rest of the directory.
	done, err := Upgrade(context.Background(), dir)
	if err != nil || len(done) != 1 || done[0] != "alertgw-20261120-0.db" {
		t.Fatalf("Upgrade: %v %v", done, err)
	}
	if done, err := Upgrade(context.Background(), dir); err != nil || len(done) != 0 {
		t.Fatalf("Upgrade again: %v %v", done, err)
	}
	storetest.RunQueries(t, rd, append(evs, more...), append(lines, moreLines...), from, to, queries)
}
