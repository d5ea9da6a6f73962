package admin

import (
	"fmt"
	"time"

	"github.com/alertgw/alertgw/stats"
)

// DefaultFailureGrace is how long an output may fail every attempt before
// the gateway stops being ready (admin.failure_grace).
const DefaultFailureGrace = 30 * time.Second

// Status is the document served at /status and printed by `alertgw status`.
type Status struct {
	Version  string         `json:"version"`
	Uptime   string         `json:"uptime"`
	Ready    bool           `json:"ready"`
	NotReady []string       `json:"not_ready,omitempty"`
	Degraded []string       `json:"degraded,omitempty"`
	Grace    string         `json:"failure_grace"`
	Inputs   []InputStatus  `json:"inputs"`
	Outputs  []OutputStatus `json:"outputs"`
}

// InputStatus is one input's counters and readiness.
type InputStatus struct {
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Up         bool              `json:"up"`
	Ready      bool              `json:"ready"`
	Problem    string            `json:"problem,omitempty"`
	Received   uint64            `json:"received"`
	Bytes      uint64            `json:"bytes"`
	Normalized uint64            `json:"normalized"`
	Merged     uint64            `json:"merged,omitempty"`
	Rate       float64           `json:"rate"`                 // messages/s received, over the last 10 s
	LastEvent  *time.Time        `json:"last_event,omitempty"` // when the input last handed something on
	Failed     map[string]uint64 `json:"failed"`
	Dropped    map[string]uint64 `json:"dropped"`
}

// OutputStatus is one output's counters and state.
type OutputStatus struct {
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Ready      bool              `json:"ready"`
	State      string            `json:"state"` // ok | degraded | failing
	Reason     string            `json:"reason,omitempty"`
	Failing    bool              `json:"failing"`
	FailingFor string            `json:"failing_for,omitempty"` // how long every attempt has failed
	Queued     int64             `json:"queued"`
	Capacity   int64             `json:"capacity"`
	Written    uint64            `json:"written"`
	Rate       float64           `json:"rate"`                 // events/s written, over the last 10 s
	LastWrite  *time.Time        `json:"last_write,omitempty"` // the last successful delivery
	Retried    uint64            `json:"retried"`
	Buffered   int64             `json:"buffered_bytes"` // disk buffer
	Spilled    uint64            `json:"spilled"`
	Failed     map[string]uint64 `json:"failed"`
	Dropped    map[string]uint64 `json:"dropped"`
	Paused     string            `json:"paused,omitempty"`  // why the output holds its events back
	Figures    map[string]int64  `json:"figures,omitempty"` // the output type's own numbers
}

// Snapshot reads the counters. The gateway is ready when every input is up
// and reachable and no output is failing: an output whose destination has
// refused every attempt for longer than grace, or whose buffer is full,
// is failing; one that retries within grace, or spills to its disk
// buffer, is degraded, which does not make the gateway unready but is
// reported. rates may be nil (every rate is then 0).
func Snapshot(reg *stats.Registry, version string, started time.Time, grace time.Duration, rates *Rates) Status {
	now := time.Now()
	st := Status{Version: version, Uptime: now.Sub(started).Round(time.Second).String(), Ready: true, Grace: grace.String()}
	for _, in := range reg.Inputs() {
		s := InputStatus{
			Name: in.Name, Type: in.Type, Up: in.Up.Load(),
			Received: in.Received.Load(), Bytes: in.Bytes.Load(), Normalized: in.Normalized.Load(), Merged: in.Merged.Load(),
			LastEvent: timeOf(in.LastEvent.Load()),
			Failed:    in.Failed.Snapshot(), Dropped: in.Dropped.Snapshot(),
		}
		s.Rate = rates.rate(inputKey(in.Name), s.Received, now)
		switch {
		case !s.Up:
			s.Problem = "not running"
		default:
			s.Problem = in.Problem()
		}
		s.Ready = s.Problem == ""
		if !s.Ready {
			st.Ready = false
			st.NotReady = append(st.NotReady, fmt.Sprintf("input %s: %s", in.Name, s.Problem))
		}
		st.Inputs = append(st.Inputs, s)
	}
	for _, out := range reg.Outputs() {
		h := out.Health(now, grace)
		s := OutputStatus{
			Name: out.Name, Type: out.Type, Ready: h.Ready(), State: h.State, Reason: h.Reason,
			Failing: out.Failing.Load(),
			Queued:  out.Queued.Load(), Capacity: out.Capacity.Load(),
			Written: out.Written.Load(), Retried: out.Retried.Load(),
			LastWrite: timeOf(out.LastWrite.Load()),
			Buffered:  out.BufferedBytes.Load(), Spilled: out.Spilled.Load(),
			Failed: out.Failed.Snapshot(), Dropped: out.Dropped.Snapshot(),
			Paused: out.PausedFor(), Figures: out.Figures.Snapshot(),
		}
		if h.For > 0 {
			s.FailingFor = h.For.Round(time.Second).String()
		}
		s.Rate = rates.rate(outputKey(out.Name), s.Written, now)
		switch h.State {
		case stats.StateFailing:
			st.Ready = false
			st.NotReady = append(st.NotReady, fmt.Sprintf("output %s: %s", out.Name, h.Reason))
		case stats.StateDegraded:
			st.Degraded = append(st.Degraded, fmt.Sprintf("output %s: %s", out.Name, h.Reason))
		}
		st.Outputs = append(st.Outputs, s)
	}
	return st
}

func timeOf(ns int64) *time.Time {
	if ns == 0 {
		return nil
	}
	t := time.Unix(0, ns).UTC()
	return &t
}
