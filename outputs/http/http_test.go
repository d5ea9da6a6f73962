package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/stats"
)

type request struct {
	ctype, auth, custom string
	body                string
}

type endpoint struct {
	mu     sync.Mutex
	reqs   []request
	status func(n int, body string) int
	delay  time.Duration
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	e.reqs = append(e.reqs, request{r.Header.Get("Content-Type"), r.Header.Get("Authorization"), r.Header.Get("X-Tenant"), string(body)})
	n := len(e.reqs)
	e.mu.Unlock()
	time.Sleep(e.delay)
	code := 200
	if e.status != nil {
		code = e.status(n, string(body))
	}
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"status":%d}`, code)
}

func event(i int) *normalize.Event {
	e := &normalize.Event{ID: fmt.Sprintf("id-%d", i), Kind: normalize.KindAlert, Action: normalize.ActionAllowed,
		Timestamp: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), Received: time.Now(),
		Source: normalize.Source{Type: "suricata", Input: "eve", Sensor: "sensor-1"},
		SrcIP:  netip.MustParseAddr("10.0.0.1"), DestIP: netip.MustParseAddr("2001:db8::2"),
		SrcPort: 40000, DestPort: 80, HasPorts: true}
	e.SetProto(6)
	e.Signature = &normalize.Signature{GID: 1, ID: 2100498, Rev: 7, Name: "GPL ATTACK_RESPONSE id check returned root", Category: "Potentially Bad Traffic", Priority: 2}
	e.Details = normalize.Details{{Key: "http", Value: normalize.RawJSON(`{"hostname":"example.org"}`)}, {Key: "payload_printable", Value: normalize.RawJSON(`"uid=0(root)"`)}}
	return e
}

func batch(n int) *outputs.Batch {
	var evs []*normalize.Event
	for i := range n {
		evs = append(evs, event(i))
	}
	return &outputs.Batch{Events: evs}
}

func newOutput(t testing.TB, url string, mod func(*Options)) *Output {
	o := Plugin.Options().(*Options)
	o.URL = url
	o.Timeout = time.Second
	if mod != nil {
		mod(o)
	}
	if p := o.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	w, err := New(outputs.Env{Name: "http", Log: zerolog.Nop(), Stats: &stats.Output{}, Encoder: format.Native{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestBodiesAndAuth(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mod    func(*Options)
		ctype  string
		auth   string
		reqs   int
		decode func(t *testing.T, body string) int
	}{
		{"ndjson basic", func(o *Options) { o.Username, o.Password = "u", "p" }, "application/x-ndjson", "Basic dTpw", 1,
			func(t *testing.T, body string) int {
				n := 0
				for _, l := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
					if !json.Valid([]byte(l)) {
						t.Fatalf("invalid line %q", l)
					}
					n++
				}
				return n
			}},
		{"json array bearer", func(o *Options) { o.Body = BodyJSONArray; o.BearerToken = "tok" }, "application/json", "Bearer tok", 1,
			func(t *testing.T, body string) int {
				var a []map[string]any
				if err := json.Unmarshal([]byte(body), &a); err != nil {
					t.Fatal(err)
				}
				return len(a)
			}},
		{"single", func(o *Options) { o.Body = BodySingle }, "application/json", "", 5,
			func(t *testing.T, body string) int {
				var m map[string]any
				if err := json.Unmarshal([]byte(body), &m); err != nil {
					t.Fatal(err)
				}
				return 1
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := &endpoint{}
			srv := httptest.NewServer(ep)
			defer srv.Close()
			w := newOutput(t, srv.URL, func(o *Options) { tc.mod(o); o.Headers = map[string]string{"X-Tenant": "blue"} })
			if err := w.Write(context.Background(), batch(5)); err != nil {
				t.Fatal(err)
			}
			if len(ep.reqs) != tc.reqs {
				t.Fatalf("%d requests, want %d", len(ep.reqs), tc.reqs)
			}
			total := 0
			for _, r := range ep.reqs {
				if r.ctype != tc.ctype || r.auth != tc.auth || r.custom != "blue" {
					t.Fatalf("headers %+v", r)
				}
				total += tc.decode(t, r.body)
			}
			if total != 5 {
				t.Fatalf("%d events received, want 5", total)
			}
		})
	}
}

func TestStatusClassification(t *testing.T) {
	for _, tc := range []struct {
		code int
		perm bool
	}{{400, true}, {403, false}, {404, false}, {413, true}, {422, true}, {429, false}, {500, false}, {503, false}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			ep := &endpoint{status: func(int, string) int { return tc.code }}
			srv := httptest.NewServer(ep)
			defer srv.Close()
			err := newOutput(t, srv.URL, nil).Write(context.Background(), batch(3))
			if err == nil || outputs.IsPermanent(err) != tc.perm {
				t.Fatalf("status %d: %v (permanent %v)", tc.code, err, outputs.IsPermanent(err))
			}
		})
	}
}

func TestSlowEndpointTimesOut(t *testing.T) {
	ep := &endpoint{delay: 1500 * time.Millisecond}
	srv := httptest.NewServer(ep)
	defer srv.Close()
	err := newOutput(t, srv.URL, nil).Write(context.Background(), batch(1))
	if err == nil || outputs.IsPermanent(err) {
		t.Fatalf("want a retryable timeout, got %v", err)
	}
}

// TestSinglePerEventOutcome: one request per event, the 2nd refused as
// invalid (dead-letter), the 4th answered 503 (it and the rest retried).
func TestSinglePerEventOutcome(t *testing.T) {
	ep := &endpoint{status: func(n int, _ string) int {
		switch n {
		case 2:
			return 400
		case 4:
			return 503
		}
		return 200
	}}
	srv := httptest.NewServer(ep)
	defer srv.Close()
	err := newOutput(t, srv.URL, func(o *Options) { o.Body = BodySingle }).Write(context.Background(), batch(6))
	var pe *outputs.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("want a partial error, got %v", err)
	}
	want := []outputs.ItemFailure{{Index: 1, Permanent: true, Reason: "http_400"}, {Index: 3, Reason: "http_503"}, {Index: 4, Reason: "http_503"}, {Index: 5, Reason: "http_503"}}
	if len(pe.Failed) != len(want) {
		t.Fatalf("failures %+v", pe.Failed)
	}
	for i := range want {
		if pe.Failed[i].Index != want[i].Index || pe.Failed[i].Permanent != want[i].Permanent || pe.Failed[i].Reason != want[i].Reason {
			t.Fatalf("failure %d: %+v, want %+v", i, pe.Failed[i], want[i])
		}
	}
}

func TestMozDefShape(t *testing.T) {
	ep := &endpoint{}
	srv := httptest.NewServer(ep)
	defer srv.Close()
	if err := newOutput(t, srv.URL, func(o *Options) { o.Preset = "mozdef" }).Write(context.Background(), batch(2)); err != nil {
		t.Fatal(err)
	}
	if len(ep.reqs) != 2 {
		t.Fatalf("%d requests: MozDef takes one event per request", len(ep.reqs))
	}
	var m struct {
		Timestamp   string            `json:"timestamp"`
		Hostname    string            `json:"hostname"`
		ProcessID   int               `json:"processid"`
		ProcessName string            `json:"processname"`
		Severity    string            `json:"severity"`
		Category    string            `json:"category"`
		Summary     string            `json:"summary"`
		Tags        []string          `json:"tags"`
		Details     map[string]string `json:"details"` // every value a string, or this fails
	}
	if err := json.Unmarshal([]byte(ep.reqs[0].body), &m); err != nil {
		t.Fatalf("%v\n%s", err, ep.reqs[0].body)
	}
	if m.Timestamp != "2026-11-22T10:00:00.000000Z" || m.Hostname != "sensor-1" || m.ProcessID == 0 || m.ProcessName != "alertgw" ||
		m.Severity != "ERROR" || m.Category != "alert" ||
		m.Summary != "GPL ATTACK_RESPONSE id check returned root 10.0.0.1:40000 -> [2001:db8::2]:80" ||
		strings.Join(m.Tags, ",") != "alertgw,suricata,alert" {
		t.Fatalf("MozDef event: %+v", m)
	}
	d := m.Details
	if d["id"] != "id-0" || d["sourceipaddress"] != "10.0.0.1" || d["destinationport"] != "80" || d["signature_id"] != "2100498" ||
		d["http"] != `{"hostname":"example.org"}` || d["payload_printable"] != "uid=0(root)" {
		t.Fatalf("details %v", d)
	}
}

func BenchmarkMozDefEncode(b *testing.B) {
	e := event(1)
	buf := make([]byte, 0, 2048)
	for b.Loop() {
		buf = MozDef{}.AppendEvent(buf[:0], e)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkWriteNDJSON(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer srv.Close()
	w := newOutput(b, srv.URL, nil)
	bt := batch(1000)
	bt.Encode(format.Native{})
	for b.Loop() {
		if err := w.Write(context.Background(), bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
