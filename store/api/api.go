// Package api serves a store.Reader over HTTP as JSON: events, one event by
// id, groups, top values, a histogram, the transaction of a flow, and the
// searchable fields. docs/search.md is its contract.
//
// The handler does no authentication and binds nothing: whoever serves it
// decides who may ask (the console mounts it behind its login, on its
// listener, loopback by default). Mount it under a prefix with
// http.StripPrefix; its paths are relative (/events, /groups …).
//
// Every request is bounded: a time window (the last 24 h by default), a row
// limit and a server-side timeout; a result cut short says so. A malformed
// query is a 400 with the position of the problem, never a 500.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
)

// Options tune the handler.
type Options struct {
	// Timeout is the default and the most a request may ask for
	// (timeout=…); 0: store.DefaultTimeout.
	Timeout time.Duration
	// Now is the clock relative times are read against; nil: time.Now.
	Now func() time.Time
}

// Handler serves the search API.
type Handler struct {
	rd   store.Reader
	opts Options
	mux  *http.ServeMux
}

// New returns the API over rd.
func New(rd store.Reader, o Options) *Handler {
	switch {
	case o.Timeout <= 0:
		o.Timeout = store.DefaultTimeout
	case o.Timeout > store.MaxTimeout:
		o.Timeout = store.MaxTimeout // as every request's is (store.Filter)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &Handler{rd: rd, opts: o, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /events", h.events)
	h.mux.HandleFunc("GET /events/{id}", h.event)
	h.mux.HandleFunc("GET /groups", h.groups)
	h.mux.HandleFunc("GET /top", h.top)
	h.mux.HandleFunc("GET /histogram", h.histogram)
	h.mux.HandleFunc("GET /transaction", h.transaction)
	h.mux.HandleFunc("GET /fields", h.fields)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/events" || strings.HasPrefix(p, "/events/") || p == "/groups" || p == "/top" ||
			p == "/histogram" || p == "/transaction" || p == "/fields":
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("%s %s: the search API only reads (GET)", r.Method, p), nil)
		default:
			writeError(w, http.StatusNotFound, fmt.Errorf("no such endpoint: %s %s", r.Method, p), nil)
		}
	})
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			writeError(w, http.StatusInternalServerError, fmt.Errorf("internal error"), nil)
		}
	}()
	h.mux.ServeHTTP(w, r)
}

// apiError is the body of every error response.
type apiError struct {
	Error string `json:"error"`
	// Position is the 0-based byte offset of a query error in q.
	Position *int `json:"position,omitempty"`
}

func writeError(w http.ResponseWriter, status int, err error, pos *int) {
	writeJSON(w, status, apiError{Error: err.Error(), Position: pos})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true) // sensor text may hold markup: never let a browser take it as HTML
	// The status is sent: a client that went away cannot be told anything else.
	_ = enc.Encode(v)
}

// badRequest is a client error carried to the response.
type badRequest struct {
	err error
	pos *int
}

func (b *badRequest) Error() string { return b.err.Error() }

func bad(format string, args ...any) error { return &badRequest{err: fmt.Errorf(format, args...)} }

// fail answers an error: the client's (400, with the query position), a
// missing event (404), the caller gone (no answer), or the store's (500).
func fail(w http.ResponseWriter, r *http.Request, err error) {
	var b *badRequest
	switch {
	case errors.As(err, &b):
		writeError(w, http.StatusBadRequest, b.err, b.pos)
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err, nil)
	case r.Context().Err() != nil:
		// the client went away: nobody reads an answer
	default:
		writeError(w, http.StatusInternalServerError, err, nil)
	}
}

// filter reads q, from, to and timeout.
func (h *Handler) filter(r *http.Request) (store.Filter, error) {
	v := r.URL.Query()
	var f store.Filter
	qs := v.Get("q")
	q, err := query.Parse(qs)
	if err != nil {
		var qe *query.Error
		if errors.As(err, &qe) {
			pos := qe.Pos
			return f, &badRequest{err: err, pos: &pos}
		}
		return f, bad("%v", err)
	}
	f.Query = q
	now := h.opts.Now()
	if s := v.Get("from"); s != "" {
		if f.From, err = store.ParseTime(s, now); err != nil {
			return f, bad("from: %v", err)
		}
	}
	if s := v.Get("to"); s != "" {
		if f.To, err = store.ParseTime(s, now); err != nil {
			return f, bad("to: %v", err)
		}
	}
	f.Timeout = h.opts.Timeout
	if s := v.Get("timeout"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return f, bad("timeout: %q is not a duration such as 5s", s)
		}
		f.Timeout = min(d, h.opts.Timeout)
	}
	if f, err = f.Resolve(now); err != nil {
		return f, bad("%v", err)
	}
	return f, nil
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, bad("%s must be a whole number from %d to %d; got %q", name, lo, hi, s)
	}
	return n, nil
}

