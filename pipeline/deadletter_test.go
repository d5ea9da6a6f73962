package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/internal/tmpfs"
)

// TestDeadLetterFullDisk: on a full file system records wait in memory up
// to MaxPending, the oldest beyond it are counted as given up; when space
// returns the next flush writes the rest, whole lines only.
func TestDeadLetterFullDisk(t *testing.T) {
	dir := tmpfs.Mount(t, 16<<10)
	path := filepath.Join(dir, "dead.json")
	d, err := OpenDeadLetterWith(DeadLetterOptions{Path: path, MaxPending: 64 << 10, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(strings.Repeat("r", 700)) // ~1 KB records
	const n = 200
	for range n {
		if err := d.Write("in", "test", "invalid_json", errors.New("bad"), raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Flush(); err == nil {
		t.Fatal("flush on a full file system succeeded")
	}
	st := d.Stats()
	dropped := int(st.Dropped.Get(ReasonDeadLetterUnwritable))
	if dropped == 0 || !st.Failing.Load() {
		t.Fatalf("dropped %d, failing %v: want the oldest beyond MaxPending given up", dropped, st.Failing.Load())
	}
	tmpfs.Resize(t, dir, 1<<20)
	if err := d.Flush(); err != nil {
		t.Fatalf("flush after space returned: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "{") || !strings.HasSuffix(l, "}") {
			t.Fatalf("line %d is not a whole record: %.80q", i, l)
		}
	}
	if len(lines)+dropped != n || int(st.Written.Load()) != len(lines) {
		t.Errorf("%d lines in the file, written %d, %d dropped: want %d in all", len(lines), st.Written.Load(), dropped, n)
	}
}
