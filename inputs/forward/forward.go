// Package forward is the forward input: the receiving end of a fleet. Sensor
// gateways' forward outputs POST batches of events to it over HTTPS,
// authenticated by client certificate (mutual TLS) or bearer token; each
// batch is answered only once every output here has its events (delivered,
// or in its disk buffer), so the sender may then forget them.
//
// Optionally it also takes NDJSON of EVE or native events from other
// shippers (Filebeat, Vector, Fluent Bit HTTP outputs) on a second path.
// See README.md and docs/fleet.md.
package forward

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/internal/eventcodec"
	"github.com/alertgw/alertgw/internal/forwardwire"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/eve"
	"github.com/alertgw/alertgw/normalize/native"
	"github.com/alertgw/alertgw/stats"
)

//go:embed sample.yaml
var sample []byte

// Plugin registers the input.
var Plugin = inputs.Plugin{
	Type:    "forward",
	Sample:  sample,
	Summary: "receive events from other gateways' forward outputs (HTTPS, mTLS or token), and optionally NDJSON from other shippers",
	Options: func() any { return DefaultOptions() },
	New:     func(env inputs.Env, opts any) (inputs.Input, error) { return New(env, opts.(*Options)) },
}

// Input serves the forward and ingest endpoints.
type Input struct {
	env  inputs.Env
	opts *Options
	auth *auth
	ln   net.Listener
	srv  *http.Server

	emit    inputs.Emitter
	pending atomic.Int64  // events handed to the pipeline, not yet acknowledged
	stop    chan struct{} // closed when the gateway stops
	closing atomic.Bool

	// counters of the input's own metrics
	renamed  atomic.Uint64 // events whose source.sensor differed from the sender's identity
	full     atomic.Uint64 // requests answered 429
	timedOut atomic.Uint64 // requests answered 503 after ack_timeout
}

