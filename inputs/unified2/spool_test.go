package unified2

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
	u2 "github.com/alertgw/alertgw/normalize/unified2"
	"github.com/alertgw/alertgw/stats"
)

// recorder is an inputs.Emitter that keeps events and acknowledges them
// (at once, or when ackDelay > 0, later from another goroutine, out of
// order, like concurrent outputs would).
type recorder struct {
	mu       sync.Mutex
	events   []*normalize.Event
	failed   []string
	ackDelay time.Duration
	hold     bool // never ack
}

func (r *recorder) Messages(*inputs.Batch) {}

func (r *recorder) Events(evs []*normalize.Event, done func()) {
	r.mu.Lock()
	r.events = append(r.events, evs...)
	r.mu.Unlock()
	switch {
	case done == nil, r.hold:
	case r.ackDelay > 0:
		d := time.Duration(len(evs)%3) * r.ackDelay
		time.AfterFunc(d, done)
	default:
		done()
	}
}

func (r *recorder) Failed(raw []byte, reason string, err error) {
	r.mu.Lock()
	r.failed = append(r.failed, reason+": "+err.Error())
	r.mu.Unlock()
}

// checkIdentity checks, once the input stopped, that every record is
// accounted for once: received = normalized + merged + failed + dropped.
func checkIdentity(t *testing.T, st *stats.Input, r *recorder) {
	t.Helper()
	r.mu.Lock()
	events, failed := uint64(len(r.events)), uint64(len(r.failed))
	r.mu.Unlock()
	if got, want := st.Received.Load(), events+st.Merged.Load()+failed+st.Dropped.Total(); got != want {
		t.Errorf("received %d ≠ %d events + %d merged + %d failed + %d dropped %v",
			got, events, st.Merged.Load(), failed, st.Dropped.Total(), st.Dropped.Snapshot())
	}
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.events))
	for i, e := range r.events {
		out[i] = e.ID
	}
	return out
}

// records splits a unified2 file into its records (header included).
func records(t testing.TB, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	if err := u2.Split(data, func(r u2.Record) error {
		out = append(out, data[r.Offset:r.End()])
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func snortRecords(t testing.TB) [][]byte {
	b, err := os.ReadFile("testdata/snort.u2.1795384908")
	if err != nil {
		t.Fatal(err)
	}
	return records(t, b)
}

func legacyFile(t testing.TB) []byte {
	return testutil.ReadGz(t, "testdata/djcas9-unified2_unified2-legacy.log.gz")
}

func newSpool(dir string) *Spool {
	return &Spool{
		Dir: dir, Prefix: "snort.u2", BookmarkPath: filepath.Join(dir, ".bookmark"),
		Processed: "keep", Poll: 10 * time.Millisecond, IdleFlush: 50 * time.Millisecond,
		BatchSize: 8, MaxRecord: u2.DefaultMaxBody, InputName: "u2", Mapper: &u2.Mapper{},
		Log: zerolog.Nop(), Stats: &stats.Input{}, DrainWait: 2 * time.Second,
	}
}

func appendFile(t testing.TB, path string, parts ...[]byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if _, err := f.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func runSpool(t *testing.T, s *Spool, rec *recorder) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, rec) }()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("spool: %v", err)
			}
		})
	}
}

func expectBookmark(t *testing.T, s *Spool, want Position) {
	t.Helper()
	waitFor(t, fmt.Sprintf("bookmark %v", want), func() bool {
		p, ok, _ := ReadBookmark(s.BookmarkPath)
		return ok && p == want
	})
}

// Records written in pieces (a record split across writes), then a newer
// file: every alert arrives once, in order; the bookmark ends at the end
// of the newest file; the partial record was waited for, not reported.
func TestSpoolFollowAndRotate(t *testing.T) {
	dir := t.TempDir()
	recs := snortRecords(t) // 46 records: 23 events + 23 packets
	a := filepath.Join(dir, "snort.u2.1000")
	appendFile(t, a, recs[:10]...)
	s := newSpool(dir)
	rec := &recorder{ackDelay: time.Millisecond}
	stop := runSpool(t, s, rec)
	defer stop()

	waitFor(t, "first alerts", func() bool { return rec.count() >= 4 })
	// Half a record, a pause, the other half.
	appendFile(t, a, recs[10][:13])
	time.Sleep(60 * time.Millisecond)
	appendFile(t, a, recs[10][13:])
	appendFile(t, a, recs[11:30]...)
	// A newer file: the follower finishes A and moves on.
	b := filepath.Join(dir, "snort.u2.1001")
	appendFile(t, b, recs[30:]...)
	waitFor(t, "all alerts", func() bool { return rec.count() == 23 })
	st, _ := os.Stat(b)
	expectBookmark(t, s, Position{File: "snort.u2.1001", Offset: st.Size()})
	for i, e := range rec.events {
		if got := string(e.Details.Get("event_id")); got != strconv.Itoa(i+1) {
			t.Fatalf("alert %d has event_id %s: out of order or duplicated", i, got)
		}
		if e.Packet == nil {
			t.Errorf("alert %d lost its packet", i)
		}
	}
	if len(rec.failed) != 0 {
		t.Errorf("failures: %v", rec.failed)
	}
}

