package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/internal/eventcodec"
	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

// recorder is an output that keeps what it is given; fail decides, per
// Write, what goes wrong.
type recorder struct {
	mu     sync.Mutex
	seqs   map[string]int // by event id: times delivered
	order  []int
	writes int
	fail   func(call int, b *outputs.Batch) error
}

func newRecorder(fail func(int, *outputs.Batch) error) *recorder {
	return &recorder{seqs: map[string]int{}, fail: fail}
}

func (r *recorder) Write(_ context.Context, b *outputs.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes++
	var err error
	if r.fail != nil {
		err = r.fail(r.writes, b)
	}
	var skip map[int]bool
	var pe *outputs.PartialError
	switch {
	case errors.As(err, &pe):
		skip = map[int]bool{}
		for _, f := range pe.Failed {
			skip[f.Index] = true
		}
	case err != nil:
		return err
	}
	for i, e := range b.Events {
		if skip[i] {
			continue
		}
		r.seqs[e.ID]++
		seq, _ := strconv.Atoi(string(e.Details.Get("seq")))
		r.order = append(r.order, seq)
	}
	return err
}

func (r *recorder) Close() error { return nil }

func (r *recorder) delivered() (unique, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.seqs {
		total += n
	}
	return len(r.seqs), total
}

func testOutput(name string, w outputs.Output, buf Buffer) Output {
	def := DefaultDelivery()
	if buf.Type == "" {
		buf = def.Buffer
	}
	if buf.MaxBytes == 0 {
		buf.MaxBytes = def.Buffer.MaxBytes
	}
	return Output{Name: name, Type: "test", Writer: w, Encoder: format.Native{}, Buffer: buf,
		Retry: Retry{Initial: time.Millisecond, Max: 20 * time.Millisecond},
		Stats: &stats.Output{Name: name}, Log: zerolog.Nop()}
}

