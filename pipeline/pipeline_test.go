package pipeline

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/eventid"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

// lineInput emits its messages in batches, then waits for shutdown. Its
// decoder accepts "ok-N" and rejects anything else.
type lineInput struct {
	batches [][]string
	origins [][]eventid.Run // per batch, when set
	acked   atomic.Int64
}

func (in *lineInput) Run(ctx context.Context, emit inputs.Emitter) error {
	for k, b := range in.batches {
		msgs := make([][]byte, len(b))
		for i, s := range b {
			msgs[i] = []byte(s)
		}
		n := int64(len(b))
		batch := &inputs.Batch{Msgs: msgs, Received: time.Now(), Done: func() { in.acked.Add(n) }}
		if k < len(in.origins) {
			batch.Origins = in.origins[k]
		}
		emit.Messages(batch)
	}
	<-ctx.Done()
	return nil
}

func (in *lineInput) Close() error { return nil }

func (in *lineInput) Decode(msg []byte, ev *normalize.Event) error {
	s := string(msg)
	if !strings.HasPrefix(s, "ok-") {
		return normalize.Errorf(normalize.ReasonInvalidJSON, "not ok: %q", s)
	}
	ev.Kind = normalize.KindEvent
	ev.Details.Set("msg", normalize.RawJSON(`"`+s+`"`))
	return nil
}

// memOutput records what it is given; it can fail, block or count reopens.
type memOutput struct {
	mu       sync.Mutex
	lines    []string
	failures int           // fail this many writes first
	gate     chan struct{} // when set, Write waits for it to close
	reopens  atomic.Int32
	closed   atomic.Bool
}

func (o *memOutput) Write(ctx context.Context, b *outputs.Batch) error {
	if o.gate != nil {
		<-o.gate
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failures > 0 {
		o.failures--
		return errors.New("destination down")
	}
	l := b.Encode(format.Native{})
	for i := range b.Events {
		o.lines = append(o.lines, string(l.Line(i)))
	}
	return nil
}

func (o *memOutput) Reopen() error { o.reopens.Add(1); return nil }
func (o *memOutput) Close() error  { o.closed.Store(true); return nil }

func (o *memOutput) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.lines)
}

type harness struct {
	p    *Pipeline
	reg  *stats.Registry
	in   *lineInput
	outs []*memOutput
	dl   string
}

func newHarness(t *testing.T, in *lineInput, whenFull []string, outs ...*memOutput) *harness {
	t.Helper()
	reg := stats.NewRegistry()
	dlPath := filepath.Join(t.TempDir(), "dead.json")
	dl, err := OpenDeadLetter(dlPath, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var pouts []Output
	for i, o := range outs {
		name := fmt.Sprintf("out%d", i)
		pouts = append(pouts, Output{
			Name: name, Type: "mem", Writer: o, Encoder: format.Native{},
			Buffer: Buffer{Type: "memory", MaxEvents: 4, WhenFull: whenFull[i]},
			Stats:  reg.Output(name, "mem"), Log: zerolog.Nop(),
		})
	}
	p, err := New(Options{Sensor: "s1", Workers: 2, ShutdownTimeout: 2 * time.Second, Log: zerolog.Nop(), DeadLetter: dl},
		[]Input{{Name: "in", Type: "test", Reader: in, Decoder: in, Stats: reg.Input("in", "test"), Log: zerolog.Nop()}}, pouts)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{p: p, reg: reg, in: in, outs: outs, dl: dlPath}
}

// runUntil runs the pipeline until cond holds (or 5 s pass), then stops it.
func (h *harness) runUntil(t *testing.T, cond func() bool) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- h.p.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	return <-errc
}

