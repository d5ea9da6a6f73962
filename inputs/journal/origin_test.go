package journal

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/alertgw/alertgw/inputs/eventid"
)

// TestOriginSurvivesRestart: an entry replayed after a kill has the Origin
// Append gave it, and what is appended after the restart has an Origin no
// earlier entry had, so event ids made from origins are stable and unique.
func TestOriginSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir, 256) // tiny segments: entries spread over several
	var seqs []uint64
	var origins []eventid.Origin
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
	var replayed []eventid.Origin
	if err := j2.Replay(func(_ [][]byte, _ uint64, o eventid.Origin) { replayed = append(replayed, o) }); err != nil {
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

func mustReadDir(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return es
}