// eventsBody is the answer of /events and /transaction.
type eventsBody struct {
	Events    []json.RawMessage `json:"events"`
	Next      string            `json:"next,omitempty"`
	Truncated bool              `json:"truncated"`
	TimedOut  bool              `json:"timed_out"`
	Warnings  []string          `json:"warnings,omitempty"`
}

func eventsOf(res *store.EventsResult) eventsBody {
	b := eventsBody{Events: make([]json.RawMessage, len(res.Events)), Next: res.Next, Truncated: res.Truncated,
		TimedOut: res.TimedOut, Warnings: res.Warnings}
	for i, e := range res.Events {
		b.Events[i] = e.JSON
	}
	return b
}

func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	f, err := h.filter(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	limit, err := intParam(r, "limit", store.DefaultLimit, 1, store.MaxLimit)
	if err != nil {
		fail(w, r, err)
		return
	}
	after := r.URL.Query().Get("after")
	if after != "" {
		if _, err := store.ParseCursor(after); err != nil {
			fail(w, r, bad("after: %v", err))
			return
		}
	}
	res, err := h.rd.Events(r.Context(), store.EventsRequest{Filter: f, Limit: limit, After: after})
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventsOf(res))
}

func (h *Handler) event(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" || len(id) > 128 {
		fail(w, r, bad("an event id has 1 to 128 characters"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	e, err := h.rd.Event(ctx, id)
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	// The stored line with <, > and & escaped as \u003c …, as writeJSON
	// escapes every other answer: no sensor text is ever markup.
	var buf bytes.Buffer
	json.HTMLEscape(&buf, e.JSON)
	buf.WriteByte('\n') // as in writeJSON
	_, _ = w.Write(buf.Bytes())
}

// groupBody is one group: key by field name, count, first and last seen.
type groupBody struct {
	Key   map[string]any `json:"key"`
	Count int64          `json:"count"`
	First time.Time      `json:"first"`
	Last  time.Time      `json:"last"`
}

// groupsBody is the answer of /groups.
type groupsBody struct {
	By        []string    `json:"by"`
	Groups    []groupBody `json:"groups"`
	Total     int64       `json:"total"`
	Truncated bool        `json:"truncated"`
	TimedOut  bool        `json:"timed_out"`
	Warnings  []string    `json:"warnings,omitempty"`
}

func keyJSON(v any) any {
	switch x := v.(type) {
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)) // exact beyond 2^53
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	}
	return v
}

func (h *Handler) groupsOf(w http.ResponseWriter, r *http.Request, by []string, limit int) (*store.GroupsResult, bool) {
	f, err := h.filter(r)
	if err != nil {
		fail(w, r, err)
		return nil, false
	}
	req := store.GroupsRequest{Filter: f, By: by, Limit: limit}
	if err := req.Check(); err != nil {
		fail(w, r, bad("%v", err))
		return nil, false
	}
	res, err := h.rd.Groups(r.Context(), req)
	if err != nil {
		fail(w, r, err)
		return nil, false
	}
	return res, true
}

func (h *Handler) groups(w http.ResponseWriter, r *http.Request) {
	by := splitList(r.URL.Query().Get("by"))
	if len(by) == 0 {
		fail(w, r, bad("by: name the fields to group by, e.g. by=signature.id,src_ip,dest_ip"))
		return
	}
	limit, err := intParam(r, "limit", store.DefaultLimit, 1, store.MaxGroups)
	if err != nil {
		fail(w, r, err)
		return
	}
	res, ok := h.groupsOf(w, r, by, limit)
	if !ok {
		return
	}
	body := groupsBody{By: res.By, Groups: make([]groupBody, len(res.Groups)), Total: res.Total,
		Truncated: res.Truncated, TimedOut: res.TimedOut, Warnings: res.Warnings}
	for i, g := range res.Groups {
		key := make(map[string]any, len(by))
		for j, f := range res.By {
			key[f] = keyJSON(g.Key[j])
		}
		body.Groups[i] = groupBody{Key: key, Count: g.Count, First: g.First, Last: g.Last}
	}
	writeJSON(w, http.StatusOK, body)
}

