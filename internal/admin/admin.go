// Package admin serves the gateway's operational HTTP endpoint: Prometheus
// metrics, Kubernetes-style health probes and a JSON status document that
// `alertgw status` prints. It only reads the pipeline's counters.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/stats"
)

// DefaultListen is where the endpoint listens unless configured otherwise.
const DefaultListen = "127.0.0.1:9477"

// Server is the admin endpoint.
type Server struct {
	reg     *stats.Registry
	version string
	started time.Time
	log     zerolog.Logger
	srv     *http.Server
	ln      net.Listener
	reload  func() error
}

// SetReload installs what POST /-/reload runs (call before Serve).
func (s *Server) SetReload(fn func() error) { s.reload = fn }

// New builds the endpoint on listen (host:port). It binds at once, so that
// a port in use fails start-up.
func New(listen string, reg *stats.Registry, version string, log zerolog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("admin endpoint: %w", err)
	}
	s := &Server{reg: reg, version: version, started: time.Now(), log: log, ln: ln}
	promReg := prometheus.NewRegistry()
	promReg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		NewCollector(reg, version),
		extraCollector{reg},
	)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(promReg, promhttp.HandlerOpts{ErrorLog: nil}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /status", s.status)
	mux.HandleFunc("POST /-/reload", s.reloadConfig)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return s, nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx is cancelled.
func (s *Server) Serve(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.srv.Shutdown(shut)
	}()
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin endpoint: %w", err)
	}
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	st := Snapshot(s.reg, s.version, s.started)
	if !st.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
		for _, r := range st.NotReady {
			fmt.Fprintln(w, r)
		}
		return
	}
	fmt.Fprintln(w, "ready")
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(Snapshot(s.reg, s.version, s.started))
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
