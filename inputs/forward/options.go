package forward

import (
	"fmt"
	"net"
	"time"

	"github.com/alertgw/alertgw/config"
)

// Options are the forward block's own keys.
type Options struct {
	// Listen is host:port. The default is loopback: a fleet's central
	// gateway listens on an address the sensors reach (0.0.0.0:8443).
	Listen string `mapstructure:"listen"`
	// TLS is always on: the server certificate, and the CA that signs the
	// sensors' client certificates (client_ca_file) for mutual TLS.
	TLS ServerTLS `mapstructure:"tls"`
	// AllowedClients lists the certificate identities (common name, else
	// first DNS name or URI) allowed to send; empty: every certificate the
	// client CA signed.
	AllowedClients []string `mapstructure:"allowed_clients"`
	// Tokens are bearer tokens accepted instead of a client certificate,
	// each standing for an identity.
	Tokens []Token `mapstructure:"tokens"`
	// Relays are identities that forward other gateways' events (a site
	// aggregator): their events keep the source.sensor they carry. Every
	// other sender's events are recorded under its own identity.
	Relays []string `mapstructure:"relays"`
	// MaxBody bounds one request body once decompressed.
	MaxBody config.Size `mapstructure:"max_body"`
	// MaxPendingEvents bounds the events handed to the pipeline and not yet
	// safe in every output; a request beyond it is answered 429 (full), and
	// the sender keeps its events in its own buffer.
	MaxPendingEvents int `mapstructure:"max_pending_events"`
	// AckTimeout is how long a request waits for its events to be safe in
	// every output before it is answered 503 (the sender retries; the
	// events may then arrive twice).
	AckTimeout time.Duration `mapstructure:"ack_timeout"`
	// ShutdownWait is how long requests already taken in may still wait
	// for their acknowledgement once the gateway stops. Keep it below the
	// pipeline's shutdown_timeout.
	ShutdownWait time.Duration `mapstructure:"shutdown_wait"`
	// Ingest enables the NDJSON endpoint for other shippers.
	Ingest Ingest `mapstructure:"ingest"`
}

// ServerTLS is the forward input's TLS block.
type ServerTLS struct {
	// CertFile is the server certificate (PEM), naming every host name and
	// address the senders dial; reread when the file changes.
	CertFile string `mapstructure:"cert_file" path:"read"`
	// KeyFile is the server certificate's private key (PEM).
	KeyFile string `mapstructure:"key_file" path:"read"`
	// ClientCAFile is the CA (PEM) that signs the senders' client
	// certificates: a sender must present one it signed, or a token.
	ClientCAFile string `mapstructure:"client_ca_file" path:"read"`
}

// Token is one accepted bearer token.
type Token struct {
	// Identity is the name the token stands for, recorded as the events'
	// sensor.
	// "*" is a shared token: events keep the source.sensor they carry,
	// which nothing then checks.
	Identity string `mapstructure:"identity"`
	// Token is the secret itself (at least 16 characters); or give file.
	Token config.Secret `mapstructure:"token"`
	// File reads the token from a file (trailing newlines removed).
	File string `mapstructure:"file"`
}

// Ingest formats.
const (
	IngestAuto   = "auto"   // native events by their "schema" member, EVE otherwise
	IngestEVE    = "eve"    // Suricata EVE JSON only
	IngestNative = "native" // alertgw native JSON only
)

// Ingest is the optional NDJSON endpoint (/alertgw/v1/ingest).
type Ingest struct {
	// Enabled serves POST /alertgw/v1/ingest (NDJSON).
	Enabled bool `mapstructure:"enabled"`
	// Format is what the lines are: auto (native events by their first
	// member "schema", EVE otherwise), eve or native.
	Format string `mapstructure:"format"`
	// MaxLine bounds one line (event).
	MaxLine config.Size `mapstructure:"max_line"`
}

// DefaultOptions returns the defaults.
func DefaultOptions() *Options {
	return &Options{
		Listen:           "127.0.0.1:8443",
		MaxBody:          64 << 20,
		MaxPendingEvents: 200_000,
		AckTimeout:       30 * time.Second,
		ShutdownWait:     5 * time.Second,
		Ingest:           Ingest{Format: IngestAuto, MaxLine: 1 << 20},
	}
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		p.Add("listen", "must be host:port; got %q", o.Listen)
	}
	if o.TLS.CertFile == "" || o.TLS.KeyFile == "" {
		p.Add("tls.cert_file", "the forward input always uses TLS: give tls.cert_file and tls.key_file")
	}
	if o.TLS.ClientCAFile == "" && len(o.Tokens) == 0 {
		p.Add("tls.client_ca_file", "senders must authenticate: give tls.client_ca_file (client certificates) or tokens")
	}
	if len(o.AllowedClients) > 0 && o.TLS.ClientCAFile == "" {
		p.Add("allowed_clients", "needs tls.client_ca_file")
	}
	seen := map[string]bool{}
	for i, t := range o.Tokens {
		key := fmt.Sprintf("tokens[%d]", i)
		if t.Identity == "" {
			p.Add(key+".identity", "name the identity the token stands for (or \"*\" for a shared token)")
		}
		if (t.Token == "") == (t.File == "") {
			p.Add(key+".token", "give token or file, one of them")
		}
		if seen[t.Identity] && t.Identity != "*" {
			p.Add(key+".identity", "%q has two tokens", t.Identity)
		}
		seen[t.Identity] = true
	}
	if o.MaxBody < 1<<10 || o.MaxBody > 1<<30 {
		p.Add("max_body", "must be between 1KiB and 1GiB")
	}
	if o.MaxPendingEvents < 1 {
		p.Add("max_pending_events", "must be at least 1")
	}
	if o.AckTimeout < time.Second {
		p.Add("ack_timeout", "must be at least 1s; got %s", o.AckTimeout)
	}
	if o.ShutdownWait < 0 || o.ShutdownWait > time.Minute {
		p.Add("shutdown_wait", "must be between 0 and 1m; got %s", o.ShutdownWait)
	}
	switch o.Ingest.Format {
	case IngestAuto, IngestEVE, IngestNative:
	default:
		p.Add("ingest.format", "must be auto, eve or native; got %q", o.Ingest.Format)
	}
	if o.Ingest.MaxLine < 1<<10 || o.Ingest.MaxLine > config.Size(o.MaxBody) {
		p.Add("ingest.max_line", "must be between 1KiB and max_body")
	}
	return p
}
