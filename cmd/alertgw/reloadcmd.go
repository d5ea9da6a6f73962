package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/internal/admin"
)

// reloadCmd asks a running gateway to reload its configuration file, as
// SIGHUP does, and prints the outcome. Reloading changes state, so it goes
// through the admin socket (file permissions), or to admin.listen with the
// bearer token of admin.token_file (docs/security.md).
func reloadCmd() *cobra.Command {
	var t adminTarget
	c := &cobra.Command{
		Use:   "reload",
		Short: "Make a running gateway reload its configuration file (like SIGHUP), printing any problem",
		Long: `Reload asks a running gateway to reload its configuration file, as SIGHUP does.

It uses, in this order: the admin socket (--socket, or admin.socket of --config)
when it exists, whose file permissions decide who may reload; else admin.listen
(--addr) with the bearer token read from --token-file (or admin.token_file of
--config). Without either the gateway refuses: reloading changes its state.`,
		Example: `  alertgw reload                               # ./run/admin.sock (the default configuration's)
  alertgw reload -c /etc/alertgw/alertgw.yaml  # that file's admin.socket, or admin.listen + admin.token_file
  alertgw reload --addr 10.0.0.5:9477 --token-file /etc/alertgw/admin-token`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := t.resolve(cmd); err != nil {
				return &exitError{code: 2, err: err}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 60*time.Second)
			defer cancel()
			body, code, err := t.post(ctx, "/-/reload")
			if err != nil {
				return fmt.Errorf("is the gateway running with admin.listen or admin.socket set? %w", err)
			}
			if code != http.StatusOK {
				return &exitError{code: 1, err: fmt.Errorf("%s", strings.TrimSpace(body))}
			}
			fmt.Fprint(cmd.OutOrStdout(), body)
			return nil
		},
	}
	f := c.Flags()
	f.StringVarP(&t.config, "config", "c", "", "the gateway's configuration file: its admin.socket, admin.listen and admin.token_file")
	f.StringVar(&t.addr, "addr", admin.DefaultListen, "the gateway's admin endpoint (admin.listen)")
	f.StringVar(&t.socket, "socket", admin.DefaultSocket, "the gateway's admin socket (admin.socket), used when it exists")
	f.StringVar(&t.tokenFile, "token-file", "", "file holding the bearer token (admin.token_file), for --addr")
	return c
}

// adminTarget is how a command reaches a running gateway's admin endpoint.
type adminTarget struct {
	config, addr, socket, tokenFile string
	token                           string
}

// resolve takes what the flags left unset from the configuration file,
// and reads the token.
func (t *adminTarget) resolve(cmd *cobra.Command) error {
	if t.config != "" {
		f, _, err := config.Load(t.config, os.Environ())
		if err != nil {
			return err
		}
		set := cmd.Flags().Changed
		if !set("socket") {
			t.socket = f.Admin.Socket
		}
		if !set("addr") {
			t.addr = f.Admin.Listen
		}
		if !set("token-file") {
			t.tokenFile = f.Admin.TokenFile
		}
	}
	if t.useSocket() {
		return nil // file permissions, no token
	}
	if t.tokenFile != "" {
		tok, err := admin.ReadTokenFile(t.tokenFile)
		if err != nil {
			return err
		}
		t.token = tok
	}
	if t.addr == "" {
		return fmt.Errorf("no admin endpoint: the gateway has neither admin.listen nor an admin.socket at %q", t.socket)
	}
	return nil
}

// useSocket reports whether the admin socket is there to use.
func (t *adminTarget) useSocket() bool {
	if t.socket == "" {
		return false
	}
	fi, err := os.Stat(t.socket)
	return err == nil && fi.Mode()&os.ModeSocket != 0
}

// post sends a state-changing request: JSON, with the token over TCP.
func (t *adminTarget) post(ctx context.Context, path string) (body string, code int, err error) {
	client, base := http.DefaultClient, "http://"+t.addr
	if t.useSocket() {
		sock := t.socket
		client = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
		base = "http://localhost" // the Host header; the socket is what counts
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader("{}"))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if t.token != "" && !t.useSocket() {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return string(b), resp.StatusCode, nil
}
