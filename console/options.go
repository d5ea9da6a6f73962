package console

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/store"
)

// DefaultListen is the console's address in the embedded default config.
const DefaultListen = "127.0.0.1:8470"

// Options is the console: section of the configuration.
type Options struct {
	// Listen is host:port for the web console; "" turns it off. Beyond
	// loopback the console refuses to start unless the users file has users.
	Listen string `mapstructure:"listen"`
	// Store names the output (type store or postgres) whose events the
	// console shows; "" picks the only one.
	Store string `mapstructure:"store"`
	// Users is the users file that `alertgw user add|passwd|del` manages.
	Users string `mapstructure:"users"`
	// TLS serves HTTPS from these PEM files (both or neither); session
	// cookies are then marked Secure.
	TLS TLSOptions `mapstructure:"tls"`
	// SessionIdle ends a session unused for this long.
	SessionIdle time.Duration `mapstructure:"session_idle"`
	// SessionMax ends any session this old.
	SessionMax time.Duration `mapstructure:"session_max"`
	// Refresh is how often an open inbox reloads its rows; 0 turns live
	// refresh off.
	Refresh time.Duration `mapstructure:"refresh"`
	// LoginLink prints a login link at start when the users file is empty
	// and the console is on loopback (the quick start's way in).
	LoginLink bool `mapstructure:"login_link"`
	// QueryTimeout cuts a page's store queries (at most 1m, the store's
	// limit for one request); the page says so.
	QueryTimeout time.Duration `mapstructure:"query_timeout"`
}

// TLSOptions are the certificate and key files.
type TLSOptions struct {
	Cert string `mapstructure:"cert" path:"read"`
	Key  string `mapstructure:"key" path:"read"`
}

// DefaultOptions are the options of an absent or empty console: section
// (the console off).
func DefaultOptions() *Options {
	return &Options{
		Users:        "./data/console/users",
		SessionIdle:  2 * time.Hour,
		SessionMax:   12 * time.Hour,
		Refresh:      15 * time.Second,
		LoginLink:    true,
		QueryTimeout: 10 * time.Second,
	}
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if o.Listen != "" {
		if _, port, err := net.SplitHostPort(o.Listen); err != nil || port == "" {
			p.Add("listen", "must be host:port, e.g. %s; got %q", DefaultListen, o.Listen)
		}
		if o.Users == "" {
			p.Add("users", "is required when the console is on")
		}
	}
	if (o.TLS.Cert == "") != (o.TLS.Key == "") {
		p.Add("tls", "needs both cert and key (or neither)")
	}
	if o.SessionIdle < time.Minute {
		p.Add("session_idle", "must be at least 1m; got %s", o.SessionIdle)
	}
	if o.SessionMax < o.SessionIdle {
		p.Add("session_max", "must be at least session_idle (%s); got %s", o.SessionIdle, o.SessionMax)
	}
	if o.Refresh != 0 && o.Refresh < 2*time.Second {
		p.Add("refresh", "must be 0 (off) or at least 2s; got %s", o.Refresh)
	}
	if o.QueryTimeout < time.Second || o.QueryTimeout > store.MaxTimeout {
		p.Add("query_timeout", "must be between 1s and %s (the store's limit for one request); got %s", store.MaxTimeout, o.QueryTimeout)
	}
	return p
}

// Decode decodes a raw console: section (nil: the defaults).
func Decode(raw map[string]any) (*Options, config.Problems) {
	o := DefaultOptions()
	if raw == nil {
		return o, nil
	}
	return o, config.Decode(raw, "console", o)
}

// IsLoopback reports whether the host of a listen address (host:port) can
// only be reached from this machine: a loopback address or "localhost".
// An empty host (":8470") means every interface.
func IsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

func describeListen(listen string) string {
	if IsLoopback(listen) {
		return fmt.Sprintf("%s (loopback)", listen)
	}
	return fmt.Sprintf("%s (reachable from other hosts)", listen)
}
