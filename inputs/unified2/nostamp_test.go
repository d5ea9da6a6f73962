package unified2

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// rewrite truncates path and writes parts from its start, as Snort's
// fopen(path, "wb") does with nostamp when it starts or rolls over (the
// inode stays the same). Records go in one write, as Snort's buffered
// stream flushes them: written one by one on a loaded machine, an event's
// packet may come after idle_flush and make an alert of its own.
func rewrite(t *testing.T, path string, parts ...[]byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(bytes.Join(parts, nil)); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// events counts the IDS event records (type 7) among recs.
func events(recs [][]byte) int {
	n := 0
	for _, r := range recs {
		if binary.BigEndian.Uint32(r) == 7 {
			n++
		}
	}
	return n
}

func noStampSpool(dir string) *Spool {
	s := newSpool(dir)
	s.NoStamp = true
	return s
}

// Snort with nostamp writes the real Snort 2.9.20 run into snort.u2 (no
// timestamp suffix); the follower reads it as it grows, restarts from its
// bookmark without repeating or losing an alert; Snort restarts and
// rewrites the file from its start with other alerts (djcas9's legacy
// file, more bytes than were read of the first content, so only the
// first-record check can tell): every new alert arrives, with ids of its
// own although offsets repeat; the gateway down while Snort rewrites again:
// the bookmark of the old content is recognised and the new one read from 0.
func TestSpoolNoStamp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snort.u2")
	snort := snortRecords(t) // 23 alerts in 46 records
	appendFile(t, path, bytes.Join(snort[:20], nil))
	rec := &recorder{ackDelay: time.Millisecond}
	s := noStampSpool(dir)
	stop := runSpool(t, s, rec)
	waitFor(t, "10 alerts", func() bool { return rec.count() == 10 })
	stop()
	first := rec.ids()
	bm, ok, err := ReadBookmark(s.BookmarkPath)
	if err != nil || !ok || bm.File != "snort.u2" || bm.Gen == "" {
		t.Fatalf("bookmark %+v %v %v", bm, ok, err)
	}

	// Snort goes on writing while the gateway is down; the gateway comes
	// back and reads the rest of the same content.
	appendFile(t, path, bytes.Join(snort[20:], nil))
	rec2 := &recorder{ackDelay: time.Millisecond}
	stop = runSpool(t, noStampSpool(dir), rec2)
	waitFor(t, "the other 13 alerts", func() bool { return rec2.count() == 13 })
	time.Sleep(50 * time.Millisecond)
	if rec2.count() != 13 {
		t.Fatalf("%d alerts after the restart, want 13", rec2.count())
	}
	st, _ := os.Stat(path)
	expectBookmark(t, s, Position{File: "snort.u2", Offset: st.Size(), Gen: bm.Gen})

	// Snort restarts: the same file, truncated, other alerts, longer than
	// what was read.
	legacy := records(t, legacyFile(t))[:200]
	want := events(legacy)
	rewrite(t, path, legacy...)
	waitFor(t, "the rewritten file's alerts", func() bool { return rec2.count() == 13+want })
	time.Sleep(50 * time.Millisecond)
	stop()
	if rec2.count() != 13+want {
		t.Fatalf("%d alerts, want %d", rec2.count(), 13+want)
	}
	seen := map[string]bool{}
	for _, id := range append(first, rec2.ids()...) {
		if seen[id] {
			t.Fatalf("event id %s given to two alerts (or one alert delivered twice)", id)
		}
		seen[id] = true
	}
	for i, e := range rec2.events[13:] {
		if e.Signature == nil || e.SrcIP.IsValid() == false {
			t.Fatalf("alert %d of the new content: %+v", i, e)
		}
	}
	bm2, _, _ := ReadBookmark(s.BookmarkPath)
	st, _ = os.Stat(path)
	if bm2.Gen == bm.Gen || bm2.Gen == "" || bm2.Offset != st.Size() {
		t.Fatalf("bookmark after the rewrite %+v (size %d), before %+v", bm2, st.Size(), bm)
	}

	// Rewritten again while the gateway is down, with the first content
	// (longer than the bookmark's offset): read from its start.
	rewrite(t, path, snort...)
	rec3 := &recorder{}
	stop = runSpool(t, noStampSpool(dir), rec3)
	waitFor(t, "23 alerts of the content written while down", func() bool { return rec3.count() == 23 })
	time.Sleep(50 * time.Millisecond)
	stop()
	if rec3.count() != 23 || len(rec.failed)+len(rec2.failed)+len(rec3.failed) != 0 {
		t.Fatalf("%d alerts, failures %v %v %v", rec3.count(), rec.failed, rec2.failed, rec3.failed)
	}
	// The first content again: the same alerts, the same ids as the first
	// time (ids follow the content, not the read).
	for i, id := range first {
		if rec3.events[i].ID != id {
			t.Fatalf("alert %d: id %s, first read as %s", i, rec3.events[i].ID, id)
		}
	}
}

// Truncated to nothing (Snort restarted, no alert yet), then written: the
// follower waits at 0 and reads the new alerts.
func TestSpoolNoStampTruncated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snort.u2")
	snort := snortRecords(t)
	appendFile(t, path, bytes.Join(snort[:10], nil))
	rec := &recorder{}
	stop := runSpool(t, noStampSpool(dir), rec)
	defer stop()
	waitFor(t, "5 alerts", func() bool { return rec.count() == 5 })
	rewrite(t, path)
	time.Sleep(50 * time.Millisecond)
	appendFile(t, path, bytes.Join(snort[:4], nil))
	waitFor(t, "2 more alerts", func() bool { return rec.count() == 7 })
}

// nostamp options: the file is <prefix>; processed files cannot be deleted
// or archived (Snort writes to the one file).
func TestNoStampOptions(t *testing.T) {
	o := DefaultOptions()
	o.Directory, o.Prefix, o.NoStamp = t.TempDir(), "unified2.log", true
	if p := o.Validate(); len(p) != 0 {
		t.Fatal(p)
	}
	o.Processed = "delete"
	if p := o.Validate(); len(p) != 1 || p[0].Path != "processed" {
		t.Fatalf("%v", p)
	}
}
