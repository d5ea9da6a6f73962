// Package elasticsearch is the elasticsearch output: batches go to the
// _bulk API as NDJSON, one action line and one document per event, into an
// index named from the event (alertgw-{kind}-{date:2006.01.02}) or a data
// stream. Elasticsearch answers per document: documents refused with 408,
// 425, 429 or a 5xx (but 501 and 505) are retried, those refused otherwise
// (a mapping conflict, a malformed field) are dead-lettered with
// Elasticsearch's reason, and the rest are delivered. It speaks the API
// OpenSearch shares.
//
// Each document's _id is the event id, so a batch sent again after a lost
// answer overwrites (index) or is refused as a duplicate (create, counted
// delivered): at-least-once delivery becomes exactly-once storage.
package elasticsearch

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
)

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the output.
var Plugin = outputs.Plugin{
	Type:    "elasticsearch",
	Summary: "index events with the _bulk API (Elasticsearch, OpenSearch); per-document retry or dead letter",
	Sample:  sample,
	Options: func() any {
		return &Options{Index: "alertgw-{kind}-{date:2006.01.02}", Timeout: 30 * time.Second, UseEventID: true, Template: TemplateInstall}
	},
	New: func(env outputs.Env, opts any) (outputs.Output, error) { return New(env, opts.(*Options)) },
}

// Options are the elasticsearch block's own keys.
type Options struct {
	// URLs are the cluster's nodes (required); the next is tried when one
	// fails.
	URLs []string `mapstructure:"urls"`
	// Index is the index (or data stream) name template: {kind},
	// {source}, {input}, {sensor}, {action}, and {date:LAYOUT}, the
	// event's timestamp in UTC with a Go layout.
	Index string `mapstructure:"index"`
	// DataStream sends create actions, as data streams require (with an
	// index such as logs-alertgw-default).
	DataStream bool `mapstructure:"data_stream"`
	// Pipeline is the ingest pipeline the documents go through; empty:
	// none.
	Pipeline string `mapstructure:"pipeline"`
	// UseEventID sets each document's _id to the event id, so that a
	// redelivery cannot duplicate it.
	UseEventID bool `mapstructure:"use_event_id"`
	// Username and password authenticate with HTTP basic authentication.
	Username string `mapstructure:"username"`
	// Password goes with username.
	Password outputs.Secret `mapstructure:"password"`
	// APIKey authenticates with an API key: "id:key" or its base64, as
	// Elasticsearch prints it.
	APIKey outputs.Secret `mapstructure:"api_key"`
	// PasswordFile reads the password from a file.
	PasswordFile string `mapstructure:"password_file" path:"read"`
	// APIKeyFile reads the API key from a file.
	APIKeyFile string `mapstructure:"api_key_file" path:"read"`
	// Headers are extra HTTP request headers.
	Headers map[string]string `mapstructure:"headers"`
	// Timeout bounds one bulk request; a slower one fails and is retried.
	Timeout time.Duration `mapstructure:"timeout"`
	// TLS configures HTTPS to the cluster.
	TLS outputs.TLS `mapstructure:"tls"`
	// Template is install (put alertgw's index template for the output's
	// format, native or ecs, before the first document) or skip (leave
	// mappings to the cluster).
	Template string `mapstructure:"template"`
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if len(o.URLs) == 0 {
		p.Add("urls", "at least one URL is needed, e.g. https://es.example.org:9200")
	}
	for i, u := range o.URLs {
		outputs.CheckURL(&p, fmt.Sprintf("urls[%d]", i), u)
	}
	if _, err := outputs.ParseTemplate(o.Index); err != nil {
		p.Add("index", "%v", err)
	}
	outputs.CheckSecret(&p, "password", o.Password, o.PasswordFile)
	outputs.CheckSecret(&p, "api_key", o.APIKey, o.APIKeyFile)
	if (o.APIKey != "" || o.APIKeyFile != "") && o.Username != "" {
		p.Add("api_key", "use either api_key or username/password")
	}
	switch o.Template {
	case TemplateInstall, TemplateSkip:
	default:
		p.Add("template", "must be install or skip; got %q", o.Template)
	}
	outputs.CheckHTTP(&p, o.Timeout, &o.TLS)
	return p
}

// Output writes to Elasticsearch.
type Output struct {
	env     outputs.Env
	opts    *Options
	client  *http.Client
	indexes *outputs.Names
	auth    string
	url     int // the URL in use; the next one after a failure
	body    []byte
	// mappings is the shipped template's mappings for the output's
	// format, nil when none is installed; templateDone once it is.
	mappings     []byte
	templateDone bool
}

// New builds the client; nothing is contacted until the first Write.
func New(env outputs.Env, o *Options) (*Output, error) {
	tmpl, err := outputs.ParseTemplate(o.Index)
	if err != nil {
		return nil, err
	}
	if err := o.Password.Load(o.PasswordFile); err != nil {
		return nil, err
	}
	if err := o.APIKey.Load(o.APIKeyFile); err != nil {
		return nil, err
	}
	client, err := outputs.NewHTTPClient(&o.TLS, o.Timeout, 4, env.Log)
	if err != nil {
		return nil, err
	}
	w := &Output{env: env, opts: o, indexes: outputs.NewNames(tmpl), client: client}
	if o.Template == TemplateInstall {
		if w.mappings = mappingsFor(env.Encoder.Name()); w.mappings == nil {
			env.Log.Warn().Str("format", env.Encoder.Name()).Msg("alertgw ships no index template for this format: none is installed (template: skip silences this)")
		}
	}
	switch {
	case o.APIKey != "":
		key := o.APIKey.Reveal()
		if strings.Contains(key, ":") {
			key = base64.StdEncoding.EncodeToString([]byte(key))
		}
		w.auth = "ApiKey " + key
	case o.Username != "":
		w.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(o.Username+":"+o.Password.Reveal()))
	}
	return w, nil
}

