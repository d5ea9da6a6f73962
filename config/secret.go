package config

import (
	"fmt"
	"os"
	"strings"
)

// Secret is a credential (password, token, API key). It is given inline,
// through an ALERTGW_* variable (ALERTGW_OUTPUTS_SIEM_PASSWORD=…), or read
// from a file named by the sibling *_file key (password_file: /run/secrets/x),
// which is how Kubernetes and systemd hand secrets over. It prints as
// [redacted], so that it never reaches a log line.
type Secret string

// String implements fmt.Stringer: never the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// MarshalJSON keeps the value out of structured logs too.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Reveal returns the value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// Load reads the secret from file when one is named (trailing newlines
// removed, as `echo` and most secret stores add one).
func (s *Secret) Load(file string) error {
	if file == "" {
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read secret: %w", err)
	}
	*s = Secret(strings.TrimRight(string(b), "\r\n"))
	return nil
}

// CheckSecret reports a secret given both inline and by file.
func CheckSecret(p *Problems, key string, s Secret, file string) {
	if s != "" && file != "" {
		p.Add(key+"_file", "give %s or %s_file, not both", key, key)
	}
}
