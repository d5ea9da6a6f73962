package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/alertgw/alertgw/inputs/eventid"
)

func msgs(from, n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, fmt.Appendf(nil, "message %d", from+i))
	}
	return out
}

func replayAll(t *testing.T, j *Journal) (got []string, seqs []uint64) {
	t.Helper()
	if err := j.Replay(func(m [][]byte, seq uint64, _ eventid.Origin) {
		for _, b := range m {
			got = append(got, string(b))
		}
		seqs = append(seqs, seq)
	}); err != nil {
		t.Fatal(err)
	}
	return got, seqs
}

func open(t *testing.T, dir string, seg int64) *Journal {
	t.Helper()
	j, err := Open(Options{Dir: dir, SegmentBytes: seg})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestReplayUnacknowledged: after a "kill" (files left as they are), what
// was not acknowledged — and what follows a gap in the acknowledgements —
// is replayed in order, across segments; then acknowledged, it is gone.
func TestReplayUnacknowledged(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir, 256) // tiny segments: entries spread over many
	var seqs []uint64
	for i := range 20 {
		s, _, err := j.Append(msgs(i*3, 3))
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, s)
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 19} { // 4 is missing: 5, 6 and 19 come back
		j.Ack(seqs[i])
	}
	// No Close: as after SIGKILL (the flock goes with the descriptors).
	j.closeFiles()

	j2 := open(t, dir, 256)
	if e, m := j2.Pending(); e != 16 || m != 48 {
		t.Fatalf("pending %d entries, %d messages; want 16, 48", e, m)
	}
	got, rseqs := replayAll(t, j2)
	var want []string
	for _, m := range msgs(12, 48) {
		want = append(want, string(m))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("replayed %v\nwant %v", got, want)
	}
	if extra, _ := replayAll(t, j2); len(extra) != 0 {
		t.Fatal("second Replay replayed again")
	}
	s, _, _ := j2.Append(msgs(100, 1))
	for _, s := range rseqs {
		j2.Ack(s)
	}
	j2.Ack(s)
	if c := j2.Counts(); c.Unacknowledged != 0 {
		t.Fatalf("%d unacknowledged after acking everything", c.Unacknowledged)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.jnl"))
	if len(segs) > 1 {
		t.Errorf("%d segments left after everything was acknowledged, want 1", len(segs))
	}
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	j3 := open(t, dir, 256)
	defer j3.Close()
	if e, _ := j3.Pending(); e != 0 {
		t.Fatalf("%d entries pending after a clean close with everything acknowledged", e)
	}
}

// TestTornTail: a kill in the middle of a write leaves part of an entry:
// it is cut off, the entries before it are replayed.
func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir, 0)
	j.Append(msgs(0, 2))
	j.Append(msgs(2, 2))
	j.closeFiles()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.jnl"))
	path := segs[len(segs)-1]
	fi, _ := os.Stat(path)
	os.Truncate(path, fi.Size()-3)
	j2 := open(t, dir, 0)
	defer j2.Close()
	got, _ := replayAll(t, j2)
	if !slices.Equal(got, []string{"message 0", "message 1"}) {
		t.Fatalf("replayed %q", got)
	}
	if j2.Counts().Corrupt == 0 {
		t.Error("torn tail not counted")
	}
}

// TestLocked: two journals on one directory are refused.
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir, 0)
	defer j.Close()
	if _, err := Open(Options{Dir: dir}); err == nil {
		t.Fatal("second Open of the same directory succeeded")
	}
}

func BenchmarkAppendAck(b *testing.B) {
	j, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	batch := make([][]byte, 16)
	for i := range batch {
		batch[i] = make([]byte, 1100)
	}
	b.SetBytes(16 * 1100)
	for b.Loop() {
		s, _, err := j.Append(batch)
		if err != nil {
			b.Fatal(err)
		}
		j.Ack(s)
	}
}