// topBody is the answer of /top.
type topBody struct {
	Field     string     `json:"field"`
	Values    []topValue `json:"values"`
	Total     int64      `json:"total"`
	Truncated bool       `json:"truncated"`
	TimedOut  bool       `json:"timed_out"`
	Warnings  []string   `json:"warnings,omitempty"`
}

type topValue struct {
	Value any       `json:"value"`
	Count int64     `json:"count"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

func (h *Handler) top(w http.ResponseWriter, r *http.Request) {
	field := r.URL.Query().Get("field")
	if field == "" {
		fail(w, r, bad("field: name the field, e.g. field=src_ip"))
		return
	}
	n, err := intParam(r, "n", 10, 1, store.MaxGroups)
	if err != nil {
		fail(w, r, err)
		return
	}
	res, ok := h.groupsOf(w, r, []string{field}, n)
	if !ok {
		return
	}
	body := topBody{Field: field, Values: make([]topValue, len(res.Groups)), Total: res.Total,
		Truncated: res.Truncated, TimedOut: res.TimedOut, Warnings: res.Warnings}
	for i, g := range res.Groups {
		body.Values[i] = topValue{Value: keyJSON(g.Key[0]), Count: g.Count, First: g.First, Last: g.Last}
	}
	writeJSON(w, http.StatusOK, body)
}

// histogramBody is the answer of /histogram.
type histogramBody struct {
	Interval string   `json:"interval"` // Go duration: 10m0s
	Seconds  int64    `json:"interval_seconds"`
	Buckets  []bucket `json:"buckets"`
	TimedOut bool     `json:"timed_out"`
	Warnings []string `json:"warnings,omitempty"`
}

type bucket struct {
	Start time.Time `json:"start"`
	Count int64     `json:"count"`
}

func (h *Handler) histogram(w http.ResponseWriter, r *http.Request) {
	f, err := h.filter(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	var iv time.Duration
	if s := r.URL.Query().Get("interval"); s != "" {
		if iv, err = store.ParseAge(s); err != nil || iv < time.Second {
			fail(w, r, bad("interval: %q is not a duration of at least 1s (e.g. 5m, 1h, 1d)", s))
			return
		}
	}
	if _, err := store.Buckets(f.From, f.To, iv); err != nil {
		fail(w, r, bad("%v", err))
		return
	}
	res, err := h.rd.Histogram(r.Context(), store.HistogramRequest{Filter: f, Interval: iv})
	if err != nil {
		fail(w, r, err)
		return
	}
	body := histogramBody{Interval: res.Interval.String(), Seconds: int64(res.Interval / time.Second),
		Buckets: make([]bucket, len(res.Buckets)), TimedOut: res.TimedOut, Warnings: res.Warnings}
	for i, b := range res.Buckets {
		body.Buckets[i] = bucket{Start: b.Start, Count: b.Count}
	}
	writeJSON(w, http.StatusOK, body)
}

func (h *Handler) transaction(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	req := store.TransactionRequest{CommunityID: v.Get("community_id")}
	if s := v.Get("flow_id"); s != "" {
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil || id == 0 {
			fail(w, r, bad("flow_id: %q is not a flow id (a whole number ≥ 1)", s))
			return
		}
		req.FlowID = id
	}
	if req.FlowID == 0 && req.CommunityID == "" {
		fail(w, r, bad("give flow_id or community_id (or both)"))
		return
	}
	if v.Get("q") != "" {
		fail(w, r, bad("q: a transaction is selected by flow_id and community_id only"))
		return
	}
	f, err := h.filter(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	req.Filter = f
	if req.Limit, err = intParam(r, "limit", store.MaxLimit, 1, store.MaxLimit); err != nil {
		fail(w, r, err)
		return
	}
	res, err := h.rd.Transaction(r.Context(), req)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventsOf(res))
}

// fieldBody describes one searchable field.
type fieldBody struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Values []string `json:"values,omitempty"`
	Doc    string   `json:"doc"`
	Group  bool     `json:"groupable"`
}

func (h *Handler) fields(w http.ResponseWriter, _ *http.Request) {
	var out []fieldBody
	for _, f := range query.Fields() {
		_, err := store.GroupField(f.Name)
		out = append(out, fieldBody{Name: f.Name, Type: f.Type.String(), Values: f.Values, Doc: f.Doc, Group: err == nil})
	}
	out = append(out, fieldBody{Name: query.DetailsPrefix + "*", Type: query.JSON.String(),
		Doc: "anything else the sensor said, by its path (details.http.hostname)", Group: true})
	writeJSON(w, http.StatusOK, map[string]any{"fields": out})
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
