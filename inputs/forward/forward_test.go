package forward

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/internal/eventcodec"
	"github.com/alertgw/alertgw/internal/forwardwire"
	"github.com/alertgw/alertgw/internal/pki"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/stats"
)

// collector is the pipeline as the input sees it: it keeps the events and
// acknowledges them at once, later (hold), or never (stall).
type collector struct {
	mu     sync.Mutex
	events []*normalize.Event
	failed []string
	hold   chan struct{} // when set, acknowledgements wait for it to close
	stall  bool
}

func (c *collector) Messages(*inputs.Batch) { panic("the forward input decodes itself") }

func (c *collector) Events(evs []*normalize.Event, done func()) {
	c.mu.Lock()
	c.events = append(c.events, evs...)
	c.mu.Unlock()
	switch {
	case c.stall:
	case c.hold != nil:
		go func() { <-c.hold; done() }()
	default:
		done()
	}
}

func (c *collector) Failed(raw []byte, reason string, err error) {
	c.mu.Lock()
	c.failed = append(c.failed, reason)
	c.mu.Unlock()
}

func (c *collector) got() []*normalize.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*normalize.Event(nil), c.events...)
}

type lab struct {
	dir string
}

func newLab(t *testing.T) lab {
	t.Helper()
	dir := t.TempDir()
	if _, err := pki.WriteLab(dir, "central", []string{"127.0.0.1"}, "sensor-1", "sensor-2", "relay-1"); err != nil {
		t.Fatal(err)
	}
	// A certificate from another CA, with a name the real CA also issued.
	other := filepath.Join(dir, "other")
	if _, err := pki.WriteLab(other, "x", nil, "sensor-1"); err != nil {
		t.Fatal(err)
	}
	return lab{dir}
}

func (l lab) path(name string) string { return filepath.Join(l.dir, name) }

// start runs a forward input with the lab's server certificate.
func start(t *testing.T, l lab, c inputs.Emitter, mod func(*Options)) (*Input, *stats.Input) {
	t.Helper()
	o := DefaultOptions()
	o.Listen = "127.0.0.1:0"
	o.TLS = ServerTLS{CertFile: l.path("central.pem"), KeyFile: l.path("central.key"), ClientCAFile: l.path("ca.pem")}
	o.AckTimeout = 5 * time.Second
	o.ShutdownWait = time.Second
	if mod != nil {
		mod(o)
	}
	if p := o.Validate(); len(p) > 0 {
		t.Fatalf("options: %v", p)
	}
	st := &stats.Input{Name: "fwd", Type: "forward"}
	in, err := New(inputs.Env{Name: "fwd", Sensor: "central", Log: zerolog.Nop(), Stats: st}, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, c) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return in, st
}

// client returns an HTTPS client trusting the lab CA, presenting cert
// (a base name in the lab directory) when not empty.
func client(t *testing.T, l lab, cert string) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	ca, _ := os.ReadFile(l.path("ca.pem"))
	pool.AppendCertsFromPEM(ca)
	tc := &tls.Config{RootCAs: pool}
	if cert != "" {
		kp, err := tls.LoadX509KeyPair(l.path(cert+".pem"), l.path(cert+".key"))
		if err != nil {
			t.Fatal(err)
		}
		tc.Certificates = []tls.Certificate{kp}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 10 * time.Second}
}

func event(i int, sensor string) *normalize.Event {
	ts := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	e := &normalize.Event{ID: fmt.Sprintf("id-%d", i), Timestamp: ts, Received: ts.Add(time.Millisecond),
		Kind: normalize.KindAlert, Action: normalize.ActionAllowed,
		Source:    normalize.Source{Type: "suricata", Input: "eve", Sensor: sensor},
		Signature: &normalize.Signature{GID: 1, ID: uint32(2000000 + i), Rev: 3, Name: "ET TEST"}}
	e.Details.Set("n", normalize.RawJSON(strconv.Itoa(i)))
	return e
}

func batchBody(t *testing.T, enc string, evs ...*normalize.Event) []byte {
	t.Helper()
	raw := forwardwire.AppendHeader(nil, len(evs))
	for _, e := range evs {
		raw = forwardwire.AppendRecord(raw, eventcodec.AppendEvent(nil, e))
	}
	body, err := forwardwire.Compress(nil, raw, enc)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func post(t *testing.T, c *http.Client, in *Input, path, enc string, body []byte, hdr map[string]string) (int, forwardwire.Reply) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "https://"+in.Addr()+path, bytes.NewReader(body))
	req.Header.Set("Content-Encoding", enc)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, forwardwire.Reply{Error: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r forwardwire.Reply
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("reply %d %q is not JSON: %v", resp.StatusCode, b, err)
	}
	return resp.StatusCode, r
}

