package unified2

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Position is a place in the spool: a file (base name) and a byte offset
// at a record boundary. Everything before it was delivered.
type Position struct {
	File   string
	Offset int64
	// Gen identifies the content of a file Snort rewrites in place (its
	// nostamp option: one name, truncated at every start or roll-over):
	// a hash of the file's first record. "" for time-stamped files.
	Gen string
}

// ReadBookmark loads the position at path; ok is false when there is none.
func ReadBookmark(path string) (pos Position, ok bool, err error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, fmt.Errorf("read bookmark: %w", err)
	}
	f := strings.Fields(string(bytes.TrimSpace(b)))
	if len(f) != 2 && len(f) != 3 {
		return Position{}, false, fmt.Errorf("bookmark %s: want \"<file> <offset>\" or \"<file> <offset> <gen>\", got %q", path, b)
	}
	off, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || off < 0 || strings.ContainsRune(f[0], '/') {
		return Position{}, false, fmt.Errorf("bookmark %s: bad content %q", path, b)
	}
	pos = Position{File: f[0], Offset: off}
	if len(f) == 3 {
		pos.Gen = f[2]
	}
	return pos, true, nil
}

// WriteBookmark stores pos at path durably: it writes a temporary file,
// fsyncs it, renames it over the bookmark and fsyncs the directory, so that
// a crash at any point leaves the old or the new bookmark, never a torn
// one. The format is one line, "<file> <offset>\n" ("<file> <offset>
// <gen>\n" for a nostamp file), readable and editable by an operator (to
// replay from a point, or skip one).
func WriteBookmark(path string, pos Position) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("bookmark: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	line := fmt.Sprintf("%s %d", pos.File, pos.Offset)
	if pos.Gen != "" {
		line += " " + pos.Gen
	}
	if _, err := fmt.Fprintln(tmp, line); err != nil {
		tmp.Close()
		return fmt.Errorf("bookmark: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("bookmark fsync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("bookmark: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("bookmark rename: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("bookmark dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("bookmark dir fsync: %w", err)
	}
	return nil
}

// tracker turns out-of-order acknowledgements into an in-order position:
// batches are registered in stream order, acknowledged in any order (the
// pipeline's workers and outputs run concurrently), and the position
// advances only over a contiguous prefix of acknowledged batches.
type tracker struct {
	mu      sync.Mutex
	pending []*mark
	acked   Position
	// persist, when set, is called with the new position each time it
	// moves, synchronously from the acknowledging goroutine: the ack does
	// not return before the bookmark is on disk, so a crash repeats at
	// most the batches whose delivery had not been acknowledged yet.
	persistMu sync.Mutex
	persist   func(Position)
	// persisting counts acknowledgements whose position is being
	// written: until they are done the bookmark is behind the acks.
	persisting int
}

type mark struct {
	pos  Position
	done bool
}

func newTracker(start Position) *tracker {
	return &tracker{acked: start}
}

// add registers the end position of a batch about to be emitted and
// returns its acknowledgement function.
func (t *tracker) add(pos Position) func() {
	m := &mark{pos: pos}
	t.mu.Lock()
	t.pending = append(t.pending, m)
	t.mu.Unlock()
	return func() { t.ack(m) }
}

// advanceTo registers a position with nothing to deliver (a switch to the
// next file): it becomes the bookmark once everything before it is acked.
func (t *tracker) advanceTo(pos Position) {
	t.add(pos)()
}

func (t *tracker) ack(m *mark) {
	t.mu.Lock()
	m.done = true
	moved := false
	for len(t.pending) > 0 && t.pending[0].done {
		t.acked = t.pending[0].pos
		t.pending[0] = nil
		t.pending = t.pending[1:]
		moved = true
	}
	persist := moved && t.persist != nil
	if persist {
		t.persisting++
	}
	t.mu.Unlock()
	if persist {
		t.persistMu.Lock()
		t.mu.Lock()
		pos := t.acked // the latest, if other acks moved it meanwhile
		t.mu.Unlock()
		t.persist(pos)
		t.persistMu.Unlock()
		t.mu.Lock()
		t.persisting--
		t.mu.Unlock()
	}
}

// position returns the acknowledged position and how many batches wait
// for their acknowledgement or for it to reach the bookmark.
func (t *tracker) position() (Position, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.acked, len(t.pending) + t.persisting
}
