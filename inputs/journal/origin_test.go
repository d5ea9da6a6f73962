package journal

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestOriginSurvivesRestart: an entry replayed after a kill has the Origin
// Append gave it, and what is appended after the restart has an Origin no
// earlier entry had, so event ids made from origins are stable and unique.
func TestOriginSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir, 256) // tiny segments: entries spread over several
	var seqs []uint64
	var origins []Origin
	for i := range 12 {
		s, o, err := j.Append(msgs(i*2, 2))
		if err != nil {
			t.Fatal(err)
		}
		seqs, origins = append(seqs, s), append(origins, o)
	}
	if len(slices.Compact(slices.Clone(origins))) != len(origins) {
		t.Fatalf("two entries have the same origin: %x", origins)
	}
	for _, i := range []int{0, 1, 2, 4} { // 3 is missing: 3 and after come back
		j.Ack(seqs[i])
	}
	j.closeFiles() // as after SIGKILL

	j2 := open(t, dir, 256)
	var replayed []Origin
	if err := j2.Replay(func(_ [][]byte, _ uint64, o Origin) { replayed = append(replayed, o) }); err != nil {
		t.Fatal(err)
	}
	if want := origins[3:]; !slices.Equal(replayed, want) {
		t.Fatalf("replayed origins %x\nwant %x", replayed, want)
	}
	for range 12 {
		_, o, err := j2.Append(msgs(0, 1))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(origins, o) {
			t.Fatalf("an entry appended after the restart has an earlier entry's origin %x", o)
		}
		origins = append(origins, o)
	}
	j2.closeFiles()

	// A journal that starts afresh (its segments and acknowledgements
	// gone) starts its segments at 1 again, under a new identity.
	for _, e := range mustReadDir(t, dir) {
		if e.Name() != idName {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	j3 := open(t, dir, 256)
	defer j3.Close()
	_, o, err := j3.Append(msgs(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(origins, o) || [5]byte(o[:5]) == [5]byte(origins[0][:5]) {
		t.Fatalf("a fresh journal reused an identity or origin: %x", o)
	}
}

// TestOriginPastMissingSegment: when the acknowledged segment's file is gone
// (removed by hand), appends start past it rather than in it again.
func TestOriginPastMissingSegment(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir, 0)
	s, before, err := j.Append(msgs(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	j.Ack(s)
	j.closeFiles()
	for _, e := range mustReadDir(t, dir) {
		if filepath.Ext(e.Name()) == segExt {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	j2 := open(t, dir, 0)
	defer j2.Close()
	_, after, err := j2.Append(msgs(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Fatalf("the entry after the restart has the origin of the one before: %x", after)
	}
}

func TestEventID(t *testing.T) {
	o := Origin{0xab, 1, 2, 3, 4, 0, 0, 0, 7, 0, 0, 1, 0}
	for _, tc := range []struct {
		o    Origin
		i    int
		want string
	}{
		{o, 0, "ab010203040000000700000100" + "000000"},
		{o, 0x1f, "ab010203040000000700000100" + "00001f"},
		{o, 1<<24 - 1, "ab010203040000000700000100" + "ffffff"},
		{o, 1 << 24, ""},
		{o, -1, ""},
		{Origin{}, 0, ""},
	} {
		if got := tc.o.EventID(tc.i); got != tc.want {
			t.Errorf("EventID(%d) = %q, want %q", tc.i, got, tc.want)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(o.EventID(5)) {
		t.Errorf("EventID is not 32 hex digits: %q", o.EventID(5))
	}
}

// TestIDs: the ids of batches joined into one stay with their messages,
// whether or not each batch came from a journal.
func TestIDs(t *testing.T) {
	a, b := Origin{1}, Origin{2}
	runs := append(Cover([]Run{{N: 2, Origin: a}}, 2), Cover(nil, 1)...)
	runs = append(runs, Cover([]Run{{N: 1, Origin: b}, {N: 0, Origin: a}}, 1)...)
	want := []string{a.EventID(0), a.EventID(1), "", b.EventID(0), "", ""}
	ids := NewIDs(runs)
	var got []string
	for range want {
		got = append(got, ids.Next())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ids %q\nwant %q", got, want)
	}
}

func mustReadDir(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return es
}