// New binds the listening socket (a port in use fails start-up) and loads
// the certificates.
func New(env inputs.Env, o *Options) (*Input, error) {
	a, err := newAuth(o, env.Log)
	if err != nil {
		return nil, err
	}
	tc, err := a.tlsConfig(o.TLS.CertFile, o.TLS.KeyFile)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("forward input: %w", err)
	}
	in := &Input{env: env, opts: o, auth: a, ln: ln, stop: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+forwardwire.PathBatch, in.serveBatch)
	if o.Ingest.Enabled {
		mux.HandleFunc("POST "+forwardwire.PathIngest, in.serveIngest)
	}
	mux.HandleFunc("GET /alertgw/v1/health", func(w http.ResponseWriter, _ *http.Request) {
		if in.closing.Load() {
			http.Error(w, "stopping", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	in.srv = &http.Server{
		Handler:           mux,
		TLSConfig:         tc,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // a whole body, at the slowest link we wait for
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		// Handshake failures are counted by reason; the server's own log
		// line for each would flood the log when a sensor is misconfigured.
		ErrorLog: log.New(debugWriter{env}, "", 0),
	}
	env.Stats.SetExtra(in.Metrics()...)
	return in, nil
}

// Addr is the bound address (useful with port 0).
func (in *Input) Addr() string { return in.ln.Addr().String() }

// Run serves until ctx is cancelled, then stops taking requests and lets
// those in progress wait up to shutdown_wait for their acknowledgement.
func (in *Input) Run(ctx context.Context, emit inputs.Emitter) error {
	in.emit = emit
	in.env.Log.Info().Str("listen", in.Addr()).Bool("ingest", in.opts.Ingest.Enabled).Msg("forward input listening")
	errc := make(chan error, 1)
	go func() { errc <- in.srv.ServeTLS(in.ln, "", "") }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	in.shutdown()
	// ServeTLS returns ErrServerClosed once shut down: the ctx ended the
	// input, not an error.
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdown stops taking requests and lets those in progress wait up to
// shutdown_wait for their acknowledgement; it closes the listener.
func (in *Input) shutdown() {
	if in.closing.Swap(true) {
		return
	}
	close(in.stop)
	sctx, cancel := context.WithTimeout(context.Background(), in.opts.ShutdownWait+time.Second)
	defer cancel()
	if err := in.srv.Shutdown(sctx); err != nil {
		in.srv.Close()
	}
	in.ln.Close() // when Serve never ran, Shutdown does not know the listener
}

// Close releases the listening socket (Run does when it ends); safe to
// call twice.
func (in *Input) Close() error {
	in.shutdown()
	return nil
}

// reply writes a JSON answer.
func reply(w http.ResponseWriter, code int, r forwardwire.Reply) {
	w.Header().Set("Content-Type", "application/json")
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(r)
}

func fail(w http.ResponseWriter, code int, err error) {
	reply(w, code, forwardwire.Reply{Error: err.Error()})
}

// admit authenticates a request and reserves room for n events; it answers
// the request itself when it is refused.
func (in *Input) admit(w http.ResponseWriter, r *http.Request, n int) (sender, bool) {
	s, code, err := in.auth.identify(r)
	if err != nil {
		in.env.Log.Warn().Str("remote", r.RemoteAddr).Err(err).Msg("sender refused")
		fail(w, code, err)
		return s, false
	}
	if in.closing.Load() {
		fail(w, http.StatusServiceUnavailable, errors.New("the gateway is stopping"))
		return s, false
	}
	// A request is admitted when the pipeline has room for it, or when
	// nothing is pending (a single request larger than the limit would
	// otherwise never pass).
	if p := in.pending.Add(int64(n)); p > int64(in.opts.MaxPendingEvents) && p != int64(n) {
		in.pending.Add(-int64(n))
		in.full.Add(1)
		fail(w, http.StatusTooManyRequests, fmt.Errorf("full: %d events pending", p-int64(n)))
		return s, false
	}
	return s, true
}

// serveBatch takes one batch from a forward output.
func (in *Input) serveBatch(w http.ResponseWriter, r *http.Request) {
	announced, err := strconv.Atoi(r.Header.Get(forwardwire.HeaderEvents))
	if err != nil || announced < 0 {
		announced = 0
	}
	s, ok := in.admit(w, r, announced)
	if !ok {
		return
	}
	reserved := announced
	defer func() { in.pending.Add(-int64(reserved)) }() // until the events are handed over

	body, err := forwardwire.ReadBody(r.Body, r.Header.Get("Content-Encoding"), r.ContentLength, int64(in.opts.MaxBody))
	if err != nil {
		in.bodyError(w, err)
		return
	}
	evs, invalid, err := in.decodeBatch(body, s)
	if err != nil {
		in.env.Stats.Failed.Add("malformed_batch", 1)
		fail(w, http.StatusBadRequest, err)
		return
	}
	in.deliver(w, r, evs, invalid, &reserved, s)
}

// decodeBatch decodes a batch body (decompressed). Records that do not
// decode are dead-lettered and counted as invalid; a body that is not a
// batch is an error (nothing of it is taken).
func (in *Input) decodeBatch(body []byte, s sender) ([]*normalize.Event, int, error) {
	recs, err := forwardwire.Records(body)
	if err != nil {
		return nil, 0, err
	}
	in.env.Stats.Received.Add(uint64(len(recs)))
	in.env.Stats.Bytes.Add(uint64(len(body)))
	slab := make([]normalize.Event, len(recs))
	evs := make([]*normalize.Event, 0, len(recs))
	invalid := 0
	for i, rec := range recs {
		e := &slab[i]
		if err := eventcodec.DecodeEvent(rec, e); err != nil {
			in.emit.Failed(rec, "invalid_record", err)
			invalid++
			continue
		}
		in.identify(s, e)
		evs = append(evs, e)
	}
	return evs, invalid, nil
}

// identify records the sender as the events' sensor, unless it is a relay
// (its events keep theirs).
func (in *Input) identify(s sender, e *normalize.Event) {
	if s.relay {
		return
	}
	if e.Source.Sensor != s.identity {
		if e.Source.Sensor != "" {
			in.renamed.Add(1)
		}
		e.Source.Sensor = s.identity
	}
}

// deliver hands events to the pipeline and answers once every output has
// them, or 503 when that takes longer than ack_timeout.
func (in *Input) deliver(w http.ResponseWriter, r *http.Request, evs []*normalize.Event, invalid int, reserved *int, s sender) {
	n := len(evs)
	// The reservation becomes the events' own: released when they are
	// acknowledged, whatever became of the request.
	in.pending.Add(int64(n - *reserved))
	*reserved = 0
	acked := make(chan struct{})
	safe := func() {
		in.pending.Add(-int64(n))
		close(acked)
	}
	switch de, ok := in.emit.(inputs.DurableEmitter); {
	case n == 0:
		safe()
	case ok:
		// Safe once every output accepted the events (memory-buffered
		// ones: delivered) and every disk-buffered one holds them — never
		// for events a shutdown abandoned.
		both := inputs.AfterAll(2, safe)
		de.EventsDurable(evs, both, both)
	default:
		in.emit.Events(evs, safe)
	}
	timeout := time.NewTimer(in.opts.AckTimeout)
	defer timeout.Stop()
	stopped := in.stop
	for {
		select {
		case <-acked:
			reply(w, http.StatusOK, forwardwire.Reply{Accepted: n, Invalid: invalid, Sensor: s.identity})
			return
		case <-timeout.C:
			in.timedOut.Add(1)
			in.env.Log.Warn().Int("events", n).Str("sender", s.identity).Dur("ack_timeout", in.opts.AckTimeout).
				Msg("outputs did not take the events in time: answered 503, the sender will send them again")
			fail(w, http.StatusServiceUnavailable, errors.New("the receiver's outputs did not take the events in time"))
			return
		case <-r.Context().Done():
			return // the sender gave up; it will send again
		case <-stopped:
			stopped = nil
			timeout.Reset(min(in.opts.ShutdownWait, in.opts.AckTimeout))
		}
	}
}

func (in *Input) bodyError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, forwardwire.ErrTooLarge):
		fail(w, http.StatusRequestEntityTooLarge, fmt.Errorf("body larger than max_body (%d bytes)", in.opts.MaxBody))
	case errors.Is(err, forwardwire.ErrMalformed):
		in.env.Stats.Failed.Add("malformed_batch", 1)
		fail(w, http.StatusBadRequest, err)
	case strings.Contains(err.Error(), "unsupported Content-Encoding"):
		fail(w, http.StatusUnsupportedMediaType, err)
	default:
		fail(w, http.StatusBadRequest, fmt.Errorf("read body: %w", err))
	}
}

// serveIngest takes NDJSON of EVE or native events from other shippers.
func (in *Input) serveIngest(w http.ResponseWriter, r *http.Request) {
	// The number of lines is unknown until the body is read: reserve one
	// so that a full receiver refuses before reading.
	s, ok := in.admit(w, r, 1)
	if !ok {
		return
	}
	reserved := 1
	defer func() { in.pending.Add(-int64(reserved)) }()
	body, err := forwardwire.ReadBody(r.Body, r.Header.Get("Content-Encoding"), r.ContentLength, int64(in.opts.MaxBody))
	if err != nil {
		in.bodyError(w, err)
		return
	}
	lines := splitLines(body)
	in.env.Stats.Received.Add(uint64(len(lines)))
	in.env.Stats.Bytes.Add(uint64(len(body)))
	slab := make([]normalize.Event, len(lines))
	evs := make([]*normalize.Event, 0, len(lines))
	invalid := 0
	for i, line := range lines {
		e := &slab[i]
		if err := in.decodeLine(line, e); err != nil {
			reason := normalize.ReasonMalformed
			var nerr *normalize.Error
			if errors.As(err, &nerr) {
				reason = nerr.Reason
			}
			in.emit.Failed(line, reason, err)
			invalid++
			continue
		}
		if s.identity != "*" && (!s.relay || e.Source.Sensor == "") {
			in.identify(sender{identity: s.identity}, e)
		}
		evs = append(evs, e)
	}
	in.deliver(w, r, evs, invalid, &reserved, s)
}

// decodeLine decodes one ingested line by the configured format.
func (in *Input) decodeLine(line []byte, e *normalize.Event) error {
	if len(line) > int(in.opts.Ingest.MaxLine) {
		return normalize.Errorf(normalize.ReasonTooLarge, "line of %d bytes (max_line %d)", len(line), in.opts.Ingest.MaxLine)
	}
	switch in.opts.Ingest.Format {
	case IngestNative:
		return native.Decoder{}.Decode(line, e)
	case IngestEVE:
		return eve.Decoder{}.Decode(line, e)
	}
	if native.Looks(line) {
		return native.Decoder{}.Decode(line, e)
	}
	return eve.Decoder{}.Decode(line, e)
}

// splitLines returns the non-blank lines of body (they alias it).
func splitLines(body []byte) [][]byte {
	var out [][]byte
	for len(body) > 0 {
		i := 0
		for i < len(body) && body[i] != '\n' {
			i++
		}
		line := body[:i]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if len(strings.TrimSpace(string(line))) > 0 {
			out = append(out, line[:len(line):len(line)])
		}
		if i == len(body) {
			break
		}
		body = body[i+1:]
	}
	return out
}

// Metrics are the input's own metric families, exported as
// alertgw_input_<Name> (docs/operations.md documents each; its test lists
// them from a zero Input).
func (in *Input) Metrics() []*stats.Family {
	return []*stats.Family{
		{Name: "forward_refused_total", Help: "Senders refused, by reason (unknown_authority, expired, wrong_usage, no_certificate, not_allowed, bad_token, no_credentials).",
			Labels: []string{"reason"}, Collect: func(emit func(float64, ...string)) {
				for r, v := range in.auth.refused.Snapshot() {
					emit(float64(v), r)
				}
			}},
		{Name: "forward_pending_events", Help: "Events handed to the pipeline and not yet safe in every output.", Gauge: true,
			Collect: func(emit func(float64, ...string)) { emit(float64(in.pending.Load())) }},
		{Name: "forward_full_total", Help: "Requests answered 429 because max_pending_events were pending.",
			Collect: func(emit func(float64, ...string)) { emit(float64(in.full.Load())) }},
		{Name: "forward_ack_timeouts_total", Help: "Requests answered 503 because the outputs did not take the events within ack_timeout.",
			Collect: func(emit func(float64, ...string)) { emit(float64(in.timedOut.Load())) }},
		{Name: "forward_sensor_renamed_total", Help: "Events whose source.sensor was replaced by the sender's authenticated identity.",
			Collect: func(emit func(float64, ...string)) { emit(float64(in.renamed.Load())) }},
	}
}

// debugWriter sends the HTTP server's own log lines to the debug level.
type debugWriter struct{ env inputs.Env }

func (d debugWriter) Write(p []byte) (int, error) {
	d.env.Log.Debug().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
