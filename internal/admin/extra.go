package admin

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertgw/alertgw/stats"
)

// extraCollector exposes the metric families inputs report themselves
// (stats.Family). They come and go with reloads, so it is an unchecked
// collector: it describes nothing up front.
type extraCollector struct{ reg *stats.Registry }

// Describe implements prometheus.Collector (unchecked: nothing).
func (extraCollector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c extraCollector) Collect(ch chan<- prometheus.Metric) {
	for _, in := range c.reg.Inputs() {
		for _, f := range in.Extra() {
			labels := append([]string{"input", "type"}, f.Labels...)
			desc := prometheus.NewDesc("alertgw_input_"+f.Name, f.Help, labels, nil)
			typ := prometheus.CounterValue
			if f.Gauge {
				typ = prometheus.GaugeValue
			}
			f.Collect(func(v float64, values ...string) {
				m, err := prometheus.NewConstMetric(desc, typ, v, append([]string{in.Name, in.Type}, values...)...)
				if err == nil {
					ch <- m
				}
			})
		}
	}
}
