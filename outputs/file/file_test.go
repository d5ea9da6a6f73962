package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Options)
		want   []string // problem paths
	}{
		{"defaults with a path", func(o *Options) {}, nil},
		{"no path", func(o *Options) { o.Path = "" }, []string{"path"}},
		{"directory path", func(o *Options) { o.Path = "/var/log/" }, []string{"path"}},
		{"mode with setuid", func(o *Options) { o.Mode = 0o4640 }, []string{"mode"}},
		{"mode the owner cannot write", func(o *Options) { o.Mode = 0o440 }, []string{"mode"}},
		{"tiny buffer", func(o *Options) { o.BufferSize = 10 }, []string{"buffer_size"}},
		{"unknown fsync", func(o *Options) { o.Fsync = "sometimes" }, []string{"fsync"}},
		{"fsync interval too short", func(o *Options) { o.FsyncInterval = time.Millisecond }, []string{"fsync_interval"}},
		{"short interval ignored unless interval", func(o *Options) { o.Fsync = FsyncAlways; o.FsyncInterval = 0 }, nil},
		{"tiny max_size", func(o *Options) { o.Rotate.MaxSize = 100 }, []string{"rotate.max_size"}},
		{"sub-second interval", func(o *Options) { o.Rotate.Interval = 500 * time.Millisecond }, []string{"rotate.interval"}},
		{"fractional interval", func(o *Options) { o.Rotate.Interval = 1500 * time.Millisecond }, []string{"rotate.interval"}},
		{"unknown compression", func(o *Options) { o.Rotate.Compress = "zstd" }, []string{"rotate.compress"}},
		{"negative age", func(o *Options) { o.Rotate.MaxSize = 1 << 20; o.Retention.MaxAge = -time.Hour }, []string{"retention.max_age"}},
		{"negative count", func(o *Options) { o.Rotate.MaxSize = 1 << 20; o.Retention.MaxFiles = -1 }, []string{"retention.max_files"}},
		{"retention without rotation", func(o *Options) { o.Retention.MaxFiles = 3 }, []string{"retention"}},
		{"everything set", func(o *Options) {
			o.Rotate = Rotate{MaxSize: 100 << 20, Interval: time.Hour, Compress: CompressGzip}
			o.Retention = Retention{MaxAge: 7 * 24 * time.Hour, MaxFiles: 100}
			o.Fsync = FsyncAlways
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			o.Path = "/var/log/alertgw/events.json"
			tt.mutate(o)
			var got []string
			for _, p := range o.Validate() {
				got = append(got, p.Path)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems at %v, want %v (%v)", got, tt.want, o.Validate())
			}
		})
	}
}

