package admin

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Access control of the admin endpoint; the threat model is in
// docs/security.md.
//
//   - Read-only routes (/metrics, /healthz, /readyz, /status) are open on
//     every listener: they show counters and names, never data or secrets
//     (configured secrets and URL passwords are scrubbed from /status and
//     /readyz, whatever an error message carries).
//   - Routes that change state (POST /-/reload) need, on admin.listen, the
//     bearer token of admin.token_file; without one they are refused there.
//     On admin.socket, a Unix socket, the file's permissions are the check
//     (mode 0600 by default: the gateway's user and root).
//   - Everywhere, a state-changing request must be a JSON POST
//     (Content-Type: application/json, a JSON or empty body) and not a
//     cross-origin browser request: a web page cannot send one without a
//     CORS preflight, which is never granted, so forms and fetches from
//     pages a local browser opens are refused.
//   - On a loopback listener, the Host header must name a loopback address
//     or localhost, so that a page cannot reach the endpoint through a DNS
//     name rebound to 127.0.0.1.

// MinTokenLen is the shortest token accepted: 128 bits of hex.
const MinTokenLen = 32

// ReadTokenFile reads the bearer token of admin.token_file: trailing
// newlines removed; refused when others than the owner and group may read
// it, or shorter than MinTokenLen.
func ReadTokenFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("admin.token_file: %w", err)
	}
	if fi.Mode().Perm()&0o007 != 0 {
		return "", fmt.Errorf("admin.token_file %s is readable by everyone (%s): make it 0600 or 0640 (chmod o-rwx)", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("admin.token_file: %w", err)
	}
	tok := strings.TrimRight(string(b), "\r\n")
	if len(tok) < MinTokenLen || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("admin.token_file %s: want one line of at least %d characters without spaces (e.g. `openssl rand -hex 32`)", path, MinTokenLen)
	}
	return tok, nil
}

// IsLoopback reports whether a host:port listen address is reachable only
// from this host. An empty host (":9477") means every address.
func IsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard wraps a state-changing handler with the checks above. tokenNeeded
// is false on the Unix socket.
func (s *Server) guard(h http.HandlerFunc, tokenNeeded bool) http.Handler {
	checked := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			s.refused(r, "not JSON")
			http.Error(w, "send a JSON request (Content-Type: application/json); form posts are refused", http.StatusUnsupportedMediaType)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil || (len(strings.TrimSpace(string(body))) > 0 && !json.Valid(body)) {
			s.refused(r, "body not JSON")
			http.Error(w, "the body must be JSON (or empty)", http.StatusBadRequest)
			return
		}
		if tokenNeeded {
			if s.token == "" {
				s.refused(r, "no admin.token_file")
				http.Error(w, "state-changing requests are refused on admin.listen without admin.token_file: set one (and send it as a bearer token), use admin.socket, or send SIGHUP", http.StatusForbidden)
				return
			}
			if !bearerMatches(r.Header.Get("Authorization"), s.token) {
				s.refused(r, "bad or missing token")
				w.Header().Set("WWW-Authenticate", `Bearer realm="alertgw"`)
				http.Error(w, "a valid bearer token (admin.token_file) is required", http.StatusUnauthorized)
				return
			}
		}
		h(w, r)
	})
	return s.csrf.Handler(checked)
}

// bearerMatches compares an Authorization header with the token in
// constant time.
func bearerMatches(header, token string) bool {
	got, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}

// refused logs a refused state-changing request (rate-limited).
func (s *Server) refused(r *http.Request, why string) {
	s.refuseLog.Warn().Str("method", r.Method).Str("path", r.URL.Path).Str("remote", r.RemoteAddr).
		Str("reason", why).Msg("admin request refused")
}

// loopbackHost refuses, on a loopback listener, requests whose Host header
// is a name other than localhost: a DNS name rebound to 127.0.0.1.
func loopbackHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			http.Error(w, "this endpoint listens on loopback: use a loopback address or localhost as the host", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// urlPassword matches the password of a URL's user information.
var urlPassword = regexp.MustCompile(`(://[^:/@\s]*):[^@/\s]*@`)

// AddSecrets names values that must never be shown: the configured
// secrets (output credentials, the admin token). /status and /readyz
// replace them, and URL passwords, with [redacted]. Safe while serving
// (a reload adds the secrets of the outputs it builds).
func (s *Server) AddSecrets(values ...string) {
	s.secretsMu.Lock()
	defer s.secretsMu.Unlock()
	for _, v := range values {
		if len(v) >= 4 && !slices.Contains(s.secrets, v) { // shorter ones would redact ordinary words
			s.secrets = append(s.secrets, v)
		}
	}
	pairs := make([]string, 0, 2*len(s.secrets))
	for _, v := range s.secrets {
		pairs = append(pairs, v, "[redacted]")
	}
	s.scrub.Store(strings.NewReplacer(pairs...))
}

// redact removes secrets and URL passwords from a text shown to clients.
func (s *Server) redact(text string) string {
	text = urlPassword.ReplaceAllString(text, "$1:[redacted]@")
	if r := s.scrub.Load(); r != nil {
		text = r.Replace(text)
	}
	return text
}

// redacting buffers a response and writes it scrubbed.
type redacting struct {
	http.ResponseWriter
	buf  strings.Builder
	code int
}

func (r *redacting) Write(b []byte) (int, error) { return r.buf.Write(b) }
func (r *redacting) WriteHeader(code int)        { r.code = code }

// scrubbed serves h's response with secrets redacted.
func (s *Server) scrubbed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rw := &redacting{ResponseWriter: w, code: http.StatusOK}
		h(rw, r)
		w.WriteHeader(rw.code)
		_, _ = io.WriteString(w, s.redact(rw.buf.String())) // the client went away: nothing to do
	}
}

// newRefuseLog rate-limits the refused-request lines.
func newRefuseLog(log zerolog.Logger) zerolog.Logger {
	return log.Sample(&zerolog.BurstSampler{Burst: 10, Period: 10 * time.Second})
}
