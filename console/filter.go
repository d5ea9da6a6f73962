package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
)

// maxFormQuery bounds a query typed into a page (the language allows
// more; a page does not need it).
const maxFormQuery = 4096

// rangePresets are the time-range picker's choices.
var rangePresets = []struct{ Name, Label string }{
	{"15m", "15 min"}, {"1h", "1 hour"}, {"6h", "6 hours"}, {"24h", "24 hours"}, {"7d", "7 days"}, {"30d", "30 days"},
}

// filterForm is a page's query and time range as typed and as understood.
type filterForm struct {
	Q     string // the query as typed
	Range string // a preset name; "" when From/To are given
	From  string // custom range as typed (RFC 3339, a date, or "15m" before now)
	To    string

	Query    *query.Query
	FromTime time.Time
	ToTime   time.Time
	Err      string // what is wrong, for the page
}

// parseFilter reads q, range, from and to. An invalid value leaves Err set
// and the rest at safe defaults (the page shows the message and no
// results).
func (s *Server) parseFilter(r *http.Request, defaultRange string) filterForm {
	v := r.URL.Query()
	f := filterForm{Q: v.Get("q"), Range: v.Get("range"), From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to"))}
	now := s.now().UTC()
	if f.From == "" && f.To == "" && f.Range == "" {
		f.Range = defaultRange
	}
	if f.From != "" || f.To != "" {
		f.Range = ""
		f.FromTime, f.ToTime = now.Add(-24*time.Hour), now
		if f.From != "" {
			t, err := store.ParseTime(f.From, now)
			if err != nil {
				f.Err = "From: " + err.Error()
				return f
			}
			f.FromTime = t
		}
		if f.To != "" {
			t, err := store.ParseTime(f.To, now)
			if err != nil {
				f.Err = "To: " + err.Error()
				return f
			}
			f.ToTime = t
		}
		if !f.FromTime.Before(f.ToTime) {
			f.Err = "The time range is empty: from must be before to."
			return f
		}
	} else {
		d, err := store.ParseAge(f.Range)
		if err != nil || d <= 0 || d > 366*24*time.Hour {
			f.Err = "Unknown time range " + quoteForMsg(f.Range) + ": pick one of the presets or give from and to."
			f.Range = defaultRange
			return f
		}
		f.FromTime, f.ToTime = now.Add(-d), now
	}
	q, msg := checkQuery(f.Q, maxFormQuery)
	if msg != "" {
		f.Err = msg
		return f
	}
	f.Query = q
	return f
}

func quoteForMsg(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "“" + s + "”"
}

// values returns the filter as URL parameters (for links that keep it).
func (f filterForm) values() url.Values {
	v := url.Values{}
	if f.Q != "" {
		v.Set("q", f.Q)
	}
	if f.Range != "" {
		v.Set("range", f.Range)
	} else {
		v.Set("from", f.FromTime.Format(time.RFC3339Nano))
		v.Set("to", f.ToTime.Format(time.RFC3339Nano))
	}
	return v
}

// storeFilter is the store's filter for the query combined (AND) with
// extra nodes, e.g. kind:alert and negated mutes.
func (s *Server) storeFilter(f filterForm, extra ...query.Node) store.Filter {
	nodes := make([]query.Node, 0, len(extra)+1)
	if f.Query != nil && f.Query.Root != nil {
		nodes = append(nodes, f.Query.Root)
	}
	for _, n := range extra {
		if n != nil {
			nodes = append(nodes, n)
		}
	}
	return store.Filter{Query: andQuery(nodes...), From: f.FromTime, To: f.ToTime, Timeout: s.opts.QueryTimeout}
}

// andQuery joins nodes into one query (nil: match everything).
func andQuery(nodes ...query.Node) *query.Query {
	switch len(nodes) {
	case 0:
		return nil
	case 1:
		return &query.Query{Text: nodes[0].String(), Root: nodes[0]}
	}
	n := &query.And{X: nodes}
	return &query.Query{Text: n.String(), Root: n}
}

// alertsOnly is the inbox's and overview's base condition.
var alertsOnly = query.MustParse("kind:alert").Root

// rangeLinks are the picker's preset links, keeping the other parameters.
type rangeLink struct {
	Label, URL string
	Current    bool
}

func rangeLinks(path string, v url.Values, current string) []rangeLink {
	var out []rangeLink
	for _, p := range rangePresets {
		w := cloneValues(v)
		w.Del("from")
		w.Del("to")
		w.Del("after")
		w.Del("page")
		w.Set("range", p.Name)
		out = append(out, rangeLink{Label: p.Label, URL: path + "?" + w.Encode(), Current: p.Name == current})
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	w := url.Values{}
	for k, vs := range v {
		w[k] = append([]string(nil), vs...)
	}
	return w
}