func TestBatchOverMutualTLS(t *testing.T) {
	l := newLab(t)
	c := &collector{}
	in, st := start(t, l, c, nil)
	sent := []*normalize.Event{event(1, "sensor-1"), event(2, "claims-to-be-someone-else")}
	for _, enc := range []string{forwardwire.EncodingZstd, forwardwire.EncodingGzip, forwardwire.EncodingIdentity} {
		code, r := post(t, client(t, l, "sensor-1"), in, forwardwire.PathBatch, enc, batchBody(t, enc, sent...), nil)
		if code != 200 || r.Accepted != 2 || r.Sensor != "sensor-1" {
			t.Fatalf("%s: %d %+v", enc, code, r)
		}
	}
	got := c.got()
	if len(got) != 6 {
		t.Fatalf("%d events, want 6", len(got))
	}
	// Every field survives, but the sensor is the certificate's identity.
	want := event(2, "sensor-1")
	if !bytes.Equal(eventcodec.AppendEvent(nil, got[1]), eventcodec.AppendEvent(nil, want)) {
		t.Errorf("event changed on the way:\n got %+v\nwant %+v", got[1], want)
	}
	if st.Received.Load() != 6 || in.renamed.Load() != 3 {
		t.Errorf("received %d, renamed %d", st.Received.Load(), in.renamed.Load())
	}
}

func TestSendersRefused(t *testing.T) {
	l := newLab(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("0123456789abcdef-lab\n"), 0o600)
	c := &collector{}
	in, _ := start(t, l, c, func(o *Options) {
		o.AllowedClients = []string{"sensor-1", "relay-1"}
		o.Tokens = []Token{{Identity: "sensor-token", File: tokenFile}}
	})
	body := batchBody(t, forwardwire.EncodingZstd, event(1, "x"))

	// A certificate from another CA fails the handshake.
	other := client(t, lab{filepath.Join(l.dir, "other")}, "sensor-1")
	other.Transport.(*http.Transport).TLSClientConfig.RootCAs = client(t, l, "").Transport.(*http.Transport).TLSClientConfig.RootCAs
	if code, r := post(t, other, in, forwardwire.PathBatch, "zstd", body, nil); code != 0 {
		t.Errorf("foreign certificate: %d %+v", code, r)
	}
	// A valid certificate not in allowed_clients.
	if code, _ := post(t, client(t, l, "sensor-2"), in, forwardwire.PathBatch, "zstd", body, nil); code != http.StatusForbidden {
		t.Errorf("not allowed: %d", code)
	}
	// No credentials, a wrong token, the right token.
	anon := client(t, l, "")
	if code, _ := post(t, anon, in, forwardwire.PathBatch, "zstd", body, nil); code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", code)
	}
	if code, _ := post(t, anon, in, forwardwire.PathBatch, "zstd", body, map[string]string{"Authorization": "Bearer 0123456789abcdef-xxx"}); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", code)
	}
	code, r := post(t, anon, in, forwardwire.PathBatch, "zstd", body, map[string]string{"Authorization": "Bearer 0123456789abcdef-lab"})
	if code != 200 || r.Sensor != "sensor-token" {
		t.Errorf("token: %d %+v", code, r)
	}
	refused := in.auth.refused.Snapshot()
	for reason, n := range map[string]uint64{pki.RefusedUnknownCA: 1, refusedNotAllowed: 1, refusedNoCredentials: 1, refusedBadToken: 1} {
		if refused[reason] != n {
			t.Errorf("refused[%s] = %d, want %d (all: %v)", reason, refused[reason], n, refused)
		}
	}
	if got := c.got(); len(got) != 1 || got[0].Source.Sensor != "sensor-token" {
		t.Errorf("events: %v", got)
	}
}

func TestRelayAndSharedTokenKeepSensor(t *testing.T) {
	l := newLab(t)
	c := &collector{}
	in, _ := start(t, l, c, func(o *Options) {
		o.Relays = []string{"relay-1"}
		o.Tokens = []Token{{Identity: "*", Token: "shared-token-0123456789"}}
	})
	body := batchBody(t, "zstd", event(1, "sensor-far-away"))
	if code, _ := post(t, client(t, l, "relay-1"), in, forwardwire.PathBatch, "zstd", body, nil); code != 200 {
		t.Fatal(code)
	}
	if code, _ := post(t, client(t, l, ""), in, forwardwire.PathBatch, "zstd", body, map[string]string{"Authorization": "Bearer shared-token-0123456789"}); code != 200 {
		t.Fatal(code)
	}
	for _, e := range c.got() {
		if e.Source.Sensor != "sensor-far-away" {
			t.Errorf("relayed event's sensor became %q", e.Source.Sensor)
		}
	}
}