// Write sends the batch with _bulk, splitting it when the server says it is
// too large.
func (w *Output) Write(ctx context.Context, b *outputs.Batch) error {
	if w.mappings != nil && !w.templateDone {
		if err := w.installTemplate(ctx); err != nil {
			return err
		}
	}
	lines := b.Encode(w.env.Encoder)
	var pe outputs.PartialError
	if err := w.bulk(ctx, b, lines, 0, len(b.Events), &pe); err != nil {
		return err
	}
	if len(pe.Failed) > 0 {
		return &pe
	}
	return nil
}

// bulk sends events [lo, hi), adding per-document failures to pe. An error
// means the request as a whole failed.
func (w *Output) bulk(ctx context.Context, b *outputs.Batch, lines *outputs.Lines, lo, hi int, pe *outputs.PartialError) error {
	body := w.body[:0]
	op := "index"
	if w.opts.DataStream {
		op = "create"
	}
	for i := lo; i < hi; i++ {
		e := b.Events[i]
		body = append(body, `{"`...)
		body = append(body, op...)
		body = append(body, `":{`...)
		body = format.AppendStringField(body, "_index", w.indexes.For(e))
		if w.opts.UseEventID && e.ID != "" {
			body = format.AppendStringField(body, "_id", e.ID)
		}
		if w.opts.Pipeline != "" {
			body = format.AppendStringField(body, "pipeline", w.opts.Pipeline)
		}
		body = append(body, "}}\n"...)
		body = append(body, lines.Line(i)...)
		body = append(body, '\n')
	}
	w.body = body
	status, resp, err := w.post(ctx, body)
	if err != nil {
		return err
	}
	switch {
	case status == http.StatusRequestEntityTooLarge && hi-lo > 1:
		mid := lo + (hi-lo)/2
		if err := w.bulk(ctx, b, lines, lo, mid, pe); err != nil {
			return err
		}
		return w.bulk(ctx, b, lines, mid, hi, pe)
	case status == http.StatusRequestEntityTooLarge:
		pe.Failed = append(pe.Failed, outputs.ItemFailure{Index: lo, Permanent: true, Reason: "too_large", Detail: "a single document larger than the server's http.max_content_length"})
		return nil
	case status < 200 || status > 299:
		return outputs.HTTPError(status, resp)
	}
	return w.items(resp, op, lo, hi, pe)
}

// post sends body to the current URL, moving on to the next on a
// connection failure.
func (w *Output) post(ctx context.Context, body []byte) (int, []byte, error) {
	u := strings.TrimRight(w.opts.URLs[w.url], "/") + "/_bulk"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, outputs.Permanent(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	w.setHeaders(req)
	resp, err := w.client.Do(req)
	if err != nil {
		w.url = (w.url + 1) % len(w.opts.URLs)
		return 0, nil, fmt.Errorf("elasticsearch bulk: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		w.url = (w.url + 1) % len(w.opts.URLs)
		return 0, nil, fmt.Errorf("elasticsearch bulk response: %w", err)
	}
	return resp.StatusCode, data, nil
}

// setHeaders adds the configured headers and the credentials.
func (w *Output) setHeaders(req *http.Request) {
	for k, v := range w.opts.Headers {
		req.Header.Set(k, v)
	}
	if w.auth != "" {
		req.Header.Set("Authorization", w.auth)
	}
}

type bulkResponse struct {
	Errors bool                     `json:"errors"`
	Items  []map[string]bulkItemRes `json:"items"`
}

type bulkItemRes struct {
	Status int `json:"status"`
	Error  struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

// items reads the per-document results of events [lo, hi).
func (w *Output) items(resp []byte, op string, lo, hi int, pe *outputs.PartialError) error {
	var r bulkResponse
	if err := json.Unmarshal(resp, &r); err != nil {
		return fmt.Errorf("elasticsearch bulk: unreadable answer: %w", err)
	}
	if !r.Errors {
		return nil
	}
	if len(r.Items) != hi-lo {
		return fmt.Errorf("elasticsearch bulk: %d results for %d documents", len(r.Items), hi-lo)
	}
	for k, item := range r.Items {
		var res bulkItemRes
		for _, v := range item { // one key: the op
			res = v
		}
		switch {
		case res.Status >= 200 && res.Status <= 299:
		case res.Status == http.StatusConflict && op == "create" && w.opts.UseEventID:
			// The document is there from an earlier attempt: delivered.
		default:
			reason := res.Error.Type
			if reason == "" {
				reason = fmt.Sprintf("http_%d", res.Status)
			}
			pe.Failed = append(pe.Failed, outputs.ItemFailure{
				Index: lo + k, Permanent: !outputs.RetryableStatus(res.Status),
				Reason: reason, Detail: fmt.Sprintf("%d %s: %s", res.Status, res.Error.Type, res.Error.Reason)})
		}
	}
	return nil
}

// Close releases idle connections.
func (w *Output) Close() error {
	w.client.CloseIdleConnections()
	return nil
}
