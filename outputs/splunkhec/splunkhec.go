// Package splunkhec is the splunk_hec output: batches POSTed to Splunk's
// HTTP Event Collector (/services/collector/event), each event wrapped with
// its time, host, source, sourcetype and index. HEC stops at the first
// event it cannot parse and says which: the events before it are indexed,
// that one is dead-lettered, the rest are retried. With indexer
// acknowledgement on, a batch counts as delivered only once Splunk says it
// is indexed (not merely received).
package splunkhec

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
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
	Type:    "splunk_hec",
	Summary: "send events to Splunk's HTTP Event Collector, with optional indexer acknowledgement",
	Sample:  sample,
	Options: func() any {
		return &Options{SourceType: "alertgw", Timeout: 30 * time.Second, AckTimeout: 60 * time.Second, AckPoll: time.Second}
	},
	New: func(env outputs.Env, opts any) (outputs.Output, error) { return New(env, opts.(*Options)) },
}

// Options are the splunk_hec block's own keys.
type Options struct {
	// URL is the HEC endpoint's base, https://splunk:8088 (required; the
	// path is added).
	URL string `mapstructure:"url"`
	// Token is the HEC token (or token_file, or the environment).
	Token outputs.Secret `mapstructure:"token"`
	// TokenFile reads the token from a file.
	TokenFile string `mapstructure:"token_file" path:"read"`
	// Index is the index events go to; empty: the token's default index.
	Index string `mapstructure:"index"`
	// SourceType is the events' sourcetype.
	SourceType string `mapstructure:"sourcetype"`
	// Source is the events' source; empty: alertgw:<input name>.
	Source string `mapstructure:"source"`
	// Ack waits for indexer acknowledgement before a batch counts as
	// delivered (enable it on the token too).
	Ack bool `mapstructure:"ack"`
	// AckTimeout is how long to wait for the acknowledgement before the
	// batch is sent again.
	AckTimeout time.Duration `mapstructure:"ack_timeout"`
	// AckPoll is how often acknowledgements are asked for.
	AckPoll time.Duration `mapstructure:"ack_poll"`
	// Timeout bounds one request; a slower one fails and is retried.
	Timeout time.Duration `mapstructure:"timeout"`
	// TLS configures HTTPS.
	TLS outputs.TLS `mapstructure:"tls"`
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	outputs.CheckURL(&p, "url", o.URL)
	if o.Token == "" && o.TokenFile == "" {
		p.Add("token", "the HEC token is required (token or token_file)")
	}
	outputs.CheckSecret(&p, "token", o.Token, o.TokenFile)
	if o.Ack && (o.AckTimeout < time.Second || o.AckPoll <= 0) {
		p.Add("ack_timeout", "with ack, ack_timeout must be at least 1s and ack_poll positive")
	}
	outputs.CheckHTTP(&p, o.Timeout, &o.TLS)
	return p
}

// Output sends to one HEC endpoint.
type Output struct {
	env     outputs.Env
	opts    *Options
	client  *http.Client
	base    string
	channel string
	body    []byte
}

// New builds the client.
func New(env outputs.Env, o *Options) (*Output, error) {
	if err := o.Token.Load(o.TokenFile); err != nil {
		return nil, err
	}
	client, err := outputs.NewHTTPClient(&o.TLS, o.Timeout, 0, env.Log)
	if err != nil {
		return nil, err
	}
	var ch [16]byte
	rand.Read(ch[:])
	h := hex.EncodeToString(ch[:])
	// A channel is a GUID; acknowledgements are scoped to it.
	channel := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	return &Output{env: env, opts: o, client: client,
		base: strings.TrimRight(o.URL, "/"), channel: channel}, nil
}

type hecReply struct {
	Text               string `json:"text"`
	Code               int    `json:"code"`
	InvalidEventNumber *int   `json:"invalid-event-number"`
	AckID              *int64 `json:"ackId"`
}