func TestMalformedAndInvalid(t *testing.T) {
	l := newLab(t)
	c := &collector{}
	in, st := start(t, l, c, func(o *Options) { o.MaxBody = 1 << 20 })
	cl := client(t, l, "sensor-1")
	if code, _ := post(t, cl, in, forwardwire.PathBatch, "identity", []byte("not a batch"), nil); code != http.StatusBadRequest {
		t.Errorf("garbage: %d", code)
	}
	if code, _ := post(t, cl, in, forwardwire.PathBatch, "br", []byte("x"), nil); code != http.StatusUnsupportedMediaType {
		t.Errorf("unknown encoding: %d", code)
	}
	huge, _ := forwardwire.Compress(nil, make([]byte, 2<<20), "zstd")
	if code, _ := post(t, cl, in, forwardwire.PathBatch, "zstd", huge, nil); code != http.StatusRequestEntityTooLarge {
		t.Errorf("too large: %d", code)
	}
	// One good record, one that is not an event: the good one is taken, the
	// other dead-lettered, and the batch acknowledged.
	raw := forwardwire.AppendHeader(nil, 2)
	raw = forwardwire.AppendRecord(raw, eventcodec.AppendEvent(nil, event(1, "s")))
	raw = forwardwire.AppendRecord(raw, []byte{0x7f, 1, 2, 3})
	code, r := post(t, cl, in, forwardwire.PathBatch, "identity", raw, nil)
	if code != 200 || r.Accepted != 1 || r.Invalid != 1 {
		t.Errorf("mixed batch: %d %+v", code, r)
	}
	if len(c.failed) != 1 || c.failed[0] != "invalid_record" || st.Failed.Get("malformed_batch") != 1 {
		t.Errorf("failed %v, malformed %d", c.failed, st.Failed.Get("malformed_batch"))
	}
}

// A receiver with max_pending_events pending answers 429 at once; one whose
// outputs take too long answers 503 after ack_timeout.
func TestFullAndAckTimeout(t *testing.T) {
	l := newLab(t)
	c := &collector{hold: make(chan struct{})}
	in, _ := start(t, l, c, func(o *Options) { o.MaxPendingEvents = 3; o.AckTimeout = time.Second })
	cl := client(t, l, "sensor-1")
	body := batchBody(t, "zstd", event(1, "s"), event(2, "s"))
	hdr := map[string]string{forwardwire.HeaderEvents: "2"}
	first := make(chan int, 1)
	go func() {
		code, _ := post(t, cl, in, forwardwire.PathBatch, "zstd", body, hdr)
		first <- code
	}()
	for in.pending.Load() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	if code, _ := post(t, cl, in, forwardwire.PathBatch, "zstd", body, hdr); code != http.StatusTooManyRequests {
		t.Errorf("second batch while full: %d", code)
	}
	if code := <-first; code != http.StatusServiceUnavailable {
		t.Errorf("held batch: %d, want 503 after ack_timeout", code)
	}
	close(c.hold)
	for in.pending.Load() != 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if in.full.Load() != 1 || in.timedOut.Load() != 1 {
		t.Errorf("full %d, timed out %d", in.full.Load(), in.timedOut.Load())
	}
}

func TestIngestNDJSON(t *testing.T) {
	l := newLab(t)
	c := &collector{}
	in, _ := start(t, l, c, func(o *Options) {
		o.Ingest.Enabled = true
		o.Tokens = []Token{{Identity: "vector-1", Token: "vector-token-0123456789"}}
	})
	eveLine := `{"timestamp":"2026-03-04T05:06:07.000000+0000","event_type":"alert","src_ip":"10.0.0.1","src_port":1234,"dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2001,"rev":1,"signature":"ET X","category":"c","severity":2}}`
	nativeLine := `{"schema":1,"id":"abc","timestamp":"2026-03-04T05:06:07.000000Z","received":"2026-03-04T05:06:08.000000Z","kind":"alert","action":"blocked","source":{"type":"snort","input":"snort","sensor":"lies"}}`
	body := []byte(eveLine + "\r\n\n" + nativeLine + "\n{broken\n")
	gz, _ := forwardwire.Compress(nil, body, "gzip")
	code, r := post(t, client(t, l, ""), in, forwardwire.PathIngest, "gzip", gz, map[string]string{"Authorization": "Bearer vector-token-0123456789"})
	if code != 200 || r.Accepted != 2 || r.Invalid != 1 {
		t.Fatalf("ingest: %d %+v", code, r)
	}
	got := c.got()
	if got[0].Source.Type != "suricata" || got[0].Signature.ID != 2001 || got[0].Source.Sensor != "vector-1" {
		t.Errorf("EVE event: %+v", got[0])
	}
	if got[1].ID != "abc" || got[1].Source.Sensor != "vector-1" || got[1].Action != normalize.ActionBlocked {
		t.Errorf("native event: %+v", got[1])
	}
	if len(c.failed) != 1 || c.failed[0] != normalize.ReasonInvalidJSON {
		t.Errorf("failed: %v", c.failed)
	}
}

