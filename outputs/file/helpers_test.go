package file

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
)

// clock is a settable clock for rotation and fsync tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(s string) *clock {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return &clock{t: t}
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// events builds n alert events numbered from first, each encoding to about
// size bytes in the native format.
func events(first, n, size int) []*normalize.Event {
	ts := time.Date(2026, 11, 22, 10, 11, 12, 0, time.UTC)
	evs := make([]*normalize.Event, n)
	for i := range evs {
		e := &normalize.Event{
			ID:        fmt.Sprintf("ev-%08d", first+i),
			Timestamp: ts,
			Received:  ts,
			Kind:      normalize.KindAlert,
			Action:    normalize.ActionBlocked,
			Source:    normalize.Source{Type: "suricata", Input: "suricata", Sensor: "sensor-1"},
			Signature: &normalize.Signature{GID: 1, ID: 2001219, Rev: 20, Name: "ET SCAN Potential SSH Scan"},
		}
		if pad := size - len(format.Native{}.AppendEvent(nil, e)); pad > 0 {
			e.Signature.Category = strings.Repeat("x", pad)
		}
		evs[i] = e
	}
	return evs
}

func batch(first, n, size int) *outputs.Batch {
	return &outputs.Batch{Events: events(first, n, size)}
}

type fixture struct {
	t     *testing.T
	dir   string
	path  string
	clock *clock
	out   *Output
	fault *faults
}

// setup opens a file output on a fresh directory. The housekeeping tick is
// off: tests call tick themselves, with the fake clock.
func setup(t *testing.T, mutate func(*Options)) *fixture {
	t.Helper()
	dir := t.TempDir()
	fx := &fixture{t: t, dir: dir, path: filepath.Join(dir, "events.json"), clock: newClock("2026-11-22T10:11:12.123Z"), fault: &faults{}}
	opts := DefaultOptions()
	opts.Path = fx.path
	opts.BufferSize = 4 << 10
	if mutate != nil {
		mutate(opts)
	}
	fx.out = fx.open(*opts)
	t.Cleanup(func() { fx.out.Close() })
	return fx
}

func (fx *fixture) open(opts Options) *Output {
	fx.t.Helper()
	out, err := newOutput(outputs.Env{Name: "test", Log: zerolog.Nop(), Encoder: format.Native{}}, opts, deps{now: fx.clock.now, open: fx.fault.open})
	if err != nil {
		fx.t.Fatalf("open output: %v", err)
	}
	return out
}

func (fx *fixture) write(b *outputs.Batch) {
	fx.t.Helper()
	if err := fx.out.Write(context.Background(), b); err != nil {
		fx.t.Fatalf("write: %v", err)
	}
}

// ids reads every line of a file (gzipped or not) and returns the event
// ids, failing on any line that is not a whole JSON object.
func ids(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: gzip: %v", path, err)
		}
	}
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		t.Fatalf("%s does not end on a line boundary: ...%q", path, raw[max(0, len(raw)-40):])
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var ev struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.ID == "" {
			t.Fatalf("%s: bad line %q: %v", path, trim(sc.Text()), err)
		}
		out = append(out, ev.ID)
	}
	return out
}

func trim(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func wantIDs(first, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("ev-%08d", first+i)
	}
	return out
}

// rotated lists the output's rotated files in name order (which is time
// order), ignoring everything else.
func (fx *fixture) rotated() []string {
	fx.t.Helper()
	n := newNames(fx.path)
	entries, err := os.ReadDir(fx.dir)
	if err != nil {
		fx.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if _, ok := n.parse(e.Name()); ok {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

// allIDs reads the rotated files in order, then the active file.
func (fx *fixture) allIDs() []string {
	var out []string
	for _, name := range fx.rotated() {
		out = append(out, ids(fx.t, filepath.Join(fx.dir, name))...)
	}
	if exists(fx.path) {
		out = append(out, ids(fx.t, fx.path)...)
	}
	return out
}

// faults wraps real files: it counts fsyncs and can make a write stop
// half-way or a truncate fail, as a full disk would.
type faults struct {
	mu            sync.Mutex
	syncs         int
	failWrites    []int // 1-based numbers of Write calls to fail (after the call counter)
	writes        int
	partial       bool // a failing write first writes half of its bytes
	failTruncates int  // fail this many truncates
}

func (fl *faults) open(name string, flag int, perm os.FileMode) (handle, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: f, fl: fl}, nil
}

func (fl *faults) syncCount() int {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return fl.syncs
}

type faultyFile struct {
	*os.File
	fl *faults
}

func (f *faultyFile) Write(p []byte) (int, error) {
	f.fl.mu.Lock()
	f.fl.writes++
	fail := slices.Contains(f.fl.failWrites, f.fl.writes)
	partial := f.fl.partial
	f.fl.mu.Unlock()
	if !fail {
		return f.File.Write(p)
	}
	n := 0
	if partial {
		n, _ = f.File.Write(p[:len(p)/2])
	}
	return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

func (f *faultyFile) Sync() error {
	f.fl.mu.Lock()
	f.fl.syncs++
	f.fl.mu.Unlock()
	return f.File.Sync()
}

func (f *faultyFile) Truncate(size int64) error {
	f.fl.mu.Lock()
	fail := f.fl.failTruncates > 0
	if fail {
		f.fl.failTruncates--
	}
	f.fl.mu.Unlock()
	if fail {
		return &os.PathError{Op: "truncate", Path: f.Name(), Err: syscall.EIO}
	}
	return f.File.Truncate(size)
}

var errNoSpace = syscall.ENOSPC

func isNoSpace(err error) bool { return errors.Is(err, errNoSpace) }
