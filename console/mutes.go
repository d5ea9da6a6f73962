package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alertgw/alertgw/console/triage"
	"github.com/alertgw/alertgw/query"
)

type mutesBody struct {
	Mutes   []muteRow
	Query   string // the form's values, kept when they are refused
	Comment string
}

type muteRow struct {
	triage.Mute
	Hidden   int64 // alerts it hid in the last 24 h
	HasCount bool
}

func (s *Server) mutesPage(w http.ResponseWriter, r *http.Request) {
	s.showMutes(w, r, http.StatusOK, "", "", "", doneNotice(r))
}

func (s *Server) showMutes(w http.ResponseWriter, r *http.Request, status int, q, comment, errMsg, notice string) {
	mutes, err := s.deps.Triage.Mutes(r.Context())
	if err != nil {
		s.log.Error().Err(err).Msg("console: reading mutes")
		s.renderError(w, r, http.StatusInternalServerError, "The triage database could not be read (logged).")
		return
	}
	rows := make([]muteRow, len(mutes))
	for i, m := range mutes {
		rows[i] = muteRow{Mute: m}
	}
	s.countMuted(r, rows)
	s.render(w, r, status, "mutes", page{Title: "Mutes", Nav: "mutes", Error: errMsg, Notice: notice,
		Body: mutesBody{Mutes: rows, Query: q, Comment: comment}})
}

// checkQuery parses a query typed into a form and returns the message to
// show under it when it is wrong: the position and the problem, with the
// query cut at that point so the analyst sees where.
func checkQuery(text string, maxLen int) (*query.Query, string) {
	if len(text) > maxLen {
		return nil, "The query is longer than " + strconv.Itoa(maxLen) + " bytes."
	}
	q, err := query.Parse(text)
	if err != nil {
		var qe *query.Error
		if errors.As(err, &qe) {
			return nil, "Query error at position " + strconv.Itoa(qe.Pos+1) + ": " + qe.Msg + "\n" + qe.Pointer(text)
		}
		return nil, "Query error: " + err.Error()
	}
	return q, ""
}

func (s *Server) addMute(w http.ResponseWriter, r *http.Request) {
	text := strings.TrimSpace(r.PostFormValue("query"))
	comment := strings.TrimSpace(r.PostFormValue("comment"))
	if text == "" {
		s.showMutes(w, r, http.StatusBadRequest, text, comment, "A mute needs a query (for example signature.id:2013028 src_ip:10.1.2.3).", "")
		return
	}
	q, msg := checkQuery(text, triage.MaxQueryLen)
	if msg != "" {
		s.showMutes(w, r, http.StatusBadRequest, text, comment, msg, "")
		return
	}
	if len(comment) > triage.MaxCommentLen {
		s.showMutes(w, r, http.StatusBadRequest, text, comment, "The comment is longer than "+strconv.Itoa(triage.MaxCommentLen)+" bytes.", "")
		return
	}
	// Keep the canonical form: it re-parses to the same query and shows
	// the analyst how it was understood.
	if _, err := s.deps.Triage.AddMute(r.Context(), caller(r).sess.User, q.String(), comment); err != nil {
		s.triageFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/mutes?done=muted", http.StatusSeeOther)
}

func (s *Server) deleteMute(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.renderError(w, r, http.StatusBadRequest, "No such mute.")
		return
	}
	if err := s.deps.Triage.DeleteMute(r.Context(), caller(r).sess.User, id); err != nil {
		s.triageFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/mutes?done=unmuted", http.StatusSeeOther)
}

// triageFailed reports a triage write that did not happen.
func (s *Server) triageFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, triage.ErrInvalid) {
		s.renderError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	s.log.Error().Err(err).Msg("console: triage write failed")
	s.renderError(w, r, http.StatusInternalServerError, "The triage database could not be written (logged); nothing was changed.")
}

// doneNotice turns the ?done= code of a redirect after a POST into its
// message. Only fixed messages: a link cannot put text of its choosing on
// the page.
func doneNotice(r *http.Request) string {
	n := r.URL.Query().Get("n")
	if _, err := strconv.Atoi(n); err != nil {
		n = ""
	}
	switch r.URL.Query().Get("done") {
	case "muted":
		return "Mute added."
	case "unmuted":
		return "Mute removed."
	case "archived":
		return "Archived " + n + " group(s)."
	case "unarchived":
		return "Restored " + n + " group(s) to the inbox."
	case "escalated":
		return "Escalated " + n + " group(s)."
	case "deescalated":
		return "De-escalated " + n + " group(s)."
	case "noted":
		return "Note added."
	}
	return ""
}

// countMuted fills in how many alerts each mute hid in the last 24 hours
// (left as n/a when the store is slow, fails, or there are too many mutes).
func (s *Server) countMuted(r *http.Request, rows []muteRow) {
	if s.deps.Store == nil {
		return
	}
	now := s.now().UTC()
	base := s.storeFilter(filterForm{FromTime: now.Add(-24 * time.Hour), ToTime: now}, alertsOnly)
	for i := range rows {
		if i >= maxMuteCounts {
			return
		}
		q, err := query.Parse(rows[i].Query)
		if err != nil || q.Root == nil {
			continue
		}
		n, timedOut, err := s.count(r.Context(), withNode(base, q.Root))
		if err != nil {
			s.log.Warn().Err(err).Str("mute", rows[i].Query).Msg("console: counting a mute")
			continue
		}
		rows[i].Hidden, rows[i].HasCount = n, !timedOut
	}
}