// Write sends the batch as one request.
func (w *Output) Write(ctx context.Context, b *outputs.Batch) error {
	lines := b.Encode(w.env.Encoder)
	body := w.body[:0]
	for i, e := range b.Events {
		body = append(body, '{')
		ts := e.Timestamp
		if ts.IsZero() {
			ts = e.Received
		}
		body = format.AppendKey(body, "time")
		body = strconv.AppendInt(body, ts.Unix(), 10)
		// Microseconds, zero-padded: 1000000+µs has seven digits, drop the 1.
		body = strconv.AppendInt(body, int64(1_000_000+ts.Nanosecond()/1000), 10)
		body[len(body)-7] = '.'
		body = format.AppendStringField(body, "host", e.Source.Sensor)
		src := w.opts.Source
		if src == "" {
			src = "alertgw:" + e.Source.Input
		}
		body = format.AppendStringField(body, "source", src)
		body = format.AppendStringField(body, "sourcetype", w.opts.SourceType)
		body = format.AppendStringField(body, "index", w.opts.Index)
		body = append(format.AppendKey(body, "event"), lines.Line(i)...)
		body = append(body, '}', '\n')
	}
	w.body = body
	code, reply, err := w.post(ctx, "/services/collector/event", body)
	if err != nil {
		return err
	}
	if code >= 200 && code <= 299 {
		if w.opts.Ack {
			if reply.AckID == nil {
				return outputs.Permanent(fmt.Errorf("splunk hec: ack is on but the reply has no ackId: enable indexer acknowledgement on the token"))
			}
			return w.waitAck(ctx, *reply.AckID)
		}
		return nil
	}
	detail := fmt.Sprintf("HTTP %d, HEC code %d: %s", code, reply.Code, reply.Text)
	// Invalid data format (6) names the first bad event: those before it
	// were indexed, it is refused for good, those after it were not read.
	if reply.Code == 6 && reply.InvalidEventNumber != nil {
		bad := *reply.InvalidEventNumber
		if bad >= 0 && bad < len(b.Events) {
			var pe outputs.PartialError
			pe.Failed = append(pe.Failed, outputs.ItemFailure{Index: bad, Permanent: true, Reason: "invalid_data_format", Detail: detail})
			for j := bad + 1; j < len(b.Events); j++ {
				pe.Failed = append(pe.Failed, outputs.ItemFailure{Index: j, Reason: "not_read", Detail: "after an invalid event"})
			}
			return &pe
		}
	}
	return outputs.HTTPError(code, []byte(detail))
}

func (w *Output) post(ctx context.Context, path string, body []byte) (int, hecReply, error) {
	var reply hecReply
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, reply, outputs.Permanent(err)
	}
	req.Header.Set("Authorization", "Splunk "+w.opts.Token.Reveal())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Splunk-Request-Channel", w.channel)
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, reply, fmt.Errorf("splunk hec: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = json.Unmarshal(data, &reply) // an unreadable reply leaves the status to decide
	if reply.Text == "" {
		reply.Text = strings.TrimSpace(string(data))
	}
	return resp.StatusCode, reply, nil
}

// waitAck polls the ack endpoint until Splunk says the batch is indexed.
// Past ack_timeout the batch is sent again (at least once).
func (w *Output) waitAck(ctx context.Context, id int64) error {
	deadline := time.Now().Add(w.opts.AckTimeout)
	body := []byte(`{"acks":[` + strconv.FormatInt(id, 10) + `]}`)
	key := strconv.FormatInt(id, 10)
	for {
		code, _, err := w.postAck(ctx, body, key)
		if err == nil && code {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("not acknowledged")
			}
			return fmt.Errorf("splunk hec: ack %d within %s: %w", id, w.opts.AckTimeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(w.opts.AckPoll):
		}
	}
}

func (w *Output) postAck(ctx context.Context, body []byte, key string) (bool, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base+"/services/collector/ack", bytes.NewReader(body))
	if err != nil {
		return false, "", err
	}
	req.Header.Set("Authorization", "Splunk "+w.opts.Token.Reveal())
	req.Header.Set("X-Splunk-Request-Channel", w.channel)
	resp, err := w.client.Do(req)
	if err != nil {
		return false, "", err
	}
	defer resp.Body.Close()
	var r struct {
		Acks map[string]bool `json:"acks"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return false, "", fmt.Errorf("ack endpoint: HTTP %d: %s", resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return false, "", fmt.Errorf("ack endpoint: %w", err)
	}
	return r.Acks[key], "", nil
}

// Close releases idle connections.
func (w *Output) Close() error {
	w.client.CloseIdleConnections()
	return nil
}
