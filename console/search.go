package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
)

// defaultColumns are the search table's columns unless the analyst picks.
var defaultColumns = []string{"timestamp", "kind", "action", "source.sensor", "src_ip", "src_port", "dest_ip", "dest_port", "proto_name", "signature.name"}

const (
	maxColumns     = 24
	defaultPage    = 100
	maxPage        = 1000
	maxColumnName  = 128
	searchMaxDepth = 200 // "older" pages a search walks at most (×page size)
)

// eventRow is one event in a table: the chosen columns' values.
type eventRow struct {
	ID    string
	Time  time.Time
	Kind  string
	Cells []cell
}

type cell struct {
	Column string
	Value  string
	Pivot  string // search for column:value; "" when it makes no sense
}

// parseColumns validates the cols parameter: field names of the query
// language (details.* included), at most maxColumns.
func parseColumns(s string) ([]string, string) {
	if strings.TrimSpace(s) == "" {
		return defaultColumns, ""
	}
	var cols []string
	for c := range strings.SplitSeq(s, ",") {
		c = strings.TrimSpace(c)
		if c == "" || contains(cols, c) {
			continue
		}
		if len(c) > maxColumnName || query.Lookup(c) == nil {
			return defaultColumns, "Unknown column " + quoteForMsg(c) + ": columns are field names of the query language (see the field list)."
		}
		cols = append(cols, c)
	}
	if len(cols) > maxColumns {
		return defaultColumns, "At most " + strconv.Itoa(maxColumns) + " columns."
	}
	if len(cols) == 0 {
		return defaultColumns, ""
	}
	return cols, ""
}

// columnsParam reads the columns: the picker's ticked boxes (col) and typed
// extras (extra), or else the cols list that links carry.
func columnsParam(r *http.Request) string {
	v := r.URL.Query()
	if picked := append(v["col"], v.Get("extra")); len(picked) > 1 || picked[0] != "" {
		return strings.Join(picked, ",")
	}
	return v.Get("cols")
}

// eventRows decodes stored events into table rows.
func eventRows(evs []store.Event, cols []string) []eventRow {
	out := make([]eventRow, 0, len(evs))
	for _, e := range evs {
		row := eventRow{ID: e.ID, Time: e.Time}
		doc, err := decodeObject(e.JSON)
		if err != nil {
			row.Cells = []cell{{Column: "error", Value: "unreadable stored event: " + err.Error()}}
			out = append(out, row)
			continue
		}
		row.Kind, _ = lookupPath(doc, "kind")
		for _, c := range cols {
			v, ok := lookupPath(doc, c)
			cl := cell{Column: c, Value: v}
			if ok && v != "" && pivotable(c) {
				cl.Pivot = string(pivotURL(c, v))
			}
			row.Cells = append(row.Cells, cl)
		}
		out = append(out, row)
	}
	return out
}

// pivotable says whether field:value is a useful search: not times
// (a range is), not ids nobody searches by hand.
func pivotable(field string) bool {
	f := query.Lookup(field)
	if f == nil {
		return false
	}
	switch f.Type {
	case query.Time, query.Strings, query.Uints:
		return false
	}
	return field != "id"
}

type searchBody struct {
	Filter    filterForm
	Ranges    []rangeLink
	Columns   []string
	ColsText  string
	AllFields []fieldOption
	Chart     chart
	Interval  time.Duration
	Matches   int64
	Rows      []eventRow
	Limit     int
	NextURL   string
	FirstURL  string
	Export    map[string]string
	TimedOut  bool
	HistCut   bool
	Paged     bool
	ExportMax int
}

type fieldOption struct {
	Name, Doc string
	Checked   bool
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	f := s.parseFilter(r, "24h")
	cols, cerr := parseColumns(columnsParam(r))
	if f.Err == "" && cerr != "" {
		f.Err = cerr
	}
	limit := defaultPage
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxPage {
			if f.Err == "" {
				f.Err = "Rows per page must be between 1 and " + strconv.Itoa(maxPage) + "."
			}
		} else {
			limit = n
		}
	}
	after := r.URL.Query().Get("after")
	if after != "" {
		if _, err := store.ParseCursor(after); err != nil && f.Err == "" {
			f.Err = "Invalid page position; start again from the newest."
		}
	}
	body := searchBody{Filter: f, Columns: cols, ColsText: strings.Join(cols, ","), Limit: limit, ExportMax: maxExport}
	keep := f.values()
	if columnsParam(r) != "" {
		keep.Set("cols", body.ColsText)
	}
	body.Ranges = rangeLinks("/search", keep, f.Range)
	for _, fl := range query.Fields() {
		body.AllFields = append(body.AllFields, fieldOption{Name: fl.Name, Doc: fl.Doc, Checked: contains(cols, fl.Name)})
	}
	body.Export = map[string]string{}
	for _, fm := range []string{"csv", "jsonl", "ecs", "ocsf"} {
		v := cloneValues(keep)
		v.Set("cols", body.ColsText)
		v.Set("format", fm)
		body.Export[fm] = "/export?" + v.Encode()
	}
	status := http.StatusOK
	if f.Err != "" {
		s.render(w, r, http.StatusBadRequest, "search", page{Title: "Search", Nav: "search", Error: f.Err, Body: body})
		return
	}
	ctx := r.Context()
	flt := s.storeFilter(f)
	hist, err := s.deps.Store.Histogram(ctx, store.HistogramRequest{Filter: flt})
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	body.Interval = hist.Interval
	for _, b := range hist.Buckets {
		body.Matches += b.Count
	}
	body.HistCut = hist.TimedOut
	zoom := func(from, to time.Time) string {
		v := cloneValues(keep)
		v.Del("range")
		v.Set("from", from.UTC().Format(time.RFC3339))
		v.Set("to", to.UTC().Format(time.RFC3339))
		return "/search?" + v.Encode()
	}
	body.Chart = buildChart(hist.Buckets, hist.Interval, []chartSeries{{Name: "events", Counts: counts(hist)}}, zoom)
	evs, err := s.deps.Store.Events(ctx, store.EventsRequest{Filter: flt, Limit: limit, After: after})
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	body.TimedOut = evs.TimedOut
	body.Rows = eventRows(evs.Events, cols)
	if after != "" {
		body.Paged = true
		v := cloneValues(keep)
		v.Set("limit", strconv.Itoa(limit))
		body.FirstURL = "/search?" + v.Encode()
	}
	if evs.Next != "" {
		v := cloneValues(keep)
		v.Set("limit", strconv.Itoa(limit))
		v.Set("after", evs.Next)
		// Pin the window, so that "older" pages do not slide with now.
		if f.Range != "" {
			v.Del("range")
			v.Set("from", f.FromTime.Format(time.RFC3339Nano))
			v.Set("to", f.ToTime.Format(time.RFC3339Nano))
		}
		body.NextURL = "/search?" + v.Encode()
	}
	s.render(w, r, status, "search", page{Title: "Search", Nav: "search", Body: body})
}

// searchURL is a link to a search for q over the same window as f.
func searchURL(q string, f filterForm) string {
	v := url.Values{}
	v.Set("q", q)
	if f.Range != "" {
		v.Set("range", f.Range)
	} else {
		v.Set("from", f.FromTime.Format(time.RFC3339Nano))
		v.Set("to", f.ToTime.Format(time.RFC3339Nano))
	}
	return "/search?" + v.Encode()
}
