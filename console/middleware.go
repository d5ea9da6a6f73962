package console

import (
	"context"
	"crypto/sha256"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/alertgw/alertgw/console/auth"
)

// Cookie names. Under TLS the session cookie takes the __Host- prefix, which
// browsers only accept with Secure, Path=/ and no Domain: no other host or
// path can set or shadow it.
const (
	sessionCookie = "alertgw_console"
	loginCookie   = "alertgw_login"
)

func (s *Server) cookieName(base string) string {
	if s.tls {
		return "__Host-" + base
	}
	return base
}

// securityHeaders sets what every response carries: a strict Content
// Security Policy (scripts and styles only from the console itself, no
// inline script, nothing framed), no sniffing, no referrer (links carry
// queries), and no caching of pages with data.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

type ctxKey struct{}

// who is the authenticated caller of a request.
type who struct {
	sess  *auth.Session
	token string // the session cookie's value; "" for HTTP basic auth
}

func caller(r *http.Request) *who {
	w, _ := r.Context().Value(ctxKey{}).(*who)
	return w
}

// session returns the request's live session, checked against the users
// file: a deleted user, a changed role or password, or a link session once
// users exist, ends it.
func (s *Server) session(r *http.Request) (*auth.Session, string, bool) {
	c, err := r.Cookie(s.cookieName(sessionCookie))
	if err != nil || c.Value == "" {
		return nil, "", false
	}
	sess, ok := s.sess.Get(c.Value, s.now())
	if !ok {
		return nil, "", false
	}
	if sess.ByLink {
		if !s.linkActive() {
			s.sess.Delete(c.Value)
			return nil, "", false
		}
		return sess, c.Value, true
	}
	u, ok := s.users.Lookup(sess.User)
	if !ok || u.Role != sess.Role || auth.HashPrint(u.Hash) != sess.HashPrint {
		s.sess.Delete(c.Value)
		return nil, "", false
	}
	return sess, c.Value, true
}

// authed wraps a page: without a session a GET goes to the login page (and
// back afterwards), anything else is refused. Requests that change state
// must carry the session's CSRF token, and need the analyst role when
// triage is set.
func (s *Server) authed(h http.HandlerFunc, triage bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, token, ok := s.session(r)
		if !ok {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.renderError(w, r, http.StatusUnauthorized, "Your session has ended: log in again.")
			return
		}
		if !isSafeMethod(r.Method) {
			if !auth.TokensEqual(csrfFrom(r), sess.CSRF) {
				s.log.Warn().Str("user", sess.User).Str("path", r.URL.Path).Str("client", clientAddr(r)).Msg("console: request without a valid CSRF token refused")
				s.renderError(w, r, http.StatusForbidden, "This form has expired or did not come from the console: reload the page and try again.")
				return
			}
		}
		if triage && !sess.Role.CanTriage() {
			s.renderError(w, r, http.StatusForbidden, "Your role ("+string(sess.Role)+") can read and search but not triage; an analyst can.")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, &who{sess: sess, token: token})))
	})
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// csrfFrom is the token a request carries: the X-CSRF-Token header (scripts
// and fetch) or the csrf form field. The body is limited first.
func csrfFrom(r *http.Request) string {
	if t := r.Header.Get("X-CSRF-Token"); t != "" {
		return t
	}
	return r.PostFormValue("csrf")
}

// clientAddr is the peer's address (never a forwarded header, which anyone
// can write).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// slowRequest is how long a request may take before it is logged.
const slowRequest = time.Second

// logSlow logs requests that took longer than slowRequest, with their
// path (not the query, which may be sensitive), so that an operator sees
// what the store struggles with.
func (s *Server) logSlow(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		if d := time.Since(start); d > slowRequest {
			s.log.Info().Str("method", r.Method).Str("path", r.URL.Path).Dur("took", d).Msg("console: slow request")
		}
	})
}

// limitBody bounds what a form may send.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		next.ServeHTTP(w, r)
	})
}

// basicCache remembers for a minute that a user name and password were
// right, so that a script calling the API with HTTP basic auth does not pay
// an argon2id hash per request. It keys on a hash of the credentials and the
// stored password hash, so a changed password is not served from it.
type basicCache struct {
	mu sync.Mutex
	m  map[[32]byte]time.Time
}

const basicTTL = time.Minute

func newBasicCache() *basicCache { return &basicCache{m: map[[32]byte]time.Time{}} }

func basicKey(user, password, storedHash string) [32]byte {
	return sha256.Sum256([]byte(user + "\x00" + password + "\x00" + storedHash))
}

func (c *basicCache) ok(k [32]byte, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[k]
	return ok && now.Sub(t) < basicTTL
}

func (c *basicCache) put(k [32]byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 1000 {
		for k, t := range c.m {
			if now.Sub(t) >= basicTTL {
				delete(c.m, k)
			}
		}
	}
	c.m[k] = now
}

// apiAuthed guards the store's search API: a console session (a GET needs
// no CSRF token; anything else does) or HTTP basic auth with a console user,
// for scripts. Failures answer 401 in JSON and count toward the login limit.
func (s *Server) apiAuthed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sess, token, ok := s.session(r); ok {
			if !isSafeMethod(r.Method) && !auth.TokensEqual(r.Header.Get("X-CSRF-Token"), sess.CSRF) {
				writeJSONError(w, http.StatusForbidden, "missing or wrong X-CSRF-Token header")
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, &who{sess: sess, token: token})))
			return
		}
		user, password, ok := r.BasicAuth()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="alertgw console", charset="UTF-8"`)
			writeJSONError(w, http.StatusUnauthorized, "log in to the console, or use HTTP basic auth with a console user")
			return
		}
		u, status, msg := s.checkLogin(r, user, password, "api")
		if u == nil {
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Basic realm="alertgw console", charset="UTF-8"`)
			}
			writeJSONError(w, status, msg)
			return
		}
		sess := &auth.Session{User: u.Name, Role: u.Role}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, &who{sess: sess})))
	})
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// A client that went away cannot be told anything else.
	_, _ = w.Write(append(appendJSONString([]byte(`{"error":`), msg), "}\n"...))
}
