package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/internal/cputime"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/eve"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/stats"
)

// eveInput sends EVE lines as raw messages, acknowledging through acked.
type eveInput struct {
	batches [][]string
	acked   atomic.Int64
	sent    chan struct{}
}

func (in *eveInput) Run(ctx context.Context, emit inputs.Emitter) error {
	for _, b := range in.batches {
		msgs := make([][]byte, len(b))
		for i, s := range b {
			msgs[i] = []byte(s)
		}
		n := int64(len(b))
		emit.Messages(&inputs.Batch{Msgs: msgs, Received: time.Now(), Done: func() { in.acked.Add(n) }})
	}
	close(in.sent)
	<-ctx.Done()
	return nil
}

func (in *eveInput) Close() error { return nil }

// runEVE runs a pipeline of in, decoded by the EVE decoder, and outs.
func runEVE(t *testing.T, opts Options, in *eveInput, outs ...Output) (p *Pipeline, stop func() error) {
	t.Helper()
	opts.Log = zerolog.Nop()
	opts.ShutdownTimeout = 5 * time.Second
	p, err := New(opts, []Input{{Name: "in", Type: "suricata", Reader: in, Decoder: eve.Decoder{}, Stats: &stats.Input{}, Log: zerolog.Nop()}}, outs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	return p, func() error { cancel(); return <-errc }
}

// native is an output that keeps the native lines it is given.
type native struct {
	mu    sync.Mutex
	lines []map[string]any
}

func (o *native) Write(_ context.Context, b *outputs.Batch) error {
	l := b.Encode(format.Native{})
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range b.Events {
		var m map[string]any
		if err := json.Unmarshal(l.Line(i), &m); err != nil {
			return err
		}
		o.lines = append(o.lines, m)
	}
	return nil
}

func (o *native) Close() error { return nil }

func (o *native) got() []map[string]any {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]map[string]any(nil), o.lines...)
}

func routed(name string, w outputs.Output, r Route) Output {
	o := testOutput(name, w, Buffer{})
	o.Route = r
	return o
}