func TestPipelineDeliversToEveryOutput(t *testing.T) {
	in := &lineInput{batches: [][]string{{"ok-1", "ok-2", "bad-1"}, {"ok-3"}, {"ok-4", "bad-2"}}}
	a, b := &memOutput{}, &memOutput{}
	h := newHarness(t, in, []string{"block", "block"}, a, b)
	if err := h.runUntil(t, func() bool { return a.count() == 4 && b.count() == 4 }); err != nil {
		t.Fatal(err)
	}
	for i, o := range h.outs {
		if o.count() != 4 || !o.closed.Load() {
			t.Errorf("output %d: %d lines, closed=%v", i, o.count(), o.closed.Load())
		}
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(a.lines[0]), &ev); err != nil {
		t.Fatal(err)
	}
	src := ev["source"].(map[string]any)
	if src["input"] != "in" || src["type"] != "test" || src["sensor"] != "s1" || ev["action"] != "unknown" || len(ev["id"].(string)) != 32 {
		t.Errorf("completed fields wrong: %v", ev)
	}
	st := h.reg.Inputs()[0]
	if st.Normalized.Load() != 4 || st.Failed.Get(normalize.ReasonInvalidJSON) != 2 {
		t.Errorf("normalized=%d failed=%v", st.Normalized.Load(), st.Failed.Snapshot())
	}
	if got := h.in.acked.Load(); got != 6 {
		t.Errorf("acked %d messages, want 6 (every batch, failures included)", got)
	}
	for _, o := range h.reg.Outputs() {
		if o.Written.Load() != 4 || o.Queued.Load() != 0 {
			t.Errorf("%s written=%d queued=%d", o.Name, o.Written.Load(), o.Queued.Load())
		}
	}
	// Both bad messages are in the dead-letter file with their raw bytes.
	f, err := os.Open(h.dl)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var raws []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec struct{ Input, Reason, Raw string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("dead-letter line %q: %v", sc.Text(), err)
		}
		raw, _ := base64.StdEncoding.DecodeString(rec.Raw)
		if rec.Input != "in" || rec.Reason != normalize.ReasonInvalidJSON {
			t.Errorf("record %+v", rec)
		}
		raws = append(raws, string(raw))
	}
	if strings.Join(raws, ",") != "bad-1,bad-2" && strings.Join(raws, ",") != "bad-2,bad-1" {
		t.Errorf("dead-lettered %q", raws)
	}
}