// At shutdown, a request whose events are still on their way is answered
// 503 after shutdown_wait rather than left hanging, and new ones are refused.
func TestShutdownAnswersPending(t *testing.T) {
	l := newLab(t)
	c := &collector{stall: true}
	o := DefaultOptions()
	o.Listen = "127.0.0.1:0"
	o.TLS = ServerTLS{CertFile: l.path("central.pem"), KeyFile: l.path("central.key"), ClientCAFile: l.path("ca.pem")}
	o.ShutdownWait = 300 * time.Millisecond
	in, err := New(inputs.Env{Name: "fwd", Log: zerolog.Nop(), Stats: &stats.Input{}}, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, c) }()
	res := make(chan int, 1)
	go func() {
		code, _ := post(t, client(t, l, "sensor-1"), in, forwardwire.PathBatch, "zstd", batchBody(t, "zstd", event(1, "s")), nil)
		res <- code
	}()
	for len(c.got()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	cancel()
	if code := <-res; code != http.StatusServiceUnavailable {
		t.Errorf("pending request at shutdown: %d", code)
	}
	if err := <-done; err != nil || time.Since(start) > 3*time.Second {
		t.Errorf("Run: %v after %s", err, time.Since(start))
	}
}

// FuzzDecodeBatch: a batch body of any content never panics the decoder;
// a body that is not a batch takes nothing; otherwise every record is
// either an event or dead-lettered.
func FuzzDecodeBatch(f *testing.F) {
	raw := forwardwire.AppendHeader(nil, 2)
	raw = forwardwire.AppendRecord(raw, eventcodec.AppendEvent(nil, event(1, "s")))
	raw = forwardwire.AppendRecord(raw, eventcodec.AppendEvent(nil, event(2, "t")))
	f.Add(raw)
	f.Add(forwardwire.AppendHeader(nil, 0))
	f.Add([]byte("AGWB\x01\x01\x03\x02\x00\x00"))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := &collector{}
		in := &Input{env: inputs.Env{Stats: &stats.Input{}, Log: zerolog.Nop()}, emit: c}
		evs, invalid, err := in.decodeBatch(body, sender{identity: "s-1"})
		if err != nil {
			if len(evs) != 0 || len(c.failed) != 0 {
				t.Fatal("a refused body left events or dead letters")
			}
			return
		}
		recs, _ := forwardwire.Records(body)
		if len(evs)+invalid != len(recs) || invalid != len(c.failed) {
			t.Fatalf("%d records: %d events + %d invalid (%d dead-lettered)", len(recs), len(evs), invalid, len(c.failed))
		}
		for _, e := range evs {
			if e.Source.Sensor != "s-1" {
				t.Fatalf("sensor %q not the sender's identity", e.Source.Sensor)
			}
			// What was accepted encodes again.
			var back normalize.Event
			if err := eventcodec.DecodeEvent(eventcodec.AppendEvent(nil, e), &back); err != nil {
				t.Fatalf("accepted event does not re-encode: %v", err)
			}
		}
	})
}

// durableCollector is a pipeline that acknowledges durably too: a batch is
// answered only when both acknowledgements came.
type durableCollector struct {
	collector
	mu      sync.Mutex
	done    []func()
	durable []func()
}

func (c *durableCollector) EventsDurable(evs []*normalize.Event, done, durable func()) {
	c.collector.mu.Lock()
	c.collector.events = append(c.collector.events, evs...)
	c.collector.mu.Unlock()
	c.mu.Lock()
	c.done, c.durable = append(c.done, done), append(c.durable, durable)
	c.mu.Unlock()
}

func TestAnswerWaitsForDurable(t *testing.T) {
	l := newLab(t)
	c := &durableCollector{}
	in, _ := start(t, l, c, nil)
	res := make(chan int, 1)
	go func() {
		code, _ := post(t, client(t, l, "sensor-1"), in, forwardwire.PathBatch, "s2", batchBody(t, "s2", event(1, "s")), nil)
		res <- code
	}()
	for {
		c.mu.Lock()
		n := len(c.done)
		c.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.done[0]()
	select {
	case code := <-res:
		t.Fatalf("answered %d before the disk buffers had the events", code)
	case <-time.After(200 * time.Millisecond):
	}
	c.durable[0]()
	if code := <-res; code != 200 {
		t.Fatalf("answered %d", code)
	}
}
