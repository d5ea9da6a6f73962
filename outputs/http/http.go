// Package http is the http output: batches POSTed to any HTTP endpoint as
// NDJSON or a JSON array, or one request per event, with headers, basic or
// bearer authentication and TLS. The mozdef preset sends MozDef's event
// shape, one event per request, as audisp-json does.
package http

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
)

// Body framings.
const (
	BodyNDJSON    = "ndjson"     // one event per line
	BodyJSONArray = "json_array" // [event,event,…]
	BodySingle    = "single"     // one request per event
)

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the output.
var Plugin = outputs.Plugin{
	Type:    "http",
	Summary: "POST events to an HTTP endpoint (NDJSON, JSON array or one per request); mozdef preset",
	Sample:  sample,
	Options: func() any {
		return &Options{Method: http.MethodPost, Timeout: 30 * time.Second}
	},
	New: func(env outputs.Env, opts any) (outputs.Output, error) { return New(env, opts.(*Options)) },
}

// Options are the http block's own keys.
type Options struct {
	// URL is where events are sent (required).
	URL string `mapstructure:"url"`
	// Method is the HTTP method.
	Method string `mapstructure:"method"`
	// Preset shapes requests for a known receiver: mozdef (MozDef's event
	// shape, one event per request); empty: none.
	Preset string `mapstructure:"preset"`
	// Body is how a batch is sent: ndjson (one event per line), json_array
	// or single (one request per event; mozdef's default).
	Body string `mapstructure:"body"`
	// Headers are extra HTTP request headers.
	Headers map[string]string `mapstructure:"headers"`
	// Username and password authenticate with HTTP basic authentication.
	Username string `mapstructure:"username"`
	// Password goes with username.
	Password outputs.Secret `mapstructure:"password"`
	// BearerToken is sent as Authorization: Bearer.
	BearerToken outputs.Secret `mapstructure:"bearer_token"`
	// PasswordFile reads the password from a file.
	PasswordFile string `mapstructure:"password_file" path:"read"`
	// BearerTokenFile reads the bearer token from a file.
	BearerTokenFile string `mapstructure:"bearer_token_file" path:"read"`
	// Timeout bounds one request; a slower one fails and is retried.
	Timeout time.Duration `mapstructure:"timeout"`
	// TLS configures HTTPS.
	TLS outputs.TLS `mapstructure:"tls"`
	// Wrap puts configured text around each event or each request body,
	// as audisp-json's prepend_msg/postpend_msg do.
	Wrap Wrap `mapstructure:"wrap"`
}

// Wrap is text written before and after each event (per: event) or each
// request body (per: batch). audisp-json's Fluentd example,
// prepend_msg={"message": and postpend_msg=}, is
//
//	wrap: {prefix: '{"message":', suffix: '}'}
//
// so that Fluentd's in_http makes each event one record with the event
// under "message".
type Wrap struct {
	// Prefix is the text written before.
	Prefix string `mapstructure:"prefix"`
	// Suffix is the text written after.
	Suffix string `mapstructure:"suffix"`
	// Per is event (around each event; the default) or batch (around
	// each request body).
	Per string `mapstructure:"per"`
}

// Wrap scopes.
const (
	WrapPerEvent = "event"
	WrapPerBatch = "batch"
)

func (w *Wrap) set() bool { return w.Prefix != "" || w.Suffix != "" }

func (w *Wrap) scope() string {
	if w.Per == "" {
		return WrapPerEvent
	}
	return w.Per
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	outputs.CheckURL(&p, "url", o.URL)
	switch o.Preset {
	case "", "mozdef":
	default:
		p.Add("preset", "must be mozdef or empty; got %q", o.Preset)
	}
	switch o.Body {
	case "", BodyNDJSON, BodyJSONArray, BodySingle:
	default:
		p.Add("body", "must be ndjson, json_array or single; got %q", o.Body)
	}
	outputs.CheckSecret(&p, "password", o.Password, o.PasswordFile)
	outputs.CheckSecret(&p, "bearer_token", o.BearerToken, o.BearerTokenFile)
	if (o.BearerToken != "" || o.BearerTokenFile != "") && o.Username != "" {
		p.Add("bearer_token", "use either bearer_token or username/password")
	}
	outputs.CheckHTTP(&p, o.Timeout, &o.TLS)
	p = append(p, o.validateWrap().Prefixed("wrap")...)
	return p
}

