package admin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

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

	// A failing output with a full queue, and a stopped input: not ready.
	out.Failing.Store(true)
	out.Queued.Store(10)
	in.Up.Store(false)
	code, body = get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "input eve is not running") || !strings.Contains(body, "output events is failing") {
		t.Errorf("readyz %d %q", code, body)
	}
	// Failing but still buffering within limits: ready again once the input is up.
	out.Queued.Store(3)
	in.Up.Store(true)
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Errorf("readyz %d %q, want 200 while buffering within limits", code, body)
	}

	_, body = get(t, base+"/status")
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if !st.Ready || st.Version != "v-test" || st.Inputs[0].Received != 5 || st.Outputs[0].Queued != 3 || !st.Outputs[0].Failing {
		t.Errorf("status %+v", st)
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
