package elasticsearch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/pipeline"
	"github.com/alertgw/alertgw/stats"
)

// fakeES answers _bulk as Elasticsearch does: per-item results in request
// order, with scripted failures.
type fakeES struct {
	mu       sync.Mutex
	docs     map[string]string // _index/_id → document
	requests int
	auth     string
	// Behaviour, by request number (1-based) or document content.
	unavailable map[int]bool // whole request: 503
	slow        map[int]bool // whole request: answer after the client gave up
	throttled   map[string]int
	maxBody     int // 413 above this many bytes
	// Index templates (PUT _index_template/NAME) and the mappings of each
	// index, as the cluster keeps them (mapping.go).
	templates      map[string]*indexTemplate
	templateStatus int // answer template PUTs with this status when set
	indexMappings  map[string]*mapping
	order          []string // "template NAME" and "bulk", in arrival order
}

func newFakeES() *fakeES {
	return &fakeES{docs: map[string]string{}, unavailable: map[int]bool{}, slow: map[int]bool{}, throttled: map[string]int{},
		templates: map[string]*indexTemplate{}, indexMappings: map[string]*mapping{}}
}

func (f *fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/_index_template/"); ok {
		f.putTemplate(w, r, name)
		return
	}
	f.mu.Lock()
	f.order = append(f.order, "bulk")
	f.requests++
	n := f.requests
	f.auth = r.Header.Get("Authorization")
	unavailable, slow := f.unavailable[n], f.slow[n]
	f.mu.Unlock()
	if r.URL.Path != "/_bulk" || r.Header.Get("Content-Type") != "application/x-ndjson" {
		http.Error(w, `{"error":"bad request"}`, 400)
		return
	}
	body, _ := readAll(r)
	if unavailable {
		http.Error(w, `{"error":{"type":"unavailable_shards_exception"},"status":503}`, http.StatusServiceUnavailable)
		return
	}
	if slow {
		time.Sleep(1500 * time.Millisecond)
	}
	if f.maxBody > 0 && len(body) > f.maxBody {
		http.Error(w, "", http.StatusRequestEntityTooLarge)
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	var items []string
	hasErr := false
	for sc.Scan() {
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil || len(action) != 1 {
			http.Error(w, "bad action line "+sc.Text(), 400)
			return
		}
		if !sc.Scan() {
			http.Error(w, "missing document", 400)
			return
		}
		doc := sc.Text()
		for op, a := range action {
			key := a.Index + "/" + a.ID
			f.mu.Lock()
			merr := ""
			if json.Valid([]byte(doc)) {
				merr = f.mappingError(a.Index, doc)
			}
			switch {
			case !json.Valid([]byte(doc)):
				hasErr = true
				items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"status":400,"error":{"type":"parse_exception","reason":"not json"}}}`, op, a.Index))
			case strings.Contains(doc, `"sid_bad"`):
				hasErr = true
				items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [details.sid_bad] of type [long]"}}}`, op, a.Index))
			case f.throttled[a.ID] > 0:
				f.throttled[a.ID]--
				hasErr = true
				items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"}}}`, op, a.Index))
			case merr != "":
				hasErr = true
				items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"status":400,"error":{"type":"mapper_parsing_exception","reason":%q}}}`, op, a.Index, merr))
			case op == "create" && f.docs[key] != "":
				hasErr = true
				items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"status":409,"error":{"type":"version_conflict_engine_exception","reason":"document already exists"}}}`, op, a.Index))
			default:
				f.docs[key] = doc
				items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"_id":%q,"status":201}}`, op, a.Index, a.ID))
			}
			f.mu.Unlock()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"took":1,"errors":%t,"items":[%s]}`, hasErr, strings.Join(items, ","))
}

func readAll(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r.Body)
	return b.Bytes(), err
}

