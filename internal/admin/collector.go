package admin

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertgw/alertgw/stats"
)

// Collector exposes the stats registry as Prometheus metrics. It reads the
// atomics at scrape time, so the hot path pays nothing for metrics.
type Collector struct {
	reg *stats.Registry

	build                                        *prometheus.Desc
	inReceived, inBytes, inNormalized, inUp      *prometheus.Desc
	inMerged                                     *prometheus.Desc
	inFailed, inDropped                          *prometheus.Desc
	inConns, inConnsClosed                       *prometheus.Desc
	outQueued, outCapacity, outWritten           *prometheus.Desc
	outRetried, outFailed, outDropped, outReady  *prometheus.Desc
	outBufBytes, outBufLimit, outSpilled         *prometheus.Desc
	outReplayed, outCorrupt, outLatency          *prometheus.Desc
	inReady, inLastEvent                         *prometheus.Desc
	outDegraded, outFailingSeconds, outLastWrite *prometheus.Desc
	ready                                        *prometheus.Desc
	dlWritten, dlDropped, dlPending              *prometheus.Desc
	outPaused, outFigure                         *prometheus.Desc
	stages                                       stageMetrics
	version                                      string
	grace                                        time.Duration // admin.failure_grace
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
		inReceived:   d("input_received_total", "Messages read by the input, and those reported lost on their way to it (also in input_dropped_total).", in),
		inBytes:      d("input_received_bytes_total", "Bytes read by the input.", in),
		inNormalized: d("input_normalized_total", "Events the input's messages were normalized into.", in),
		inMerged:     d("input_merged_total", "Messages folded into an event another message started (unified2 packet records, auditd records after an event's first).", in),
		inUp:         d("input_up", "1 while the input is running with its sockets bound.", in),
		inFailed:     d("input_failed_total", "Messages that could not be normalized (dead-lettered), by reason.", inR),
		inDropped:    d("input_dropped_total", "Messages lost before normalization, by reason (truncated, enobufs, …).", inR),
		inConns:      d("input_connections", "Stream connections open now (0 for inputs without stream sockets).", in),
		inConnsClosed: d("input_connections_closed_total",
			"Stream connections the gateway closed, by reason (idle_timeout, evicted, refused, peer_rejected).", inR),
		outQueued:         d("output_queued_events", "Events waiting in the output's queue.", out),
		outCapacity:       d("output_queue_capacity_events", "Most events the output's queue holds.", out),
		outWritten:        d("output_written_total", "Events delivered by the output.", out),
		outRetried:        d("output_retried_total", "Delivery attempts repeated after an error.", out),
		outFailed:         d("output_failed_total", "Events rejected for good (dead-lettered), by reason.", outR),
		outDropped:        d("output_dropped_total", "Events dropped by policy or at shutdown, by reason.", outR),
		outReady:          d("output_ready", "0 once the output has failed for longer than admin.failure_grace, fails with its buffer full, or is paused; 1 otherwise.", out),
		outBufBytes:       d("output_buffer_bytes", "Size of the output's disk buffer files.", out),
		outBufLimit:       d("output_buffer_limit_bytes", "The disk buffer's max_bytes (0 without a disk buffer).", out),
		outSpilled:        d("output_spilled_total", "Events written to the disk buffer.", out),
		outReplayed:       d("output_replayed_total", "Events found in the disk buffer at start and replayed.", out),
		outCorrupt:        d("output_buffer_corrupt_total", "Torn or corrupt disk buffer records cut off.", out),
		outLatency:        d("output_delivery_latency_seconds", "Delivery latency from receipt to the destination taking the event.", out),
		dlWritten:         d("deadletter_written_total", "Records written to the dead-letter file.", nil),
		dlDropped:         d("deadletter_dropped_total", "Dead-letter records given up because the file could not be written, by reason.", []string{"reason"}),
		dlPending:         d("deadletter_pending_records", "Dead-letter records waiting in memory to be written.", nil),
		grace:             DefaultFailureGrace,
		ready:             d("ready", "1 when the gateway is ready (what /readyz answers with 200).", nil),
		inReady:           d("input_ready", "1 while the input runs and is reachable (its socket file is in place, its bookmark writable).", in),
		inLastEvent:       d("input_last_event_timestamp_seconds", "When the input last handed a message or event on (0: never).", in),
		outDegraded:       d("output_degraded", "1 while the output retries within the grace period, spills to its disk buffer, or delivers with its buffer full.", out),
		outFailingSeconds: d("output_failing_seconds", "How long every delivery attempt has failed (0 while delivering).", out),
		outLastWrite:      d("output_last_write_timestamp_seconds", "When the output last delivered (0: never).", out),
		outPaused:         d("output_paused", "1 while the output holds its events back for a reason of its own (the store on a full disk).", out),
		outFigure: d("output_figure", "An output type's own numbers, by name (store: partitions, bytes, foreign_files, "+
			"removed_partitions_total, removed_bytes_total, skipped_kind_total).", []string{"output", "type", "figure"}),
		stages: newStageMetrics(d),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.build, c.inReceived, c.inBytes, c.inNormalized, c.inUp, c.inFailed, c.inDropped,
		c.inConns, c.inConnsClosed, c.inMerged,
		c.outQueued, c.outCapacity, c.outWritten, c.outRetried, c.outFailed, c.outDropped, c.outReady,
		c.outBufBytes, c.outBufLimit, c.outSpilled, c.outReplayed, c.outCorrupt, c.outLatency,
		c.ready, c.inReady, c.inLastEvent, c.outDegraded, c.outFailingSeconds, c.outLastWrite, c.outPaused, c.outFigure,
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
	now := time.Now()
	ready := true
	for _, s := range c.reg.Inputs() {
		inReady := s.Up.Load() && s.Problem() == ""
		ready = ready && inReady
		gauge(c.inReady, boolFloat(inReady), s.Name, s.Type)
		gauge(c.inLastEvent, float64(s.LastEvent.Load())/1e9, s.Name, s.Type)
		counter(c.inReceived, s.Received.Load(), s.Name, s.Type)
		counter(c.inBytes, s.Bytes.Load(), s.Name, s.Type)
		counter(c.inNormalized, s.Normalized.Load(), s.Name, s.Type)
		counter(c.inMerged, s.Merged.Load(), s.Name, s.Type)
		gauge(c.inUp, boolFloat(s.Up.Load()), s.Name, s.Type)
		for r, v := range s.Failed.Snapshot() {
			counter(c.inFailed, v, s.Name, s.Type, r)
		}
		for r, v := range s.Dropped.Snapshot() {
			counter(c.inDropped, v, s.Name, s.Type, r)
		}
		gauge(c.inConns, float64(s.Connections.Load()), s.Name, s.Type) // 0 for inputs without streams
		for r, v := range s.ConnectionsClosed.Snapshot() {
			counter(c.inConnsClosed, v, s.Name, s.Type, r)
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
		h := s.Health(now, c.grace)
		ready = ready && h.Ready()
		gauge(c.outReady, boolFloat(h.Ready()), s.Name, s.Type)
		gauge(c.outDegraded, boolFloat(h.State == stats.StateDegraded), s.Name, s.Type)
		gauge(c.outFailingSeconds, h.For.Seconds(), s.Name, s.Type)
		gauge(c.outLastWrite, float64(s.LastWrite.Load())/1e9, s.Name, s.Type)
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
		gauge(c.outPaused, boolFloat(s.Paused.Load() != nil), s.Name, s.Type)
		for f, v := range s.Figures.Snapshot() {
			gauge(c.outFigure, float64(v), s.Name, s.Type, f)
		}
	}
	c.stages.collect(c.reg, counter, gauge)
	gauge(c.ready, boolFloat(ready))
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
