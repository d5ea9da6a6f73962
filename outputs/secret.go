package outputs

import "github.com/alertgw/alertgw/config"

// Secret is a credential (password, token, API key): config.Secret, shared
// with the inputs that connect to servers. It prints as [redacted].
type Secret = config.Secret

// CheckSecret reports a secret given both inline and by file.
func CheckSecret(p *config.Problems, key string, s Secret, file string) {
	config.CheckSecret(p, key, s, file)
}