// Restart from the bookmark: stop (acks complete), start again, add data:
// no alert is repeated or lost.
func TestSpoolRestart(t *testing.T) {
	dir := t.TempDir()
	recs := snortRecords(t)
	appendFile(t, filepath.Join(dir, "snort.u2.1000"), recs[:20]...)
	s := newSpool(dir)
	rec := &recorder{}
	stop := runSpool(t, s, rec)
	waitFor(t, "10 alerts", func() bool { return rec.count() == 10 })
	stop()
	first := rec.ids()

	appendFile(t, filepath.Join(dir, "snort.u2.1000"), recs[20:]...)
	rec2 := &recorder{}
	stop = runSpool(t, newSpool(dir), rec2)
	waitFor(t, "the other 13 alerts", func() bool { return rec2.count() == 13 })
	time.Sleep(100 * time.Millisecond)
	stop()
	seen := map[string]bool{}
	for _, id := range append(first, rec2.ids()...) {
		if seen[id] {
			t.Errorf("alert %s delivered twice", id)
		}
		seen[id] = true
	}
	if len(seen) != 23 {
		t.Errorf("%d distinct alerts, want 23", len(seen))
	}
}

// Unacknowledged alerts are not bookmarked: a restart delivers them again.
func TestSpoolUnackedRedelivered(t *testing.T) {
	dir := t.TempDir()
	appendFile(t, filepath.Join(dir, "snort.u2.1000"), snortRecords(t)...)
	s := newSpool(dir)
	s.DrainWait = 50 * time.Millisecond
	rec := &recorder{hold: true}
	stop := runSpool(t, s, rec)
	waitFor(t, "23 alerts", func() bool { return rec.count() == 23 })
	stop()
	if _, ok, _ := ReadBookmark(s.BookmarkPath); ok {
		t.Fatal("bookmark written although nothing was acknowledged")
	}
	rec2 := &recorder{}
	stop = runSpool(t, newSpool(dir), rec2)
	waitFor(t, "23 alerts again", func() bool { return rec2.count() == 23 })
	stop()
	if rec.ids()[5] != rec2.ids()[5] {
		t.Error("a redelivered alert changed its id")
	}
}

// A rotated file that ends in half a record: the tail is dead-lettered as
// truncated and reading goes on in the next file. A hostile length in the
// next file skips the rest of it, reported with file and offset.
func TestSpoolCorruptTail(t *testing.T) {
	dir := t.TempDir()
	recs := snortRecords(t)
	appendFile(t, filepath.Join(dir, "snort.u2.1000"), recs[:4]...)
	appendFile(t, filepath.Join(dir, "snort.u2.1000"), recs[4][:20])
	hostile := []byte{0, 0, 0, 2, 0x7f, 0xff, 0xff, 0xff}
	appendFile(t, filepath.Join(dir, "snort.u2.1001"), recs[6:10]...)
	appendFile(t, filepath.Join(dir, "snort.u2.1001"), hostile)
	appendFile(t, filepath.Join(dir, "snort.u2.1001"), recs[10:14]...)
	appendFile(t, filepath.Join(dir, "snort.u2.1002"), recs[14:18]...)
	s := newSpool(dir)
	rec := &recorder{}
	stop := runSpool(t, s, rec)
	defer stop()
	waitFor(t, "6 alerts", func() bool { return rec.count() == 6 })
	time.Sleep(100 * time.Millisecond)
	stop()
	checkIdentity(t, s.Stats, rec)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) != 6 {
		t.Errorf("%d alerts, want 2 + 2 + 2", len(rec.events))
	}
	if len(rec.failed) != 2 || !strings.HasPrefix(rec.failed[0], "truncated: snort.u2.1000") ||
		!strings.Contains(rec.failed[1], "snort.u2.1001: corrupt unified2 record at offset") {
		t.Errorf("failures: %q", rec.failed)
	}
}

