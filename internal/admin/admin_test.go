package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/stats"
)

func startServer(t *testing.T, reg *stats.Registry) string {
	t.Helper()
	s, err := New("127.0.0.1:0", reg, "v-test", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return "http://" + s.Addr()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEndpoints(t *testing.T) {
	reg := stats.NewRegistry()
	in := reg.Input("eve", "suricata")
	in.Up.Store(true)
	in.Received.Add(5)
	in.Dropped.Add("truncated", 2)
	out := reg.Output("events", "file")
	out.Capacity.Store(10)
	out.Written.Add(5)
	base := startServer(t, reg)

	if code, body := get(t, base+"/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("healthz %d %q", code, body)
	}
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Errorf("readyz %d, want 200", code)
	}
	code, body := get(t, base+"/metrics")
	for _, want := range []string{
		`alertgw_input_received_total{input="eve",type="suricata"} 5`,
		`alertgw_input_dropped_total{input="eve",reason="truncated",type="suricata"} 2`,
		`alertgw_output_written_total{output="events",type="file"} 5`,
		`alertgw_output_ready{output="events",type="file"} 1`,
		`alertgw_build_info{version="v-test"} 1`,
		`go_goroutines`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	// A delivering output whose queue is full (a destination slower than
	// the events): ready, and degraded, saying so.
	out.Queued.Store(10)
	if code, body := get(t, base+"/readyz"); code != 200 || !strings.Contains(body, "degraded: output events: buffer full (10/10 events)") {
		t.Errorf("readyz %d %q, want 200 and degraded with a full queue while delivering", code, body)
	}

	// A failing output with a full queue, and a stopped input: not ready.
	out.WriteFailed(time.Now(), errors.New("connection refused"))
	out.Queued.Store(10)
	in.Up.Store(false)
	code, body = get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "input eve: not running") ||
		!strings.Contains(body, "output events: failing for") || !strings.Contains(body, "buffer is full (10/10 events): connection refused") {
		t.Errorf("readyz %d %q", code, body)
	}
	// Failing but still buffering within limits and within the grace
	// period: ready, and degraded.
	out.Queued.Store(3)
	in.Up.Store(true)
	if code, body := get(t, base+"/readyz"); code != 200 || !strings.Contains(body, "degraded: output events: failing for") {
		t.Errorf("readyz %d %q, want 200 and degraded while retrying within the grace period", code, body)
	}
	_, body = get(t, base+"/status")
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if !st.Ready || st.Version != "v-test" || st.Inputs[0].Received != 5 || st.Outputs[0].Queued != 3 || !st.Outputs[0].Failing ||
		st.Outputs[0].State != "degraded" || len(st.Degraded) != 1 {
		t.Errorf("status %+v", st)
	}
}

// TestReadinessTellsTheTruth: an output that has failed every attempt for
// longer than the grace period makes the gateway not ready even though its
// buffer has room (events pile up, nothing is delivered); an input whose
// socket file is gone, or that set a problem, is not ready either; a
// memory queue spilling to disk is degraded. Each reason shows in /readyz,
// /status and the metrics.
func TestReadinessTellsTheTruth(t *testing.T) {
	reg := stats.NewRegistry()
	in := reg.Input("eve", "suricata")
	in.Up.Store(true)
	out := reg.Output("search", "elasticsearch")
	out.Capacity.Store(100_000)
	spill := reg.Output("bus", "kafka")
	spill.Capacity.Store(10)
	s, err := New("127.0.0.1:0", reg, "v", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	s.SetFailureGrace(200 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Serve(ctx)
	base := "http://" + s.Addr()

	out.WriteFailed(time.Now(), errors.New("dial tcp 127.0.0.1:9200: connect: connection refused"))
	out.Queued.Store(5)
	if code, body := get(t, base+"/readyz"); code != 200 || !strings.Contains(body, "degraded: output search") {
		t.Fatalf("within the grace period: %d %q", code, body)
	}
	time.Sleep(300 * time.Millisecond)
	code, body := get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "output search: failing for") ||
		!strings.Contains(body, "longer than the 200ms grace period") || !strings.Contains(body, "connection refused") {
		t.Errorf("past the grace period: %d %q", code, body)
	}
	_, m := get(t, base+"/metrics")
	for _, want := range []string{
		`alertgw_output_ready{output="search",type="elasticsearch"} 0`,
		`alertgw_ready 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Delivering again: ready at once.
	out.WriteSucceeded(time.Now())
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Errorf("after a success: %d %q", code, body)
	}

	// A memory queue overflowing to disk: degraded, still ready.
	spill.Spilling.Store(true)
	if code, body := get(t, base+"/readyz"); code != 200 || !strings.Contains(body, "degraded: output bus: buffering on disk") {
		t.Errorf("spilling: %d %q", code, body)
	}
	spill.Spilling.Store(false)

	// An input whose socket is gone, and one with a problem it set.
	gone := errors.New("socket /run/alertgw/suricata.sock is gone")
	in.SetCheck(func() error { return gone })
	if code, body := get(t, base+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "input eve: socket /run/alertgw/suricata.sock is gone") {
		t.Errorf("socket gone: %d %q", code, body)
	}
	_, m = get(t, base+"/metrics")
	if !strings.Contains(m, `alertgw_input_ready{input="eve",type="suricata"} 0`) {
		t.Error("alertgw_input_ready should be 0")
	}
	gone = nil
	in.SetCheck(func() error { return nil })
	in.SetProblem("bookmark /var/lib/alertgw/u2.bookmark: permission denied")
	var st Status
	_, body = get(t, base+"/status")
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if st.Ready || st.Inputs[0].Ready || !strings.Contains(st.Inputs[0].Problem, "bookmark") {
		t.Errorf("problem set: %+v", st)
	}
	in.SetProblem("")
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Errorf("problem cleared: %d", code)
	}
}

func TestRates(t *testing.T) {
	reg := stats.NewRegistry()
	in := reg.Input("eve", "suricata")
	var r Rates
	t0 := time.Unix(1000, 0)
	r.Record(reg, t0)
	in.Received.Add(500)
	r.Record(reg, t0.Add(5*time.Second))
	in.Received.Add(500)
	if got := r.rate(inputKey("eve"), in.Received.Load(), t0.Add(10*time.Second)); got != 100 {
		t.Errorf("rate %v, want 100/s over the window", got)
	}
	// Samples older than the window are forgotten, but for the newest of
	// them: the rate covers at least the window (from t0+5s here).
	r.Record(reg, t0.Add(20*time.Second))
	if got := r.rate(inputKey("eve"), in.Received.Load()+12, t0.Add(21*time.Second)); got != 32 {
		t.Errorf("rate %v, want (1012-500)/16s = 32/s", got)
	}
}

func TestPortInUse(t *testing.T) {
	s, err := New("127.0.0.1:0", stats.NewRegistry(), "v", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.ln.Close()
	if _, err := New(s.Addr(), stats.NewRegistry(), "v", zerolog.Nop()); err == nil {
		t.Error("want an error for a port in use")
	}
}

func TestStageMetrics(t *testing.T) {
	reg := stats.NewRegistry()
	reg.Output("siem", "splunk_hec").Filtered.Add(7)
	s := reg.Stage("siem.aggregate", "aggregate")
	s.In.Add(10)
	s.Folded.Add(9)
	s.Passed.Add(1)
	s.Emitted.Add(2)
	s.Closed.Add("window", 2)
	s.Open.Store(1)
	_, body := get(t, startServer(t, reg)+"/metrics")
	for _, want := range []string{
		`alertgw_output_filtered_total{output="siem",type="splunk_hec"} 7`,
		`alertgw_stage_in_total{stage="siem.aggregate",type="aggregate"} 10`,
		`alertgw_stage_aggregated_total{stage="siem.aggregate",type="aggregate"} 9`,
		`alertgw_stage_passed_total{stage="siem.aggregate",type="aggregate"} 1`,
		`alertgw_stage_emitted_total{stage="siem.aggregate",type="aggregate"} 2`,
		`alertgw_stage_closed_total{reason="window",stage="siem.aggregate",type="aggregate"} 2`,
		`alertgw_stage_open{stage="siem.aggregate",type="aggregate"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