// TestPipelineJournalOrigins: events made from journaled messages get the
// ids their batch's origins give them (a message that fails still takes
// its place in the run); the others are numbered by the pipeline.
func TestPipelineJournalOrigins(t *testing.T) {
	a, b := eventid.Origin{0xa}, eventid.Origin{0xb}
	in := &lineInput{
		batches: [][]string{{"ok-1", "bad-1", "ok-2"}, {"ok-3"}},
		origins: [][]eventid.Run{{{N: 2, Origin: a}, {N: 1, Origin: b}}},
	}
	out := &memOutput{}
	h := newHarness(t, in, []string{"block"}, out)
	if err := h.runUntil(t, func() bool { return out.count() == 3 }); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, l := range out.lines {
		var ev struct {
			ID      string
			Details struct{ Msg string }
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		ids[ev.Details.Msg] = ev.ID
	}
	if ids["ok-1"] != a.EventID(0) || ids["ok-2"] != b.EventID(0) {
		t.Errorf("journaled events' ids %q, want ok-1 %s and ok-2 %s", ids, a.EventID(0), b.EventID(0))
	}
	if id := ids["ok-3"]; len(id) != 32 || id == a.EventID(0) || id == b.EventID(0) {
		t.Errorf("an event without origin got id %q", id)
	}
}

// An input that emits raw messages without a declared decoder (a plugin
// bug) has them dead-lettered and acknowledged: counted, not lost, no panic.
func TestPipelineInputWithoutDecoder(t *testing.T) {
	in := &lineInput{batches: [][]string{{"ok-1", "ok-2"}}}
	o := &memOutput{}
	h := newHarness(t, in, []string{"block"}, o)
	h.p.inputs[0].Decoder = nil
	if err := h.runUntil(t, func() bool { return in.acked.Load() == 2 }); err != nil {
		t.Fatal(err)
	}
	st := h.reg.Inputs()[0]
	if o.count() != 0 || st.Failed.Get(normalize.ReasonUnsupported) != 2 || in.acked.Load() != 2 {
		t.Errorf("written %d, failed %v, acked %d", o.count(), st.Failed.Snapshot(), in.acked.Load())
	}
	b, _ := os.ReadFile(h.dl)
	if !strings.Contains(string(b), "declares no decoder") {
		t.Errorf("dead letter: %s", b)
	}
}

func TestPipelineRetriesFailedWrites(t *testing.T) {
	in := &lineInput{batches: [][]string{{"ok-1", "ok-2"}}}
	o := &memOutput{failures: 2}
	h := newHarness(t, in, []string{"block"}, o)
	if err := h.runUntil(t, func() bool { return o.count() == 2 }); err != nil {
		t.Fatal(err)
	}
	st := h.reg.Outputs()[0]
	if o.count() != 2 || st.Retried.Load() != 2 || st.Written.Load() != 2 {
		t.Errorf("lines=%d retried=%d written=%d", o.count(), st.Retried.Load(), st.Written.Load())
	}
}

func TestPipelineDropPolicyIsolatesSlowOutput(t *testing.T) {
	var batches [][]string
	for i := range 50 {
		batches = append(batches, []string{fmt.Sprintf("ok-%d", i)})
	}
	in := &lineInput{batches: batches}
	fast := &memOutput{}
	stuck := &memOutput{gate: make(chan struct{})}
	h := newHarness(t, in, []string{"block", "drop_newest"}, fast, stuck)
	var once sync.Once
	err := h.runUntil(t, func() bool {
		if fast.count() < 50 {
			return false
		}
		once.Do(func() { close(stuck.gate) }) // let the stuck output drain before shutdown
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if fast.count() != 50 {
		t.Errorf("fast output got %d of 50 while the other was stuck", fast.count())
	}
	st := h.reg.Outputs()[1]
	if dropped := st.Dropped.Get("queue_full"); dropped == 0 || dropped+uint64(stuck.count()) != 50 {
		t.Errorf("stuck output: dropped %d + written %d, want 50 in all with some dropped", dropped, stuck.count())
	}
}

func TestPipelineDropOldest(t *testing.T) {
	q, err := newQueue(Buffer{Type: BufferMemory, MaxEvents: 3, WhenFull: WhenFullDropOldest}, &stats.Output{}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	var released []int
	for i := range 5 {
		evs := []*normalize.Event{{ID: fmt.Sprint(i)}}
		q.push(&delivery{batch: &outputs.Batch{Events: evs}, refs: 1, done: func() { released = append(released, i) }})
	}
	if fmt.Sprint(released) != "[0 1]" || q.events != 3 || q.stats.Dropped.Get("queue_full") != 2 {
		t.Errorf("released %v, %d queued, dropped %d", released, q.events, q.stats.Dropped.Get("queue_full"))
	}
	pd, _ := q.next(1, 0)
	if pd.batch.Events[0].ID != "2" {
		t.Errorf("oldest kept is %s, want 2", pd.batch.Events[0].ID)
	}
}

func TestPipelineShutdownDeadline(t *testing.T) {
	in := &lineInput{batches: [][]string{{"ok-1"}, {"ok-2"}}}
	stuck := &memOutput{gate: make(chan struct{})}
	defer close(stuck.gate)
	h := newHarness(t, in, []string{"block"}, stuck)
	h.p.opts.ShutdownTimeout = 200 * time.Millisecond
	err := h.runUntil(t, func() bool { return h.reg.Inputs()[0].Normalized.Load() == 2 })
	if err == nil || !strings.Contains(err.Error(), "shutdown deadline") {
		t.Fatalf("err = %v, want a shutdown deadline error", err)
	}
	// Both batches were joined into the one Write that hangs: at the
	// deadline they are counted dropped, not forgotten.
	if d := h.reg.Outputs()[0].Dropped.Get("shutdown"); d != 2 {
		t.Errorf("dropped at shutdown = %d, want 2 (both batches, joined into the Write that hangs)", d)
	}
}

func TestPipelineReopenIdleOutput(t *testing.T) {
	in := &lineInput{}
	o := &memOutput{}
	h := newHarness(t, in, []string{"block"}, o)
	err := h.runUntil(t, func() bool {
		h.p.Reopen()
		return o.reopens.Load() > 0
	})
	if err != nil || o.reopens.Load() == 0 {
		t.Errorf("reopens=%d err=%v", o.reopens.Load(), err)
	}
}

func TestNextIDUnique(t *testing.T) {
	p, err := New(Options{Log: zerolog.Nop()}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 1000 {
		id := p.nextID()
		if len(id) != 32 || seen[id] {
			t.Fatalf("id %q repeated or malformed", id)
		}
		seen[id] = true
	}
}

// The dead-letter file is readable while the gateway runs, not only after
// shutdown (operators tail it).
func TestDeadLetterVisibleWhileRunning(t *testing.T) {
	in := &lineInput{batches: [][]string{{"bad-while-running"}}}
	h := newHarness(t, in, []string{"block"}, &memOutput{})
	want := base64.StdEncoding.EncodeToString([]byte("bad-while-running"))
	seen := false // set only while the pipeline runs
	err := h.runUntil(t, func() bool {
		b, _ := os.ReadFile(h.dl)
		seen = strings.Contains(string(b), want)
		return seen
	})
	if err != nil {
		t.Fatal(err)
	}
	if !seen {
		t.Error("the dead-lettered message was not in the file while the pipeline ran")
	}
}