// TestDecode checks the option keys and value syntax a user writes.
func TestDecode(t *testing.T) {
	raw := map[string]any{
		"path":           "/tmp/x/events.json",
		"mode":           "0600",
		"buffer_size":    "2MiB",
		"fsync":          "interval",
		"fsync_interval": "250ms",
		"rotate":         map[string]any{"max_size": "100MiB", "interval": "1h", "compress": "gzip"},
		"retention":      map[string]any{"max_age": "168h", "max_files": 48},
	}
	o := DefaultOptions()
	if p := config.Decode(raw, "outputs[0]", o); len(p) > 0 {
		t.Fatalf("decode: %v", p)
	}
	want := Options{
		Path: "/tmp/x/events.json", Mode: 0o600, BufferSize: 2 << 20, Fsync: FsyncInterval, FsyncInterval: 250 * time.Millisecond,
		Rotate:    Rotate{MaxSize: 100 << 20, Interval: time.Hour, Compress: CompressGzip},
		Retention: Retention{MaxAge: 168 * time.Hour, MaxFiles: 48},
	}
	if *o != want {
		t.Errorf("decoded %+v\nwant    %+v", *o, want)
	}
	p := config.Decode(map[string]any{"path": "x", "rotate": map[string]any{"max_size": "lots"}}, "outputs[0]", DefaultOptions())
	if len(p) == 0 || !strings.Contains(p.Err().Error(), "outputs[0].rotate") {
		t.Errorf("bad size: problems %v, want one under outputs[0].rotate", p)
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name    string
		batches []int // events per batch
		size    int   // bytes per line
		buffer  config.Size
	}{
		{"one small batch", []int{3}, 300, 4 << 10},
		{"batches larger than the buffer", []int{50, 1, 70}, 1000, 4 << 10},
		{"lines larger than the buffer", []int{2, 3}, 9000, 4 << 10},
		{"many batches through a large buffer", []int{100, 100, 100, 100}, 1000, 1 << 20},
		{"empty batch", []int{0, 5, 0}, 500, 4 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := setup(t, func(o *Options) { o.BufferSize = tt.buffer })
			next := 0
			for _, n := range tt.batches {
				fx.write(batch(next, n, tt.size))
				next += n
			}
			if err := fx.out.Close(); err != nil {
				t.Fatal(err)
			}
			if got := ids(t, fx.path); !slices.Equal(got, wantIDs(0, next)) && next > 0 {
				t.Errorf("file holds %d lines %v…, want %d in order", len(got), got[:min(3, len(got))], next)
			}
		})
	}
}

