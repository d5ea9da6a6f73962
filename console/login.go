package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alertgw/alertgw/console/auth"
)

// checkLogin verifies a user name and password under the failed-login
// limits, logging every failure with the client's address. On failure it
// returns the HTTP status and the message to show.
func (s *Server) checkLogin(r *http.Request, name, password, via string) (*auth.User, int, string) {
	now := s.now()
	client := clientAddr(r)
	ipKey, userKey := "ip:"+client, "user:"+name
	if ok, wait := s.ipLim.Allow(ipKey, now); !ok {
		s.log.Warn().Str("client", client).Str("user", name).Str("via", via).Msg("console: login refused: too many failed logins from this address")
		return nil, http.StatusTooManyRequests, fmt.Sprintf("Too many failed logins from your address: try again in %s.", roundUp(wait))
	}
	if ok, wait := s.usrLim.Allow(userKey, now); !ok {
		s.log.Warn().Str("client", client).Str("user", name).Str("via", via).Msg("console: login refused: too many failed logins for this user")
		return nil, http.StatusTooManyRequests, fmt.Sprintf("Too many failed logins for this user: try again in %s.", roundUp(wait))
	}
	u, known := s.users.Lookup(name)
	if known && via == "api" && s.basic.ok(basicKey(name, password, u.Hash), now) {
		return &u, 0, ""
	}
	hash := u.Hash
	if !known {
		hash = auth.DummyHash() // same work for unknown users: no enumeration by timing
	}
	match, err := auth.CheckPassword(hash, password)
	if err != nil {
		s.log.Error().Err(err).Str("user", name).Msg("console: the users file holds a password hash that cannot be checked")
	}
	if !known || !match {
		reason := "wrong password"
		if !known {
			reason = "unknown user"
		}
		n := s.ipLim.Fail(ipKey, now)
		s.usrLim.Fail(userKey, now)
		s.log.Warn().Str("client", client).Str("user", name).Str("via", via).Str("reason", reason).Int("failures_from_client", n).Msg("console: failed login")
		return nil, http.StatusUnauthorized, "Wrong user name or password."
	}
	s.ipLim.Succeed(ipKey)
	s.usrLim.Succeed(userKey)
	if via == "api" {
		s.basic.put(basicKey(name, password, u.Hash), now)
	}
	return &u, 0, ""
}

func roundUp(d time.Duration) time.Duration {
	return d.Round(time.Second) + time.Second
}

type loginBody struct {
	User, Next, Token string
	LinkHint          bool
}

// loginPage shows the form, with a fresh login token in a cookie and in the
// form (a login cannot be forged from another site).
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.session(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, "", "")
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, user, msg string) {
	// Keep the browser's login token while it has one, so that two login
	// pages open at once (or a stray request for /favicon.ico) do not
	// invalidate each other's form.
	token := ""
	if c, err := r.Cookie(s.cookieName(loginCookie)); err == nil && len(c.Value) == len(auth.RandomToken()) {
		token = c.Value
	} else {
		token = auth.RandomToken()
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(loginCookie), Value: token, Path: "/", HttpOnly: true,
		Secure: s.tls, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	s.render(w, r, status, "login", page{Title: "Log in", Error: msg,
		Body: loginBody{User: user, Next: safeNext(next), Token: token, LinkHint: s.linkActive()}})
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(s.cookieName(loginCookie))
	if err != nil || !auth.TokensEqual(c.Value, r.PostFormValue("token")) {
		s.log.Warn().Str("client", clientAddr(r)).Msg("console: login form without its token refused (expired, or posted from another site)")
		s.showLogin(w, r, http.StatusForbidden, "", "The login form expired: please try again.")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("user"))
	password := r.PostFormValue("password")
	if name == "" || password == "" || len(name) > 64 || len(password) > 1024 {
		s.showLogin(w, r, http.StatusBadRequest, name, "Enter a user name and a password.")
		return
	}
	u, status, msg := s.checkLogin(r, name, password, "form")
	if u == nil {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "60")
		}
		s.showLogin(w, r, status, name, msg)
		return
	}
	s.startSession(w, auth.Session{User: u.Name, Role: u.Role, HashPrint: auth.HashPrint(u.Hash)})
	s.log.Info().Str("user", u.Name).Str("role", string(u.Role)).Str("client", clientAddr(r)).Msg("console: login")
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(loginCookie), Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.tls})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) startSession(w http.ResponseWriter, sess auth.Session) {
	token, _ := s.sess.Create(sess, s.now())
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(sessionCookie), Value: token, Path: "/", HttpOnly: true,
		Secure: s.tls, SameSite: http.SameSiteLaxMode, MaxAge: int(s.opts.SessionMax / time.Second)})
}

// loginLink opens a session with the start-up link's token (only while no
// users exist and on loopback), then drops the token from the address bar.
func (s *Server) loginLink(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	now := s.now()
	client := clientAddr(r)
	if ok, wait := s.ipLim.Allow("ip:"+client, now); !ok {
		s.renderError(w, r, http.StatusTooManyRequests, fmt.Sprintf("Too many failed logins from your address: try again in %s.", roundUp(wait)))
		return
	}
	if !s.linkActive() || !auth.TokensEqual(token, s.link) {
		s.ipLim.Fail("ip:"+client, now)
		s.log.Warn().Str("client", client).Msg("console: login link refused (wrong token, or users exist now)")
		s.renderError(w, r, http.StatusUnauthorized, "This login link is not valid (anymore): log in with a user (`alertgw user add NAME` creates one).")
		return
	}
	s.startSession(w, auth.Session{User: "local", Role: auth.RoleAnalyst, ByLink: true})
	s.log.Info().Str("client", client).Msg("console: login with the start-up link")
	http.Redirect(w, r, "/inbox", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	c := caller(r)
	s.sess.Delete(c.token)
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(sessionCookie), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.tls, SameSite: http.SameSiteLaxMode})
	s.log.Info().Str("user", c.sess.User).Str("client", clientAddr(r)).Msg("console: logout")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on the console: a path, never
// another host ("//evil", "/\evil", "https://…").
func safeNext(next string) string {
	if next == "" || len(next) > 4096 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/inbox"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" || strings.ContainsAny(next, "\r\n\t") {
		return "/inbox"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func appendJSONString(b []byte, s string) []byte {
	enc, _ := json.Marshal(s)
	return append(b, enc...)
}
