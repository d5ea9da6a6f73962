package store

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/file"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/pipeline"
	"github.com/alertgw/alertgw/stats"
	evstore "github.com/alertgw/alertgw/store"
	"github.com/alertgw/alertgw/store/sqlite"
	"github.com/alertgw/alertgw/store/storetest"
)

// sliceInput emits its events once, then waits.
type sliceInput struct{ evs []*normalize.Event }

func (in *sliceInput) Run(ctx context.Context, emit inputs.Emitter) error {
	for i := 0; i < len(in.evs); i += 100 {
		emit.Events(in.evs[i:min(i+100, len(in.evs))], nil)
	}
	<-ctx.Done()
	return nil
}

func (in *sliceInput) Close() error { return nil }

func lines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
	}
	return n
}

func mount(t *testing.T, dir, size string, remount bool) {
	t.Helper()
	opts := "size=" + size
	if remount {
		opts = "remount," + opts
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount %s: %v: %s", opts, err, out)
	}
}

// TestFullDisk fills the store's real filesystem (a small tmpfs) behind the
// real pipeline, with a file output beside it: the file output gets every
// event at once, the store pauses (not ready) holding its events, and once
// the filesystem grows it resumes and stores each event exactly once.
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounts a tmpfs: needs root (make test runs as root)")
	}
	dir := filepath.Join(t.TempDir(), "store")
	os.Mkdir(dir, 0o750)
	mount(t, dir, "512k", false)
	t.Cleanup(func() { exec.Command("umount", dir).Run() })

	reg := stats.NewRegistry()
	fileStats, storeStats := reg.Output("events", "file"), reg.Output("store", Type)
	fo := file.DefaultOptions()
	fo.Path = filepath.Join(t.TempDir(), "events.json")
	fileOut, err := file.Plugin.New(outputs.Env{Name: "events", Log: zerolog.Nop(), Stats: fileStats, Encoder: format.Native{}}, fo)
	if err != nil {
		t.Fatal(err)
	}
	so := DefaultOptions()
	so.Path, so.MinFree = dir, 0 // find the full disk by writing
	storeOut, err := New(outputs.Env{Name: "store", Log: zerolog.Nop(), Stats: storeStats, Encoder: format.Native{}}, so)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	evs := storetest.Events(3000, 11, now.Add(-time.Minute), now) // ~4 MB of store: far more than 512 KiB
	retry := pipeline.DefaultDelivery().Retry
	retry.Initial, retry.Max = 20*time.Millisecond, 200*time.Millisecond
	p, err := pipeline.New(pipeline.Options{Sensor: "s1", Workers: 2, ShutdownTimeout: 10 * time.Second, Log: zerolog.Nop()},
		[]pipeline.Input{{Name: "in", Type: "test", Reader: &sliceInput{evs}, Stats: reg.Input("in", "test"), Log: zerolog.Nop()}},
		[]pipeline.Output{
			{Name: "events", Type: "file", Writer: fileOut, Encoder: format.Native{}, Buffer: pipeline.DefaultDelivery().Buffer, Stats: fileStats, Log: zerolog.Nop()},
			{Name: "store", Type: Type, Writer: storeOut, Encoder: format.Native{}, Buffer: pipeline.DefaultDelivery().Buffer, Retry: retry, Stats: storeStats, Log: zerolog.Nop()},
		})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	defer func() {
		cancel()
		<-errc
	}()

	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting: %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait("the store to pause on the full disk", func() bool { return storeStats.PausedFor() != "" })
	wait("the file output to get every event", func() bool { return fileStats.Written.Load() == uint64(len(evs)) })
	if storeStats.Ready() || storeStats.Queued.Load() == 0 {
		t.Errorf("paused store: ready %v, queued %d", storeStats.Ready(), storeStats.Queued.Load())
	}
	if n := lines(t, fo.Path); n < len(evs)-1000 { // the file output's buffer may hold the tail until its flush
		t.Errorf("file output wrote %d lines while the store was paused", n)
	}

	mount(t, dir, "64m", true)
	wait("the store to resume and write everything", func() bool { return storeStats.Written.Load() == uint64(len(evs)) })
	if storeStats.PausedFor() != "" || !storeStats.Ready() {
		t.Errorf("after space came back: paused %q, ready %v", storeStats.PausedFor(), storeStats.Ready())
	}
	total, distinct := countIDs(t, dir)
	if total != len(evs) || distinct != len(evs) {
		t.Errorf("store holds %d events (%d distinct), want %d once each", total, distinct, len(evs))
	}
}

func countIDs(t *testing.T, dir string) (total, distinct int) {
	t.Helper()
	rd, err := sqlite.OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	res, err := rd.Events(context.Background(), evstore.EventsRequest{Filter: evstore.Filter{
		From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)}, Limit: evstore.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, e := range res.Events {
		ids[e.ID] = true
	}
	return len(res.Events), len(ids)
}