func TestSpoolProcessedFiles(t *testing.T) {
	for _, mode := range []string{"delete", "archive"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			recs := snortRecords(t)
			appendFile(t, filepath.Join(dir, "snort.u2.1000"), recs[:10]...)
			appendFile(t, filepath.Join(dir, "snort.u2.1001"), recs[10:20]...)
			appendFile(t, filepath.Join(dir, "snort.u2.1002"), recs[20:]...)
			s := newSpool(dir)
			s.Processed, s.ArchiveDir = mode, filepath.Join(dir, "archive")
			os.Mkdir(s.ArchiveDir, 0o755)
			rec := &recorder{}
			stop := runSpool(t, s, rec)
			defer stop()
			waitFor(t, "23 alerts", func() bool { return rec.count() == 23 })
			waitFor(t, "older files processed", func() bool {
				_, e1 := os.Stat(filepath.Join(dir, "snort.u2.1000"))
				_, e2 := os.Stat(filepath.Join(dir, "snort.u2.1001"))
				return os.IsNotExist(e1) && os.IsNotExist(e2)
			})
			if _, err := os.Stat(filepath.Join(dir, "snort.u2.1002")); err != nil {
				t.Error("the file being followed was processed")
			}
			if mode == "archive" {
				if _, err := os.Stat(filepath.Join(s.ArchiveDir, "snort.u2.1000")); err != nil {
					t.Error("not archived")
				}
			}
			if rec.count() != 23 {
				t.Errorf("%d alerts", rec.count())
			}
		})
	}
}

func TestBookmarkFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bm")
	if _, ok, err := ReadBookmark(p); ok || err != nil {
		t.Fatal("missing bookmark")
	}
	want := Position{File: "snort.u2.17", Offset: 1234}
	if err := WriteBookmark(p, want); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := ReadBookmark(p); !ok || err != nil || got != want {
		t.Fatalf("got %v %v %v", got, ok, err)
	}
	os.WriteFile(p, []byte("../etc/passwd 1\n"), 0o644)
	if _, _, err := ReadBookmark(p); err == nil {
		t.Error("a bookmark naming another directory was accepted")
	}
}

func TestTrackerOutOfOrder(t *testing.T) {
	tr := newTracker(Position{File: "f", Offset: 0})
	a := tr.add(Position{File: "f", Offset: 10})
	b := tr.add(Position{File: "f", Offset: 20})
	c := tr.add(Position{File: "f", Offset: 30})
	c()
	b()
	if p, n := tr.position(); p.Offset != 0 || n != 3 {
		t.Fatalf("advanced past an unacknowledged batch: %v %d", p, n)
	}
	a()
	if p, n := tr.position(); p.Offset != 30 || n != 0 {
		t.Fatalf("position %v, %d pending", p, n)
	}
}

// --- SIGKILL ---------------------------------------------------------------

