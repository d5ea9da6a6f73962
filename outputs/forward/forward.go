// Package forward is the forward output: it sends events to another
// gateway's forward input (the central one of a fleet) over HTTPS with
// mutual TLS or a token, as batches of the binary event codec, compressed
// (internal/forwardwire). A batch counts as delivered only once the
// receiver answered that it has it — that every output there delivered it
// or holds it in its disk buffer — so with a disk buffer here nothing is
// lost between the two gateways (at least once; duplicates carry the same
// event id). See README.md and docs/fleet.md.
package forward

import (
	"bytes"
	"context"
	"crypto/tls"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/internal/eventcodec"
	"github.com/alertgw/alertgw/internal/forwardwire"
	"github.com/alertgw/alertgw/internal/pki"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
)

//go:embed sample.yaml
var sample []byte

// Plugin registers the output.
var Plugin = outputs.Plugin{
	Type:    "forward",
	Sample:  sample,
	Summary: "send events to another alertgw (forward input) over HTTPS, mTLS or token, acknowledged once safe there",
	Options: func() any {
		// TLS is always on (New insists): the options say so too.
		return &Options{Compression: forwardwire.EncodingS2, RequestEvents: 2000, Parallel: 4, Timeout: time.Minute,
			TLS: outputs.TLS{Enabled: true}}
	},
	New:           func(env outputs.Env, opts any) (outputs.Output, error) { return New(env, opts.(*Options)) },
	EncodesItself: true,
}

// Options are the forward block's own keys.
type Options struct {
	// URLs of the receiving gateways' forward inputs (https://host:port).
	// Requests go to the first; when it fails they move on to the next.
	URLs []string `mapstructure:"urls"`
	// TLS: ca_file to verify the receiver, cert_file/key_file for mutual
	// TLS (the certificate names this sensor). Always on.
	TLS outputs.TLS `mapstructure:"tls"`
	// Token is a bearer token, instead of (or beside) a client certificate.
	Token outputs.Secret `mapstructure:"token"`
	// TokenFile reads the token from a file.
	TokenFile string `mapstructure:"token_file"`
	// Compression of request bodies: s2 (fast), zstd (smaller, for slow
	// links), gzip or none.
	Compression string `mapstructure:"compression"`
	// RequestEvents is the most events one request carries; a batch is
	// split into requests of this size (halved when a receiver answers 413).
	RequestEvents int `mapstructure:"request_events"`
	// Parallel is how many requests of one batch are in flight at once,
	// each on its own connection.
	Parallel int `mapstructure:"parallel"`
	// Timeout of one request, including the receiver's wait until its
	// outputs have the events.
	Timeout time.Duration `mapstructure:"timeout"`
}

// PathUses implements config.PathLister: the tls files are read at start
// whether or not tls.enabled is set, since the forward output always
// speaks TLS (with enabled set, the tls block lists them itself).
func (o *Options) PathUses() []config.PathUse {
	return o.TLS.PathUsesWhenOn("tls")
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if len(o.URLs) == 0 {
		p.Add("urls", "at least one receiver URL (https://central.example.org:8443) is needed")
	}
	for i, u := range o.URLs {
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme != "https" || pu.Host == "" {
			p.Add(fmt.Sprintf("urls[%d]", i), "must be an https:// URL with a host; got %q", u)
		}
	}
	switch o.Compression {
	case forwardwire.EncodingS2, forwardwire.EncodingZstd, forwardwire.EncodingGzip, "none":
	default:
		p.Add("compression", "must be s2, zstd, gzip or none; got %q", o.Compression)
	}
	if o.RequestEvents < 1 || o.RequestEvents > 100_000 {
		p.Add("request_events", "must be between 1 and 100000; got %d", o.RequestEvents)
	}
	if o.Parallel < 1 || o.Parallel > 64 {
		p.Add("parallel", "must be between 1 and 64; got %d", o.Parallel)
	}
	if o.Timeout < time.Second {
		p.Add("timeout", "must be at least 1s; got %s", o.Timeout)
	}
	outputs.CheckSecret(&p, "token", o.Token, o.TokenFile)
	if o.TLS.CertFile == "" && o.Token == "" && o.TokenFile == "" {
		p.Add("tls.cert_file", "the receiver needs to know who sends: give a client certificate (tls.cert_file, tls.key_file) or a token")
	}
	p = append(p, o.TLS.Validate().Prefixed("tls")...)
	return p
}

