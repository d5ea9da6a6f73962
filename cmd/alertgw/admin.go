package main

import (
	"os"
	"reflect"
	"strings"

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
func buildAdmin(f *config.File, ins []decodedInput, outs []decodedOutput, reg *stats.Registry, reload *reloader, log zerolog.Logger) (*admin.Server, error) {
	srv, err := admin.New(f.Admin.Listen, reg, version, log)
	if err != nil {
		return nil, err
	}
	srv.SetReload(reload.Reload)
	srv.SetFailureGrace(f.Admin.FailureGrace)
	reload.secrets = srv.AddSecrets // inputs and outputs a reload builds may bring new ones
	for _, d := range outs {
		srv.AddSecrets(secretsOf(d.opts)...)
	}
	for _, d := range ins {
		srv.AddSecrets(secretsOf(d.opts)...) // the forward input's tokens, the kafka input's SASL password
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
			out = append(out, secretFiles(v)...)
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

// secretFiles returns the contents of the files that hold the secrets of
// struct v: beside a Secret field whose key is K, the field whose key is
// K_file (password_file, token_file …) or, for a struct holding one
// secret, file. A plugin may read such a file into a copy of its options,
// so the file itself is read here; one that cannot be read is left out.
func secretFiles(v reflect.Value) []string {
	t := v.Type()
	key := func(f reflect.StructField) string {
		k, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		return k
	}
	var out []string
	for i := range t.NumField() {
		if t.Field(i).Type != reflect.TypeFor[outputs.Secret]() {
			continue
		}
		k := key(t.Field(i))
		for j := range t.NumField() {
			if fk := key(t.Field(j)); (fk == k+"_file" || fk == "file") && t.Field(j).Type.Kind() == reflect.String && v.Field(j).Len() > 0 {
				if b, err := os.ReadFile(v.Field(j).String()); err == nil {
					if s := strings.TrimRight(string(b), "\r\n"); s != "" {
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}
