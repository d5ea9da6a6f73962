package console

import (
	"net/http"
)

// routes is the console's URL space. Every page but the login and the
// static assets needs a session; POSTs need the session's CSRF token (and
// CrossOriginProtection refuses cross-site ones before that); triage needs
// the analyst role.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.loginSubmit)
	mux.HandleFunc("GET /login/link", s.loginLink)
	mux.Handle("POST /logout", s.authed(s.logout, false))
	mux.Handle("GET /{$}", http.RedirectHandler("/inbox", http.StatusSeeOther))

	mux.Handle("GET /inbox", s.authed(s.inbox, false))
	mux.Handle("POST /triage", s.authed(s.triageAction, true))
	mux.Handle("GET /group", s.authed(s.groupPage, false))
	mux.Handle("POST /notes", s.authed(s.addNote, true))
	mux.Handle("GET /search", s.authed(s.search, false))
	mux.Handle("GET /export", s.authed(s.export, false))
	mux.Handle("GET /event/{id}", s.authed(s.eventPage, false))
	mux.Handle("GET /overview", s.authed(s.overview, false))
	if s.deps.API != nil {
		// The store's search API, for scripts and the pages' own use,
		// behind the same login (session or HTTP basic auth).
		mux.Handle("/api/", s.apiAuthed(s.deps.API))
	}
	mux.Handle("GET /mutes", s.authed(s.mutesPage, false))
	mux.Handle("POST /mutes", s.authed(s.addMute, true))
	mux.Handle("POST /mutes/{id}/delete", s.authed(s.deleteMute, true))
	mux.Handle("GET /audit", s.authed(s.auditPage, false))
	mux.Handle("GET /favicon.ico", http.RedirectHandler("/static/favicon.svg", http.StatusMovedPermanently))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, http.StatusNotFound, "There is no such page.")
	})

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn().Str("path", r.URL.Path).Str("origin", r.Header.Get("Origin")).Str("client", clientAddr(r)).Msg("console: cross-origin request refused")
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	return s.logSlow(securityHeaders(cop.Handler(limitBody(mux))))
}