// Output sends to the receivers.
type Output struct {
	env      outputs.Env
	opts     *Options
	client   *http.Client
	urls     []string
	cur      atomic.Int32 // index in urls of the receiver in use
	encoding string
	// requestEvents is RequestEvents, halved when a receiver answers 413.
	requestEvents atomic.Int32
	bufs          sync.Pool    // *[]byte: request bodies, raw and compressed
	eventSize     atomic.Int64 // encoded bytes per event in the last request
}

// getBuf returns a buffer for a request body; putBuf gives it back once
// the request is answered (the transport no longer reads it).
func (w *Output) getBuf() *[]byte {
	if b, ok := w.bufs.Get().(*[]byte); ok {
		return b
	}
	return new([]byte)
}

func (w *Output) putBuf(b *[]byte) {
	if cap(*b) <= 64<<20 {
		w.bufs.Put(b)
	}
}

// New builds the client; it connects on the first Write.
func New(env outputs.Env, o *Options) (*Output, error) {
	if err := o.Token.Load(o.TokenFile); err != nil {
		return nil, err
	}
	t := o.TLS
	t.Enabled = true
	t.CertFile, t.KeyFile = "", "" // loaded below, and again when renewed
	tc, err := t.ConfigFor(env.Log)
	if err != nil {
		return nil, err
	}
	tc.MinVersion = tls.VersionTLS13
	if o.TLS.CertFile != "" {
		cl, err := pki.NewCertLoader(o.TLS.CertFile, o.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate: %w", err)
		}
		tc.GetClientCertificate = cl.GetClientCertificate
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: 10 * time.Second,
		// One connection per request in flight: a request waits for the
		// receiver's outputs, and HTTP/1.1 keeps that wait off the others.
		MaxIdleConnsPerHost: o.Parallel,
		MaxConnsPerHost:     o.Parallel,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	enc := o.Compression
	if enc == "none" {
		enc = forwardwire.EncodingIdentity
	}
	w := &Output{env: env, opts: o, client: &http.Client{Transport: tr, Timeout: o.Timeout}, urls: o.URLs, encoding: enc}
	w.requestEvents.Store(int32(o.RequestEvents))
	w.eventSize.Store(1024)
	return w, nil
}

// chunkResult is the outcome of one request.
type chunkResult struct {
	from, to int // events [from, to) of the batch
	err      error
}

// Write splits the batch into requests, sends them Parallel at a time and
// reports those that failed as a partial failure, so that the pipeline
// retries only those.
func (w *Output) Write(ctx context.Context, b *outputs.Batch) error {
	size := int(w.requestEvents.Load())
	n := len(b.Events)
	var (
		results = make([]chunkResult, 0, (n+size-1)/size)
		sem     = make(chan struct{}, w.opts.Parallel)
		wg      sync.WaitGroup
	)
	for from := 0; from < n; from += size {
		results = append(results, chunkResult{from: from, to: min(from+size, n)})
	}
	for i := range results {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r := &results[i]
			r.err = w.send(ctx, b.Events[r.from:r.to])
		})
	}
	wg.Wait()

	var (
		failed    []outputs.ItemFailure
		firstErr  error
		permanent int
	)
	for _, r := range results {
		if r.err == nil {
			continue
		}
		if firstErr == nil {
			firstErr = r.err
		}
		perm := outputs.IsPermanent(r.err)
		for i := r.from; i < r.to; i++ {
			failed = append(failed, outputs.ItemFailure{Index: i, Permanent: perm, Reason: "refused", Detail: r.err.Error()})
		}
		if perm {
			permanent += r.to - r.from
		}
	}
	switch {
	case len(failed) == 0:
		return nil
	case len(failed) == n && (permanent == 0 || permanent == n):
		return firstErr // all failed alike: the plain error reads better
	}
	return &outputs.PartialError{Failed: failed}
}

