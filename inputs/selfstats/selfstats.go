// Package selfstats is the `stats` input: it emits the gateway's own
// counters as a `kind: stats` event at a fixed interval, so that losses are
// visible where the data goes (a SIEM index, a Kafka topic), not only in
// Prometheus.
package selfstats

import (
	"context"
	_ "embed"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/stats"
)

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the `stats` input type.
var Plugin = inputs.Plugin{
	Type:    "stats",
	Summary: "the gateway's own counters as periodic kind=stats events",
	Sample:  sample,
	Options: func() any { return &Options{Interval: time.Minute} },
	New: func(env inputs.Env, opts any) (inputs.Input, error) {
		return &Input{env: env, interval: opts.(*Options).Interval}, nil
	},
}

// Options of the stats input.
type Options struct {
	// Interval is how often a stats event is emitted; at least 1s.
	Interval time.Duration `mapstructure:"interval"`
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if o.Interval < time.Second {
		p.Add("interval", "must be at least 1s; got %s", o.Interval)
	}
	return p
}

// Input emits stats events.
type Input struct {
	env      inputs.Env
	interval time.Duration
}

// Run implements inputs.Input.
func (in *Input) Run(ctx context.Context, emit inputs.Emitter) error {
	t := time.NewTicker(in.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			// Each snapshot is the input's message: received, then
			// normalized by the pipeline (so received = normalized).
			in.env.Stats.Received.Add(1)
			ev, err := Event(in.env.Registry, now)
			if err != nil {
				in.env.Stats.Failed.Add(normalize.ReasonMalformed, 1)
				return err
			}
			emit.Events([]*normalize.Event{ev}, nil)
		}
	}
}

// Close implements inputs.Input: the input holds nothing.
func (in *Input) Close() error { return nil }

// counters is the JSON shape of one input's or output's counters.
type counters struct {
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Received   *uint64           `json:"received,omitempty"`
	Normalized *uint64           `json:"normalized,omitempty"`
	Merged     *uint64           `json:"merged,omitempty"`
	Queued     *int64            `json:"queued,omitempty"`
	Written    *uint64           `json:"written,omitempty"`
	Retried    *uint64           `json:"retried,omitempty"`
	Failed     map[string]uint64 `json:"failed"`
	Dropped    map[string]uint64 `json:"dropped"`
}

// Event builds one stats event from the registry: details.inputs and
// details.outputs list every counter, cumulative since start.
func Event(reg *stats.Registry, now time.Time) (*normalize.Event, error) {
	var ins, outs []counters
	for _, s := range reg.Inputs() {
		rx, n, m := s.Received.Load(), s.Normalized.Load(), s.Merged.Load()
		c := counters{Name: s.Name, Type: s.Type, Received: &rx, Normalized: &n, Failed: s.Failed.Snapshot(), Dropped: s.Dropped.Snapshot()}
		if m > 0 {
			c.Merged = &m
		}
		ins = append(ins, c)
	}
	for _, s := range reg.Outputs() {
		q, w, r := s.Queued.Load(), s.Written.Load(), s.Retried.Load()
		outs = append(outs, counters{Name: s.Name, Type: s.Type, Queued: &q, Written: &w, Retried: &r, Failed: s.Failed.Snapshot(), Dropped: s.Dropped.Snapshot()})
	}
	ev := &normalize.Event{Timestamp: now.UTC(), Kind: normalize.KindStats, Action: normalize.ActionUnknown}
	for _, part := range []struct {
		key string
		v   []counters
	}{{"inputs", ins}, {"outputs", outs}} {
		raw, err := json.Marshal(part.v)
		if err != nil {
			return nil, err
		}
		ev.Details.Set(part.key, raw)
	}
	return ev, nil
}