// validateWrap checks the wrap on a sample: what is sent as JSON must stay
// JSON (a forgotten brace would have every request refused and every event
// dead-lettered), and an NDJSON line must stay one line. A body sent under
// another Content-Type (headers) is the user's to get right.
func (o *Options) validateWrap() config.Problems {
	var p config.Problems
	w := o.Wrap
	switch w.Per {
	case "", WrapPerEvent, WrapPerBatch:
	default:
		p.Add("per", "must be event or batch; got %q", w.Per)
		return p
	}
	if !w.set() {
		return p
	}
	body := o.body()
	if body == BodyNDJSON && w.scope() == WrapPerEvent && strings.ContainsAny(w.Prefix+w.Suffix, "\r\n") {
		p.Add("prefix", "must not contain a line break with body ndjson: each event is one line")
	}
	if !isJSONType(contentType(o.Headers, body)) {
		return p
	}
	sample := []byte(`{"id":"x"}`)
	var out []byte
	switch body {
	case BodyJSONArray:
		out = wrapBody(&w, []byte("["+wrapEvent(&w, sample)+","+wrapEvent(&w, sample)+"]"))
	case BodyNDJSON:
		if w.scope() == WrapPerBatch {
			line := wrapEvent(&w, sample) + "\n"
			out = wrapBody(&w, []byte(line+line)) // two events: one alone may pass for JSON
			if !json.Valid(out) {
				p.Add("per", "batch: the wrapped NDJSON body %q is not JSON; use body json_array to send the batch as one JSON value, or set a Content-Type header of your own", out)
			}
			return p
		}
		out = []byte(wrapEvent(&w, sample))
	default: // single: one event per request, wrapped once
		out = wrapBody(&w, sample)
		if w.scope() == WrapPerEvent {
			out = []byte(wrapEvent(&w, sample))
		}
	}
	if !json.Valid(out) {
		p.Add("prefix", "with suffix %q, an event is sent as %s, which is not JSON (set a Content-Type header of your own to send text that is not JSON)", w.Suffix, out)
	}
	return p
}

// body is the body framing in effect (the mozdef preset sends one event per
// request unless told otherwise).
func (o *Options) body() string {
	switch {
	case o.Body != "":
		return o.Body
	case o.Preset == "mozdef":
		return BodySingle
	}
	return BodyNDJSON
}

// contentType is the Content-Type sent: the headers' when they set one.
func contentType(headers map[string]string, body string) string {
	for k, v := range headers {
		if strings.EqualFold(k, "Content-Type") {
			return v
		}
	}
	if body == BodyNDJSON {
		return "application/x-ndjson"
	}
	return "application/json"
}

func isJSONType(ct string) bool {
	ct, _, _ = strings.Cut(strings.ToLower(ct), ";")
	ct = strings.TrimSpace(ct)
	return ct == "application/json" || ct == "application/x-ndjson" || strings.HasSuffix(ct, "+json")
}

// wrapEvent and wrapBody apply a wrap at each scope (each is a no-op at the
// other).
func wrapEvent(w *Wrap, ev []byte) string {
	if w.scope() != WrapPerEvent {
		return string(ev)
	}
	return w.Prefix + string(ev) + w.Suffix
}

func wrapBody(w *Wrap, body []byte) []byte {
	if w.scope() != WrapPerBatch {
		return body
	}
	return append(append([]byte(w.Prefix), body...), w.Suffix...)
}

// Output posts to one URL.
type Output struct {
	env    outputs.Env
	opts   *Options
	enc    format.Encoder
	body   string
	ctype  string
	auth   string
	client *http.Client
	buf    []byte
	wrap   []byte // Wrap.Prefix … Wrap.Suffix of a request, built here
}