func TestCreatesDirectoryAndMode(t *testing.T) {
	dir := t.TempDir()
	fx := &fixture{t: t, dir: filepath.Join(dir, "a", "b"), clock: newClock("2026-11-22T10:00:00Z"), fault: &faults{}}
	fx.path = filepath.Join(fx.dir, "events.json")
	opts := DefaultOptions()
	opts.Path, opts.Mode = fx.path, 0o600
	fx.out = fx.open(*opts)
	defer fx.out.Close()
	for path, want := range map[string]os.FileMode{fx.path: 0o600, fx.dir: 0o750 | os.ModeDir} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		// The umask may take bits from directories; files get the exact mode.
		if got := st.Mode(); got != want && !(got.IsDir() && got&^want == 0) {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
}

// TestWriteHandsLinesToTheKernel: once Write returns nil the lines are in
// the file, not in the user-space buffer: the pipeline acknowledges them
// (and removes them from a disk buffer) on that nil.
func TestWriteHandsLinesToTheKernel(t *testing.T) {
	fx := setup(t, func(o *Options) { o.BufferSize = 1 << 20 })
	fx.write(batch(0, 10, 300))
	if got := ids(t, fx.path); !slices.Equal(got, wantIDs(0, 10)) {
		t.Fatalf("after Write the file has %d lines, want all 10", len(got))
	}
}

func TestSizeRotation(t *testing.T) {
	tests := []struct {
		name     string
		maxSize  config.Size
		lineSize int
		batches  []int
	}{
		{"many files from one batch", 4 << 10, 300, []int{100}},
		{"batches straddle files", 8 << 10, 1000, []int{7, 7, 7, 7, 7}},
		{"line larger than max_size gets its own file", 4 << 10, 5000, []int{1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := setup(t, func(o *Options) { o.Rotate.MaxSize = tt.maxSize })
			next := 0
			for _, n := range tt.batches {
				fx.write(batch(next, n, tt.lineSize))
				next += n
				fx.clock.add(time.Millisecond)
			}
			if err := fx.out.Close(); err != nil {
				t.Fatal(err)
			}
			rot := fx.rotated()
			if len(rot) < 2 {
				t.Fatalf("rotated files %v, want several", rot)
			}
			for _, name := range append(rot, filepath.Base(fx.path)) {
				st, err := os.Stat(filepath.Join(fx.dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() > int64(tt.maxSize) && len(ids(t, filepath.Join(fx.dir, name))) > 1 {
					t.Errorf("%s: %d bytes, over max_size %d with more than one line", name, st.Size(), tt.maxSize)
				}
				if !strings.HasPrefix(name, "events") || !strings.HasSuffix(name, ".json") {
					t.Errorf("unexpected name %s", name)
				}
			}
			if got := fx.allIDs(); !slices.Equal(got, wantIDs(0, next)) {
				t.Errorf("files hold %d lines, want %d in order, each once", len(got), next)
			}
		})
	}
}

func TestTimeRotation(t *testing.T) {
	fx := setup(t, func(o *Options) { o.Rotate.Interval = time.Hour })
	fx.clock = newClock("2026-11-22T10:59:59.5Z")
	fx.out.Close()
	opts := fx.out.opts
	fx.out = fx.open(opts)

	fx.write(batch(0, 3, 300))
	fx.clock.add(700 * time.Millisecond) // 11:00:00.2
	fx.write(batch(3, 2, 300))
	if got, want := fx.rotated(), []string{"events-20261122T110000.000Z.json"}; !slices.Equal(got, want) {
		t.Fatalf("after the hour: rotated %v, want %v (named after the boundary)", got, want)
	}
	if got := ids(t, filepath.Join(fx.dir, "events-20261122T110000.000Z.json")); !slices.Equal(got, wantIDs(0, 3)) {
		t.Errorf("rotated file holds %v, want the first batch", got)
	}

	// No batch arrives: the housekeeping tick rotates on the boundary.
	fx.clock.add(time.Hour)
	fx.out.tick()
	// An empty active file is not rotated at the next boundary.
	fx.clock.add(time.Hour)
	fx.out.tick()
	want := []string{"events-20261122T110000.000Z.json", "events-20261122T120000.000Z.json"}
	if got := fx.rotated(); !slices.Equal(got, want) {
		t.Fatalf("after ticks: rotated %v, want %v", got, want)
	}
	fx.write(batch(5, 1, 300))
	fx.out.Flush()
	if got := fx.allIDs(); !slices.Equal(got, wantIDs(0, 6)) {
		t.Errorf("all files hold %v, want ev 0-5 in order", got)
	}
}

// TestTimeRotationAfterRestart: a file last written in an earlier period is
// rotated before the first new line, so each file covers one period.
func TestTimeRotationAfterRestart(t *testing.T) {
	fx := setup(t, func(o *Options) { o.Rotate.Interval = 24 * time.Hour })
	fx.write(batch(0, 2, 300))
	if err := fx.out.Close(); err != nil {
		t.Fatal(err)
	}
	yesterday := time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC)
	if err := os.Chtimes(fx.path, yesterday, yesterday); err != nil {
		t.Fatal(err)
	}
	fx.out = fx.open(fx.out.opts)
	fx.write(batch(2, 1, 300))
	fx.out.Flush()
	if got, want := fx.rotated(), []string{"events-20261122T000000.000Z.json"}; !slices.Equal(got, want) {
		t.Fatalf("rotated %v, want %v", got, want)
	}
	if got := ids(t, fx.path); !slices.Equal(got, wantIDs(2, 1)) {
		t.Errorf("active file %v, want only today's line", got)
	}
}

func TestRotatedNames(t *testing.T) {
	dir := t.TempDir()
	n := newNames(filepath.Join(dir, "events.json"))
	at := time.Date(2026, 11, 22, 10, 11, 12, 123456789, time.UTC)
	first := n.next(at)
	second := n.next(at) // same millisecond
	// A file already there (compressed) is never overwritten.
	if err := os.WriteFile(filepath.Join(dir, "events-20261122T101112.126Z.json.gz"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	n.last = at.Add(2 * time.Millisecond).Truncate(time.Millisecond)
	third := n.next(at)
	got := []string{filepath.Base(first), filepath.Base(second), filepath.Base(third)}
	want := []string{"events-20261122T101112.123Z.json", "events-20261122T101112.124Z.json", "events-20261122T101112.127Z.json"}
	if !slices.Equal(got, want) {
		t.Errorf("names %v, want %v", got, want)
	}
	for _, name := range append(want, "events-20261122T101112.127Z.json.gz", "events-20261122T101112.127Z.json.gz.tmp") {
		if _, ok := n.parse(name); !ok {
			t.Errorf("parse(%s) did not recognize a rotated name", name)
		}
	}
	for _, name := range []string{"events.json", "events-x.json", "other-20261122T101112.127Z.json", "events-20261122T101112.127Z.log", "events-20261122T101112.127Z.json.bak"} {
		if _, ok := n.parse(name); ok {
			t.Errorf("parse(%s) claimed a file that is not ours", name)
		}
	}
	if got := newNames("/x/events"); got.stem != "events" || got.ext != "" {
		t.Errorf("no extension: %+v", got)
	}
}

func TestGzipRotatedFiles(t *testing.T) {
	fx := setup(t, func(o *Options) {
		o.Rotate.MaxSize = 16 << 10
		o.Rotate.Compress = CompressGzip
	})
	for i := range 10 {
		fx.write(batch(i*20, 20, 1000))
		fx.clock.add(time.Second)
	}
	fx.out.Flush()
	fx.out.hk.idle()
	rot := fx.rotated()
	if len(rot) < 5 {
		t.Fatalf("rotated %v, want at least 5 files", rot)
	}
	for _, name := range rot {
		if !strings.HasSuffix(name, ".json.gz") {
			t.Errorf("%s: not compressed (or a leftover temporary file)", name)
		}
	}
	if got := fx.allIDs(); !slices.Equal(got, wantIDs(0, 200)) {
		t.Errorf("compressed and active files hold %d lines, want 200 in order", len(got))
	}
}

func TestCompressFailureKeepsSource(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "events-20261122T101112.123Z.json")
	content := []byte("{\"id\":\"a\"}\n")
	tests := []struct {
		name   string
		break_ func(t *testing.T) context.Context
	}{
		{"temporary path taken by a directory", func(t *testing.T) context.Context {
			if err := os.Mkdir(src+".gz.tmp", 0o700); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(src + ".gz.tmp") })
			return context.Background()
		}},
		{"cancelled (Close during compression)", func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(src, content, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx := tt.break_(t)
			err := compressFile(ctx, src, 0o600)
			if err == nil || !strings.Contains(err.Error(), "compress") {
				t.Fatalf("err = %v, want a compression error", err)
			}
			if got, err := os.ReadFile(src); err != nil || string(got) != string(content) {
				t.Errorf("source after failure: %q, %v; want it intact", got, err)
			}
			if exists(src + ".gz") {
				t.Error("a .gz appeared although compression failed")
			}
			if st, err := os.Stat(src + ".gz.tmp"); err == nil && !st.IsDir() {
				t.Error("temporary file left behind")
			}
		})
	}
}

// TestStartupTidiesLeftovers: what a crash left among the rotated files is
// put right at the next start.
func TestStartupTidiesLeftovers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	line := func(id string) string { return `{"id":"` + id + `"}` + "\n" }
	write("events-20261122T080000.000Z.json", line("uncompressed"))  // rotated, never compressed
	write("events-20261122T090000.000Z.json.gz.tmp", "half a gzip")  // unfinished compression
	write("events-20261122T090000.000Z.json", line("source-of-tmp")) // its source
	write("other.json", line("not ours"))                            // not ours
	fx := &fixture{t: t, dir: dir, path: filepath.Join(dir, "events.json"), clock: newClock("2026-11-22T10:00:00Z"), fault: &faults{}}
	opts := DefaultOptions()
	opts.Path, opts.Rotate.MaxSize, opts.Rotate.Compress = fx.path, 1<<20, CompressGzip
	fx.out = fx.open(*opts)
	defer fx.out.Close()
	fx.out.hk.idle()
	want := []string{"events-20261122T080000.000Z.json.gz", "events-20261122T090000.000Z.json.gz"}
	if got := fx.rotated(); !slices.Equal(got, want) {
		t.Fatalf("rotated after start %v, want %v", got, want)
	}
	if got := fx.allIDs(); !slices.Equal(got, []string{"uncompressed", "source-of-tmp"}) {
		t.Errorf("lines %v", got)
	}
	if !exists(filepath.Join(dir, "other.json")) {
		t.Error("a file that is not ours was touched")
	}
	// A new rotation sorts after what is on disk even with the clock behind.
	fx.clock = newClock("2026-11-22T07:00:00Z")
	fx.out.deps.now = fx.clock.now
	fx.write(batch(0, 1, 200))
	fx.out.mu.Lock()
	err := fx.out.rotate(fx.clock.now())
	fx.out.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	fx.out.hk.idle()
	if got := fx.rotated(); len(got) != 3 || got[2] != "events-20261122T090000.001Z.json.gz" {
		t.Errorf("rotated %v, want a third file named just after the newest", got)
	}
}

