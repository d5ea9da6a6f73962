package main

import (
	"reflect"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs/unixsock"
	"github.com/alertgw/alertgw/internal/admin"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/stats"
)

// buildAdmin builds the admin endpoint of f.Admin: the TCP listener, the
// bearer token, the Unix socket, and the secrets it must never show.
// Serve runs it.
func buildAdmin(f *config.File, outs []decodedOutput, reg *stats.Registry, reload *reloader, log zerolog.Logger) (*admin.Server, error) {
	srv, err := admin.New(f.Admin.Listen, reg, version, log)
	if err != nil {
		return nil, err
	}
	srv.SetReload(reload.Reload)
	srv.SetFailureGrace(f.Admin.FailureGrace)
	reload.secrets = srv.AddSecrets // outputs a reload builds may bring new ones
	for _, d := range outs {
		srv.AddSecrets(secretsOf(d.opts)...)
	}
	if f.Admin.TokenFile != "" {
		tok, err := admin.ReadTokenFile(f.Admin.TokenFile)
		if err != nil {
			return nil, err
		}
		srv.SetToken(tok)
	}
	if f.Admin.Socket != "" {
		ln, err := unixsock.ListenStream(f.Admin.Socket, f.Admin.SocketMode, log)
		if err != nil {
			return nil, err
		}
		srv.AddSocket(ln)
	}
	routes := "/metrics /healthz /readyz /status, POST /-/reload"
	if addr := srv.Addr(); addr != "" {
		ev := log.Info()
		if !admin.IsLoopback(addr) && f.Admin.TokenFile == "" {
			// Loudly: anyone who reaches the address reads the metrics
			// and status; reload is refused there.
			ev = log.Warn().Str("security", "admin endpoint beyond loopback without admin.token_file").
				Str("hint", "anyone who can reach this address can read /metrics and /status; POST /-/reload is refused on it: set admin.token_file (then it needs the token), or bind admin.listen to 127.0.0.1 and use admin.socket or SIGHUP")
		}
		ev.Str("listen", addr).Bool("token", f.Admin.TokenFile != "").Str("routes", routes).Msg("admin endpoint listening")
	}
	if f.Admin.Socket != "" {
		log.Info().Str("socket", f.Admin.Socket).Str("mode", f.Admin.SocketMode.String()).Str("routes", routes).
			Msg("admin endpoint on a Unix socket: whoever may open it may reload")
	}
	return srv, nil
}

// secretsOf returns the credentials (outputs.Secret values, inline or
// read from their files) in decoded options, so that the admin endpoint
// never shows them, whatever an error message carries.
func secretsOf(opts any) []string {
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Map:
			for it := v.MapRange(); it.Next(); {
				walk(it.Value())
			}
		case reflect.String:
			if v.Type() == reflect.TypeFor[outputs.Secret]() && v.Len() > 0 {
				out = append(out, v.String())
			}
		}
	}
	walk(reflect.ValueOf(opts))
	return out
}
