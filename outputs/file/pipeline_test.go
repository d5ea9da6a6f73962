package file_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
)

// phasedInput emits one phase of events per value received on next.
type phasedInput struct {
	phases [][]*normalize.Event
	next   chan struct{}
}

func (in *phasedInput) Run(ctx context.Context, emit inputs.Emitter) error {
	for _, evs := range in.phases {
		select {
		case <-in.next:
		case <-ctx.Done():
			return nil
		}
		for i := 0; i < len(evs); i += 50 {
			emit.Events(evs[i:min(i+50, len(evs))], nil)
		}
	}
	<-ctx.Done()
	return nil
}

func (in *phasedInput) Close() error { return nil }

func phase(first, n int) []*normalize.Event {
	evs := make([]*normalize.Event, n)
	for i := range evs {
		evs[i] = &normalize.Event{Kind: normalize.KindEvent, FlowID: uint64(first + i)}
		evs[i].Details.Set("pad", normalize.RawJSON(fmt.Sprintf("%q", fmt.Sprint(make([]byte, 100)))))
	}
	return evs
}

func flowIDs(t *testing.T, path string) []uint64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev struct {
			FlowID uint64 `json:"flow_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("%s: bad line %q: %v", path, sc.Text(), err)
		}
		out = append(out, ev.FlowID)
	}
	return out
}

// TestThroughPipeline runs the file output behind the real pipeline: lines
// appear once the queue runs empty (Flush), a logrotate-style rename plus
// the pipeline's Reopen (what SIGHUP triggers) splits the stream between
// the old and the new file, and shutdown writes everything.
func TestThroughPipeline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.json")
	opts := file.DefaultOptions()
	opts.Path = path
	reg := stats.NewRegistry()
	st := reg.Output("events", "file")
	out, err := file.Plugin.New(outputs.Env{Name: "events", Log: zerolog.Nop(), Stats: st, Encoder: format.Native{}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	in := &phasedInput{phases: [][]*normalize.Event{phase(1, 300), phase(301, 200)}, next: make(chan struct{})}
	p, err := pipeline.New(pipeline.Options{Sensor: "s1", Workers: 2, ShutdownTimeout: 5 * time.Second, Log: zerolog.Nop()},
		[]pipeline.Input{{Name: "in", Type: "test", Reader: in, Stats: reg.Input("in", "test"), Log: zerolog.Nop()}},
		[]pipeline.Output{{Name: "events", Type: "file", Writer: out, Encoder: format.Native{},
			Buffer: pipeline.DefaultDelivery().Buffer, Stats: st, Log: zerolog.Nop()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()

	waitLines := func(path string, n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(flowIDs(t, path)) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d lines, want %d (not flushed when the queue ran empty?)", path, len(flowIDs(t, path)), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	in.next <- struct{}{}
	waitLines(path, 300)
	rotated := path + ".1"
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	p.Reopen()
	// The reopen happens on the output's goroutine; wait for the new file.
	deadline := time.Now().Add(10 * time.Second)
	for _, err := os.Stat(path); err != nil; _, err = os.Stat(path) {
		if time.Now().After(deadline) {
			t.Fatal("no new file after Reopen")
		}
		time.Sleep(5 * time.Millisecond)
	}
	in.next <- struct{}{}
	waitLines(path, 200)
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	want := func(first, n int) []uint64 {
		out := make([]uint64, n)
		for i := range out {
			out[i] = uint64(first + i)
		}
		return out
	}
	got1, got2 := flowIDs(t, rotated), flowIDs(t, path)
	slices.Sort(got1) // workers may reorder batches of one phase
	slices.Sort(got2)
	if !slices.Equal(got1, want(1, 300)) || !slices.Equal(got2, want(301, 200)) {
		t.Errorf("old file %d lines, new file %d lines; want 300 and 200, each event once", len(got1), len(got2))
	}
	if w := st.Written.Load(); w != 500 {
		t.Errorf("written counter %d, want 500", w)
	}
}
