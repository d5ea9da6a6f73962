package console

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
)

const topN = 10

type overviewBody struct {
	Filter      filterForm
	Ranges      []rangeLink
	Alerts      chart
	Losses      chart
	Interval    time.Duration
	AlertCount  int64
	LossCount   int64
	StatsEvents int
	StatsCut    bool
	Tops        []topList
	TimedOut    bool
}

type topList struct {
	Title string
	ID    string
	Rows  []topRow
	Cut   bool
}

type topRow struct {
	Label string
	Count int64
	URL   string
}

var (
	allowedOnly = query.MustParse("action:allowed").Root
	blockedOnly = query.MustParse("action:blocked").Root
	otherAction = query.MustParse("-action:(allowed OR blocked)").Root
	notStats    = query.MustParse("-kind:stats").Root
	statsOnly   = query.MustParse("kind:stats").Root
)

// overview shows alerts over time split by allowed/blocked, the gateway's
// own losses on the same time axis (from its kind=stats events), and the
// top signatures, sources, destinations, sensors and inputs.
func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	f := s.parseFilter(r, "24h")
	body := overviewBody{Filter: f}
	body.Ranges = rangeLinks("/overview", f.values(), f.Range)
	if f.Err != "" {
		s.render(w, r, http.StatusBadRequest, "overview", page{Title: "Overview", Nav: "overview", Error: f.Err, Body: body})
		return
	}
	ctx := r.Context()
	alerts := s.storeFilter(f, alertsOnly)
	var series []chartSeries
	var buckets []store.Bucket
	for _, part := range []struct {
		name, class string
		node        query.Node
	}{{"blocked", "blocked", blockedOnly}, {"allowed", "allowed", allowedOnly}, {"other", "other", otherAction}} {
		h, err := s.deps.Store.Histogram(ctx, store.HistogramRequest{Filter: withNode(alerts, part.node)})
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
		body.TimedOut = body.TimedOut || h.TimedOut
		buckets, body.Interval = h.Buckets, h.Interval
		c := counts(h)
		for _, n := range c {
			body.AlertCount += n
		}
		series = append(series, chartSeries{Name: part.name, Class: part.class, Counts: c})
	}
	zoom := func(from, to time.Time) string {
		v := f.values()
		v.Del("range")
		v.Set("from", from.UTC().Format(time.RFC3339))
		v.Set("to", to.UTC().Format(time.RFC3339))
		return "/overview?" + v.Encode()
	}
	body.Alerts = buildChart(buckets, body.Interval, series, zoom)
	losses, n, cut, err := s.losses(ctx, f, buckets, body.Interval)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	body.StatsEvents, body.StatsCut = n, cut
	for _, l := range losses {
		body.LossCount += l
	}
	body.Losses = buildChart(buckets, body.Interval, []chartSeries{{Name: "lost", Class: "loss", Counts: losses}}, zoom)

	everything := s.storeFilter(f, notStats)
	for _, t := range []struct {
		title, id string
		flt       store.Filter
		by        []string
		label     func(key []any) (string, string) // label, query
	}{
		{"Top signatures", "top-signatures", alerts, []string{"signature.id", "signature.name"}, func(k []any) (string, string) {
			id, _ := keyText(k[0])
			name, _ := keyText(k[1])
			return name + " (" + id + ")", "kind:alert signature.id:" + id
		}},
		{"Top sources", "top-sources", alerts, []string{"src_ip"}, oneField("kind:alert ", "src_ip")},
		{"Top destinations", "top-destinations", alerts, []string{"dest_ip"}, oneField("kind:alert ", "dest_ip")},
		{"Events per sensor", "per-sensor", everything, []string{"source.sensor"}, oneField("", "source.sensor")},
		{"Events per input", "per-input", everything, []string{"source.input"}, oneField("", "source.input")},
	} {
		res, err := s.deps.Store.Groups(ctx, store.GroupsRequest{Filter: t.flt, By: t.by, Limit: topN})
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
		body.TimedOut = body.TimedOut || res.TimedOut
		tl := topList{Title: t.title, ID: t.id, Cut: res.Truncated}
		for _, g := range res.Groups {
			label, q := t.label(g.Key)
			tl.Rows = append(tl.Rows, topRow{Label: label, Count: g.Count, URL: searchURL(q, f)})
		}
		body.Tops = append(body.Tops, tl)
	}
	s.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Nav: "overview", Body: body})
}

func oneField(prefix, field string) func([]any) (string, string) {
	return func(k []any) (string, string) {
		v, ok := keyText(k[0])
		if !ok {
			return "(none)", prefix + "-" + field + ":*"
		}
		return v, prefix + field + ":" + quoteValue(v)
	}
}

// maxStatsEvents bounds the stats events read for the loss chart (a
// gateway writes one a minute by default: 30 days of one gateway, or a
// day of seven).
const maxStatsEvents = 10_000

// losses counts, per bucket, what the gateways lost: the increase of the
// dropped and failed counters of every input and output in their
// kind=stats events (cumulative since each gateway's start; a counter that
// went down means a restart, and its new value is the increase).
func (s *Server) losses(ctx context.Context, f filterForm, buckets []store.Bucket, interval time.Duration) ([]int64, int, bool, error) {
	out := make([]int64, len(buckets))
	if len(buckets) == 0 {
		return out, 0, false, nil
	}
	flt := s.storeFilter(filterForm{FromTime: f.FromTime, ToTime: f.ToTime}, statsOnly)
	var evs []store.Event
	after := ""
	cut := false
	for len(evs) < maxStatsEvents {
		res, err := s.deps.Store.Events(ctx, store.EventsRequest{Filter: flt, Limit: store.MaxLimit, After: after})
		if err != nil {
			return nil, 0, false, err
		}
		evs = append(evs, res.Events...)
		if res.TimedOut {
			cut = true
			break
		}
		if res.Next == "" {
			break
		}
		after = res.Next
	}
	if len(evs) >= maxStatsEvents {
		cut = true
	}
	slices.Reverse(evs)         // oldest first
	prev := map[string]uint64{} // sensor/role/name → last total
	for _, e := range evs {
		var doc struct {
			Source struct {
				Sensor string `json:"sensor"`
			} `json:"source"`
			Details struct {
				Inputs  []statsCounters `json:"inputs"`
				Outputs []statsCounters `json:"outputs"`
			} `json:"details"`
		}
		if json.Unmarshal(e.JSON, &doc) != nil {
			continue
		}
		var lost int64
		for role, list := range map[string][]statsCounters{"in": doc.Details.Inputs, "out": doc.Details.Outputs} {
			for _, c := range list {
				k := doc.Source.Sensor + "\x00" + role + "\x00" + c.Name
				total := c.total()
				p, seen := prev[k]
				prev[k] = total
				switch {
				case !seen:
					// The first sample only sets the baseline.
				case total >= p:
					lost += int64(total - p)
				default:
					lost += int64(total) // restarted
				}
			}
		}
		i := int(store.BucketStart(e.Time, interval).Sub(buckets[0].Start) / interval)
		if i >= 0 && i < len(out) {
			out[i] += lost
		}
	}
	return out, len(evs), cut, nil
}

type statsCounters struct {
	Name    string            `json:"name"`
	Failed  map[string]uint64 `json:"failed"`
	Dropped map[string]uint64 `json:"dropped"`
}

func (c statsCounters) total() uint64 {
	var t uint64
	for _, n := range c.Failed {
		t += n
	}
	for _, n := range c.Dropped {
		t += n
	}
	return t
}
