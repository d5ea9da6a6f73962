package admin

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertgw/alertgw/stats"
)

// stageMetrics are the reduction stages' counters and the outputs' filter
// counts (docs/pipeline.md): what left the stream by choice is counted as
// such, never as lost.
type stageMetrics struct {
	filtered                                 *prometheus.Desc
	in, passed, aggregated, emitted, omitted *prometheus.Desc
	closed, open, openBytes                  *prometheus.Desc
}

func newStageMetrics(d func(name, help string, labels []string) *prometheus.Desc) stageMetrics {
	st := []string{"stage", "type"}
	return stageMetrics{
		filtered:   d("output_filtered_total", "Events the output's filter left out (routed elsewhere by choice, not lost).", []string{"output", "type"}),
		in:         d("stage_in_total", "Events that entered the stage.", st),
		passed:     d("stage_passed_total", "Events the stage sent on unchanged.", st),
		aggregated: d("stage_aggregated_total", "Events folded into a summary or transaction the stage emitted instead.", st),
		emitted:    d("stage_emitted_total", "Summaries or transactions the stage made.", st),
		omitted:    d("stage_omitted_total", "Records counted in a transaction but not kept in it (max_records).", st),
		closed:     d("stage_closed_total", "Groups or transactions closed, by what closed them.", []string{"stage", "type", "reason"}),
		open:       d("stage_open", "Groups or transactions the stage holds now.", st),
		openBytes:  d("stage_open_bytes", "Memory the stage's open groups or transactions hold (estimated).", st),
	}
}

func (m *stageMetrics) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.filtered, m.in, m.passed, m.aggregated, m.emitted, m.omitted, m.closed, m.open, m.openBytes} {
		ch <- d
	}
}

func (m *stageMetrics) collect(reg *stats.Registry, counter func(*prometheus.Desc, uint64, ...string), gauge func(*prometheus.Desc, float64, ...string)) {
	for _, o := range reg.Outputs() {
		counter(m.filtered, o.Filtered.Load(), o.Name, o.Type)
	}
	for _, s := range reg.Stages() {
		counter(m.in, s.In.Load(), s.Name, s.Type)
		counter(m.passed, s.Passed.Load(), s.Name, s.Type)
		counter(m.aggregated, s.Folded.Load(), s.Name, s.Type)
		counter(m.emitted, s.Emitted.Load(), s.Name, s.Type)
		counter(m.omitted, s.Omitted.Load(), s.Name, s.Type)
		for r, v := range s.Closed.Snapshot() {
			counter(m.closed, v, s.Name, s.Type, r)
		}
		gauge(m.open, float64(s.Open.Load()), s.Name, s.Type)
		gauge(m.openBytes, float64(s.OpenBytes.Load()), s.Name, s.Type)
	}
}
