// Package tlsconf is the client TLS configuration block that every plugin
// connecting to a server over TLS shares (outputs, the kafka input).
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
)

// Client is the client TLS block shared by the network outputs and the
// kafka input:
//
//	tls:
//	  enabled: true
//	  ca_file: /etc/alertgw/ca.pem        # default: the system roots
//	  cert_file: /etc/alertgw/client.pem  # client certificate (mutual TLS)
//	  key_file: /etc/alertgw/client.key
//	  server_name: kafka.example.org      # default: from the address
//	  insecure_skip_verify: false
type Client struct {
	// Enabled turns TLS on for the connections.
	Enabled bool `mapstructure:"enabled"`
	// CAFile is a PEM file of the CAs that may sign the server's
	// certificate; empty: the system's roots.
	CAFile string `mapstructure:"ca_file"`
	// CertFile is the PEM client certificate presented to the server
	// (mutual TLS); it goes with key_file.
	CertFile string `mapstructure:"cert_file"`
	// KeyFile is the PEM private key of cert_file.
	KeyFile string `mapstructure:"key_file"`
	// ServerName is the name the server's certificate must carry; empty:
	// the host of the address or URL.
	ServerName string `mapstructure:"server_name"`
	// InsecureSkipVerify turns certificate verification off (logged as a
	// warning at start): anyone on the path can then read and change what
	// the plugin sends. For tests only.
	InsecureSkipVerify bool `mapstructure:"insecure_skip_verify"`
}

// Validate implements config.Validator (call it from the output's own).
func (t *Client) Validate() config.Problems {
	var p config.Problems
	if (t.CertFile == "") != (t.KeyFile == "") {
		p.Add("cert_file", "cert_file and key_file go together")
	}
	return p
}

// PathUses implements config.PathLister: the files are read at start when
// TLS is enabled.
func (t *Client) PathUses() []config.PathUse {
	if !t.Enabled {
		return nil
	}
	return []config.PathUse{
		{Key: "ca_file", Path: t.CAFile, Use: config.PathRead},
		{Key: "cert_file", Path: t.CertFile, Use: config.PathRead},
		{Key: "key_file", Path: t.KeyFile, Use: config.PathRead},
	}
}

// PathUsesWhenOn is PathUses for a block whose owner turns TLS on itself
// (the forward output always, syslog with network: tls): its files, with
// keys under prefix, when the block does not say enabled (when it does, it
// lists them itself).
func (t Client) PathUsesWhenOn(prefix string) []config.PathUse {
	if t.Enabled {
		return nil
	}
	t.Enabled = true
	uses := t.PathUses()
	for i := range uses {
		uses[i].Key = prefix + "." + uses[i].Key
	}
	return uses
}

// ConfigFor is Config, logging loudly when certificate verification is off.
func (t *Client) ConfigFor(log zerolog.Logger) (*tls.Config, error) {
	if t.Enabled && t.InsecureSkipVerify {
		log.Warn().Msg("tls.insecure_skip_verify is set: the server's certificate is NOT verified, anyone on the path can read and change what this output sends")
	}
	return t.Config()
}

// Config builds the tls.Config, or nil when TLS is off.
func (t *Client) Config() (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // the user's explicit choice
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca_file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca_file %s: no PEM certificate found", t.CAFile)
		}
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
