package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/store/sqlite"
	"github.com/alertgw/alertgw/store/storetest"
)

var (
	from = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	to   = from.Add(4 * time.Hour)
	now  = to.Add(time.Hour)
)

func server(t *testing.T) (*httptest.Server, []*normalize.Event) {
	t.Helper()
	evs := append(storetest.Events(200, 5, from, to), storetest.Varied(from, to)...)
	evs[0].Details = append(evs[0].Details, normalize.Field{Key: "evil", Value: normalize.RawJSON(`"<script>alert(1)</script>"`)})
	lines := storetest.Lines(evs)
	dir := t.TempDir()
	w, err := sqlite.OpenWriter(sqlite.WriterOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(context.Background(), evs, func(i int) []byte { return lines[i] }); err != nil {
		t.Fatal(err)
	}
	w.Close()
	rd, err := sqlite.OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	mux := http.NewServeMux()
	mux.Handle("/api/search/", http.StripPrefix("/api/search", New(rd, Options{Now: func() time.Time { return now }})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, evs
}

func get(t *testing.T, srv *httptest.Server, path string, params url.Values, into any) (int, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/api/search" + path + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("%s: body is not JSON: %v", path, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: content type %q", path, ct)
	}
	if into != nil {
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatalf("%s: %v: %s", path, err, raw)
		}
	}
	return resp.StatusCode, string(raw)
}

func TestEventsPaging(t *testing.T) {
	srv, _ := server(t)
	var all []string
	after := ""
	for {
		var body struct {
			Events []struct {
				ID string `json:"id"`
			} `json:"events"`
			Next      string `json:"next"`
			Truncated bool   `json:"truncated"`
		}
		p := url.Values{"q": {"kind:alert"}, "from": {"6h"}, "limit": {"30"}}
		if after != "" {
			p.Set("after", after)
		}
		if code, raw := get(t, srv, "/events", p, &body); code != 200 {
			t.Fatalf("%d %s", code, raw)
		}
		for _, e := range body.Events {
			all = append(all, e.ID)
		}
		if body.Next == "" {
			break
		}
		after = body.Next
	}
	var count struct{ Total int64 }
	get(t, srv, "/groups", url.Values{"by": {"kind"}, "q": {"kind:alert"}, "from": {"6h"}}, &count)
	if int64(len(all)) != count.Total || len(all) < 50 {
		t.Errorf("paged through %d alerts, groups count %d", len(all), count.Total)
	}
	seen := map[string]bool{}
	for _, id := range all {
		if seen[id] {
			t.Fatalf("event %s on two pages", id)
		}
		seen[id] = true
	}
}

