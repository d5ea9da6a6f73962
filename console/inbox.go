package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alertgw/alertgw/console/triage"
	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
)

// groupings are the inbox's choices of what makes alerts one row.
var groupings = []struct{ Name, Label string }{
	{"signature.id,src_ip,dest_ip", "signature + source + destination"},
	{"signature.id,src_ip", "signature + source"},
	{"signature.id,dest_ip", "signature + destination"},
	{"signature.id", "signature"},
	{"src_ip", "source"},
	{"dest_ip", "destination"},
	{"src_ip,dest_ip", "source + destination"},
	{"signature.id,source.sensor", "signature + sensor"},
}

const defaultGrouping = "signature.id,src_ip,dest_ip"

// rowExtras are grouped on beside the chosen fields so that each row can
// show its signature's name and priority, its actions and its sensors; the
// sub-groups are then merged into the rows.
var rowExtras = []string{"signature.name", "signature.priority", "action", "source.sensor"}

const (
	inboxPageSize = 100
	maxMuteCounts = 50 // mutes whose hidden count is computed per page view
)

// inboxRow is one group of alerts.
type inboxRow struct {
	Key      triage.Key
	KeyText  string
	Fields   []keyField
	SigName  string
	Priority uint64 // 0: unknown
	Count    int64
	First    time.Time
	Last     time.Time
	Sensors  []string
	Actions  []string
	Search   string // the search for this group's alerts

	Escalated     bool
	ArchivedUntil time.Time // archived, and events arrived since (else the row is hidden)
	ArchivedBy    string
	Notes         int
}

type keyField struct {
	Name, Value string
	Absent      bool
	Pivot       string
}

type inboxBody struct {
	View      string // inbox | escalated | archived
	Filter    filterForm
	Grouping  string
	Groupings []groupingOption
	Ranges    []rangeLink
	Rows      []inboxRow
	Total     int64 // alerts in the rows (all pages)
	Groups    int   // rows (all pages)
	Page      int
	Pages     int
	PrevURL   string
	NextURL   string
	Truncated bool
	TimedOut  bool
	Muted     []muteCount
	MutedAll  int64
	Hidden    int              // groups hidden as archived
	Refresh   int              // seconds; 0 off
	Archives  []triage.Archive // the archived view
	Back      string           // this page, for the triage form's return
	Fields    []string         // the grouping's field names, for the header
}

type groupingOption struct {
	Name, Label string
	Current     bool
}

type muteCount struct {
	triage.Mute
	Hidden   int64
	HasCount bool
}

// parseGrouping validates the grouping parameter: a preset or up to four
// fields the store can group on.
func parseGrouping(s string) ([]string, string, error) {
	if s == "" {
		s = defaultGrouping
	}
	fields := strings.Split(s, ",")
	if len(fields) > 4 {
		return nil, "", errors.New("group by at most 4 fields")
	}
	for i, f := range fields {
		f = strings.TrimSpace(f)
		fields[i] = f
		if _, err := store.GroupField(f); err != nil {
			return nil, "", err
		}
		if slices.Index(fields[:i], f) >= 0 {
			return nil, "", errors.New("group by: " + f + " appears twice")
		}
	}
	return fields, strings.Join(fields, ","), nil
}