// New builds the client.
func New(env outputs.Env, o *Options) (*Output, error) {
	if err := o.Password.Load(o.PasswordFile); err != nil {
		return nil, err
	}
	if err := o.BearerToken.Load(o.BearerTokenFile); err != nil {
		return nil, err
	}
	client, err := outputs.NewHTTPClient(&o.TLS, o.Timeout, 0, env.Log)
	if err != nil {
		return nil, err
	}
	// MozDef's /events takes one event per request: the preset's default body.
	w := &Output{env: env, opts: o, enc: env.Encoder, body: o.body(), client: client}
	if o.Preset == "mozdef" {
		w.enc = MozDef{}
	}
	w.ctype = "application/json"
	if w.body == BodyNDJSON {
		w.ctype = "application/x-ndjson"
	}
	switch {
	case o.BearerToken != "":
		w.auth = "Bearer " + o.BearerToken.Reveal()
	case o.Username != "":
		w.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(o.Username+":"+o.Password.Reveal()))
	}
	return w, nil
}

// Write sends the batch. With one request per event, each event's answer
// decides its fate: delivered, retried (429, 5xx, no answer) or
// dead-lettered (another 4xx).
func (w *Output) Write(ctx context.Context, b *outputs.Batch) error {
	lines := b.Encode(w.enc)
	switch w.body {
	case BodySingle:
		var pe outputs.PartialError
		for i := range b.Events {
			// One event per request: either scope wraps it once.
			err := w.post(ctx, w.wrapped(lines.Line(i)))
			if err == nil {
				continue
			}
			if outputs.IsPermanent(err) {
				pe.Failed = append(pe.Failed, outputs.ItemFailure{Index: i, Permanent: true, Reason: reason(err), Detail: err.Error()})
				continue
			}
			if i == 0 && len(pe.Failed) == 0 {
				return err // nothing went: retry the whole batch
			}
			// The endpoint is failing: the rest waits for the retry.
			for j := i; j < len(b.Events); j++ {
				pe.Failed = append(pe.Failed, outputs.ItemFailure{Index: j, Reason: reason(err), Detail: err.Error()})
			}
			break
		}
		if len(pe.Failed) > 0 {
			return &pe
		}
		return nil
	case BodyJSONArray:
		buf := append(w.buf[:0], '[')
		for i := range b.Events {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = w.appendEvent(buf, lines.Line(i))
		}
		w.buf = append(buf, ']')
		return w.post(ctx, w.wrapBatch(w.buf))
	default:
		if !w.opts.Wrap.set() {
			return w.post(ctx, lines.Data)
		}
		buf := w.buf[:0]
		for i := range b.Events {
			buf = append(w.appendEvent(buf, lines.Line(i)), '\n')
		}
		w.buf = buf
		return w.post(ctx, w.wrapBatch(w.buf))
	}
}

// appendEvent appends one encoded event, wrapped when the wrap is per event.
func (w *Output) appendEvent(dst, ev []byte) []byte {
	wr := &w.opts.Wrap
	if !wr.set() || wr.scope() != WrapPerEvent {
		return append(dst, ev...)
	}
	return append(append(append(dst, wr.Prefix...), ev...), wr.Suffix...)
}

// wrapBatch wraps a whole request body when the wrap is per batch.
func (w *Output) wrapBatch(body []byte) []byte {
	wr := &w.opts.Wrap
	if !wr.set() || wr.scope() != WrapPerBatch {
		return body
	}
	w.wrap = append(append(append(w.wrap[:0], wr.Prefix...), body...), wr.Suffix...)
	return w.wrap
}

// wrapped wraps the body of a one-event request (either scope).
func (w *Output) wrapped(ev []byte) []byte {
	wr := &w.opts.Wrap
	if !wr.set() {
		return ev
	}
	w.wrap = append(append(append(w.wrap[:0], wr.Prefix...), ev...), wr.Suffix...)
	return w.wrap
}

func reason(err error) string {
	var se *outputs.StatusError
	if errors.As(err, &se) {
		return fmt.Sprintf("http_%d", se.Code)
	}
	return "http_error"
}

func (w *Output) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, w.opts.Method, w.opts.URL, bytes.NewReader(body))
	if err != nil {
		return outputs.Permanent(err)
	}
	req.Header.Set("Content-Type", w.ctype)
	req.Header.Set("User-Agent", "alertgw")
	for k, v := range w.opts.Headers {
		req.Header.Set(k, v)
	}
	if w.auth != "" {
		req.Header.Set("Authorization", w.auth)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("http post: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // keep the connection reusable; a failure only costs it
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return outputs.HTTPError(resp.StatusCode, msg)
}

// Close releases idle connections.
func (w *Output) Close() error {
	w.client.CloseIdleConnections()
	return nil
}
