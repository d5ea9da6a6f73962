package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
	"github.com/alertgw/alertgw/store/storetest"
)

// dirBytes sums the sizes of the files in dir.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range ents {
		st, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += st.Size()
	}
	return n
}

// fiveDays writes 40 events a day for five days, one day partition each.
func fiveDays(t *testing.T, dir string) time.Time {
	t.Helper()
	day0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	w, err := OpenWriter(WriterOptions{Dir: dir, Partition: Day})
	if err != nil {
		t.Fatal(err)
	}
	for d := range 5 {
		from := day0.AddDate(0, 0, d)
		evs := storetest.Events(40, uint64(d+1), from, from.Add(20*time.Hour))
		writeAll(t, w, evs, storetest.Lines(evs), 40)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return day0
}

func TestRetentionFreesFilesAndBytes(t *testing.T) {
	dir := t.TempDir()
	day0 := fiveDays(t, dir)
	parts, foreign, err := Scan(dir)
	if err != nil || len(foreign) != 0 || len(parts) != 5 {
		t.Fatalf("scan: %d partitions, foreign %v, %v", len(parts), foreign, err)
	}
	var sum int64
	for _, p := range parts {
		sum += p.Bytes
	}
	if before := dirBytes(t, dir); sum != before || before == 0 {
		t.Fatalf("partitions hold %d bytes, the directory %d", sum, before)
	}

	// By age: at day 5 + 12h with 3 days of retention, days 0 and 1 go
	// (they ended at day 1 and day 2, more than 3 days before).
	now := day0.AddDate(0, 0, 5).Add(12 * time.Hour)
	gone := RetentionPolicy{MaxAge: 3 * 24 * time.Hour}.Expired(parts, now)
	if len(gone) != 2 || gone[0].Reason != "age" || !gone[1].Start.Equal(day0.AddDate(0, 0, 1)) {
		t.Fatalf("expired %+v", gone)
	}
	before := dirBytes(t, dir)
	var freed int64
	for _, g := range gone {
		if err := Remove(dir, g.Partition); err != nil {
			t.Fatal(err)
		}
		freed += g.Bytes
		for _, f := range g.Files {
			for _, s := range []string{"", "-wal", "-shm"} {
				if _, err := os.Stat(filepath.Join(dir, f+s)); !os.IsNotExist(err) {
					t.Errorf("%s%s still there: %v", f, s, err)
				}
			}
		}
	}
	if after := dirBytes(t, dir); after != before-freed || freed == 0 {
		t.Errorf("directory %d → %d bytes, freed %d", before, after, freed)
	}

	// By budget: the oldest go until the rest fit; the newest always stays.
	parts, _, _ = Scan(dir)
	newest := parts[len(parts)-1]
	gone = RetentionPolicy{MaxBytes: newest.Bytes + parts[1].Bytes}.Expired(parts, now)
	if len(gone) != 1 || gone[0].Reason != "max_bytes" || !gone[0].Start.Equal(parts[0].Start) {
		t.Fatalf("over budget: %+v", gone)
	}
	gone = RetentionPolicy{MaxBytes: 1}.Expired(parts, now)
	if len(gone) != 2 {
		t.Fatalf("budget of 1 byte removes %d of 3 partitions, want all but the newest", len(gone))
	}
}

// TestForeignAndCorruptFiles: files in the store directory that are not
// ours are reported and never deleted; a corrupt partition is skipped by
// searches with a warning.
func TestForeignAndCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	day0 := fiveDays(t, dir)
	// Keep days 2 and 4; day 3 becomes a truncated (corrupt) partition,
	// days 0 and 1 become foreign files with partition names.
	p3 := filepath.Join(dir, "alertgw-20261103-0.db")
	if err := os.Truncate(p3, 4096); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "alertgw-20261101-0.db"))
	os.Remove(filepath.Join(dir, "alertgw-20261102-0.db"))
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("alertgw-20261101-0.db", "not a database at all, but a partition's name")
	write("notes.txt", "an operator's notes")
	if err := os.Mkdir(filepath.Join(dir, ConsoleDir), 0o700); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(ConsoleDir, "triage.db"), "the console's state")
	other, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "alertgw-20261102-0.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(`CREATE TABLE x (a); PRAGMA application_id = 1234`); err != nil {
		t.Fatal(err)
	}
	other.Close()

	parts, foreign, err := Scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, f := range foreign {
		names[f.Name] = f.Reason
	}
	for _, n := range []string{"alertgw-20261101-0.db", "alertgw-20261102-0.db", "notes.txt"} {
		if names[n] == "" {
			t.Errorf("%s not reported as foreign: %v", n, foreign)
		}
	}
	if !strings.Contains(names["alertgw-20261102-0.db"], "another application") {
		t.Errorf("reason for the other application's database: %q", names["alertgw-20261102-0.db"])
	}
	if names[ConsoleDir] != "" {
		t.Errorf("the console's directory is reported as foreign")
	}
	if len(parts) != 3 { // days 2, 3 (corrupt but ours), 4
		t.Errorf("partitions %+v", parts)
	}

	rd, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	res, err := rd.Events(context.Background(), store.EventsRequest{Filter: store.Filter{Query: query.MustParse("-kind:audit"),
		From: day0, To: day0.AddDate(0, 0, 6)}, Limit: 1000})
	if err != nil {
		t.Fatalf("search beside foreign and corrupt files: %v", err)
	}
	if len(res.Events) != 80 {
		t.Errorf("%d events, want the 80 of days 2 and 4", len(res.Events))
	}
	warn := strings.Join(res.Warnings, "\n")
	for _, n := range []string{"alertgw-20261101-0.db", "alertgw-20261102-0.db", "alertgw-20261103-0.db"} {
		if !strings.Contains(warn, n) {
			t.Errorf("no warning about %s: %q", n, warn)
		}
	}
	if strings.Contains(warn, "notes.txt") {
		t.Errorf("warned about a file without a partition's name: %q", warn)
	}

	// Retention removes every partition of ours, corrupt or not, and
	// leaves the rest alone.
	for _, g := range (RetentionPolicy{MaxAge: time.Nanosecond}).Expired(parts, day0.AddDate(0, 1, 0)) {
		if err := Remove(dir, g.Partition); err != nil {
			t.Fatal(err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	for i := range left {
		left[i] = filepath.Base(left[i])
	}
	if strings.Join(left, " ") != "alertgw-20261101-0.db alertgw-20261102-0.db console notes.txt" {
		t.Errorf("left after retention: %v", left)
	}
}

func TestBounds(t *testing.T) {
	dir := t.TempDir()
	day0 := fiveDays(t, dir)
	rd, _ := OpenReader(dir)
	defer rd.Close()
	ctx := context.Background()

	// A timeout cuts the search and says so; it is not an error.
	res, err := rd.Events(ctx, store.EventsRequest{Filter: store.Filter{From: day0, To: day0.AddDate(0, 0, 5), Timeout: time.Nanosecond}})
	if err != nil || !res.TimedOut {
		t.Errorf("1 ns timeout: timed out %v, %v", res != nil && res.TimedOut, err)
	}
	// Any range is bounded by the rows asked for.
	huge := store.Filter{From: time.Date(2, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}
	res, err = rd.Events(ctx, store.EventsRequest{Filter: huge, Limit: 50})
	if err != nil || len(res.Events) != 50 || !res.Truncated || res.Next == "" {
		t.Errorf("huge range: %d events, truncated %v: %v", len(res.Events), res.Truncated, err)
	}
	res, err = rd.Events(ctx, store.EventsRequest{Filter: huge, Limit: store.MaxLimit * 10})
	if err != nil || len(res.Events) != 200 {
		t.Errorf("limit above the maximum: %d events, %v", len(res.Events), err)
	}
	h, err := rd.Histogram(ctx, store.HistogramRequest{Filter: huge})
	if err != nil || len(h.Buckets) > 201 {
		t.Fatalf("histogram of ten thousand years: %d buckets, %v", len(h.Buckets), err)
	}
	var n int64
	for _, b := range h.Buckets {
		n += b.Count
	}
	if n != 200 {
		t.Errorf("histogram of ten thousand years counts %d events, want 200", n)
	}
	if _, err := rd.Histogram(ctx, store.HistogramRequest{Filter: huge, Interval: time.Second}); err == nil {
		t.Error("a histogram of 10^11 buckets was not refused")
	}
	if _, err := rd.Events(ctx, store.EventsRequest{Filter: store.Filter{From: day0, To: day0}}); err == nil {
		t.Error("an empty window was not refused")
	}
	if _, err := rd.Events(ctx, store.EventsRequest{Filter: huge, After: "garbage"}); err == nil {
		t.Error("a bad cursor was not refused")
	}
	// A store directory that does not exist yet holds nothing.
	empty, _ := OpenReader(filepath.Join(dir, "nope"))
	res, err = empty.Events(ctx, store.EventsRequest{Filter: huge})
	if err != nil || len(res.Events) != 0 {
		t.Errorf("missing directory: %v %v", res, err)
	}
}
