package diskbuf

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/alertgw/alertgw/internal/eventcodec"
	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
)

func rec(i int) []byte { return fmt.Appendf(nil, "record-%06d", i) }

func open(t testing.TB, dir string, mod ...func(*Options)) *Buffer {
	t.Helper()
	o := Options{Dir: dir}
	for _, m := range mod {
		m(&o)
	}
	b, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// drain reads and acknowledges everything, returning the records.
func drain(t testing.TB, b *Buffer, batch int) []string {
	t.Helper()
	var got []string
	for {
		recs, pos, err := b.Next(batch, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return got
		}
		for _, r := range recs {
			got = append(got, string(r))
		}
		if err := b.Ack(pos, len(recs)); err != nil {
			t.Fatal(err)
		}
	}
}

func want(from, to int) []string {
	var s []string
	for i := from; i < to; i++ {
		s = append(s, string(rec(i)))
	}
	return s
}

func equal(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func TestAppendReadAckAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir, func(o *Options) { o.SegmentBytes = 200 })
	for i := range 100 {
		if err := b.Append(rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	if c := b.Counters(); c.Records != 100 {
		t.Fatalf("records = %d", c.Records)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) < 5 {
		t.Fatalf("expected many segments, got %d", len(segs))
	}
	equal(t, drain(t, b, 7), want(0, 100))
	segs, _ = filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("delivered segments not deleted: %d left", len(segs))
	}
	if c := b.Counters(); c.Records != 0 {
		t.Fatalf("records after drain = %d", c.Records)
	}
	b.Close()
}

func TestReplayUnackedAfterReopen(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir, func(o *Options) { o.SegmentBytes = 300 })
	for i := range 50 {
		b.Append(rec(i))
	}
	// Deliver 20, read 10 more without acknowledging them (in flight when
	// the process dies).
	recs, pos, _ := b.Next(20, 1<<20)
	b.Ack(pos, len(recs))
	b.Next(10, 1<<20)
	// No Close: simulate a crash (nothing synced; the kernel closes the
	// files and drops the lock, the page cache keeps the data, as after
	// SIGKILL).
	b.closeFiles()
	b2 := open(t, dir)
	if c := b2.Counters(); c.Records != 30 {
		t.Fatalf("records after reopen = %d, want 30", c.Records)
	}
	equal(t, drain(t, b2, 8), want(20, 50))
	b2.Close()
}

func TestTornTailTruncated(t *testing.T) {
	for name, damage := range map[string]func(path string, size int64){
		"partial record": func(p string, size int64) { os.Truncate(p, size-3) },
		"zeros appended": func(p string, size int64) {
			f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			f.Write(make([]byte, 4096))
			f.Close()
		},
		"flipped byte": func(p string, size int64) {
			f, _ := os.OpenFile(p, os.O_WRONLY, 0)
			f.WriteAt([]byte{'X'}, size-2)
			f.Close()
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			b := open(t, dir)
			for i := range 10 {
				b.Append(rec(i))
			}
			b.Close()
			path := b.segPath(b.segs[0].id)
			st, _ := os.Stat(path)
			damage(path, st.Size())
			b2 := open(t, dir)
			defer b2.Close()
			c := b2.Counters()
			if c.Corrupt != 1 || c.Truncated == 0 {
				t.Fatalf("corruption not counted: %+v", c)
			}
			n := 9
			if name == "zeros appended" {
				n = 10
			}
			// Appends after the truncation are read after the survivors.
			b2.Append(rec(100))
			equal(t, drain(t, b2, 3), append(want(0, n), string(rec(100))))
		})
	}
}

func TestCorruptAckFallsBackToStart(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	for i := range 10 {
		b.Append(rec(i))
	}
	recs, pos, _ := b.Next(4, 1<<20)
	b.Ack(pos, len(recs))
	b.Close()
	os.WriteFile(filepath.Join(dir, "ack"), []byte("garbage garbage garbage"), 0o640)
	b2 := open(t, dir)
	defer b2.Close()
	// At least once: the four delivered come again rather than anything lost.
	equal(t, drain(t, b2, 100), want(0, 10))
}