func corpusLines(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("testdata/tenzir_eve-excerpt-first6.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func kinds(lines []map[string]any) map[string]int {
	m := map[string]int{}
	for _, l := range lines {
		m[l["kind"].(string)]++
	}
	return m
}

// TestFiltersRouteEventsAndCountTheRest sends the corpus sample (alert,
// dns, fileinfo, flow, http, netflow) to three outputs filtered
// differently: each gets exactly what its filter says, what it left out is
// counted as filtered (not dropped), and every batch is acknowledged.
func TestFiltersRouteEventsAndCountTheRest(t *testing.T) {
	lines := corpusLines(t)
	in := &eveInput{batches: [][]string{lines[:3], lines[3:]}, sent: make(chan struct{})}
	alerts, flows, all := &native{}, &native{}, &native{}
	oa := routed("alerts", alerts, Route{Filter: "kind:alert OR (kind:packet action:blocked)"})
	of := routed("flows", flows, Route{Filter: "kind:flow -details.event_type:netflow"})
	ob := routed("all", all, Route{})
	_, stop := runEVE(t, Options{Workers: 2}, in, oa, of, ob)
	waitFor(t, "acks", func() bool { return in.acked.Load() == int64(len(lines)) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if k := kinds(alerts.got()); len(k) != 1 || k["alert"] != 1 {
		t.Errorf("alerts output got %v", k)
	}
	if k := kinds(flows.got()); len(k) != 1 || k["flow"] != 1 {
		t.Errorf("flows output got %v (the netflow record filtered out)", k)
	}
	if n := len(all.got()); n != len(lines) {
		t.Errorf("unfiltered output got %d of %d", n, len(lines))
	}
	if got := oa.Stats.Filtered.Load(); got != uint64(len(lines)-1) {
		t.Errorf("alerts filtered %d", got)
	}
	if oa.Stats.Dropped.Total() != 0 || of.Stats.Written.Load() != 1 {
		t.Errorf("dropped %d, flows written %d", oa.Stats.Dropped.Total(), of.Stats.Written.Load())
	}
}

func repeatedAlert(i int, src string) string {
	return fmt.Sprintf(`{"timestamp":"2026-12-04T10:00:%02d.000000+0000","flow_id":%d,"event_type":"alert","src_ip":%q,"src_port":4000,"dest_ip":"192.0.2.10","dest_port":22,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2001219,"rev":20,"signature":"ET SCAN Potential SSH Scan","category":"Attempted Information Leak","severity":2}}`, i%60, 1000+i, src)
}

// TestOutputAggregationNeverHidesCounts: 300 repeats of one alert from two
// sources reach an aggregating output as two summaries that stand for all
// of them, beside an output that gets every event; the input's batches are
// acknowledged only once the summaries are delivered.
func TestOutputAggregationNeverHidesCounts(t *testing.T) {
	var batches [][]string
	for b := range 10 {
		var batch []string
		for i := range 30 {
			src := "10.0.0.1"
			if i%3 == 0 {
				src = "10.0.0.2"
			}
			batch = append(batch, repeatedAlert(b*30+i, src))
		}
		batches = append(batches, batch)
	}
	batches = append(batches, []string{`{"timestamp":"2026-12-04T10:00:00.000000+0000","event_type":"dns","src_ip":"10.0.0.1","dest_ip":"10.0.0.53","proto":"UDP","src_port":5353,"dest_port":53,"dns":{"type":"query","rrname":"example.org"}}`})
	in := &eveInput{batches: batches, sent: make(chan struct{})}
	summaries, all := &native{}, &native{}
	opts := DefaultAggregateOptions()
	opts.Window = time.Second
	st := &stats.Stage{}
	oa := routed("siem", summaries, Route{Aggregate: opts, AggregateStats: st})
	ob := routed("file", all, Route{})
	_, stop := runEVE(t, Options{Workers: 2}, in, oa, ob)
	<-in.sent
	waitFor(t, "the file output", func() bool { return len(all.got()) == 301 })
	if a := in.acked.Load(); a == 301 {
		t.Fatal("every batch acknowledged while its alerts wait in an aggregation window")
	}
	// Two keys: two summaries, or more when a slow machine let a window
	// close between batches; the counts add up either way.
	waitFor(t, "acks", func() bool { return in.acked.Load() == 301 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var total float64
	n := 0
	for _, l := range summaries.got() {
		if l["kind"] == "event" {
			continue // the dns record passed through: only alerts are aggregated
		}
		n++
		agg := l["aggregate"].(map[string]any)
		total += agg["count"].(float64)
		if agg["closed_by"] != "window" {
			t.Errorf("closed by %v", agg["closed_by"])
		}
	}
	if total != 300 {
		t.Errorf("summaries stand for %v alerts, want 300", total)
	}
	if n < 2 || st.In.Load() != 301 || st.Folded.Load() != 300 || st.Passed.Load() != 1 || st.Emitted.Load() != uint64(n) {
		t.Errorf("stage counters in %d folded %d passed %d emitted %d", st.In.Load(), st.Folded.Load(), st.Passed.Load(), st.Emitted.Load())
	}
}

// TestTransactionsStageFeedsItsReadersAndFlushesAtShutdown: a named stage
// joins the corpus sample into transactions for the output that reads it;
// what is still open at shutdown is emitted partial, nothing held back.
func TestTransactionsStageFeedsItsReadersAndFlushesAtShutdown(t *testing.T) {
	lines := corpusLines(t)
	in := &eveInput{batches: [][]string{lines}, sent: make(chan struct{})}
	txs := &native{}
	st := &stats.Stage{}
	_, stop := runEVE(t, Options{Workers: 2, Stages: []Stage{{Name: "tx", Type: StageTransactions,
		Filter: "source.type:suricata", Transactions: DefaultTransactionOptions(), Stats: st}}},
		in, routed("tx-file", txs, Route{From: "tx"}))
	<-in.sent
	waitFor(t, "the flow's transaction", func() bool { return len(txs.got()) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := txs.got()
	var records float64
	complete := 0
	for _, l := range got {
		if l["kind"] != "transaction" {
			t.Fatalf("not a transaction: %v", l)
		}
		tr := l["transaction"].(map[string]any)
		records += tr["events"].(float64)
		if tr["complete"] == true {
			complete++
		}
	}
	if records != float64(len(lines)) || complete != 1 {
		t.Errorf("%d transactions stand for %v records (want %d), %d complete (want 1)", len(got), records, len(lines), complete)
	}
	if in.acked.Load() != int64(len(lines)) {
		t.Errorf("acked %d of %d", in.acked.Load(), len(lines))
	}
	if st.Open.Load() != 0 || st.Closed.Get("flush") != uint64(len(got)-1) {
		t.Errorf("open %d closed %v", st.Open.Load(), st.Closed.Snapshot())
	}
}

// TestReloadThatChangesAStageFlushesIt: a stage replaced by a reload hands
// on what it held at once.
func TestReloadThatChangesAStageFlushesIt(t *testing.T) {
	in := &eveInput{batches: [][]string{{repeatedAlert(1, "10.0.0.1"), repeatedAlert(2, "10.0.0.1")}}, sent: make(chan struct{})}
	out := &native{}
	agg := DefaultAggregateOptions()
	agg.Window = time.Hour
	stages := []Stage{{Name: "agg", Type: StageAggregate, Aggregate: agg}}
	p, stop := runEVE(t, Options{Workers: 1, Stages: stages}, in, routed("o", out, Route{From: "agg"}))
	<-in.sent
	waitFor(t, "the stage to hold both alerts", func() bool { return p.topo.Load().stages[0].Stats.In.Load() == 2 })
	agg2 := *agg
	agg2.Window = 2 * time.Hour
	next := []Stage{{Name: "agg", Type: StageAggregate, Aggregate: &agg2}}
	if err := p.ChangeOutputs(OutputChanges{Stages: &next}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the flushed summary", func() bool { return len(out.got()) == 1 })
	if c := out.got()[0]["aggregate"].(map[string]any); c["count"] != 2.0 || c["closed_by"] != "flush" {
		t.Errorf("summary %v", c)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkRouteFilter is what a filter costs an output per event: the
// match and, for the events it keeps, the copy of their encoded lines.
// The batch is the corpus sample (alert, dns, fileinfo, flow, http,
// netflow) repeated to 256 events; the filter keeps about a third.
func BenchmarkRouteFilter(b *testing.B) {
	lines := corpusLinesB(b)
	evs := make([]*normalize.Event, 256)
	for i := range evs {
		evs[i] = new(normalize.Event)
		if err := (eve.Decoder{}).Decode([]byte(lines[i%len(lines)]), evs[i]); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range []string{`kind:alert`, `kind:alert OR (kind:packet action:blocked)`, `kind:flow -details.event_type:netflow src_ip:147.32.0.0/16`} {
		q, err := query.Parse(f)
		if err != nil {
			b.Fatal(err)
		}
		m := q.Matcher()
		b.Run(f, func(b *testing.B) {
			batch := &outputs.Batch{Events: evs}
			batch.Encode(format.Native{})
			start := cputime.Process()
			n := 0
			for b.Loop() {
				if idx := matching(m, evs); len(idx) > 0 && len(idx) < len(evs) {
					batch.Select(idx)
				}
				n += len(evs)
			}
			cputime.Per(b, start, n, "event")
		})
	}
}

func corpusLinesB(b *testing.B) []string {
	b.Helper()
	raw, err := os.ReadFile("testdata/tenzir_eve-excerpt-first6.json")
	if err != nil {
		b.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(raw)), "\n")
}