func runPipeline(t *testing.T, opts Options, in inputs.Input, outs ...Output) (stop func() error) {
	t.Helper()
	opts.Log = zerolog.Nop()
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 5 * time.Second
	}
	p, err := New(opts, []Input{{Name: "in", Type: "test", Reader: in, Stats: &stats.Input{}, Log: zerolog.Nop()}}, outs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	return func() error { cancel(); return <-errc }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBatchingJoinsQueuedBatches(t *testing.T) {
	gate := make(chan struct{})
	var sizes []int
	rec := newRecorder(func(call int, b *outputs.Batch) error {
		if call == 1 {
			<-gate // hold the first write so the rest queue up
		}
		sizes = append(sizes, len(b.Events))
		return nil
	})
	o := testOutput("rec", rec, Buffer{})
	o.Batch = Batching{MaxEvents: 50}
	stop := runPipeline(t, Options{Workers: 1}, &testutil.Events{N: 200, Size: 10}, o)
	waitFor(t, "queue to fill", func() bool { return o.Stats.Queued.Load() == 200 })
	close(gate)
	waitFor(t, "delivery", func() bool { u, _ := rec.delivered(); return u == 200 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for i, n := range sizes[1:] {
		if n > 50 || (i < len(sizes)-2 && n != 50) {
			t.Fatalf("batch sizes %v: want joined batches of 50", sizes)
		}
	}
	if o.Stats.LatencyCount.Load() != 200 {
		t.Fatalf("latency observed for %d events", o.Stats.LatencyCount.Load())
	}
}

func TestPartialFailuresRetryAndDeadLetter(t *testing.T) {
	dlPath := filepath.Join(t.TempDir(), "dead.jsonl")
	dl, err := OpenDeadLetter(dlPath, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Every event with seq%10==3 is invalid for good; seq%10==7 is throttled
	// on the first attempt only.
	throttled := map[string]bool{}
	rec := newRecorder(func(_ int, b *outputs.Batch) error {
		var pe outputs.PartialError
		for i, e := range b.Events {
			seq, _ := strconv.Atoi(string(e.Details.Get("seq")))
			switch {
			case seq%10 == 3:
				pe.Failed = append(pe.Failed, outputs.ItemFailure{Index: i, Permanent: true, Reason: "mapper_parsing_exception", Detail: "failed to parse field [seq]"})
			case seq%10 == 7 && !throttled[e.ID]:
				throttled[e.ID] = true
				pe.Failed = append(pe.Failed, outputs.ItemFailure{Index: i, Reason: "es_rejected_execution_exception"})
			}
		}
		if len(pe.Failed) > 0 {
			return &pe
		}
		return nil
	})
	o := testOutput("es", rec, Buffer{})
	stop := runPipeline(t, Options{Workers: 2, DeadLetter: dl}, &testutil.Events{N: 1000, Size: 100}, o)
	waitFor(t, "delivery", func() bool { u, _ := rec.delivered(); return u == 900 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if u, total := rec.delivered(); u != 900 || total != 900 {
		t.Fatalf("delivered %d unique, %d total; want 900, 900", u, total)
	}
	if got := o.Stats.Failed.Get("mapper_parsing_exception"); got != 100 {
		t.Fatalf("failed = %d, want 100", got)
	}
	if o.Stats.Written.Load() != 900 {
		t.Fatalf("written = %d", o.Stats.Written.Load())
	}
	f, _ := os.Open(dlPath)
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var rec struct {
			Output, Reason, Error string
			Event                 struct{ ID string }
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("dead-letter line %q: %v", sc.Text(), err)
		}
		if rec.Output != "es" || rec.Reason != "mapper_parsing_exception" || rec.Error != "failed to parse field [seq]" || rec.Event.ID == "" {
			t.Fatalf("dead-letter record %+v", rec)
		}
		n++
	}
	if n != 100 {
		t.Fatalf("%d dead-letter records, want 100", n)
	}
}

func TestPermanentErrorDoesNotBlock(t *testing.T) {
	rec := newRecorder(func(call int, _ *outputs.Batch) error {
		if call == 1 {
			return outputs.Permanent(errors.New("unknown topic"))
		}
		return nil
	})
	o := testOutput("k", rec, Buffer{})
	o.Batch.MaxEvents = 10
	stop := runPipeline(t, Options{Workers: 1}, &testutil.Events{N: 100, Size: 10}, o)
	waitFor(t, "delivery", func() bool { u, _ := rec.delivered(); return u == 90 })
	stop()
	if got := o.Stats.Failed.Get("rejected"); got != 10 {
		t.Fatalf("failed = %d, want 10", got)
	}
}

// TestDeadOutputDoesNotStallOthers: an output that is down spills to its
// disk buffer while a healthy output beside it gets every event.
func TestDeadOutputDoesNotStallOthers(t *testing.T) {
	const n = 50_000
	dead := newRecorder(func(int, *outputs.Batch) error { return errors.New("connection refused") })
	live := newRecorder(nil)
	do := testOutput("dead", dead, Buffer{Type: BufferMemory, MaxEvents: 1000, WhenFull: WhenFullBlock, Path: t.TempDir(), MaxBytes: 1 << 30})
	lo := testOutput("file", live, Buffer{})
	stop := runPipeline(t, Options{Workers: 2}, &testutil.Events{N: n, Size: 100}, do, lo)
	waitFor(t, "healthy output to get everything", func() bool { u, _ := live.delivered(); return u == n })
	if u, _ := dead.delivered(); u != 0 {
		t.Fatalf("dead output delivered %d", u)
	}
	// At most max_events wait in memory and one batch of max_events is in flight.
	if sp := do.Stats.Spilled.Load(); sp < n-2000 {
		t.Fatalf("dead output spilled %d, want at least %d", sp, n-2000)
	}
	if q := do.Stats.Queued.Load(); q != n {
		t.Fatalf("dead output holds %d, want %d", q, n)
	}
	if do.Stats.BufferedBytes.Load() == 0 {
		t.Fatal("buffered bytes not reported")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if d := do.Stats.Dropped.Total(); d != 0 {
		t.Fatalf("dropped %d", d)
	}
}

// TestSpillKeepsOrder: events that spill to disk come back after those in
// memory, in order, once the output recovers.
func TestSpillKeepsOrderAndRecovers(t *testing.T) {
	const n = 5000
	var up sync.WaitGroup
	up.Add(1)
	healthy := make(chan struct{})
	rec := newRecorder(func(int, *outputs.Batch) error {
		select {
		case <-healthy:
			return nil
		default:
			return errors.New("503")
		}
	})
	o := testOutput("http", rec, Buffer{Type: BufferMemory, MaxEvents: 500, WhenFull: WhenFullBlock, Path: t.TempDir(), MaxBytes: 1 << 30})
	stop := runPipeline(t, Options{Workers: 1}, &testutil.Events{N: n, Size: 50}, o)
	waitFor(t, "spill", func() bool { return o.Stats.Queued.Load() == n })
	close(healthy)
	waitFor(t, "recovery", func() bool { u, _ := rec.delivered(); return u == n })
	stop()
	for i, seq := range rec.order {
		if seq != i {
			t.Fatalf("event %d delivered at position %d: order lost", seq, i)
		}
	}
}

// TestCrashSafety kills a gateway with SIGKILL while its output is down and
// every event has reached the disk buffer, then restarts on the same buffer
// with the output up: every event is delivered.
func TestCrashSafety(t *testing.T) {
	if os.Getenv("ALERTGW_CRASH_CHILD") != "" {
		crashChild()
		return
	}
	const n = 20_000
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSafety$", "-test.v")
	cmd.Env = append(os.Environ(), "ALERTGW_CRASH_CHILD="+dir, "ALERTGW_CRASH_N="+strconv.Itoa(n))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	ready := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "SPILLED ") {
			ready = true
			break
		}
	}
	if !ready {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("child never reported its disk buffer full")
	}
	// The output is still failing and retrying: kill the gateway hard.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	rec := newRecorder(nil)
	o := testOutput("kafka", rec, Buffer{Type: BufferDisk, MaxEvents: 1000, WhenFull: WhenFullBlock, Path: dir})
	stop := runPipeline(t, Options{Workers: 1}, &testutil.Events{N: 0, Size: 1}, o)
	waitFor(t, "replay", func() bool { u, _ := rec.delivered(); return u == n })
	stop()
	if o.Stats.Replayed.Load() != n {
		t.Fatalf("replayed %d, want %d", o.Stats.Replayed.Load(), n)
	}
	seen := map[int]bool{}
	for _, s := range rec.order {
		seen[s] = true
	}
	for i := range n {
		if !seen[i] {
			t.Fatalf("event %d lost", i)
		}
	}
}

func crashChild() {
	dir := os.Getenv("ALERTGW_CRASH_CHILD")
	n, _ := strconv.Atoi(os.Getenv("ALERTGW_CRASH_N"))
	down := newRecorder(func(int, *outputs.Batch) error { return errors.New("connection refused") })
	def := DefaultDelivery()
	o := Output{Name: "kafka", Type: "test", Writer: down, Encoder: format.Native{},
		Buffer: Buffer{Type: BufferDisk, MaxEvents: 1000, MaxBytes: def.Buffer.MaxBytes, WhenFull: WhenFullBlock, Path: dir, Sync: "never"},
		Retry:  Retry{Initial: time.Millisecond, Max: 10 * time.Millisecond},
		Stats:  &stats.Output{Name: "kafka"}, Log: zerolog.Nop()}
	p, err := New(Options{Workers: 2, Log: zerolog.Nop()}, []Input{{Name: "in", Type: "test", Reader: &testutil.Events{N: n, Size: 100}, Stats: &stats.Input{}, Log: zerolog.Nop()}}, []Output{o})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	go p.Run(context.Background())
	for o.Stats.Spilled.Load() < uint64(n) {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("SPILLED", o.Stats.Spilled.Load())
	select {} // wait for SIGKILL
}

// BenchmarkDiskQueue measures an output queue with buffer type disk: every
// event encoded and written to the disk buffer by the pushing side, read
// back and decoded by the output's side, concurrently, ~1 KB events.
func BenchmarkDiskQueue(b *testing.B) {
	for _, sync := range []string{"interval", "never", "always"} {
		b.Run("sync="+sync, func(b *testing.B) {
			st := &stats.Output{}
			q, err := newQueue(Buffer{Type: BufferDisk, MaxEvents: 1000, MaxBytes: 8 << 30,
				WhenFull: WhenFullBlock, Path: b.TempDir(), Sync: sync, SyncInterval: time.Second}, st, zerolog.Nop())
			if err != nil {
				b.Fatal(err)
			}
			const batch = 256
			evs := make([]*normalize.Event, batch)
			for i := range evs {
				e := &normalize.Event{ID: fmt.Sprintf("%032x", i), Kind: normalize.KindAlert, Received: time.Now(), Timestamp: time.Now(),
					Source: normalize.Source{Type: "suricata", Input: "eve", Sensor: "sensor-1"}, CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
					Signature: &normalize.Signature{GID: 1, ID: 2024001, Rev: 3, Name: "ET POLICY something rather long to look like a real signature name"}}
				e.Details = normalize.Details{{Key: "payload_printable", Value: normalize.RawJSON(`"` + strings.Repeat("x", 800) + `"`)}}
				evs[i] = e
			}
			total := b.N * batch
			done := make(chan struct{})
			go func() {
				got := 0
				for got < total {
					p, _ := q.next(1000, 0)
					if p != nil {
						got += p.n
						q.done(p)
					}
				}
				close(done)
			}()
			b.SetBytes(int64(len(diskbufRecord(evs[0]))) * batch)
			b.ResetTimer()
			for range b.N {
				q.push(&delivery{batch: &outputs.Batch{Events: evs}, refs: 1})
			}
			<-done
			b.StopTimer()
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
			q.close()
			q.closeDisk()
		})
	}
}

func diskbufRecord(e *normalize.Event) []byte { return eventcodec.AppendEvent(nil, e) }

// TestShutdownLeavesBacklogOnDisk: an output that fails every other Write
// is stopped with a backlog in its disk buffer. Acknowledgements are
// positions, so nothing after the batch left undelivered may be acked;
// after a restart with a healthy output, every event has been delivered.
func TestShutdownLeavesBacklogOnDisk(t *testing.T) {
	const n = 5000
	dir := t.TempDir()
	var mu sync.Mutex
	flaky := true
	first := newRecorder(func(call int, _ *outputs.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		if flaky || call%2 == 1 {
			return errors.New("503")
		}
		return nil
	})
	buf := Buffer{Type: BufferMemory, MaxEvents: 200, WhenFull: WhenFullBlock, Path: dir, MaxBytes: 1 << 30}
	o := testOutput("es", first, buf)
	o.Batch.MaxEvents = 100
	stop := runPipeline(t, Options{Workers: 1}, &testutil.Events{N: n, Size: 50}, o)
	waitFor(t, "backlog", func() bool { return o.Stats.Queued.Load() == n })
	mu.Lock()
	flaky = false // from now on every other Write works
	mu.Unlock()
	stop()

	second := newRecorder(nil)
	o2 := testOutput("es", second, buf)
	stop = runPipeline(t, Options{Workers: 1}, &testutil.Events{N: 0, Size: 1}, o2)
	delivered := func() int {
		seen := map[int]bool{}
		for _, r := range []*recorder{first, second} {
			r.mu.Lock()
			for _, s := range r.order {
				seen[s] = true
			}
			r.mu.Unlock()
		}
		return len(seen)
	}
	waitFor(t, "every event, across both runs", func() bool { return delivered() == n })
	stop()
}

// TestDiskBufferFullPolicies fills a 1MiB disk buffer behind a dead
// output: it never grows past its bound, drops are counted under
// buffer_full, and with drop_oldest the newest events are the ones kept.
func TestDiskBufferFullPolicies(t *testing.T) {
	for _, policy := range []string{WhenFullDropNewest, WhenFullDropOldest} {
		t.Run(policy, func(t *testing.T) {
			const n = 20_000
			dir := t.TempDir()
			var mu sync.Mutex
			up := false
			rec := newRecorder(func(int, *outputs.Batch) error {
				mu.Lock()
				defer mu.Unlock()
				if !up {
					return errors.New("down")
				}
				return nil
			})
			o := testOutput("out", rec, Buffer{Type: BufferDisk, MaxEvents: 100, WhenFull: policy, Path: dir, MaxBytes: 1 << 20, Sync: "never"})
			in := &testutil.Events{N: n, Size: 100, Emitted: make(chan struct{})}
			stop := runPipeline(t, Options{Workers: 1}, in, o)
			<-in.Emitted
			waitFor(t, "every event accounted for", func() bool {
				return uint64(o.Stats.Queued.Load())+o.Stats.Dropped.Get("buffer_full") >= n
			})
			if b := o.Stats.BufferedBytes.Load(); b > 1<<20 {
				t.Fatalf("disk buffer at %d bytes, bound 1MiB", b)
			}
			dropped := o.Stats.Dropped.Get("buffer_full")
			if dropped == 0 {
				t.Fatal("nothing dropped although the buffer was full")
			}
			mu.Lock()
			up = true
			mu.Unlock()
			waitFor(t, "the kept events", func() bool { u, _ := rec.delivered(); return uint64(u)+dropped >= n })
			stop()
			rec.mu.Lock()
			defer rec.mu.Unlock()
			last := rec.order[len(rec.order)-1]
			if policy == WhenFullDropOldest && last != n-1 {
				t.Fatalf("drop_oldest lost the newest event: last delivered %d", last)
			}
			if policy == WhenFullDropNewest && last == n-1 {
				t.Fatalf("drop_newest kept the newest event")
			}
		})
	}
}

// TestFullDiskQueueConcurrentPushes: pushes that wait for room in a full
// disk buffer (when_full: block) share the queue's encoding buffers with
// the pushes that go on meanwhile; each must still write its own events,
// every one exactly once.
func TestFullDiskQueueConcurrentPushes(t *testing.T) {
	q, err := newQueue(Buffer{Type: BufferDisk, MaxEvents: 100, MaxBytes: 1 << 20, WhenFull: WhenFullBlock,
		Path: t.TempDir(), Sync: "never"}, &stats.Output{}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer q.closeDisk()
	const pushers, batches, per = 4, 100, 10
	var wg sync.WaitGroup
	for g := range pushers {
		wg.Go(func() {
			for b := range batches {
				evs := make([]*normalize.Event, per)
				for i := range evs {
					evs[i] = &normalize.Event{ID: fmt.Sprintf("%d-%d-%d", g, b, i), Kind: normalize.KindAlert,
						Details: normalize.Details{{Key: "pad", Value: normalize.RawJSON(`"` + strings.Repeat("x", 1000) + `"`)}}}
				}
				q.push(&delivery{batch: &outputs.Batch{Events: evs}, refs: 1})
			}
		})
	}
	seen := map[string]int{}
	deadline := time.Now().Add(30 * time.Second)
	for len(seen) < pushers*batches*per {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s, %d of %d events read", len(seen), pushers*batches*per)
		}
		p, _ := q.next(50, 50*time.Millisecond)
		if p == nil {
			continue
		}
		for _, e := range p.batch.Events {
			seen[e.ID]++
		}
		q.done(p)
		time.Sleep(time.Millisecond) // slower than the pushers: the buffer stays full
	}
	wg.Wait()
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s read %d times", id, n)
		}
	}
}
