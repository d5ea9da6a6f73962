package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/alertgw/alertgw/console/triage"
	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/store"
)

const groupEvents = 50

type groupBody struct {
	Filter    filterForm
	Ranges    []rangeLink
	Row       inboxRow
	Found     bool
	Archived  *triage.Archive
	Escalated *triage.Escalation
	Notes     []triage.Note
	Audit     []triage.AuditEntry
	Events    []eventRow
	Columns   []string
	More      bool
	TimedOut  bool
	Back      string
	Target    string
}

// groupPage shows one inbox group: its fields and counts, its triage state
// and history, notes, and its newest alerts.
func (s *Server) groupPage(w http.ResponseWriter, r *http.Request) {
	k, err := triage.ParseKey(r.URL.Query().Get("k"))
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
	f := s.parseFilter(r, "24h")
	if f.Err != "" {
		s.renderError(w, r, http.StatusBadRequest, f.Err)
		return
	}
	gq, err := query.Parse(groupQuery(k))
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "This group cannot be searched: "+err.Error())
		return
	}
	ctx := r.Context()
	body := groupBody{Filter: f, Back: safeNext(r.URL.RequestURI()), Target: triage.GroupTarget(k), Columns: defaultColumns}
	keep := f.values()
	keep.Set("k", k.String())
	body.Ranges = rangeLinks("/group", keep, f.Range)
	flt := s.storeFilter(f, gq.Root)
	rows, res, err := s.groupRows(ctx, flt, k.Fields)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	body.TimedOut = res.TimedOut
	body.Row = inboxRow{Key: k, KeyText: k.String(), Search: groupQuery(k)}
	for i, fl := range k.Fields {
		kf := keyField{Name: fl, Value: k.Values[i], Absent: k.Values[i] == triage.Absent}
		if !kf.Absent {
			kf.Pivot = string(pivotURL(fl, kf.Value))
		}
		body.Row.Fields = append(body.Row.Fields, kf)
	}
	for _, row := range rows {
		if row.KeyText == k.String() {
			body.Row, body.Found = *row, true
		}
	}
	archives, err := s.deps.Triage.Archives(ctx, time.Time{})
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	for _, a := range archives {
		if a.Key.String() == k.String() {
			body.Archived = &a
		}
	}
	escalations, err := s.deps.Triage.Escalations(ctx)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	for _, e := range escalations {
		if e.Key.String() == k.String() {
			body.Escalated = &e
			body.Row.Escalated = true
		}
	}
	if body.Notes, err = s.deps.Triage.Notes(ctx, body.Target); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if body.Audit, err = s.deps.Triage.Audit(ctx, k.String(), 50, 0); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	evs, err := s.deps.Store.Events(ctx, store.EventsRequest{Filter: flt, Limit: groupEvents})
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	body.More, body.TimedOut = evs.Next != "", body.TimedOut || evs.TimedOut
	body.Events = eventRows(evs.Events, body.Columns)
	title := body.Row.SigName
	if title == "" {
		title = "Group"
	}
	s.render(w, r, http.StatusOK, "group", page{Title: title, Nav: "inbox", Notice: doneNotice(r), Body: body})
}

// addNote adds a note to a group or an event.
func (s *Server) addNote(w http.ResponseWriter, r *http.Request) {
	target := r.PostFormValue("target")
	text := strings.TrimSpace(r.PostFormValue("text"))
	back := safeNext(r.PostFormValue("back"))
	switch {
	case strings.HasPrefix(target, "group:"):
		if _, err := triage.ParseKey(strings.TrimPrefix(target, "group:")); err != nil {
			s.renderError(w, r, http.StatusBadRequest, "Invalid group: "+err.Error())
			return
		}
	case strings.HasPrefix(target, "event:"):
		if !validEventID(strings.TrimPrefix(target, "event:")) {
			s.renderError(w, r, http.StatusBadRequest, "Invalid event id.")
			return
		}
	default:
		s.renderError(w, r, http.StatusBadRequest, "A note belongs to a group or an event.")
		return
	}
	if text == "" {
		s.renderError(w, r, http.StatusBadRequest, "The note is empty.")
		return
	}
	if len(text) > triage.MaxNoteLen {
		s.renderError(w, r, http.StatusBadRequest, "The note is longer than 4000 bytes.")
		return
	}
	if err := s.deps.Triage.AddNote(r.Context(), caller(r).sess.User, target, text); err != nil {
		s.triageFailed(w, r, err)
		return
	}
	http.Redirect(w, r, withDone(back, "noted", 1), http.StatusSeeOther)
}

// validEventID accepts what the store's ids look like (hex, bounded), so
// that a crafted id never reaches a query or a page unchecked.
func validEventID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
