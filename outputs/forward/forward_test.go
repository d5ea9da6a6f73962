package forward

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/internal/eventcodec"
	"github.com/alertgw/alertgw/internal/forwardwire"
	"github.com/alertgw/alertgw/internal/pki"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
)

// receiver is a stand-in for a forward input: it decodes what it gets and
// answers what answer says.
type receiver struct {
	mu       sync.Mutex
	ids      []string
	requests int
	sizes    []int
	identity []string
	answer   func(n, req int) int // status for the req-th request of n events
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := forwardwire.ReadBody(r.Body, r.Header.Get("Content-Encoding"), r.ContentLength, 64<<20)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	recs, err := forwardwire.Records(body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	rc.mu.Lock()
	rc.requests++
	req := rc.requests
	rc.sizes = append(rc.sizes, len(recs))
	id := "token"
	if len(r.TLS.PeerCertificates) > 0 {
		id = pki.Identity(r.TLS.PeerCertificates[0])
	} else if r.Header.Get("Authorization") != "Bearer secret-token-0123456789" {
		id = "nobody"
	}
	rc.identity = append(rc.identity, id)
	rc.mu.Unlock()
	code := 200
	if rc.answer != nil {
		code = rc.answer(len(recs), req)
	}
	if code != 200 {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(forwardwire.Reply{Error: "status " + strconv.Itoa(code)})
		return
	}
	rc.mu.Lock()
	for _, rec := range recs {
		var e normalize.Event
		if err := eventcodec.DecodeEvent(rec, &e); err != nil {
			panic(err)
		}
		rc.ids = append(rc.ids, e.ID)
	}
	rc.mu.Unlock()
	json.NewEncoder(w).Encode(forwardwire.Reply{Accepted: len(recs)})
}

func serve(t *testing.T, dir string, rc *receiver) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(rc)
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "central.pem"), filepath.Join(dir, "central.key"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	ca, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	pool.AppendCertsFromPEM(ca)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

func newOutput(t *testing.T, dir string, mod func(*Options), urls ...string) *Output {
	t.Helper()
	o := Plugin.Options().(*Options)
	o.URLs = urls
	o.TLS = outputs.TLS{CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "sensor-1.pem"), KeyFile: filepath.Join(dir, "sensor-1.key")}
	o.Timeout = 5 * time.Second
	if mod != nil {
		mod(o)
	}
	if p := o.Validate(); len(p) > 0 {
		t.Fatalf("options: %v", p)
	}
	w, err := New(outputs.Env{Name: "central", Log: zerolog.Nop()}, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func lab(t *testing.T) string {
	dir := t.TempDir()
	if _, err := pki.WriteLab(dir, "central", []string{"127.0.0.1"}, "sensor-1"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func batch(n int) *outputs.Batch {
	b := &outputs.Batch{}
	for i := range n {
		b.Events = append(b.Events, &normalize.Event{ID: fmt.Sprint(i), Kind: normalize.KindAlert, Action: normalize.ActionAllowed,
			Timestamp: time.Unix(1700000000, 0), Source: normalize.Source{Type: "suricata"}})
	}
	return b
}

func TestSplitsIntoParallelRequests(t *testing.T) {
	dir := lab(t)
	rc := &receiver{}
	w := newOutput(t, dir, func(o *Options) { o.RequestEvents = 100; o.Parallel = 3 }, serve(t, dir, rc))
	if err := w.Write(context.Background(), batch(1050)); err != nil {
		t.Fatal(err)
	}
	if len(rc.ids) != 1050 || rc.requests != 11 {
		t.Errorf("%d events in %d requests", len(rc.ids), rc.requests)
	}
	if rc.identity[0] != "sensor-1" {
		t.Errorf("receiver saw %q", rc.identity[0])
	}
}

func TestToken(t *testing.T) {
	dir := lab(t)
	rc := &receiver{}
	w := newOutput(t, dir, func(o *Options) {
		o.TLS.CertFile, o.TLS.KeyFile = "", ""
		o.Token = "secret-token-0123456789"
	}, serve(t, dir, rc))
	if err := w.Write(context.Background(), batch(3)); err != nil {
		t.Fatal(err)
	}
	if rc.identity[0] != "token" {
		t.Errorf("receiver saw %q", rc.identity[0])
	}
}

// Failures of some requests are partial: the pipeline retries only those.
// 400 is permanent (dead-letter), 429 and 503 transient.
func TestPartialAndPermanent(t *testing.T) {
	dir := lab(t)
	rc := &receiver{answer: func(n, req int) int {
		switch req {
		case 2:
			return http.StatusTooManyRequests
		case 3:
			return http.StatusBadRequest
		}
		return 200
	}}
	w := newOutput(t, dir, func(o *Options) { o.RequestEvents = 10; o.Parallel = 1 }, serve(t, dir, rc))
	err := w.Write(context.Background(), batch(30))
	var pe *outputs.PartialError
	if !errors.As(err, &pe) || len(pe.Failed) != 20 {
		t.Fatalf("got %v, want 20 failed events", err)
	}
	perm := 0
	for _, f := range pe.Failed {
		if f.Permanent {
			perm++
		}
	}
	if perm != 10 {
		t.Errorf("%d permanent, want 10 (the 400 request)", perm)
	}
	// Everything failing transiently is a plain error (retry all).
	rc.answer = func(int, int) int { return http.StatusServiceUnavailable }
	if err := w.Write(context.Background(), batch(5)); err == nil || errors.As(err, &pe) || outputs.IsPermanent(err) {
		t.Errorf("all 503: %v", err)
	}
	// Credentials refused: retried (the operator fixes them), not dead-lettered.
	rc.answer = func(int, int) int { return http.StatusForbidden }
	if err := w.Write(context.Background(), batch(5)); err == nil || outputs.IsPermanent(err) {
		t.Errorf("403: %v", err)
	}
}

// 413 halves the request size, for this request and later ones.
func TestTooLargeSplits(t *testing.T) {
	dir := lab(t)
	rc := &receiver{answer: func(n, _ int) int {
		if n > 25 {
			return http.StatusRequestEntityTooLarge
		}
		return 200
	}}
	w := newOutput(t, dir, func(o *Options) { o.RequestEvents = 100; o.Parallel = 1 }, serve(t, dir, rc))
	b := batch(100)
	var err error
	for range 4 {
		if err = w.Write(context.Background(), b); err == nil {
			break
		}
	}
	if err != nil || w.requestEvents.Load() != 25 {
		t.Fatalf("after 4 attempts: %v, request size %d", err, w.requestEvents.Load())
	}
	one := &receiver{answer: func(int, int) int { return http.StatusRequestEntityTooLarge }}
	w1 := newOutput(t, dir, func(o *Options) { o.RequestEvents = 1 }, serve(t, dir, one))
	if err := w1.Write(context.Background(), batch(1)); !outputs.IsPermanent(err) {
		t.Errorf("one event too large: %v, want permanent", err)
	}
}

// A receiver that fails sends later requests to the next one.
func TestFailover(t *testing.T) {
	dir := lab(t)
	down := &receiver{answer: func(int, int) int { return http.StatusServiceUnavailable }}
	up := &receiver{}
	w := newOutput(t, dir, nil, serve(t, dir, down), serve(t, dir, up))
	if err := w.Write(context.Background(), batch(5)); err == nil {
		t.Fatal("first receiver down: want an error")
	}
	if err := w.Write(context.Background(), batch(5)); err != nil {
		t.Fatalf("second receiver: %v", err)
	}
	if len(up.ids) != 5 {
		t.Errorf("second receiver got %d", len(up.ids))
	}
}

func TestValidate(t *testing.T) {
	o := Plugin.Options().(*Options)
	o.URLs = []string{"http://plain:80"}
	o.Compression = "lz4"
	p := o.Validate()
	for _, key := range []string{"urls[0]", "compression", "tls.cert_file"} {
		found := false
		for _, pr := range p {
			found = found || pr.Path == key
		}
		if !found {
			t.Errorf("no problem reported for %s: %v", key, p)
		}
	}
}

// TestTLSFilesChecked: validate and run check the tls files whether or not
// tls.enabled is set (the forward output always speaks TLS), each once.
func TestTLSFilesChecked(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		o := Plugin.Options().(*Options)
		o.URLs = []string{"https://central:8443"}
		o.TLS.Enabled = enabled
		o.TLS.CAFile, o.TLS.CertFile, o.TLS.KeyFile = "/pki/ca.pem", "/pki/s.pem", "/pki/s.key"
		got := map[string]string{}
		for _, u := range config.PathUses(o, "outputs[0]") {
			if _, dup := got[u.Key]; dup {
				t.Errorf("enabled=%v: %s listed twice", enabled, u.Key)
			}
			got[u.Key] = u.Path
		}
		want := map[string]string{"outputs[0].tls.ca_file": "/pki/ca.pem", "outputs[0].tls.cert_file": "/pki/s.pem", "outputs[0].tls.key_file": "/pki/s.key"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("enabled=%v: %s = %q, want %q (all: %v)", enabled, k, got[k], v, got)
			}
		}
	}
}
