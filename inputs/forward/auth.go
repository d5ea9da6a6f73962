package forward

import (
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/internal/pki"
	"github.com/alertgw/alertgw/stats"
)

// Reasons a sender is refused, counted in alertgw_input_forward_refused_total.
// The certificate reasons come from pki (unknown_authority, expired, …).
const (
	refusedNoCredentials = "no_credentials" // neither a client certificate nor a token
	refusedBadToken      = "bad_token"
	refusedNotAllowed    = "not_allowed" // a valid certificate whose identity allowed_clients does not list
)

// auth decides who a request comes from.
type auth struct {
	roots   *x509.CertPool // nil: no client certificates
	allowed []string       // empty: any identity roots signed
	tokens  []tokenEntry
	relays  []string
	refused stats.Reasons
	log     zerolog.Logger // sampled: a misconfigured sensor retries often
}

type tokenEntry struct {
	identity string
	secret   []byte
}

func newAuth(o *Options, log zerolog.Logger) (*auth, error) {
	a := &auth{allowed: o.AllowedClients, relays: o.Relays,
		log: log.Sample(&zerolog.BurstSampler{Burst: 5, Period: time.Minute})}
	if o.TLS.ClientCAFile != "" {
		pem, err := os.ReadFile(o.TLS.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls client_ca_file: %w", err)
		}
		a.roots = x509.NewCertPool()
		if !a.roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls client_ca_file %s: no PEM certificate found", o.TLS.ClientCAFile)
		}
	}
	for _, t := range o.Tokens {
		secret := t.Token.Reveal()
		if t.File != "" {
			b, err := os.ReadFile(t.File)
			if err != nil {
				return nil, fmt.Errorf("token of %s: %w", t.Identity, err)
			}
			secret = strings.TrimRight(string(b), "\r\n")
		}
		if len(secret) < 16 {
			return nil, fmt.Errorf("token of %s: at least 16 characters", t.Identity)
		}
		a.tokens = append(a.tokens, tokenEntry{identity: t.Identity, secret: []byte(secret)})
	}
	return a, nil
}

// tlsConfig is the server side of the handshake. Client certificates are
// requested, not required by the TLS stack, so that a refused one is
// counted by reason here (and so that token senders need none).
func (a *auth) tlsConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := pki.NewCertLoader(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cert.GetCertificate, NextProtos: []string{"http/1.1"}}
	if a.roots != nil {
		c.ClientAuth = tls.RequestClientCert
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				if len(a.tokens) == 0 {
					a.refused.Add(pki.RefusedNoCertificate, 1)
					a.log.Warn().Msg("sender refused: no client certificate")
					return errors.New("a client certificate is required")
				}
				return nil // a token must come with the request
			}
			if _, err := pki.VerifyClient(a.roots, cs.PeerCertificates, time.Now()); err != nil {
				var re *pki.RefusedError
				if errors.As(err, &re) {
					a.refused.Add(re.Reason, 1)
				}
				a.log.Warn().Err(err).Str("subject", cs.PeerCertificates[0].Subject.String()).Msg("sender refused")
				return err
			}
			return nil
		}
	}
	return c, nil
}

// sender is who a request comes from.
type sender struct {
	identity string
	relay    bool // its events keep their own source.sensor
}

// identify checks a request's credentials; on failure it returns the HTTP
// status to answer and counts the reason.
func (a *auth) identify(r *http.Request) (sender, int, error) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && a.roots != nil {
		// Verified in the handshake (VerifyConnection).
		id := pki.Identity(r.TLS.PeerCertificates[0])
		if len(a.allowed) > 0 && !slices.Contains(a.allowed, id) {
			a.refused.Add(refusedNotAllowed, 1)
			return sender{}, http.StatusForbidden, fmt.Errorf("client %q is not in allowed_clients", id)
		}
		return sender{identity: id, relay: slices.Contains(a.relays, id)}, 0, nil
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || len(a.tokens) == 0 {
		a.refused.Add(refusedNoCredentials, 1)
		return sender{}, http.StatusUnauthorized, errors.New("a client certificate or a bearer token is required")
	}
	for _, t := range a.tokens {
		if subtle.ConstantTimeCompare([]byte(tok), t.secret) == 1 {
			if t.identity == "*" {
				return sender{identity: "*", relay: true}, 0, nil
			}
			return sender{identity: t.identity, relay: slices.Contains(a.relays, t.identity)}, 0, nil
		}
	}
	a.refused.Add(refusedBadToken, 1)
	return sender{}, http.StatusUnauthorized, errors.New("unknown token")
}