func TestRetention(t *testing.T) {
	tests := []struct {
		name      string
		retention Retention
		rotations int
		every     time.Duration
		want      int // rotated files left
	}{
		{"by count", Retention{MaxFiles: 3}, 10, time.Minute, 3},
		{"by age", Retention{MaxAge: 2 * time.Hour}, 6, time.Hour, 2},
		{"by age then count", Retention{MaxAge: 5 * time.Hour, MaxFiles: 2}, 8, time.Hour, 2},
		{"keep all", Retention{}, 5, time.Minute, 5},
	}
	for _, tt := range tests {
		for _, compress := range []string{CompressNone, CompressGzip} {
			t.Run(tt.name+"/"+compress, func(t *testing.T) {
				fx := setup(t, func(o *Options) {
					o.Rotate.MaxSize = 1 << 20
					o.Rotate.Compress = compress
					o.Retention = tt.retention
				})
				other := filepath.Join(fx.dir, "events.json.bak")
				if err := os.WriteFile(other, []byte("x\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				for i := range tt.rotations {
					fx.write(batch(i, 1, 200))
					fx.out.mu.Lock()
					err := fx.out.rotate(fx.clock.now())
					fx.out.mu.Unlock()
					if err != nil {
						t.Fatal(err)
					}
					fx.clock.add(tt.every)
				}
				// Retention after a rotation may have run before the clock
				// moved on; the periodic sweep sees the final time.
				fx.out.hk.sweep()
				fx.out.hk.idle()
				got := fx.rotated()
				if len(got) != tt.want {
					t.Fatalf("%d rotated files left %v, want %d", len(got), got, tt.want)
				}
				// The newest are kept.
				if ids := fx.allIDs(); !slices.Equal(ids, wantIDs(tt.rotations-tt.want, tt.want)) {
					t.Errorf("kept %v, want the newest %d", ids, tt.want)
				}
				if !exists(other) || !exists(fx.path) {
					t.Error("retention removed the active file or a file that is not ours")
				}
			})
		}
	}
}

// TestRetentionByAgeWithoutRotation: the tick sweeps expired files even
// when nothing rotates.
func TestRetentionByAgeWithoutRotation(t *testing.T) {
	fx := setup(t, func(o *Options) {
		o.Rotate.MaxSize = 1 << 20
		o.Retention.MaxAge = time.Hour
	})
	fx.write(batch(0, 1, 200))
	fx.out.mu.Lock()
	fx.out.rotate(fx.clock.now())
	fx.out.mu.Unlock()
	fx.out.hk.idle()
	if len(fx.rotated()) != 1 {
		t.Fatal("no rotated file")
	}
	fx.clock.add(61 * time.Minute)
	fx.out.tick()
	fx.out.hk.idle()
	if got := fx.rotated(); len(got) != 0 {
		t.Errorf("expired files left: %v", got)
	}
}

func TestReopenAfterRename(t *testing.T) {
	fx := setup(t, nil)
	fx.write(batch(0, 5, 300)) // buffered, not yet written
	moved := fx.path + ".1"
	if err := os.Rename(fx.path, moved); err != nil { // what logrotate does
		t.Fatal(err)
	}
	if err := fx.out.Reopen(); err != nil { // then SIGHUP
		t.Fatal(err)
	}
	fx.write(batch(5, 4, 300))
	if err := fx.out.Close(); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, moved); !slices.Equal(got, wantIDs(0, 5)) {
		t.Errorf("moved file %v, want the lines written before SIGHUP", got)
	}
	if got := ids(t, fx.path); !slices.Equal(got, wantIDs(5, 4)) {
		t.Errorf("new file %v, want the lines written after", got)
	}
}

