package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/alertgw/alertgw/config"
)

// TestSecretsOfInputsAndFiles: the admin endpoint redacts every credential
// of the inputs' and outputs' options, inline or read from a file the
// plugin reads into a copy of its options (the forward input's token
// files, a SASL password_file).
func TestSecretsOfInputsAndFiles(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	forwardTokens := map[string]any{"listen": "127.0.0.1:0", "tls": map[string]any{"cert_file": "/c.pem", "key_file": "/c.key"}, "tokens": []any{
		map[string]any{"identity": "s1", "token": "inline-token-0123456789"},
		map[string]any{"identity": "s2", "file": file("tok", "file-token-0123456789\n")},
	}}
	kafkaSASL := map[string]any{"brokers": []any{"127.0.0.1:9092"}, "topics": []any{"t"},
		"sasl": map[string]any{"mechanism": "PLAIN", "username": "u", "password_file": file("pw", "sasl-password-from-file\n")}}
	for _, tc := range []struct {
		typ  string
		opts map[string]any
		want []string
	}{
		{"forward", forwardTokens, []string{"inline-token-0123456789", "file-token-0123456789"}},
		{"kafka", kafkaSASL, []string{"sasl-password-from-file"}},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			p, ok := inputPlugins[tc.typ]
			if !ok {
				t.Fatalf("no input type %s", tc.typ)
			}
			opts := p.Options()
			if probs := config.Decode(tc.opts, "", opts); len(probs) > 0 {
				t.Fatal(probs)
			}
			got := secretsOf(opts)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("secrets %q lack %q", got, w)
				}
			}
		})
	}
}
