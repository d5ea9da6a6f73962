// Package kafkaconn builds the connection part of a franz-go client —
// brokers, client id, TLS and SASL — the same way for the kafka output and
// the kafka input, from the same configuration keys.
package kafkaconn

import (
	"strings"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/internal/tlsconf"
)

// SASL authenticates to the brokers.
type SASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty: no SASL.
	Mechanism string `mapstructure:"mechanism"`
	// Username is the SASL user.
	Username string `mapstructure:"username"`
	// Password is the SASL password.
	Password config.Secret `mapstructure:"password"`
	// PasswordFile reads the password from a file.
	PasswordFile string `mapstructure:"password_file" path:"read"`
}

// Validate reports problems of the connection keys (brokers, sasl, tls).
func Validate(p *config.Problems, brokers []string, sasl SASL, tls tlsconf.Client) {
	if len(brokers) == 0 {
		p.Add("brokers", "at least one broker address (host:port) is needed")
	}
	switch strings.ToUpper(sasl.Mechanism) {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if sasl.Username == "" {
			p.Add("sasl.username", "required with a SASL mechanism")
		}
	default:
		p.Add("sasl.mechanism", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; got %q", sasl.Mechanism)
	}
	config.CheckSecret(p, "sasl.password", sasl.Password, sasl.PasswordFile)
	*p = append(*p, tls.Validate().Prefixed("tls")...)
}

// Opts returns the client options of the connection keys. It reads the
// SASL password file.
func Opts(brokers []string, clientID string, sasl SASL, tls tlsconf.Client, log zerolog.Logger) ([]kgo.Opt, error) {
	if err := sasl.Password.Load(sasl.PasswordFile); err != nil {
		return nil, err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ClientID(clientID)}
	tc, err := tls.ConfigFor(log)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	switch strings.ToUpper(sasl.Mechanism) {
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: sasl.Username, Pass: sasl.Password.Reveal()}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: sasl.Username, Pass: sasl.Password.Reveal()}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: sasl.Username, Pass: sasl.Password.Reveal()}.AsSha512Mechanism()))
	}
	return opts, nil
}