// TestSpoolHelperProcess is the child of TestSpoolSIGKILL: it follows the
// spool and "delivers" each batch by appending its ids to an output file
// with fsync, then acknowledges it, the way a file output does.
func TestSpoolHelperProcess(t *testing.T) {
	dir := os.Getenv("ALERTGW_U2_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for TestSpoolSIGKILL")
	}
	out, err := os.OpenFile(filepath.Join(dir, "out.txt"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	s := newSpool(filepath.Join(dir, "spool"))
	s.BatchSize = 16
	s.Prefix = "unified2.log"
	em := &fileEmitter{f: out}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s.Run(ctx, em)
}

type fileEmitter struct {
	mu sync.Mutex
	f  *os.File
}

func (e *fileEmitter) Messages(*inputs.Batch)       {}
func (e *fileEmitter) Failed([]byte, string, error) {}
func (e *fileEmitter) Events(evs []*normalize.Event, done func()) {
	e.mu.Lock()
	var b bytes.Buffer
	for _, ev := range evs {
		b.WriteString(ev.ID + "\n")
	}
	e.f.Write(b.Bytes())
	e.f.Sync()
	e.mu.Unlock()
	done()
}

// Kill the follower with SIGKILL twice in the middle of a file, restart it
// each time: every alert is delivered, none is lost, and the few repeated
// after a kill (delivered but not yet bookmarked) carry the same id.
func TestSpoolSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	os.Mkdir(spool, 0o755)
	data := legacyFile(t)
	recs := records(t, data)
	// Cut at event records, as Snort rotates between alerts.
	third := len(recs) / 3
	for !u2.IsEvent(binaryType(recs[third])) {
		third++
	}
	two := 2 * third
	for !u2.IsEvent(binaryType(recs[two])) {
		two++
	}
	for i, part := range [][][]byte{recs[:third], recs[third:two], recs[two:]} {
		appendFile(t, filepath.Join(spool, fmt.Sprintf("unified2.log.%d", 1000+i)), part...)
	}
	// The expected ids: every alert of every file.
	want := map[string]bool{}
	for i := range 3 {
		name := fmt.Sprintf("unified2.log.%d", 1000+i)
		b, _ := os.ReadFile(filepath.Join(spool, name))
		var g u2.Aggregator
		u2.Split(b, func(r u2.Record) error {
			if a, _ := g.Add(r); a != nil {
				want[eventID("u2", name, a.Start)] = true
			}
			return nil
		})
		if a := g.Flush(); a != nil {
			want[eventID("u2", name, a.Start)] = true
		}
	}
	if len(want) != 4703 {
		t.Fatalf("%d expected alerts", len(want))
	}
	outPath := filepath.Join(dir, "out.txt")
	lines := func() []string {
		b, _ := os.ReadFile(outPath)
		return strings.Fields(string(b))
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSpoolHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "ALERTGW_U2_HELPER_DIR="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	for _, killAt := range []int{900, 2600} {
		cmd := start()
		waitFor(t, fmt.Sprintf("%d alerts", killAt), func() bool { return len(lines()) >= killAt })
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	cmd := start()
	waitFor(t, "every alert", func() bool {
		seen := map[string]bool{}
		for _, id := range lines() {
			seen[id] = true
		}
		return len(seen) == len(want)
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	got := lines()
	seen := map[string]int{}
	for _, id := range got {
		if !want[id] {
			t.Fatalf("unexpected id %s", id)
		}
		seen[id]++
	}
	dups := len(got) - len(seen)
	t.Logf("%d alerts delivered, %d distinct, %d repeated after 2 SIGKILLs", len(got), len(seen), dups)
	// At most the batch in flight at each kill (16) is repeated.
	if dups > 2*16 {
		t.Errorf("%d alerts repeated: more than the batch in flight at each kill", dups)
	}
}

func binaryType(rec []byte) uint32 {
	return uint32(rec[0])<<24 | uint32(rec[1])<<16 | uint32(rec[2])<<8 | uint32(rec[3])
}

// The bookmark's directory is created at start; a bookmark that cannot be
// written makes the input not ready, and it is ready again once a write
// succeeds.
func TestBookmarkDirectoryAndFailure(t *testing.T) {
	dir := t.TempDir()
	recs := snortRecords(t)
	appendFile(t, filepath.Join(dir, "snort.u2.1000"), recs[:10]...)
	st := &stats.Input{}
	opts := DefaultOptions()
	opts.Directory, opts.Prefix = dir, "snort.u2"
	opts.Bookmark = filepath.Join(dir, "state", "nested", "u2.bookmark") // does not exist yet
	opts.PollInterval, opts.IdleFlush = 10*time.Millisecond, 50*time.Millisecond
	in, err := New(inputs.Env{Name: "u2", Log: zerolog.Nop(), Stats: st}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Dir(opts.Bookmark)); err != nil || !fi.IsDir() {
		t.Fatalf("bookmark directory not created: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	rec := &recorder{}
	go func() { done <- in.Run(ctx, rec) }()
	defer func() { cancel(); <-done }()
	s := &Spool{BookmarkPath: opts.Bookmark}
	expectBookmark(t, s, Position{File: "snort.u2.1000", Offset: fileSize(t, filepath.Join(dir, "snort.u2.1000"))})
	if p := st.Problem(); p != "" {
		t.Fatalf("problem %q while bookmarks are written", p)
	}

	// The directory disappears (a cleanup job): writes fail, not ready.
	if err := os.RemoveAll(filepath.Join(dir, "state")); err != nil {
		t.Fatal(err)
	}
	appendFile(t, filepath.Join(dir, "snort.u2.1000"), recs[10:20]...)
	waitFor(t, "a problem after the failed bookmark write", func() bool {
		return strings.Contains(st.Problem(), "bookmark "+opts.Bookmark+" cannot be written")
	})

	// Back: the next write succeeds and clears the problem.
	if err := os.MkdirAll(filepath.Dir(opts.Bookmark), 0o750); err != nil {
		t.Fatal(err)
	}
	appendFile(t, filepath.Join(dir, "snort.u2.1000"), recs[20:30]...)
	waitFor(t, "the problem cleared", func() bool { return st.Problem() == "" })
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