func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	view := r.URL.Query().Get("view")
	switch view {
	case "", "inbox":
		view = "inbox"
	case "escalated", "archived":
	default:
		s.renderError(w, r, http.StatusBadRequest, "Unknown view: inbox, escalated or archived.")
		return
	}
	f := s.parseFilter(r, "24h")
	by, grouping, gerr := parseGrouping(r.URL.Query().Get("group"))
	body := inboxBody{View: view, Filter: f, Grouping: grouping, Back: safeNext(r.URL.RequestURI())}
	if gerr != nil {
		body.Grouping = defaultGrouping
		if f.Err == "" {
			f.Err = gerr.Error()
			body.Filter = f
		}
	}
	for _, g := range groupings {
		body.Groupings = append(body.Groupings, groupingOption{Name: g.Name, Label: g.Label, Current: g.Name == body.Grouping})
	}
	if !slices.ContainsFunc(groupings, func(g struct{ Name, Label string }) bool { return g.Name == body.Grouping }) {
		body.Groupings = append(body.Groupings, groupingOption{Name: body.Grouping, Label: body.Grouping, Current: true})
	}
	keep := f.values()
	keep.Set("group", body.Grouping)
	if view != "inbox" {
		keep.Set("view", view)
	}
	body.Ranges = rangeLinks("/inbox", keep, f.Range)
	nav := view
	title := map[string]string{"inbox": "Inbox", "escalated": "Escalated", "archived": "Archived"}[view]
	status := http.StatusOK
	if f.Err != "" {
		status = http.StatusBadRequest
	}
	pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
	body.Page = max(pg, 1)
	if f.Err == "" && gerr == nil {
		body.Fields = by
		var err error
		switch view {
		case "inbox":
			err = s.fillInbox(r.Context(), &body, by)
			if s.opts.Refresh > 0 {
				body.Refresh = int(s.opts.Refresh / time.Second)
			}
		case "escalated":
			err = s.fillEscalated(r.Context(), &body)
		case "archived":
			err = s.fillArchived(r.Context(), &body)
		}
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
		body.Pages = max(1, (body.Groups+inboxPageSize-1)/inboxPageSize)
		if body.Page > 1 {
			v := cloneValues(keep)
			v.Set("page", strconv.Itoa(body.Page-1))
			body.PrevURL = "/inbox?" + v.Encode()
		}
		if body.Page < body.Pages {
			v := cloneValues(keep)
			v.Set("page", strconv.Itoa(body.Page+1))
			body.NextURL = "/inbox?" + v.Encode()
		}
	}
	tmpl := "inbox"
	if r.URL.Query().Get("partial") == "1" {
		tmpl = "inbox_rows"
	}
	s.render(w, r, status, tmpl, page{Title: title, Nav: nav, Error: f.Err, Notice: doneNotice(r), Body: body})
}

// storeFailed answers a page whose store query failed: a query the store
// refused is the analyst's to fix (400 with the reason); anything else is
// logged.
func (s *Server) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the browser went away
	}
	var qe *query.Error
	if errors.As(err, &qe) {
		s.renderError(w, r, http.StatusBadRequest, "Query error: "+qe.Msg)
		return
	}
	s.log.Error().Err(err).Str("path", r.URL.Path).Msg("console: store query failed")
	s.renderError(w, r, http.StatusInternalServerError, "The event store could not answer (logged): "+err.Error())
}

