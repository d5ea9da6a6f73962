package admin

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertgw/alertgw/stats"
)

// Collector exposes the stats registry as Prometheus metrics. It reads the
// atomics at scrape time, so the hot path pays nothing for metrics.
type Collector struct {
	reg *stats.Registry

	build                                       *prometheus.Desc
	inReceived, inBytes, inNormalized, inUp     *prometheus.Desc
	inFailed, inDropped                         *prometheus.Desc
	outQueued, outCapacity, outWritten          *prometheus.Desc
	outRetried, outFailed, outDropped, outReady *prometheus.Desc
	outBufBytes, outBufLimit, outSpilled        *prometheus.Desc
	outReplayed, outCorrupt, outLatency         *prometheus.Desc
	dlWritten, dlDropped, dlPending             *prometheus.Desc
	stages                                      stageMetrics
	version                                     string
}

// NewCollector returns a collector over reg.
func NewCollector(reg *stats.Registry, version string) *Collector {
	in := []string{"input", "type"}
	inR := []string{"input", "type", "reason"}
	out := []string{"output", "type"}
	outR := []string{"output", "type", "reason"}
	d := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc("alertgw_"+name, help, labels, nil)
	}
	return &Collector{
		reg:          reg,
		version:      version,
		build:        d("build_info", "alertgw build information.", []string{"version"}),
		inReceived:   d("input_received_total", "Messages read by the input.", in),
		inBytes:      d("input_received_bytes_total", "Bytes read by the input.", in),
		inNormalized: d("input_normalized_total", "Events the input's messages were normalized into.", in),
		inUp:         d("input_up", "1 while the input is running with its sockets bound.", in),
		inFailed:     d("input_failed_total", "Messages that could not be normalized (dead-lettered), by reason.", inR),
		inDropped:    d("input_dropped_total", "Messages lost before normalization, by reason (truncated, enobufs, …).", inR),
		outQueued:    d("output_queued_events", "Events waiting in the output's queue.", out),
		outCapacity:  d("output_queue_capacity_events", "Most events the output's queue holds.", out),
		outWritten:   d("output_written_total", "Events delivered by the output.", out),
		outRetried:   d("output_retried_total", "Delivery attempts repeated after an error.", out),
		outFailed:    d("output_failed_total", "Events rejected for good (dead-lettered), by reason.", outR),
		outDropped:   d("output_dropped_total", "Events dropped by policy or at shutdown, by reason.", outR),
		outReady:     d("output_ready", "1 while the output delivers or buffers within its limits.", out),
		outBufBytes:  d("output_buffer_bytes", "Size of the output's disk buffer files.", out),
		outBufLimit:  d("output_buffer_limit_bytes", "The disk buffer's max_bytes (0 without a disk buffer).", out),
		outSpilled:   d("output_spilled_total", "Events written to the disk buffer.", out),
		outReplayed:  d("output_replayed_total", "Events found in the disk buffer at start and replayed.", out),
		outCorrupt:   d("output_buffer_corrupt_total", "Torn or corrupt disk buffer records cut off.", out),
		outLatency:   d("output_delivery_latency_seconds", "Delivery latency from receipt to the destination taking the event.", out),
		dlWritten:    d("deadletter_written_total", "Records written to the dead-letter file.", nil),
		dlDropped:    d("deadletter_dropped_total", "Dead-letter records given up because the file could not be written, by reason.", []string{"reason"}),
		dlPending:    d("deadletter_pending_records", "Dead-letter records waiting in memory to be written.", nil),
		stages:       newStageMetrics(d),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.build, c.inReceived, c.inBytes, c.inNormalized, c.inUp, c.inFailed, c.inDropped,
		c.outQueued, c.outCapacity, c.outWritten, c.outRetried, c.outFailed, c.outDropped, c.outReady,
		c.outBufBytes, c.outBufLimit, c.outSpilled, c.outReplayed, c.outCorrupt, c.outLatency,
		c.dlWritten, c.dlDropped, c.dlPending} {
		ch <- d
	}
	c.stages.describe(ch)
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(c.build, 1, c.version)
	for _, s := range c.reg.Inputs() {
		counter(c.inReceived, s.Received.Load(), s.Name, s.Type)
		counter(c.inBytes, s.Bytes.Load(), s.Name, s.Type)
		counter(c.inNormalized, s.Normalized.Load(), s.Name, s.Type)
		gauge(c.inUp, boolFloat(s.Up.Load()), s.Name, s.Type)
		for r, v := range s.Failed.Snapshot() {
			counter(c.inFailed, v, s.Name, s.Type, r)
		}
		for r, v := range s.Dropped.Snapshot() {
			counter(c.inDropped, v, s.Name, s.Type, r)
		}
	}
	dl := c.reg.DeadLetter()
	counter(c.dlWritten, dl.Written.Load())
	gauge(c.dlPending, float64(dl.Pending.Load()))
	for r, v := range dl.Dropped.Snapshot() {
		counter(c.dlDropped, v, r)
	}
	for _, s := range c.reg.Outputs() {
		gauge(c.outQueued, float64(s.Queued.Load()), s.Name, s.Type)
		gauge(c.outCapacity, float64(s.Capacity.Load()), s.Name, s.Type)
		counter(c.outWritten, s.Written.Load(), s.Name, s.Type)
		counter(c.outRetried, s.Retried.Load(), s.Name, s.Type)
		gauge(c.outReady, boolFloat(s.Ready()), s.Name, s.Type)
		gauge(c.outBufBytes, float64(s.BufferedBytes.Load()), s.Name, s.Type)
		gauge(c.outBufLimit, float64(s.BufferLimit.Load()), s.Name, s.Type)
		counter(c.outSpilled, s.Spilled.Load(), s.Name, s.Type)
		counter(c.outReplayed, s.Replayed.Load(), s.Name, s.Type)
		counter(c.outCorrupt, s.BufferCorrupt.Load(), s.Name, s.Type)
		// A summary without quantiles: count and sum give the mean rate.
		ch <- prometheus.MustNewConstSummary(c.outLatency, s.LatencyCount.Load(), float64(s.LatencySumNs.Load())/1e9, nil, s.Name, s.Type)
		for r, v := range s.Failed.Snapshot() {
			counter(c.outFailed, v, s.Name, s.Type, r)
		}
		for r, v := range s.Dropped.Snapshot() {
			counter(c.outDropped, v, s.Name, s.Type, r)
		}
	}
	c.stages.collect(c.reg, counter, gauge)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