func event(i int) *normalize.Event {
	e := &normalize.Event{ID: fmt.Sprintf("%032x", i), Kind: normalize.KindAlert, Received: time.Now(),
		Timestamp: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	if i%2 == 1 {
		e.Kind = normalize.KindFlow
	}
	if i%100 == 42 {
		e.Details = normalize.Details{{Key: "sid_bad", Value: normalize.RawJSON(`"x"`)}}
	}
	return e
}

func newOutput(t testing.TB, url string, mod func(*Options)) *Output {
	o := Plugin.Options().(*Options)
	o.URLs = []string{url}
	o.Timeout = time.Second
	o.Template = TemplateSkip // the _bulk tests; template_test.go covers install
	if mod != nil {
		mod(o)
	}
	if p := o.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	w, err := New(outputs.Env{Name: "es", Log: zerolog.Nop(), Stats: &stats.Output{}, Encoder: format.Native{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func batch(from, to int) *outputs.Batch {
	var evs []*normalize.Event
	for i := from; i < to; i++ {
		evs = append(evs, event(i))
	}
	return &outputs.Batch{Events: evs}
}

func TestWriteClassifiesItems(t *testing.T) {
	f := newFakeES()
	f.throttled[fmt.Sprintf("%032x", 7)] = 1
	srv := httptest.NewServer(f)
	defer srv.Close()
	w := newOutput(t, srv.URL, func(o *Options) { o.APIKey = "id:secret" })
	err := w.Write(context.Background(), batch(0, 100))
	var pe *outputs.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("want a partial error, got %v", err)
	}
	want := []outputs.ItemFailure{
		{Index: 7, Permanent: false, Reason: "es_rejected_execution_exception"},
		{Index: 42, Permanent: true, Reason: "mapper_parsing_exception"},
	}
	if len(pe.Failed) != len(want) {
		t.Fatalf("failures %+v", pe.Failed)
	}
	for i, f := range pe.Failed {
		if f.Index != want[i].Index || f.Permanent != want[i].Permanent || f.Reason != want[i].Reason || f.Detail == "" {
			t.Fatalf("failure %d: %+v, want %+v", i, f, want[i])
		}
	}
	if len(f.docs) != 98 {
		t.Fatalf("%d documents indexed, want 98", len(f.docs))
	}
	if _, ok := f.docs["alertgw-flow-2026.11.22/"+fmt.Sprintf("%032x", 1)]; !ok {
		t.Fatal("index template or _id not applied")
	}
	if f.auth != "ApiKey aWQ6c2VjcmV0" {
		t.Fatalf("authorization %q", f.auth)
	}
}

func TestWholeRequestStatus(t *testing.T) {
	for _, tc := range []struct {
		code int
		perm bool
	}{{503, false}, {429, false}, {400, true}, {401, false}, {403, false}, {502, false}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", tc.code) }))
			defer srv.Close()
			err := newOutput(t, srv.URL, nil).Write(context.Background(), batch(0, 3))
			if err == nil || outputs.IsPermanent(err) != tc.perm {
				t.Fatalf("status %d: err %v, permanent %v; want permanent %v", tc.code, err, outputs.IsPermanent(err), tc.perm)
			}
		})
	}
}

func TestTooLargeSplits(t *testing.T) {
	f := newFakeES()
	f.maxBody = 4000
	srv := httptest.NewServer(f)
	defer srv.Close()
	if err := newOutput(t, srv.URL, nil).Write(context.Background(), batch(0, 40)); err == nil || !strings.Contains(err.Error(), "permanently") {
		// event 42 is not in 0..40: every document should go in.
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(f.docs) != 40 {
		t.Fatalf("%d documents indexed after splitting, want 40", len(f.docs))
	}
}

// TestThroughPipeline: 503s, a slow answer, throttled and invalid documents;
// every valid document ends up indexed once, every invalid one is in the
// dead-letter file with Elasticsearch's reason.
func TestThroughPipeline(t *testing.T) {
	const n = 1000
	f := newFakeES()
	f.unavailable[2], f.unavailable[3] = true, true
	f.slow[5] = true
	for i := 0; i < n; i += 10 {
		f.throttled[fmt.Sprintf("%032x", i+3)] = 2
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	dlPath := filepath.Join(t.TempDir(), "dead.jsonl")
	dl, _ := pipeline.OpenDeadLetter(dlPath, 0)
	st := &stats.Output{}
	p, err := pipeline.New(pipeline.Options{Workers: 1, Log: zerolog.Nop(), DeadLetter: dl},
		[]pipeline.Input{{Name: "eve", Type: "suricata", Reader: &testutil.Events{N: n, Make: event}, Stats: &stats.Input{}, Log: zerolog.Nop()}},
		[]pipeline.Output{{Name: "es", Type: "elasticsearch", Writer: newOutput(t, srv.URL, func(o *Options) { o.DataStream = true }), Encoder: format.Native{},
			Buffer: pipeline.DefaultDelivery().Buffer, Batch: pipeline.Batching{MaxEvents: 100},
			Retry: pipeline.Retry{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}, Stats: st, Log: zerolog.Nop()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for st.Written.Load()+st.Failed.Total() < n {
		if time.Now().After(deadline) {
			t.Fatalf("written %d, failed %d of %d", st.Written.Load(), st.Failed.Total(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.docs) != n-10 || st.Written.Load() != n-10 || st.Failed.Get("mapper_parsing_exception") != 10 {
		t.Fatalf("indexed %d, written %d, failed %v; want %d, %d, 10", len(f.docs), st.Written.Load(), st.Failed.Snapshot(), n-10, n-10)
	}
	data, _ := os.ReadFile(dlPath)
	if c := strings.Count(string(data), `"reason":"mapper_parsing_exception"`); c != 10 {
		t.Fatalf("%d dead-letter records, want 10:\n%s", c, data)
	}
	if st.Retried.Load() < 3 {
		t.Fatalf("retried %d times; the 503s, the slow answer and the 429s should have caused retries", st.Retried.Load())
	}
}

func BenchmarkEncodeBulk(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		readAll(r)
		w.Write([]byte(`{"took":1,"errors":false,"items":[]}`))
	}))
	defer srv.Close()
	w := newOutput(b, srv.URL, nil)
	bt := batch(0, 1000)
	for i := range bt.Events {
		bt.Events[i].Details = nil
	}
	b.ResetTimer()
	for b.Loop() {
		if err := w.Write(context.Background(), bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}

func TestBasicAuthAndFailover(t *testing.T) {
	f := newFakeES()
	srv := httptest.NewServer(f)
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connection refused
	w := newOutput(t, deadURL, func(o *Options) {
		o.URLs = append(o.URLs, srv.URL)
		o.Username, o.Password = "elastic", "changeme"
	})
	if err := w.Write(context.Background(), batch(0, 3)); err == nil {
		t.Fatal("first node is down: want an error to retry")
	}
	if err := w.Write(context.Background(), batch(0, 3)); err != nil {
		t.Fatalf("second node: %v", err)
	}
	if f.auth != "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==" || len(f.docs) != 3 {
		t.Fatalf("auth %q, %d docs", f.auth, len(f.docs))
	}
}
