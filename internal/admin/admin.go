// Package admin serves the gateway's operational HTTP endpoint: Prometheus
// metrics, Kubernetes-style health probes, a JSON status document that
// `alertgw status` prints, and the configuration reload. It serves them on
// admin.listen (TCP) and admin.socket (a Unix socket); who may do what is
// in access.go.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/stats"
)

// DefaultListen is where the endpoint listens unless configured otherwise.
const DefaultListen = "127.0.0.1:9477"

// DefaultSocket is the admin socket of the embedded default configuration.
const DefaultSocket = "./run/admin.sock"

// Server is the admin endpoint.
type Server struct {
	reg     *stats.Registry
	version string
	started time.Time
	log     zerolog.Logger
	ln      net.Listener   // admin.listen; nil when "" (socket only)
	sockets []net.Listener // admin.socket
	reload  func() error
	metrics http.Handler

	token     string // admin.token_file's bearer token; "" refuses changes on ln
	secretsMu sync.Mutex
	secrets   []string
	scrub     atomic.Pointer[strings.Replacer]
	csrf      *http.CrossOriginProtection
	refuseLog zerolog.Logger
	grace     time.Duration // admin.failure_grace
	rates     Rates
	coll      *Collector
}

// SetFailureGrace sets how long an output may fail every attempt before
// the gateway is no longer ready (call before Serve).
func (s *Server) SetFailureGrace(d time.Duration) {
	s.grace = d
	s.coll.grace = d
}

// SetToken sets the bearer token that state-changing requests on
// admin.listen must carry (call before Serve).
func (s *Server) SetToken(token string) {
	s.token = token
	s.AddSecrets(token)
}

// AddSocket serves every route on ln as well, a Unix socket whose file
// permissions decide who may connect: state-changing requests need no
// token there (call before Serve). Serve closes it.
func (s *Server) AddSocket(ln net.Listener) { s.sockets = append(s.sockets, ln) }

// SetReload installs what POST /-/reload runs (call before Serve).
func (s *Server) SetReload(fn func() error) { s.reload = fn }

// New builds the endpoint on listen (host:port; "" for none, when only a
// socket is added). It binds at once, so that a port in use fails
// start-up.
func New(listen string, reg *stats.Registry, version string, log zerolog.Logger) (*Server, error) {
	s := &Server{reg: reg, version: version, started: time.Now(), log: log,
		csrf: http.NewCrossOriginProtection(), refuseLog: newRefuseLog(log),
		grace: DefaultFailureGrace, coll: NewCollector(reg, version)}
	if listen != "" {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return nil, fmt.Errorf("admin endpoint: %w", err)
		}
		s.ln = ln
	}
	promReg := prometheus.NewRegistry()
	promReg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		s.coll,
		extraCollector{reg},
	)
	s.metrics = promhttp.HandlerFor(promReg, promhttp.HandlerOpts{ErrorLog: nil})
	return s, nil
}

// handler is the routes as served on one listener: tokenNeeded on
// admin.listen, not on the socket.
func (s *Server) handler(tokenNeeded bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.scrubbed(s.readyz))
	mux.HandleFunc("GET /status", s.scrubbed(s.status))
	mux.Handle("POST /-/reload", s.guard(s.reloadConfig, tokenNeeded))
	return mux
}

// Addr is the bound address (useful with port 0); "" without one.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Serve serves every listener until ctx is cancelled.
func (s *Server) Serve(ctx context.Context) error {
	type served struct {
		srv *http.Server
		ln  net.Listener
	}
	var all []served
	if s.ln != nil {
		h := s.handler(true)
		if IsLoopback(s.ln.Addr().String()) {
			h = loopbackHost(h)
		}
		all = append(all, served{&http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, s.ln})
	}
	for _, ln := range s.sockets {
		all = append(all, served{&http.Server{Handler: s.handler(false), ReadHeaderTimeout: 5 * time.Second}, ln})
	}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		s.rates.Record(s.reg, time.Now())
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				s.rates.Record(s.reg, now)
			}
		}
	}()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, a := range all {
			if err := a.srv.Shutdown(shut); err != nil {
				s.log.Warn().Err(err).Msg("admin endpoint: connections still open at shutdown were closed")
			}
		}
	}()
	errs := make(chan error, len(all))
	for _, a := range all {
		go func() {
			err := a.srv.Serve(a.ln)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errs <- err
		}()
	}
	var err error
	for range all {
		if e := <-errs; e != nil {
			err = errors.Join(err, fmt.Errorf("admin endpoint: %w", e))
		}
	}
	return err
}

func (s *Server) snapshot() Status {
	return Snapshot(s.reg, s.version, s.started, s.grace, &s.rates)
}

// readyz answers 200 "ready" or 503 "not ready", each followed by the
// reasons, one per line: what is not ready, then what is degraded.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	st := s.snapshot()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !st.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready")
	} else {
		fmt.Fprintln(w, "ready")
	}
	for _, r := range st.NotReady {
		fmt.Fprintln(w, r)
	}
	for _, r := range st.Degraded {
		fmt.Fprintln(w, "degraded: "+r)
	}
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s.snapshot()); err != nil {
		s.log.Debug().Err(err).Msg("status: client went away")
	}
}

func (s *Server) reloadConfig(w http.ResponseWriter, _ *http.Request) {
	if s.reload == nil {
		http.Error(w, "reload is not available", http.StatusNotImplemented)
		return
	}
	if err := s.reload(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "reloaded")
}