// send makes one request of events and waits for the receiver's answer.
func (w *Output) send(ctx context.Context, evs []*normalize.Event) error {
	raw := w.getBuf()
	defer w.putBuf(raw)
	// Sized from the last request: growing a megabyte buffer by doubling
	// cost a tenth of the sender's CPU.
	if want := len(evs) * int(w.eventSize.Load()) * 9 / 8; cap(*raw) < want {
		*raw = make([]byte, 0, want)
	}
	*raw = forwardwire.AppendHeader((*raw)[:0], len(evs))
	for _, e := range evs {
		*raw = forwardwire.AppendRecordFunc(*raw, func(b []byte) []byte { return eventcodec.AppendEvent(b, e) })
	}
	// The compressed body is reused only after a 200: on other answers
	// the transport may still be reading it (the server answered early).
	w.eventSize.Store(int64(len(*raw) / len(evs)))
	body, reuse := w.getBuf(), false
	defer func() {
		if reuse {
			w.putBuf(body)
		}
	}()
	var err error
	if *body, err = forwardwire.Compress((*body)[:0], *raw, w.encoding); err != nil {
		return outputs.Permanent(err)
	}

	idx := int(w.cur.Load()) % len(w.urls)
	target := w.urls[idx]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target+forwardwire.PathBatch, bytes.NewReader(*body))
	if err != nil {
		return outputs.Permanent(err)
	}
	req.Header.Set("Content-Type", forwardwire.ContentType)
	req.Header.Set("Content-Encoding", w.encoding)
	req.Header.Set(forwardwire.HeaderEvents, strconv.Itoa(len(evs)))
	if w.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.opts.Token.Reveal())
	}
	resp, err := w.client.Do(req)
	if err != nil {
		w.failover(idx)
		return fmt.Errorf("%s: %w", target, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var reply forwardwire.Reply
	_ = json.Unmarshal(msg, &reply)
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		reuse = true
		if reply.Accepted+reply.Invalid != len(evs) {
			w.env.Log.Warn().Int("sent", len(evs)).Int("accepted", reply.Accepted).Int("invalid", reply.Invalid).
				Str("receiver", target).Msg("the receiver acknowledged a different number of events")
		}
		if reply.Invalid > 0 {
			w.env.Log.Warn().Int("events", reply.Invalid).Str("receiver", target).Msg("the receiver could not decode events and dead-lettered them there")
		}
		return nil
	case code == http.StatusRequestEntityTooLarge:
		if len(evs) == 1 {
			return outputs.Permanent(fmt.Errorf("%s: one event is larger than the receiver accepts", target))
		}
		// Smaller requests from now on; this one is retried.
		half := int32(max(1, len(evs)/2))
		for cur := w.requestEvents.Load(); cur > half && !w.requestEvents.CompareAndSwap(cur, half); cur = w.requestEvents.Load() {
		}
		return fmt.Errorf("%s: request of %d events too large for the receiver, splitting", target, len(evs))
	case code == http.StatusTooManyRequests || code >= 500:
		// Full or failing: another receiver may have room.
		w.failover(idx)
	}
	if reply.Error != "" {
		msg = []byte(reply.Error)
	}
	err = outputs.HTTPError(resp.StatusCode, msg)
	return fmt.Errorf("%s: %w", target, err)
}

// failover moves later requests to the next receiver, once per failure of
// the one in use.
func (w *Output) failover(from int) {
	if len(w.urls) > 1 && w.cur.CompareAndSwap(int32(from), int32((from+1)%len(w.urls))) {
		w.env.Log.Warn().Str("from", w.urls[from]).Str("to", w.urls[(from+1)%len(w.urls)]).Msg("receiver failing: switching to the next")
	}
}

// Close releases idle connections.
func (w *Output) Close() error {
	w.client.CloseIdleConnections()
	return nil
}
