package http

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/audit"
	"github.com/alertgw/alertgw/outputs"
)

// audisp-json's README: "for Fluentd you might want prepend_msg={"message":
// … you would use postpend_msg=}".
const fluentdPrefix, fluentdSuffix = `{"message":`, `}`

// auditBatch maps a real audit log (go-libaudit's test data in
// normalize/audit) to events, completed as the pipeline does.
func auditBatch(t *testing.T) *outputs.Batch {
	t.Helper()
	f, err := os.Open("../../normalize/audit/testdata/go-libaudit_auparse_audit-rhel7.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := audit.NewProcessor(audit.AssemblerOptions{Timeout: time.Hour}, nil, nil)
	var evs []*normalize.Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		evs, _ = p.Line(sc.Bytes(), evs)
	}
	evs = p.Close(evs)
	for i, e := range evs {
		e.ID, e.Received = string(rune('a'+i%26)), time.Now()
		e.Source.Input, e.Source.Sensor = "audit", "host-1"
	}
	if len(evs) < 10 {
		t.Fatalf("%d events", len(evs))
	}
	return &outputs.Batch{Events: evs}
}

// fluentdRecords reads a request body the way Fluentd's in_http does with
// a JSON body: an object is one record, an array one record per element.
func fluentdRecords(t *testing.T, body string) []map[string]json.RawMessage {
	t.Helper()
	var one map[string]json.RawMessage
	if json.Unmarshal([]byte(body), &one) == nil {
		return []map[string]json.RawMessage{one}
	}
	var many []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &many); err != nil {
		t.Fatalf("body is neither a JSON object nor an array of objects: %v\n%s", err, body)
	}
	return many
}

