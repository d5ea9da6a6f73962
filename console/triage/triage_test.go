package triage

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/pgtest"
)

func TestKey(t *testing.T) {
	k := Key{Fields: []string{"signature.id", "src_ip", "details.http.hostname"}, Values: []string{"2001219", "10.0.0.5", "a&b=c d"}}
	s := k.String()
	if s != "signature.id=2001219&src_ip=10.0.0.5&details.http.hostname=a%26b%3Dc+d" {
		t.Fatalf("String() = %q", s)
	}
	back, err := ParseKey(s)
	if err != nil || back.String() != s {
		t.Fatalf("ParseKey(%q) = %+v, %v", s, back, err)
	}
	sig := Key{Fields: []string{"signature.id"}, Values: []string{"2001219"}}
	if !sig.Covers(k) || k.Covers(sig) || (Key{}).Covers(k) {
		t.Error("Covers: a signature key covers its signature+src+dest groups, not the other way round; an empty key covers nothing")
	}
	absent := Key{Fields: []string{"signature.id", "src_port"}, Values: []string{"1", Absent}}
	if absent.String() != "signature.id=1&src_port" {
		t.Errorf("absent value: %q", absent.String())
	}
	if back, err := ParseKey("signature.id=1&src_port"); err != nil || back.Values[1] != Absent {
		t.Errorf("absent value parsed as %+v %v", back, err)
	}
	other := Key{Fields: []string{"signature.id"}, Values: []string{"2001220"}}
	if other.Covers(k) {
		t.Error("another signature covers the group")
	}
	for _, bad := range []string{"", "=x", "a=1&a=2", "a=%zz", strings.Repeat("a=b&", 600)} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add("signature.id=2001219&src_ip=10.0.0.5")
	f.Add("a=%26&b=")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			return
		}
		again, err := ParseKey(k.String())
		if err != nil || again.String() != k.String() {
			t.Fatalf("%q: key does not survive its text form: %v", s, err)
		}
	})
}

// backends opens a fresh store of each kind: SQLite in a temporary
// directory and tables in a real PostgreSQL.
func backends(t *testing.T) map[string]*Store {
	ctx := context.Background()
	lite, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "console"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	pg := pgtest.Start(t)
	pgs, err := OpenPostgres(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pgs.Close() })
	// Opening again runs the migration again: it must be idempotent.
	again, err := OpenPostgres(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
	return map[string]*Store{"sqlite": lite, "postgres": pgs}
}

func TestStore(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) { testStore(t, s) })
	}
}