// TestReopenFailureRetries: when the path cannot be opened at SIGHUP,
// writes fail (the pipeline keeps the batch) until it can.
func TestReopenFailureRetries(t *testing.T) {
	fx := setup(t, nil)
	fx.write(batch(0, 2, 300))
	if err := os.Rename(fx.path, fx.path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(fx.path, 0o700); err != nil { // something else took the name
		t.Fatal(err)
	}
	err := fx.out.Reopen()
	if err == nil || !strings.Contains(err.Error(), fx.path) {
		t.Fatalf("Reopen = %v, want an error naming the path", err)
	}
	b := batch(2, 3, 300)
	if err := fx.out.Write(context.Background(), b); err == nil {
		t.Fatal("Write succeeded with no file open")
	}
	os.Remove(fx.path)
	fx.write(b) // the retry
	fx.out.Close()
	if got := append(ids(t, fx.path+".1"), ids(t, fx.path)...); !slices.Equal(got, wantIDs(0, 5)) {
		t.Errorf("lines %v", got)
	}
}

func TestFsyncPolicies(t *testing.T) {
	tests := []struct {
		policy          string
		afterWrites     int // syncs after 3 writes and a Flush, clock still
		afterIntervalUp int // after the interval passed and a tick
	}{
		{FsyncAlways, 3, 3},
		{FsyncInterval, 0, 1},
		{FsyncNever, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			fx := setup(t, func(o *Options) { o.Fsync = tt.policy })
			for i := range 3 {
				fx.write(batch(i*10, 10, 300))
			}
			fx.out.Flush()
			if got := fx.fault.syncCount(); got != tt.afterWrites {
				t.Errorf("after writes: %d fsyncs, want %d", got, tt.afterWrites)
			}
			if tt.policy == FsyncAlways {
				// Every acknowledged line is in the file already.
				if got := ids(t, fx.path); len(got) != 30 {
					t.Errorf("fsync always: %d lines in the file before Flush/Close, want 30", len(got))
				}
			}
			fx.clock.add(1100 * time.Millisecond)
			fx.out.tick()
			if got := fx.fault.syncCount(); got != tt.afterIntervalUp {
				t.Errorf("after the interval: %d fsyncs, want %d", got, tt.afterIntervalUp)
			}
			before := fx.fault.syncCount()
			fx.write(batch(30, 1, 300))
			if err := fx.out.Close(); err != nil {
				t.Fatal(err)
			}
			if got := fx.fault.syncCount(); got <= before && tt.policy != FsyncAlways {
				t.Errorf("Close did not fsync (policy %s)", tt.policy)
			}
			if got := ids(t, fx.path); len(got) != 31 {
				t.Errorf("%d lines after Close, want 31", len(got))
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Run("parent is a file", func(t *testing.T) {
		dir := t.TempDir()
		parent := filepath.Join(dir, "notadir")
		if err := os.WriteFile(parent, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		opts := DefaultOptions()
		opts.Path = filepath.Join(parent, "events.json")
		_, err := New(testEnv(), *opts)
		if err == nil || !strings.Contains(err.Error(), opts.Path) || !strings.Contains(err.Error(), "create directory") {
			t.Errorf("err = %v, want one naming the operation and path", err)
		}
	})
	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores directory permissions; the other cases cover the error path")
		}
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o700)
		opts := DefaultOptions()
		opts.Path = filepath.Join(dir, "events.json")
		_, err := New(testEnv(), *opts)
		if !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), opts.Path) {
			t.Errorf("err = %v, want permission denied naming the path", err)
		}
	})
	t.Run("device full", func(t *testing.T) {
		if _, err := os.Stat("/dev/full"); err != nil {
			t.Skip("no /dev/full")
		}
		opts := DefaultOptions()
		opts.Path = "/dev/full"
		opts.BufferSize = 4 << 10
		opts.Rotate.MaxSize = 1 << 20 // must never rename a device
		out, err := New(testEnv(), *opts)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		// A Write is acknowledged only once the kernel has the lines:
		// even a small one fails on a full device.
		err = out.Write(context.Background(), batch(0, 1, 300))
		if !isNoSpace(err) || !strings.Contains(err.Error(), "/dev/full") {
			t.Errorf("Write = %v, want ENOSPC naming /dev/full", err)
		}
		if err := out.Flush(); !isNoSpace(err) {
			t.Errorf("Flush of the line still buffered = %v, want ENOSPC", err)
		}
		if err := out.Write(context.Background(), batch(1, 10, 1000)); !isNoSpace(err) {
			t.Errorf("Write past the buffer = %v, want ENOSPC", err)
		}
		if _, err := os.Stat("/dev/full"); err != nil {
			t.Errorf("/dev/full gone: %v", err)
		}
	})
}