// The mozdef preset with audisp-json's Fluentd wrapping, on real audit
// events: each request is {"message":<the MozDef event>}, byte for byte the
// preset's event inside, so Fluentd's in_http stores one record per event
// with the event under "message"; with body json_array the batch is an
// array of such records.
func TestWrapFluentdMozDef(t *testing.T) {
	for _, body := range []string{BodySingle, BodyJSONArray} {
		t.Run(body, func(t *testing.T) {
			ep := &endpoint{}
			srv := httptest.NewServer(ep)
			defer srv.Close()
			w := newOutput(t, srv.URL, func(o *Options) {
				o.Preset, o.Body = "mozdef", body
				o.Wrap = Wrap{Prefix: fluentdPrefix, Suffix: fluentdSuffix}
			})
			b := auditBatch(t)
			if err := w.Write(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			lines := b.Encode(MozDef{})
			var records []map[string]json.RawMessage
			for _, r := range ep.reqs {
				if body == BodySingle && (!strings.HasPrefix(r.body, fluentdPrefix) || !strings.HasSuffix(r.body, fluentdSuffix)) {
					t.Fatalf("request not wrapped: %s", r.body)
				}
				records = append(records, fluentdRecords(t, r.body)...)
			}
			if len(records) != len(b.Events) {
				t.Fatalf("%d records for %d events", len(records), len(b.Events))
			}
			for i, rec := range records {
				if len(rec) != 1 || !bytes.Equal(rec["message"], lines.Line(i)) {
					t.Fatalf("record %d: %v\nwant message %s", i, rec, lines.Line(i))
				}
			}
		})
	}
}

// Every framing with both scopes: per event wraps each event (each NDJSON
// line, each array element, each single request), per batch wraps each
// request body once.
func TestWrapScopes(t *testing.T) {
	for _, tc := range []struct {
		body, per, prefix, suffix string
		check                     func(t *testing.T, reqs []request, n int)
	}{
		{BodyNDJSON, WrapPerEvent, fluentdPrefix, fluentdSuffix, func(t *testing.T, reqs []request, n int) {
			lines := strings.Split(strings.TrimSuffix(reqs[0].body, "\n"), "\n")
			for _, l := range lines {
				if rec := fluentdRecords(t, l); len(rec[0]) != 1 || rec[0]["message"] == nil {
					t.Fatalf("line %s", l)
				}
			}
			if len(reqs) != 1 || len(lines) != n {
				t.Fatalf("%d requests, %d lines", len(reqs), len(lines))
			}
		}},
		{BodyJSONArray, WrapPerBatch, `{"events":`, `}`, func(t *testing.T, reqs []request, n int) {
			var m struct{ Events []map[string]any }
			if err := json.Unmarshal([]byte(reqs[0].body), &m); err != nil || len(m.Events) != n || len(reqs) != 1 {
				t.Fatalf("%v %d: %s", err, len(m.Events), reqs[0].body)
			}
		}},
		{BodyNDJSON, WrapPerBatch, "# alertgw batch\n", "# end\n", func(t *testing.T, reqs []request, n int) {
			if !strings.HasPrefix(reqs[0].body, "# alertgw batch\n{") || !strings.HasSuffix(reqs[0].body, "}\n# end\n") ||
				strings.Count(reqs[0].body, "\n") != n+2 {
				t.Fatalf("body %q", reqs[0].body)
			}
		}},
		{BodySingle, WrapPerBatch, fluentdPrefix, fluentdSuffix, func(t *testing.T, reqs []request, n int) {
			if len(reqs) != n {
				t.Fatalf("%d requests", len(reqs))
			}
			for _, r := range reqs {
				if rec := fluentdRecords(t, r.body); rec[0]["message"] == nil {
					t.Fatalf("body %s", r.body)
				}
			}
		}},
	} {
		t.Run(tc.body+"/"+tc.per, func(t *testing.T) {
			ep := &endpoint{}
			srv := httptest.NewServer(ep)
			defer srv.Close()
			w := newOutput(t, srv.URL, func(o *Options) {
				o.Body = tc.body
				o.Wrap = Wrap{Prefix: tc.prefix, Suffix: tc.suffix, Per: tc.per}
				if strings.HasPrefix(tc.prefix, "#") {
					o.Headers = map[string]string{"Content-Type": "text/plain"}
				}
			})
			if err := w.Write(context.Background(), batch(4)); err != nil {
				t.Fatal(err)
			}
			// Twice: the buffers the wrap reuses must not leak one batch into the next.
			if err := w.Write(context.Background(), batch(4)); err != nil {
				t.Fatal(err)
			}
			half := len(ep.reqs) / 2
			tc.check(t, ep.reqs[:half], 4)
			tc.check(t, ep.reqs[half:], 4)
		})
	}
}

// A wrap that would make the JSON the endpoint is told to expect invalid is
// a configuration error, as is a line break in an NDJSON line's wrap; text
// sent under a Content-Type of the user's own is theirs to get right.
func TestWrapValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Options)
		want string // "" for no problem
	}{
		{"fluentd single", func(o *Options) { o.Body = BodySingle; o.Wrap = Wrap{Prefix: fluentdPrefix, Suffix: fluentdSuffix} }, ""},
		{"fluentd mozdef preset", func(o *Options) { o.Preset = "mozdef"; o.Wrap = Wrap{Prefix: fluentdPrefix, Suffix: fluentdSuffix} }, ""},
		{"forgotten brace", func(o *Options) { o.Body = BodySingle; o.Wrap = Wrap{Prefix: fluentdPrefix} }, "wrap.prefix"},
		{"forgotten brace ndjson", func(o *Options) { o.Wrap = Wrap{Prefix: fluentdPrefix} }, "wrap.prefix"},
		{"ndjson line break", func(o *Options) { o.Wrap = Wrap{Prefix: "[\n", Suffix: "\n]"} }, "wrap.prefix"},
		{"ndjson batch as JSON", func(o *Options) { o.Wrap = Wrap{Prefix: fluentdPrefix, Suffix: fluentdSuffix, Per: WrapPerBatch} }, "wrap.per"},
		{"array batch", func(o *Options) {
			o.Body = BodyJSONArray
			o.Wrap = Wrap{Prefix: `{"records":`, Suffix: `}`, Per: WrapPerBatch}
		}, ""},
		{"bad scope", func(o *Options) { o.Wrap = Wrap{Prefix: "x", Per: "request"} }, "wrap.per"},
		{"own content type", func(o *Options) {
			o.Body = BodySingle
			o.Wrap = Wrap{Prefix: "json="}
			o.Headers = map[string]string{"content-type": "application/x-www-form-urlencoded"}
		}, ""},
	} {
		o := Plugin.Options().(*Options)
		o.URL = "http://127.0.0.1:1/"
		tc.mod(o)
		probs := o.Validate()
		switch {
		case tc.want == "" && len(probs) != 0:
			t.Errorf("%s: %v", tc.name, probs)
		case tc.want != "" && (len(probs) != 1 || probs[0].Path != tc.want):
			t.Errorf("%s: %v, want one problem at %s", tc.name, probs, tc.want)
		}
	}
}
