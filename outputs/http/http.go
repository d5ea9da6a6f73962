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
	PasswordFile string `mapstructure:"password_file"`
	// BearerTokenFile reads the bearer token from a file.
	BearerTokenFile string `mapstructure:"bearer_token_file"`
	// Timeout bounds one request; a slower one fails and is retried.
	Timeout time.Duration `mapstructure:"timeout"`
	// TLS configures HTTPS.
	TLS outputs.TLS `mapstructure:"tls"`
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		p.Add("url", "must start with http:// or https://; got %q", o.URL)
	}
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
	if o.Timeout < time.Second {
		p.Add("timeout", "must be at least 1s; got %s", o.Timeout)
	}
	p = append(p, o.TLS.Validate().Prefixed("tls")...)
	return p
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
}

// New builds the client.
func New(env outputs.Env, o *Options) (*Output, error) {
	if err := o.Password.Load(o.PasswordFile); err != nil {
		return nil, err
	}
	if err := o.BearerToken.Load(o.BearerTokenFile); err != nil {
		return nil, err
	}
	tc, err := o.TLS.ConfigFor(env.Log)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	w := &Output{env: env, opts: o, enc: env.Encoder, body: o.Body, client: &http.Client{Transport: tr, Timeout: o.Timeout}}
	if o.Preset == "mozdef" {
		w.enc = MozDef{}
		if w.body == "" {
			w.body = BodySingle // MozDef's /events takes one event per request
		}
	}
	if w.body == "" {
		w.body = BodyNDJSON
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
			err := w.post(ctx, lines.Line(i))
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
			buf = append(buf, lines.Line(i)...)
		}
		w.buf = append(buf, ']')
		return w.post(ctx, w.buf)
	default:
		return w.post(ctx, lines.Data)
	}
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
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // keep the connection reusable
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