func TestFullAndDropOldest(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir, func(o *Options) { o.MaxBytes = 1000; o.SegmentBytes = 200 })
	defer b.Close()
	var i int
	for ; ; i++ {
		if err := b.Append(rec(i)); err == ErrFull {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if c := b.Counters(); c.Bytes > 1000 {
		t.Fatalf("buffer grew past max: %d", c.Bytes)
	}
	lost := b.DropOldest()
	if lost == 0 {
		t.Fatal("drop oldest dropped nothing")
	}
	if err := b.Append(rec(i)); err != nil {
		t.Fatalf("append after drop: %v", err)
	}
	got := drain(t, b, 100)
	if int64(len(got)) != int64(i+1)-lost {
		t.Fatalf("got %d records, want %d", len(got), int64(i+1)-lost)
	}
	if got[len(got)-1] != string(rec(i)) {
		t.Fatalf("newest record missing")
	}
}

func TestRewindRereadsUnacked(t *testing.T) {
	b := open(t, t.TempDir())
	defer b.Close()
	for i := range 5 {
		b.Append(rec(i))
	}
	b.Next(3, 1<<20)
	b.Rewind()
	equal(t, drain(t, b, 2), want(0, 5))
}

func benchAppend(b *testing.B, sync string) {
	buf := open(b, b.TempDir(), func(o *Options) { o.Sync = sync; o.MaxBytes = 64 << 30 })
	defer buf.Close()
	rec := eventcodec.AppendEvent(nil, testutil.FullEvent())
	for len(rec) < 1000 { // ~1 KB events, as a Suricata alert with metadata
		rec = eventcodec.AppendEvent(nil, func() *normalize.Event {
			e := testutil.FullEvent()
			e.Details = append(e.Details, testutil.Filler(1000-len(rec)))
			return e
		}())
	}
	const batch = 256
	recs := make([][]byte, batch)
	for i := range recs {
		recs[i] = rec
	}
	b.SetBytes(int64(len(rec)) * batch)
	b.ResetTimer()
	for b.Loop() {
		if err := buf.Append(recs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

// kbEvent is a record of about 1 KB: a Suricata alert with its metadata
// and some payload, the size the targets are stated for.
func kbEvent() []byte {
	e := testutil.FullEvent()
	base := len(eventcodec.AppendEvent(nil, e))
	e.Details = append(e.Details, testutil.Filler(1024-base-24))
	return eventcodec.AppendEvent(nil, e)
}

func BenchmarkAppend(b *testing.B) {
	for _, s := range []string{SyncInterval, SyncNever, SyncAlways} {
		b.Run("sync="+s, func(b *testing.B) { benchAppend(b, s) })
	}
}

func BenchmarkReplay(b *testing.B) {
	dir := b.TempDir()
	buf := open(b, dir, func(o *Options) { o.MaxBytes = 64 << 30 })
	rec := kbEvent()
	const n = 100_000
	for range n / 100 {
		recs := make([][]byte, 100)
		for i := range recs {
			recs[i] = rec
		}
		buf.Append(recs...)
	}
	buf.Close()
	b.SetBytes(int64(len(rec)) * n)
	for b.Loop() {
		r := open(b, dir)
		var got int
		for {
			recs, _, err := r.Next(1000, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			for _, x := range recs {
				var ev normalize.Event
				if err := eventcodec.DecodeEvent(x, &ev); err != nil {
					b.Fatal(err)
				}
			}
			got += len(recs)
		}
		if got != n {
			b.Fatalf("replayed %d of %d", got, n)
		}
		r.Close()
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}

// FuzzOpenSegment opens a buffer whose only segment holds arbitrary bytes
// after the magic (a hostile or damaged disk): it must neither fail nor
// panic, and what it reads back are whole records with matching CRCs.
func FuzzOpenSegment(f *testing.F) {
	good := func(recs ...[]byte) []byte {
		var b []byte
		for _, r := range recs {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(r)))
			b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(r, castagnoli))
			b = append(b, r...)
		}
		return b
	}
	f.Add(good([]byte("one"), []byte("two")))
	f.Add(good([]byte("one"), []byte("two"))[:14])
	f.Add(append(good([]byte("one")), make([]byte, 64)...))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%020d%s", 1, segExt)), append([]byte(magic), body...), 0o640); err != nil {
			t.Fatal(err)
		}
		b, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer b.Close()
		var n int64
		for {
			recs, pos, err := b.Next(100, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			n += int64(len(recs))
			b.Ack(pos, len(recs))
		}
		// Appending after whatever was cut off works and reads back.
		if err := b.Append([]byte("after")); err != nil {
			t.Fatal(err)
		}
		recs, _, _ := b.Next(10, 1<<20)
		if len(recs) != 1 || string(recs[0]) != "after" {
			t.Fatalf("after damage: read %q", recs)
		}
	})
}

func TestSecondOpenRefused(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	if _, err := Open(Options{Dir: dir}); err == nil {
		t.Fatal("a second buffer opened on the same directory")
	}
	b.Close()
	b2, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	b2.Close()
}

// TestCorruptionFoundWhileReading: a segment damaged after it was checked
// at open (the disk changed under us) loses the rest of that segment only;
// the figures say so and reading goes on with the next segment.
func TestCorruptionFoundWhileReading(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir, func(o *Options) { o.SegmentBytes = 250 })
	defer b.Close()
	for i := range 30 {
		b.Append(rec(i))
	}
	if len(b.segs) < 3 {
		t.Fatalf("want several segments, got %d", len(b.segs))
	}
	first := b.segs[0]
	f, err := os.OpenFile(b.segPath(first.id), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Damage the third record's payload: records are 8+13 bytes after the magic.
	f.WriteAt([]byte{'#'}, int64(len(magic))+2*21+headerSize+3)
	f.Close()
	perSeg := first.records
	got := drain(t, b, 4)
	c := b.Counters()
	if c.Lost != perSeg-2 || c.Corrupt != 1 {
		t.Fatalf("lost %d (want %d), corrupt %d", c.Lost, perSeg-2, c.Corrupt)
	}
	if int64(len(got)) != 30-c.Lost || b.Unread() != 0 || c.Records != 0 {
		t.Fatalf("read %d, unread %d, records %d", len(got), b.Unread(), c.Records)
	}
	if got[0] != string(rec(0)) || got[2] != string(rec(int(perSeg))) {
		t.Fatalf("wrong records around the damage: %v", got[:3])
	}
}
