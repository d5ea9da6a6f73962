package admin

import (
	"fmt"
	"time"

	"github.com/alertgw/alertgw/stats"
)

// Status is the document served at /status and printed by `alertgw status`.
type Status struct {
	Version  string         `json:"version"`
	Uptime   string         `json:"uptime"`
	Ready    bool           `json:"ready"`
	NotReady []string       `json:"not_ready,omitempty"`
	Inputs   []InputStatus  `json:"inputs"`
	Outputs  []OutputStatus `json:"outputs"`
}

// InputStatus is one input's counters.
type InputStatus struct {
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Up         bool              `json:"up"`
	Received   uint64            `json:"received"`
	Bytes      uint64            `json:"bytes"`
	Normalized uint64            `json:"normalized"`
	Failed     map[string]uint64 `json:"failed"`
	Dropped    map[string]uint64 `json:"dropped"`
}

// OutputStatus is one output's counters.
type OutputStatus struct {
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Ready    bool              `json:"ready"`
	Failing  bool              `json:"failing"`
	Queued   int64             `json:"queued"`
	Capacity int64             `json:"capacity"`
	Written  uint64            `json:"written"`
	Retried  uint64            `json:"retried"`
	Failed   map[string]uint64 `json:"failed"`
	Dropped  map[string]uint64 `json:"dropped"`
}

// Snapshot reads the counters. The gateway is ready when every input is up
// and every output is delivering or buffering within its limits.
func Snapshot(reg *stats.Registry, version string, started time.Time) Status {
	st := Status{Version: version, Uptime: time.Since(started).Round(time.Second).String(), Ready: true}
	for _, in := range reg.Inputs() {
		s := InputStatus{
			Name: in.Name, Type: in.Type, Up: in.Up.Load(),
			Received: in.Received.Load(), Bytes: in.Bytes.Load(), Normalized: in.Normalized.Load(),
			Failed: in.Failed.Snapshot(), Dropped: in.Dropped.Snapshot(),
		}
		if !s.Up {
			st.Ready = false
			st.NotReady = append(st.NotReady, fmt.Sprintf("input %s is not running", in.Name))
		}
		st.Inputs = append(st.Inputs, s)
	}
	for _, out := range reg.Outputs() {
		s := OutputStatus{
			Name: out.Name, Type: out.Type, Ready: out.Ready(), Failing: out.Failing.Load(),
			Queued: out.Queued.Load(), Capacity: out.Capacity.Load(),
			Written: out.Written.Load(), Retried: out.Retried.Load(),
			Failed: out.Failed.Snapshot(), Dropped: out.Dropped.Snapshot(),
		}
		if !s.Ready {
			st.Ready = false
			st.NotReady = append(st.NotReady, fmt.Sprintf("output %s is failing and its queue is full (%d/%d)", out.Name, s.Queued, s.Capacity))
		}
		st.Outputs = append(st.Outputs, s)
	}
	return st
}