// mutesFilter returns the mute rules, parsed, and the node that excludes
// them all. A mute that no longer parses (the language changed) is skipped
// and logged rather than breaking the inbox.
func (s *Server) mutesFilter(ctx context.Context) ([]triage.Mute, []*query.Query, query.Node, error) {
	mutes, err := s.deps.Triage.Mutes(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	var parsed []*query.Query
	var kept []triage.Mute
	var nots []query.Node
	for _, m := range mutes {
		q, err := query.Parse(m.Query)
		if err != nil || q.Root == nil {
			s.log.Warn().Err(err).Str("mute", m.Query).Msg("console: mute rule does not parse; ignored")
			continue
		}
		kept = append(kept, m)
		parsed = append(parsed, q)
		nots = append(nots, &query.Not{X: q.Root})
	}
	if len(nots) == 0 {
		return kept, parsed, nil, nil
	}
	if len(nots) == 1 {
		return kept, parsed, nots[0], nil
	}
	return kept, parsed, &query.And{X: nots}, nil
}

// groupRows runs one grouped query and merges the extra columns into rows
// keyed by the fields of by.
func (s *Server) groupRows(ctx context.Context, flt store.Filter, by []string) ([]*inboxRow, *store.GroupsResult, error) {
	all := slices.Clone(by)
	for _, x := range rowExtras {
		if !slices.Contains(all, x) {
			all = append(all, x)
		}
	}
	res, err := s.deps.Store.Groups(ctx, store.GroupsRequest{Filter: flt, By: all, Limit: store.MaxGroups})
	if err != nil {
		return nil, nil, err
	}
	idx := map[string]*inboxRow{}
	var rows []*inboxRow
	pos := func(name string) int { return slices.Index(all, name) }
	for _, g := range res.Groups {
		k := triage.Key{Fields: by, Values: make([]string, len(by))}
		for i := range by {
			v, ok := keyText(g.Key[i])
			if !ok {
				v = triage.Absent
			}
			k.Values[i] = v
		}
		ks := k.String()
		row := idx[ks]
		if row == nil {
			row = &inboxRow{Key: k, KeyText: ks, First: g.First, Last: g.Last}
			idx[ks] = row
			rows = append(rows, row)
		}
		row.Count += g.Count
		if g.First.Before(row.First) {
			row.First = g.First
		}
		if g.Last.After(row.Last) {
			row.Last = g.Last
		}
		if v, ok := keyText(g.Key[pos("signature.name")]); ok && row.SigName == "" {
			row.SigName = v
		}
		if v, ok := g.Key[pos("signature.priority")].(uint64); ok && (row.Priority == 0 || v < row.Priority) {
			row.Priority = v
		}
		if v, ok := keyText(g.Key[pos("action")]); ok && !slices.Contains(row.Actions, v) {
			row.Actions = append(row.Actions, v)
		}
		if v, ok := keyText(g.Key[pos("source.sensor")]); ok && !slices.Contains(row.Sensors, v) {
			row.Sensors = append(row.Sensors, v)
		}
	}
	for _, row := range rows {
		slices.Sort(row.Actions)
		slices.Sort(row.Sensors)
		for i, f := range row.Key.Fields {
			kf := keyField{Name: f, Value: row.Key.Values[i], Absent: row.Key.Values[i] == triage.Absent}
			if !kf.Absent {
				kf.Pivot = string(pivotURL(f, kf.Value))
			}
			row.Fields = append(row.Fields, kf)
		}
		row.Search = groupQuery(row.Key)
	}
	return rows, res, nil
}

// groupQuery is the query for a group's alerts: kind:alert and each field's
// value (or its absence).
func groupQuery(k triage.Key) string {
	parts := []string{"kind:alert"}
	for i, f := range k.Fields {
		if k.Values[i] == triage.Absent {
			parts = append(parts, "-"+f+":*")
			continue
		}
		parts = append(parts, f+":"+quoteValue(k.Values[i]))
	}
	return strings.Join(parts, " ")
}

func (s *Server) fillInbox(ctx context.Context, body *inboxBody, by []string) error {
	mutes, mq, exclude, err := s.mutesFilter(ctx)
	if err != nil {
		return err
	}
	flt := s.storeFilter(body.Filter, alertsOnly, exclude)
	rows, res, err := s.groupRows(ctx, flt, by)
	if err != nil {
		return err
	}
	body.Truncated, body.TimedOut = res.Truncated, res.TimedOut

	// Archived groups are hidden until an event newer than the archive
	// mark arrives; escalated ones are marked.
	archives, err := s.deps.Triage.Archives(ctx, body.Filter.FromTime)
	if err != nil {
		return err
	}
	escalations, err := s.deps.Triage.Escalations(ctx)
	if err != nil {
		return err
	}
	visible := rows[:0]
	for _, row := range rows {
		hidden := false
		for _, a := range archives {
			if !a.Key.Covers(row.Key) {
				continue
			}
			if !row.Last.After(a.Through) {
				hidden = true
				break
			}
			if a.Through.After(row.ArchivedUntil) {
				row.ArchivedUntil, row.ArchivedBy = a.Through, a.User
			}
		}
		if hidden {
			body.Hidden++
			continue
		}
		for _, e := range escalations {
			if e.Key.Covers(row.Key) {
				row.Escalated = true
			}
		}
		body.Total += row.Count
		visible = append(visible, row)
	}
	sort.SliceStable(visible, func(i, j int) bool { return visible[i].Last.After(visible[j].Last) })
	body.Groups = len(visible)
	body.Rows = s.pageRows(ctx, visible, body.Page)

	// What each mute hid in the same range (and query).
	base := s.storeFilter(body.Filter, alertsOnly)
	for i, m := range mutes {
		mc := muteCount{Mute: m}
		if i < maxMuteCounts {
			n, timedOut, err := s.count(ctx, withNode(base, mq[i].Root))
			if err != nil {
				return err
			}
			mc.Hidden, mc.HasCount = n, !timedOut
			body.MutedAll += n
		}
		body.Muted = append(body.Muted, mc)
	}
	return nil
}

// pageRows cuts one page of rows and fills in their note counts.
func (s *Server) pageRows(ctx context.Context, rows []*inboxRow, pg int) []inboxRow {
	start := (pg - 1) * inboxPageSize
	if start >= len(rows) {
		return nil
	}
	rows = rows[start:min(start+inboxPageSize, len(rows))]
	targets := make([]string, len(rows))
	for i, row := range rows {
		targets[i] = triage.GroupTarget(row.Key)
	}
	notes, err := s.deps.Triage.NoteCounts(ctx, targets)
	if err != nil {
		s.log.Warn().Err(err).Msg("console: note counts")
	}
	out := make([]inboxRow, len(rows))
	for i, row := range rows {
		row.Notes = notes[targets[i]]
		out[i] = *row
	}
	return out
}

// withNode narrows a filter by one more node.
func withNode(f store.Filter, n query.Node) store.Filter {
	if f.Query == nil || f.Query.Root == nil {
		f.Query = andQuery(n)
		return f
	}
	f.Query = andQuery(f.Query.Root, n)
	return f
}

// count is the number of events a filter matches (a group-by on kind,
// whose total the store computes in one pass).
func (s *Server) count(ctx context.Context, f store.Filter) (int64, bool, error) {
	res, err := s.deps.Store.Groups(ctx, store.GroupsRequest{Filter: f, By: []string{"kind"}, Limit: 10})
	if err != nil {
		return 0, false, err
	}
	return res.Total, res.TimedOut, nil
}

// fillEscalated shows every escalated group with its alerts in the range,
// grouped by the fields it was escalated with.
func (s *Server) fillEscalated(ctx context.Context, body *inboxBody) error {
	escalations, err := s.deps.Triage.Escalations(ctx)
	if err != nil {
		return err
	}
	byFields := map[string][]triage.Escalation{}
	var order []string
	for _, e := range escalations {
		fk := strings.Join(e.Key.Fields, ",")
		if _, ok := byFields[fk]; !ok {
			order = append(order, fk)
		}
		byFields[fk] = append(byFields[fk], e)
	}
	var all []*inboxRow
	for _, fk := range order {
		es := byFields[fk]
		// One query per grouping, narrowed to the escalated values.
		var ors []query.Node
		for _, e := range es {
			q, err := query.Parse(groupQuery(e.Key))
			if err != nil {
				continue
			}
			ors = append(ors, q.Root)
		}
		found := map[string]*inboxRow{}
		if len(ors) > 0 && len(ors) <= 200 {
			var n query.Node = &query.Or{X: ors}
			if len(ors) == 1 {
				n = ors[0]
			}
			rows, res, err := s.groupRows(ctx, s.storeFilter(body.Filter, alertsOnly, n), es[0].Key.Fields)
			if err != nil {
				return err
			}
			body.TimedOut = body.TimedOut || res.TimedOut
			for _, r := range rows {
				found[r.KeyText] = r
			}
		}
		for _, e := range es {
			row := found[e.Key.String()]
			if row == nil {
				row = &inboxRow{Key: e.Key, KeyText: e.Key.String(), Search: groupQuery(e.Key)}
				for i, f := range e.Key.Fields {
					row.Fields = append(row.Fields, keyField{Name: f, Value: e.Key.Values[i], Absent: e.Key.Values[i] == triage.Absent})
				}
			}
			row.Escalated = true
			body.Total += row.Count
			all = append(all, row)
		}
	}
	body.Groups = len(all)
	body.Rows = s.pageRows(ctx, all, body.Page)
	return nil
}

// fillArchived lists archive marks that can still hide alerts in the range.
func (s *Server) fillArchived(ctx context.Context, body *inboxBody) error {
	archives, err := s.deps.Triage.Archives(ctx, body.Filter.FromTime)
	if err != nil {
		return err
	}
	body.Groups = len(archives)
	start := (body.Page - 1) * inboxPageSize
	if start < len(archives) {
		body.Archives = archives[start:min(start+inboxPageSize, len(archives))]
	}
	return nil
}

// triageAction applies archive, unarchive, escalate or deescalate to the
// groups selected on an inbox page (or the one whose button was pressed).
func (s *Server) triageAction(w http.ResponseWriter, r *http.Request) {
	action := r.PostFormValue("action")
	if action == "" { // a row's own button names its action in the form's URL
		action = r.URL.Query().Get("action")
	}
	back := safeNext(r.PostFormValue("back"))
	var picked []string
	if one := r.PostFormValue("one"); one != "" {
		picked = []string{one}
	} else {
		picked = r.PostForm["g"]
	}
	if len(picked) == 0 {
		s.renderError(w, r, http.StatusBadRequest, "Select at least one group.")
		return
	}
	if len(picked) > 1000 {
		s.renderError(w, r, http.StatusBadRequest, "At most 1000 groups at once.")
		return
	}
	var items []triage.ArchiveItem
	var keys []triage.Key
	for _, p := range picked {
		ks, last, _ := strings.Cut(p, "|")
		k, err := triage.ParseKey(ks)
		if err != nil {
			s.renderError(w, r, http.StatusBadRequest, "Invalid group: "+err.Error())
			return
		}
		for _, f := range k.Fields {
			if _, err := store.GroupField(f); err != nil {
				s.renderError(w, r, http.StatusBadRequest, "Invalid group: "+err.Error())
				return
			}
		}
		keys = append(keys, k)
		if action == "archive" {
			t, err := time.Parse(time.RFC3339Nano, last)
			if err != nil {
				s.renderError(w, r, http.StatusBadRequest, "Invalid group: its last-seen time is missing or malformed.")
				return
			}
			items = append(items, triage.ArchiveItem{Key: k, Through: t})
		}
	}
	user := caller(r).sess.User
	var err error
	var done string
	switch action {
	case "archive":
		err, done = s.deps.Triage.ArchiveGroups(r.Context(), user, items), "archived"
	case "unarchive":
		err, done = s.deps.Triage.Unarchive(r.Context(), user, keys), "unarchived"
	case "escalate":
		err, done = s.deps.Triage.SetEscalated(r.Context(), user, keys, true), "escalated"
	case "deescalate":
		err, done = s.deps.Triage.SetEscalated(r.Context(), user, keys, false), "deescalated"
	default:
		s.renderError(w, r, http.StatusBadRequest, "Unknown action: archive, unarchive, escalate or deescalate.")
		return
	}
	if err != nil {
		s.triageFailed(w, r, err)
		return
	}
	http.Redirect(w, r, withDone(back, done, len(keys)), http.StatusSeeOther)
}

// withDone adds the ?done= notice code to a return URL.
func withDone(back, done string, n int) string {
	u, err := url.Parse(back)
	if err != nil {
		return "/inbox"
	}
	v := u.Query()
	v.Set("done", done)
	v.Set("n", strconv.Itoa(n))
	v.Del("partial")
	u.RawQuery = v.Encode()
	return u.String()
}