// TestRetryAfterFailedWrite: whatever write fails, half-way or not, the
// retried batch leaves each line in the files exactly once and whole.
func TestRetryAfterFailedWrite(t *testing.T) {
	tests := []struct {
		name          string
		failWrites    []int
		partial       bool
		failTruncates int
		mutate        func(*Options)
		joined        bool // batches joined by the pipeline of parts (written part by part)
	}{
		{"first write, nothing written", []int{1}, false, 0, nil, false},
		{"first write, half written", []int{1}, true, 0, nil, false},
		{"several writes, half written", []int{2, 3, 7}, true, 0, nil, false},
		{"truncate fails once too", []int{2}, true, 1, nil, false},
		{"fsync always", []int{1, 4}, true, 0, func(o *Options) { o.Fsync = FsyncAlways }, false},
		{"during size rotation", []int{3, 5, 9}, true, 0, func(o *Options) { o.Rotate.MaxSize = 8 << 10 }, false},
		{"lines larger than the buffer", []int{1, 2}, true, 0, func(o *Options) { o.BufferSize = 4 << 10 }, false},
		{"joined batches, half written", []int{2, 3, 7}, true, 0, nil, true},
		{"joined batches, during size rotation", []int{3, 5, 9}, true, 0, func(o *Options) { o.Rotate.MaxSize = 8 << 10 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := setup(t, tt.mutate)
			fx.fault.failWrites, fx.fault.partial, fx.fault.failTruncates = tt.failWrites, tt.partial, tt.failTruncates
			failures := 0
			next := 0
			for _, n := range []int{12, 9, 15} {
				b := batch(next, n, 700)
				if n == 9 && tt.name == "lines larger than the buffer" {
					b = batch(next, n, 6000)
				}
				if tt.joined {
					b = joinedBatch(next, n, 700)
				}
				next += n
				for attempt := 0; ; attempt++ {
					err := fx.out.Write(context.Background(), b)
					if err == nil {
						break
					}
					if !isNoSpace(err) && !strings.Contains(err.Error(), "partial line") {
						t.Fatalf("unexpected error: %v", err)
					}
					if !strings.Contains(err.Error(), fx.path) {
						t.Errorf("error %q does not name the file", err)
					}
					failures++
					if attempt > 10 {
						t.Fatal("write never succeeded")
					}
				}
			}
			for fx.out.Flush() != nil {
				failures++
			}
			if err := fx.out.Close(); err != nil {
				t.Fatal(err)
			}
			if failures == 0 {
				t.Fatal("no write failed: the fault was not injected")
			}
			if got := fx.allIDs(); !slices.Equal(got, wantIDs(0, next)) {
				t.Errorf("after %d failures the files hold %d lines, want %d each once in order:\n%v", failures, len(got), next, got)
			}
		})
	}
}

