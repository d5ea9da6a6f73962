package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/stats"
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

// TestAdminRedactsInputSecrets: the admin endpoint buildAdmin makes never
// shows an input's credential, here a forward token read from its file
// that an input's problem happens to carry.
func TestAdminRedactsInputSecrets(t *testing.T) {
	dir := t.TempDir()
	const token = "file-token-9f8e7d6c5b4a"
	tokFile := filepath.Join(dir, "tok")
	if err := os.WriteFile(tokFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := inputPlugins["forward"].Options()
	if probs := config.Decode(map[string]any{"listen": "127.0.0.1:0", "tls": map[string]any{"cert_file": "/c.pem", "key_file": "/c.key"},
		"tokens": []any{map[string]any{"identity": "s2", "file": tokFile}}}, "", opts); len(probs) > 0 {
		t.Fatal(probs)
	}
	addr := freePort(t)
	f := &config.File{Admin: config.Admin{Listen: addr}}
	reg := stats.NewRegistry()
	in := reg.Input("fleet", "forward")
	in.Up.Store(true) // running: its check is what /readyz asks
	in.SetCheck(func() error { return fmt.Errorf("refused a sender presenting %s", token) })
	srv, err := buildAdmin(f, []decodedInput{{opts: opts}}, nil, reg, &reloader{}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)
	waitFor(t, 5*time.Second, "the admin endpoint", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	for _, path := range []string{"/readyz", "/status"} {
		_, body := httpGet(t, "http://"+addr+path)
		if strings.Contains(body, token) || !strings.Contains(body, "[redacted]") {
			t.Errorf("%s: %s", path, body)
		}
	}
}