func TestEndpoints(t *testing.T) {
	srv, evs := server(t)
	window := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, x := range window {
			v[k] = x
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}

	// One event by id: exactly the stored line.
	resp, err := http.Get(srv.URL + "/api/search/events/" + evs[3].ID)
	if err != nil {
		t.Fatal(err)
	}
	var one map[string]any
	json.NewDecoder(resp.Body).Decode(&one)
	resp.Body.Close()
	if resp.StatusCode != 200 || one["id"] != evs[3].ID {
		t.Errorf("event by id: %d %v", resp.StatusCode, one["id"])
	}
	if code, _ := get(t, srv, "/events/nope", nil, nil); code != 404 {
		t.Errorf("unknown id: %d", code)
	}

	var groups struct {
		By     []string `json:"by"`
		Groups []struct {
			Key   map[string]json.RawMessage `json:"key"`
			Count int64                      `json:"count"`
			First time.Time                  `json:"first"`
		} `json:"groups"`
		Total int64 `json:"total"`
	}
	if code, raw := get(t, srv, "/groups", with("by", "signature.id,src_ip,dest_ip", "q", "kind:alert", "limit", "5"), &groups); code != 200 ||
		len(groups.Groups) != 5 || groups.By[0] != "signature.id" || groups.Groups[0].Count < groups.Groups[4].Count {
		t.Errorf("groups: %d %s", code, raw)
	}
	if k := string(groups.Groups[0].Key["signature.id"]); !isUint(k) {
		t.Errorf("signature.id key is not a number: %s", k)
	}

	var top struct {
		Field  string `json:"field"`
		Values []struct {
			Value any   `json:"value"`
			Count int64 `json:"count"`
		} `json:"values"`
	}
	if code, raw := get(t, srv, "/top", with("field", "details.http.hostname", "n", "3"), &top); code != 200 || len(top.Values) != 3 {
		t.Errorf("top: %d %s", code, raw)
	}

	var h struct {
		Interval string `json:"interval"`
		Seconds  int64  `json:"interval_seconds"`
		Buckets  []struct {
			Count int64 `json:"count"`
		} `json:"buckets"`
	}
	if code, raw := get(t, srv, "/histogram", with(), &h); code != 200 || h.Seconds != 300 || len(h.Buckets) != 48 {
		t.Errorf("histogram of 4 h: %d %s", code, raw)
	}
	var n int64
	for _, b := range h.Buckets {
		n += b.Count
	}
	if n != int64(len(evs)) {
		t.Errorf("histogram counts %d of %d events", n, len(evs))
	}
	if code, _ := get(t, srv, "/histogram", with("interval", "1h"), &h); code != 200 || len(h.Buckets) != 4 {
		t.Errorf("hourly histogram: %d buckets", len(h.Buckets))
	}

	var tx struct {
		Events []struct {
			ID     string `json:"id"`
			FlowID uint64 `json:"flow_id"`
		} `json:"events"`
	}
	probe := storetest.Varied(from, to)[0]
	if code, raw := get(t, srv, "/transaction", with("flow_id", "18446744073709551615"), &tx); code != 200 || len(tx.Events) != 1 ||
		tx.Events[0].ID != probe.ID || tx.Events[0].FlowID != probe.FlowID {
		t.Errorf("transaction by flow_id: %d %s", code, raw)
	}
	if code, raw := get(t, srv, "/transaction", with("community_id", evs[10].CommunityID), &tx); code != 200 || len(tx.Events) < 1 {
		t.Errorf("transaction by community_id: %d %s", code, raw)
	}

	var fields struct {
		Fields []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"fields"`
	}
	if code, _ := get(t, srv, "/fields", nil, &fields); code != 200 || len(fields.Fields) < 60 {
		t.Errorf("fields: %d %d", code, len(fields.Fields))
	}

	// Sensor text is escaped: no markup reaches a page that would show it raw.
	_, raw := get(t, srv, "/events", with("q", "details.evil:*"), nil)
	if strings.Contains(raw, "<script>") || !strings.Contains(raw, `\u003cscript\u003e`) {
		t.Errorf("markup in a response: %s", raw)
	}
	// Also in one event by id, which is the stored line, escaped.
	var byID struct {
		Details map[string]any `json:"details"`
	}
	code, raw := get(t, srv, "/events/"+evs[0].ID, nil, &byID)
	if code != 200 || strings.Contains(raw, "<script>") || !strings.Contains(raw, `\u003cscript\u003e`) || byID.Details["evil"] != "<script>alert(1)</script>" {
		t.Errorf("event by id: %d, details.evil %v: %s", code, byID.Details["evil"], raw)
	}
}

func TestBadRequests(t *testing.T) {
	srv, _ := server(t)
	for _, tc := range []struct {
		path   string
		params url.Values
		status int
		want   string
		pos    int
	}{
		{"/events", url.Values{"q": {"kind:alert foo:bar"}}, 400, `unknown field \"foo\"`, 11},
		{"/events", url.Values{"q": {"(kind:alert"}}, 400, "unbalanced", 0},
		{"/events", url.Values{"q": {`"unterminated`}}, 400, "unterminated", 0},
		{"/groups", url.Values{"by": {"signature.id"}, "q": {"dest_port:[1 TO"}}, 400, "unterminated range", 10},
		{"/events", url.Values{"limit": {"0"}}, 400, "limit", -1},
		{"/events", url.Values{"limit": {"100000"}}, 400, "limit", -1},
		{"/events", url.Values{"from": {"yesterday"}}, 400, "from", -1},
		{"/events", url.Values{"from": {"1h"}, "to": {"2h"}}, 400, "empty time window", -1},
		{"/events", url.Values{"after": {"nonsense"}}, 400, "cursor", -1},
		{"/events", url.Values{"timeout": {"soon"}}, 400, "timeout", -1},
		{"/groups", url.Values{}, 400, "by", -1},
		{"/groups", url.Values{"by": {"timestamp"}}, 400, "histograms", -1},
		{"/groups", url.Values{"by": {"nope"}}, 400, "unknown field", -1},
		{"/top", url.Values{}, 400, "field", -1},
		{"/histogram", url.Values{"interval": {"1s"}, "from": {"30d"}}, 400, "buckets", -1},
		{"/histogram", url.Values{"interval": {"0.5s"}}, 400, "interval", -1},
		{"/transaction", url.Values{}, 400, "flow_id or community_id", -1},
		{"/transaction", url.Values{"flow_id": {"-1"}}, 400, "flow_id", -1},
		{"/transaction", url.Values{"flow_id": {"1"}, "q": {"kind:alert"}}, 400, "q:", -1},
		{"/nope", nil, 404, "no such endpoint", -1},
	} {
		var body struct {
			Error    string `json:"error"`
			Position *int   `json:"position"`
		}
		code, raw := get(t, srv, tc.path, tc.params, &body)
		if code != tc.status || !strings.Contains(raw, tc.want) {
			t.Errorf("%s %v: %d %s, want %d with %q", tc.path, tc.params, code, raw, tc.status, tc.want)
		}
		if tc.pos >= 0 && (body.Position == nil || *body.Position != tc.pos) {
			t.Errorf("%s %v: position %v, want %d", tc.path, tc.params, body.Position, tc.pos)
		}
		if tc.pos < 0 && body.Position != nil {
			t.Errorf("%s %v: position %d for an error outside the query", tc.path, tc.params, *body.Position)
		}
	}
	// POST is not a search.
	resp, err := http.Post(srv.URL+"/api/search/events", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST /events: %d", resp.StatusCode)
	}
	// A search cut by its timeout says so.
	var cut struct {
		TimedOut bool `json:"timed_out"`
	}
	if code, raw := get(t, srv, "/events", url.Values{"timeout": {"1ns"}, "from": {"30d"}}, &cut); code != 200 || !cut.TimedOut {
		t.Errorf("1 ns timeout: %d %s", code, raw)
	}
}

func isUint(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}
