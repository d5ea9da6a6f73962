package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/stats"
	evstore "github.com/alertgw/alertgw/store"
	"github.com/alertgw/alertgw/store/sqlite"
	"github.com/alertgw/alertgw/store/storetest"
)

// logBuf collects log lines safely across goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newOutput(t *testing.T, o *Options) (*Output, *stats.Output, *logBuf) {
	t.Helper()
	st := &stats.Output{}
	logs := &logBuf{}
	out, err := New(outputs.Env{Name: "store", Log: zerolog.New(logs), Stats: st, Encoder: format.Native{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	return out, st, logs
}

func count(t *testing.T, dir, q string) int {
	t.Helper()
	rd, err := sqlite.OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	res, err := rd.Events(context.Background(), evstore.EventsRequest{Filter: evstore.Filter{Query: query.MustParse(q),
		From: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Now().Add(time.Hour)}, Limit: evstore.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Events)
}

func TestValidate(t *testing.T) {
	o := DefaultOptions()
	o.Partition, o.Kinds, o.Writers, o.CheckInterval = "week", []string{"alert", "alerts"}, -1, time.Millisecond
	got := o.Validate().Err().Error()
	for _, want := range []string{"path", "partition", `kinds[1]: "alerts" is not a kind`, "writers", "check_interval"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %q lack %q", got, want)
		}
	}
	o = DefaultOptions()
	o.Path = t.TempDir()
	if _, err := New(outputs.Env{Log: zerolog.Nop(), Stats: &stats.Output{}, Encoder: format.ECS{}}, o); err == nil ||
		!strings.Contains(err.Error(), "format must be native") {
		t.Errorf("format ecs: %v", err)
	}
}

func TestWriteKindsAndExactLines(t *testing.T) {
	o := DefaultOptions()
	o.Path, o.Kinds = t.TempDir(), []string{"alert", "flow"}
	out, st, _ := newOutput(t, o)
	now := time.Now().UTC()
	evs := storetest.Events(300, 1, now.Add(-time.Hour), now)
	b := &outputs.Batch{Events: evs}
	if err := out.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	var keep int
	for _, e := range evs {
		if e.Kind == normalize.KindAlert || e.Kind == normalize.KindFlow {
			keep++
		}
	}
	if n := count(t, o.Path, ""); n != keep || keep == len(evs) {
		t.Errorf("stored %d events, want the %d alerts and flows of %d", n, keep, len(evs))
	}
	if got := st.Figures.Snapshot()["skipped_kind_total"]; got != int64(len(evs)-keep) {
		t.Errorf("skipped_kind_total %d", got)
	}
	// The stored event is the line the file output writes.
	rd, _ := sqlite.OpenReader(o.Path)
	defer rd.Close()
	lines := b.Encode(format.Native{})
	for i, e := range evs[:20] {
		if e.Kind != normalize.KindAlert {
			continue
		}
		got, err := rd.Event(context.Background(), e.ID)
		if err != nil || !bytes.Equal(got.JSON, lines.Line(i)) {
			t.Fatalf("event %s: %v\n got %s\nwant %s", e.ID, err, got.JSON, lines.Line(i))
		}
	}
}

// TestRetentionAtStartAndPeriodically: expired partitions go when the output
// starts and while it runs; foreign files are reported once and stay.
func TestRetentionAtStartAndPeriodically(t *testing.T) {
	dir := t.TempDir()
	// One clock reading for every partition: read anew each time, a run
	// across midnight put two of them a day further apart (seen at 00:00).
	base := time.Now().UTC()
	old := func(daysAgo int) {
		w, err := sqlite.OpenWriter(sqlite.WriterOptions{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		at := base.AddDate(0, 0, -daysAgo)
		evs := storetest.Events(20, uint64(daysAgo), at, at.Add(time.Minute))
		lines := storetest.Lines(evs)
		if _, err := w.Write(context.Background(), evs, func(i int) []byte { return lines[i] }); err != nil {
			t.Fatal(err)
		}
	}
	old(10)
	old(9)
	old(1)
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("mine"), 0o600)
	o := DefaultOptions()
	o.Path, o.Retention, o.CheckInterval = dir, evstore.Age(5*24*time.Hour), time.Second
	_, st, logs := newOutput(t, o)
	if n := count(t, dir, ""); n != 20 {
		t.Fatalf("after start: %d events, want the 20 of yesterday", n)
	}
	f := st.Figures.Snapshot()
	if f["removed_partitions_total"] != 2 || f["removed_bytes_total"] <= 0 || f["partitions"] != 1 || f["foreign_files"] != 1 {
		t.Errorf("figures after start: %v", f)
	}
	if strings.Count(logs.String(), "retention deleted a partition") != 2 || !strings.Contains(logs.String(), "README.txt") {
		t.Errorf("logs: %s", logs.String())
	}

	old(7) // a partition that expired while the gateway runs
	deadline := time.Now().Add(10 * time.Second)
	for st.Figures.Snapshot()["removed_partitions_total"] != 3 {
		if time.Now().After(deadline) {
			t.Fatal("the periodic check did not delete the expired partition")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.txt")); err != nil {
		t.Errorf("a foreign file was touched: %v", err)
	}
	if n := strings.Count(logs.String(), "README.txt"); n != 1 {
		t.Errorf("the foreign file was reported %d times", n)
	}
}

// TestPauseOnLowSpace: below min_free the output pauses (not ready, the
// batch fails and is retried), and resumes by itself when space is back.
func TestPauseOnLowSpace(t *testing.T) {
	o := DefaultOptions()
	o.Path = t.TempDir()
	out, st, logs := newOutput(t, o)
	var free uint64 = 1 << 20
	var mu sync.Mutex
	out.free = func(string) (uint64, error) { mu.Lock(); defer mu.Unlock(); return free, nil }
	now := time.Now().UTC()
	b := &outputs.Batch{Events: storetest.Events(50, 1, now.Add(-time.Minute), now)}
	err := out.Write(context.Background(), b)
	if !errors.Is(err, errFull) || st.PausedFor() == "" || st.Ready() {
		t.Fatalf("low space: err %v, paused %q, ready %v", err, st.PausedFor(), st.Ready())
	}
	if n := count(t, o.Path, ""); n != 0 {
		t.Errorf("%d events written while paused", n)
	}
	mu.Lock()
	free = 1 << 30
	mu.Unlock()
	if err := out.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if st.PausedFor() != "" || !st.Ready() || count(t, o.Path, "") != 50 {
		t.Errorf("after space came back: paused %q, ready %v", st.PausedFor(), st.Ready())
	}
	if !strings.Contains(logs.String(), "paused") || !strings.Contains(logs.String(), "resuming") {
		t.Errorf("logs: %s", logs.String())
	}
}

func TestIsFull(t *testing.T) {
	for _, err := range []error{errors.New("database or disk is full (13)"), &os.PathError{Op: "write", Err: syscall.ENOSPC}} {
		if !isFull(err) {
			t.Errorf("isFull(%v) = false", err)
		}
	}
	if isFull(errors.New("database is locked")) {
		t.Error("a lock is not a full disk")
	}
}