func testStore(t *testing.T, s *Store) {
	ctx := context.Background()
	clock := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { clock = clock.Add(time.Second); return clock }

	g1 := Key{Fields: []string{"signature.id", "src_ip", "dest_ip"}, Values: []string{"1", "10.0.0.1", "192.0.2.1"}}
	g2 := Key{Fields: []string{"signature.id", "src_ip", "dest_ip"}, Values: []string{"2", "10.0.0.2", "192.0.2.2"}}
	t1 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

	// Archive, then archive again with an older time: Through never goes back.
	if err := s.ArchiveGroups(ctx, "alice", []ArchiveItem{{g1, t1}, {g2, t1.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ArchiveGroups(ctx, "bob", []ArchiveItem{{g1, t1.Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	arch, err := s.Archives(ctx, t1)
	if err != nil {
		t.Fatal(err)
	}
	if len(arch) != 2 {
		t.Fatalf("archives %+v", arch)
	}
	for _, a := range arch {
		if a.Key.String() == g1.String() && (!a.Through.Equal(t1) || a.User != "bob") {
			t.Errorf("g1 archive %+v: want through %v (not moved back), by bob", a, t1)
		}
	}
	if arch, _ := s.Archives(ctx, t1.Add(30*time.Minute)); len(arch) != 1 || arch[0].Key.String() != g2.String() {
		t.Errorf("Archives(since) %+v, want only g2", arch)
	}
	if err := s.Unarchive(ctx, "alice", []Key{g2}); err != nil {
		t.Fatal(err)
	}
	if arch, _ := s.Archives(ctx, time.Time{}); len(arch) != 1 {
		t.Errorf("after unarchive: %+v", arch)
	}

	// Escalation.
	if err := s.SetEscalated(ctx, "alice", []Key{g1, g2}, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetEscalated(ctx, "alice", []Key{g1}, true); err != nil { // again: no-op, no audit line
		t.Fatal(err)
	}
	if err := s.SetEscalated(ctx, "bob", []Key{g2}, false); err != nil {
		t.Fatal(err)
	}
	esc, err := s.Escalations(ctx)
	if err != nil || len(esc) != 1 || esc[0].Key.String() != g1.String() || esc[0].User != "alice" {
		t.Fatalf("escalations %+v %v", esc, err)
	}

	// Notes, with hostile text kept exactly.
	hostile := `<script>alert("x")</script> ' OR 1=1 --`
	if err := s.AddNote(ctx, "alice", GroupTarget(g1), hostile); err != nil {
		t.Fatal(err)
	}
	if err := s.AddNote(ctx, "bob", GroupTarget(g1), "second"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddNote(ctx, "bob", EventTarget("abc"), "on an event"); err != nil {
		t.Fatal(err)
	}
	notes, err := s.Notes(ctx, GroupTarget(g1))
	if err != nil || len(notes) != 2 || notes[0].Text != hostile || notes[1].User != "bob" {
		t.Fatalf("notes %+v %v", notes, err)
	}
	counts, err := s.NoteCounts(ctx, []string{GroupTarget(g1), GroupTarget(g2), EventTarget("abc")})
	if err != nil || counts[GroupTarget(g1)] != 2 || counts[GroupTarget(g2)] != 0 || counts[EventTarget("abc")] != 1 {
		t.Fatalf("note counts %v %v", counts, err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", MaxNoteLen+1), "a\x00b", "\xff"} {
		if err := s.AddNote(ctx, "alice", EventTarget("abc"), bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("note %q: %v, want ErrInvalid", bad, err)
		}
	}

	// Mutes.
	id, err := s.AddMute(ctx, "alice", "signature.id:2013028 src_ip:10.1.2.3", "known scanner")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMute(ctx, "alice", "dest_port:53", ""); err != nil {
		t.Fatal(err)
	}
	mutes, _ := s.Mutes(ctx)
	if len(mutes) != 2 || mutes[0].ID != id || mutes[0].Comment != "known scanner" {
		t.Fatalf("mutes %+v", mutes)
	}
	if err := s.DeleteMute(ctx, "bob", id); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMute(ctx, "bob", id); !errors.Is(err, ErrInvalid) {
		t.Errorf("deleting a missing mute: %v", err)
	}
	if mutes, _ := s.Mutes(ctx); len(mutes) != 1 || mutes[0].Query != "dest_port:53" {
		t.Fatalf("after delete: %+v", mutes)
	}

	// The audit trail has every action, newest first, with who.
	audit, err := s.Audit(ctx, "", 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range audit {
		got = append(got, e.User+" "+e.Action)
	}
	want := []string{"bob unmute", "alice mute", "alice mute", "bob note", "bob note", "alice note",
		"bob deescalate", "alice escalate", "alice escalate", "alice unarchive", "bob archive", "alice archive", "alice archive"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit\n got %v\nwant %v", got, want)
	}
	if g1audit, _ := s.Audit(ctx, g1.String(), 10, 0); len(g1audit) != 3 {
		t.Errorf("audit of g1: %+v", g1audit)
	}
	if page, _ := s.Audit(ctx, "", 2, 1); len(page) != 2 || page[0].Action != "mute" {
		t.Errorf("audit page %+v", page)
	}

	// Prune drops archive marks that can no longer hide anything.
	if n, err := s.Prune(ctx, t1.Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("prune: %d %v", n, err)
	}
}
