// Package console is alertgw's web console: the analyst's inbox of grouped
// alerts with triage (archive, escalate, notes, mutes), search with a
// histogram and export, the event page with its transaction across sources,
// and an overview that shows the gateway's own losses beside the traffic.
// Pages are rendered on the server with html/template (every value a sensor
// sent is escaped) and a little vanilla JavaScript; everything is embedded
// in the binary. Access needs a login (package auth) whenever the console is
// reachable from other hosts.
package console

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/console/auth"
	"github.com/alertgw/alertgw/console/triage"
	"github.com/alertgw/alertgw/store"
)

// Deps are what the console reads and writes besides its options.
type Deps struct {
	// Store is what the pages read; its HTTP search API (API) is mounted
	// under /api/ behind the console's login.
	Store   store.Reader
	API     http.Handler
	Triage  *triage.Store
	Log     zerolog.Logger
	Version string
}

// Server is a running console.
type Server struct {
	opts   Options
	deps   Deps
	log    zerolog.Logger
	users  *auth.Directory
	sess   *auth.Sessions
	ipLim  *auth.Limiter // failed logins per client address
	usrLim *auth.Limiter // failed logins per user name
	basic  *basicCache
	tls    bool
	// link is the start-up login link's secret; "" when there is none.
	link string

	srv *http.Server
	ln  net.Listener
	now func() time.Time
}

// Failed-login limits: a client address gets 10 tries per 15 minutes, a
// user name 20 (so that one address cannot lock a user out alone, and many
// addresses together still cannot guess quickly).
const (
	ipFailures   = 10
	userFailures = 20
	failWindow   = 15 * time.Minute
	maxSessions  = 10_000
	archiveKeep  = 366 * 24 * time.Hour
)

// New checks the options against the users file and binds the listener:
// a console reachable from other hosts without users refuses to start.
func New(opts Options, deps Deps) (*Server, error) {
	if opts.Listen == "" {
		return nil, errors.New("console: listen is empty")
	}
	users, err := auth.NewDirectory(opts.Users)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	users.OnError(func(err error) {
		deps.Log.Error().Err(err).Str("users", opts.Users).Msg("console: the users file cannot be read; the users read before stay in force until it can (check its owner and mode: it must be readable by the user the console runs as)")
	})
	s := &Server{
		opts:   opts,
		deps:   deps,
		log:    deps.Log,
		users:  users,
		sess:   auth.NewSessions(opts.SessionIdle, opts.SessionMax, maxSessions),
		ipLim:  auth.NewLimiter(ipFailures, failWindow),
		usrLim: auth.NewLimiter(userFailures, failWindow),
		basic:  newBasicCache(),
		tls:    opts.TLS.Cert != "",
		now:    time.Now,
	}
	var tlsConf *tls.Config
	if s.tls {
		cert, err := tls.LoadX509KeyPair(opts.TLS.Cert, opts.TLS.Key)
		if err != nil {
			return nil, fmt.Errorf("console tls: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	// Decide on the bound address, not the configured name: "localhost"
	// could resolve to anything.
	loopback := false
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		loopback = a.IP.IsLoopback()
	}
	if !loopback && users.Len() == 0 {
		ln.Close()
		return nil, fmt.Errorf("console: %s is reachable from other hosts and the users file %s has no users: add one with `alertgw user add NAME` (or bind to 127.0.0.1)", opts.Listen, opts.Users)
	}
	if loopback && users.Len() == 0 && opts.LoginLink {
		s.link = auth.RandomToken()
	}
	if !loopback && !s.tls {
		s.log.Warn().Str("listen", opts.Listen).Msg("console: reachable from other hosts without TLS: passwords and session cookies cross the network in clear; set console.tls.cert and console.tls.key")
	}
	// Archive marks older than a year can no longer hide anything a
	// store keeps in practice; dropping them keeps the inbox's lookup small.
	if n, err := deps.Triage.Prune(context.Background(), time.Now().Add(-archiveKeep)); err != nil {
		s.log.Warn().Err(err).Msg("console: pruning old archive marks")
	} else if n > 0 {
		s.log.Info().Int64("removed", n).Msg("console: archive marks older than a year removed")
	}
	s.ln = ln
	if tlsConf != nil {
		s.ln = tls.NewListener(ln, tlsConf)
	}
	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Exports stream for longer than a page; they are bounded by
		// their row limit and the query timeout instead.
		WriteTimeout:   5 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       nil,
	}
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the console's base URL.
func (s *Server) URL() string {
	scheme := "http"
	if s.tls {
		scheme = "https"
	}
	return scheme + "://" + s.Addr()
}

// LoginLink is the start-up login link, or "" when there is none (users
// exist, the console is not on loopback, or login_link is off).
func (s *Server) LoginLink() string {
	if s.link == "" {
		return ""
	}
	return s.URL() + "/login/link?token=" + url.QueryEscape(s.link)
}

// linkActive reports whether the login link still works: only while the
// users file is empty (adding a user ends it, and the sessions it opened).
func (s *Server) linkActive() bool { return s.link != "" && s.users.Len() == 0 }

// Serve serves until ctx is cancelled.
func (s *Server) Serve(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(shut); err != nil {
			s.log.Warn().Err(err).Msg("console: connections still open at shutdown were closed")
		}
	}()
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

// Announce logs where the console is and how to get in.
func (s *Server) Announce() {
	ev := s.log.Info().Str("url", s.URL()).Str("listen", describeListen(s.opts.Listen)).Str("users", s.opts.Users)
	if link := s.LoginLink(); link != "" {
		ev.Str("login_link", link).Msg("console: no users yet; open the login link (valid until the first `alertgw user add`)")
		return
	}
	ev.Int("user_count", s.users.Len()).Msg("console: log in with a user of the users file")
}