// joinedBatch is n events as the pipeline hands them to an output that
// takes several queued batches at once: parts of up to 4 events, each
// encoded, joined without copying.
func joinedBatch(first, n, size int) *outputs.Batch {
	var parts []*outputs.Batch
	for i := 0; i < n; i += 4 {
		p := batch(first+i, min(4, n-i), size)
		p.Encode(format.Native{})
		parts = append(parts, p)
	}
	return outputs.Join(format.Native{}, parts)
}

// TestPartialLineFromCrash: a file a crash left mid-line is terminated
// before new lines are appended.
func TestPartialLineFromCrash(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.json")
	if err := os.WriteFile(path, []byte(`{"id":"old"}`+"\n"+`{"id":"tor`), 0o640); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Path = path
	out, err := New(testEnv(), *opts)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(context.Background(), batch(0, 2, 200))
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 4 || lines[1] != `{"id":"tor` || !strings.Contains(lines[2], "ev-00000000") {
		t.Errorf("lines %q, want the fragment alone on its line, then the new lines", lines)
	}
}

// TestConcurrentReopen: SIGHUPs and renames racing with writes and ticks
// lose and repeat nothing (run with -race).
func TestConcurrentReopen(t *testing.T) {
	fx := setup(t, func(o *Options) { o.Rotate.MaxSize = 64 << 10 })
	const batches, per = 200, 10
	var wg sync.WaitGroup
	stop := make(chan struct{})
	stopped := false
	halt := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	defer halt()
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			os.Rename(fx.path, fx.path+"."+strings.Repeat("r", i%3+1)+time.Now().Format("150405.000000000"))
			if err := fx.out.Reopen(); err != nil {
				t.Error(err)
			}
			fx.out.tick()
			time.Sleep(100 * time.Microsecond)
		}
	})
	for i := range batches {
		if err := fx.out.Write(context.Background(), batch(i*per, per, 500)); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			fx.out.Flush()
		}
	}
	halt()
	if err := fx.out.Close(); err != nil {
		t.Fatal(err)
	}
	// Every file in the directory, ordered by its first id, concatenated.
	entries, _ := os.ReadDir(fx.dir)
	var files [][]string
	for _, e := range entries {
		if got := ids(t, filepath.Join(fx.dir, e.Name())); len(got) > 0 {
			files = append(files, got)
		}
	}
	slices.SortFunc(files, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	var all []string
	for _, f := range files {
		all = append(all, f...)
	}
	if !slices.Equal(all, wantIDs(0, batches*per)) {
		t.Errorf("%d files hold %d lines, want %d each once in order", len(files), len(all), batches*per)
	}
}

func TestPluginNew(t *testing.T) {
	opts := Plugin.Options().(*Options)
	opts.Path = filepath.Join(t.TempDir(), "x", "events.json")
	out, err := Plugin.New(testEnv(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := out.(outputs.Reopener); !ok {
		t.Error("file output does not implement Reopener")
	}
	if _, ok := out.(outputs.Flusher); !ok {
		t.Error("file output does not implement Flusher")
	}
	if err := out.Write(context.Background(), batch(0, 3, 200)); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := ids(t, opts.Path); len(got) != 3 {
		t.Errorf("%d lines", len(got))
	}
	if err := out.Write(context.Background(), batch(3, 1, 200)); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func testEnv() outputs.Env { return outputs.Env{Name: "test"} }
