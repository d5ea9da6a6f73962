package console

import (
	"net/http"
	"strconv"

	"github.com/alertgw/alertgw/console/triage"
)

const auditPageSize = 100

type auditBody struct {
	Entries []triage.AuditEntry
	Page    int
	More    bool
	Target  string
}

// auditPage lists triage actions, newest first, 100 a page.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if pg < 1 || pg > 10_000 {
		pg = 1
	}
	target := r.URL.Query().Get("target")
	if len(target) > triage.MaxTargetLen {
		s.renderError(w, r, http.StatusBadRequest, "The target is too long.")
		return
	}
	entries, err := s.deps.Triage.Audit(r.Context(), target, auditPageSize+1, (pg-1)*auditPageSize)
	if err != nil {
		s.log.Error().Err(err).Msg("console: reading the audit trail")
		s.renderError(w, r, http.StatusInternalServerError, "The triage database could not be read (logged).")
		return
	}
	more := len(entries) > auditPageSize
	if more {
		entries = entries[:auditPageSize]
	}
	s.render(w, r, http.StatusOK, "audit", page{Title: "Audit trail", Nav: "audit",
		Body: auditBody{Entries: entries, Page: pg, More: more, Target: target}})
}
