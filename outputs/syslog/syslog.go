// Package syslog is the syslog output: RFC 5424 messages over unixgram,
// udp, tcp or tls, octet-counted on streams (RFC 6587, RFC 5425). The
// message body is the event in the output's format (JSON), or a summary
// line with the fields as RFC 5424 structured data.
package syslog

import (
	"context"
	_ "embed"
	"os"
	"strconv"
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/netsend"
)

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the output.
var Plugin = outputs.Plugin{
	Type:    "syslog",
	Summary: "RFC 5424 syslog over unixgram, udp, tcp or tls (octet counting on streams)",
	Sample:  sample,
	Options: func() any {
		return &Options{Network: "unixgram", Address: "/dev/log", Facility: "local5", AppName: "alertgw",
			Body: "json", Framing: netsend.FrameOctetCounting, Timeout: 10 * time.Second}
	},
	New: func(env outputs.Env, opts any) (outputs.Output, error) { return New(env, opts.(*Options)) },
}

// Options are the syslog block's own keys.
type Options struct {
	// Network is unixgram, udp, tcp or tls.
	Network string `mapstructure:"network"`
	// Address is /dev/log (unixgram), host:514 or host:6514 (tls).
	Address string `mapstructure:"address"`
	// Facility is the syslog facility name (local0 to local7, auth, ...).
	Facility string `mapstructure:"facility"`
	// AppName is the RFC 5424 APP-NAME.
	AppName string `mapstructure:"app_name"`
	// Hostname is the RFC 5424 HOSTNAME; empty: the sensor name.
	Hostname string `mapstructure:"hostname"`
	// Body is json (the event in the output's format as MSG) or sd (a
	// summary as MSG, the fields as structured data).
	Body string `mapstructure:"body"`
	// Framing is, on streams, octet_counting (RFC 6587) or newline.
	Framing string `mapstructure:"framing"`
	// Timeout bounds connecting and writing.
	Timeout time.Duration `mapstructure:"timeout"`
	// TLS configures network: tls.
	TLS outputs.TLS `mapstructure:"tls"`
}

var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7, "uucp": 8, "cron": 9,
	"authpriv": 10, "ftp": 11, "local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// PathUses implements config.PathLister: with network: tls the tls block's
// files are read at start (New turns TLS on) even when the block does not
// say enabled, so validate checks them then too. With enabled set, the tls
// block lists them itself.
func (o *Options) PathUses() []config.PathUse {
	if o.Network != "tls" {
		return nil
	}
	return o.TLS.PathUsesWhenOn("tls")
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	switch o.Network {
	case "unixgram", "udp", "tcp", "tls":
	default:
		p.Add("network", "must be unixgram, udp, tcp or tls; got %q", o.Network)
	}
	if o.Address == "" {
		p.Add("address", "required")
	}
	if _, ok := facilities[o.Facility]; !ok {
		p.Add("facility", "unknown facility %q (kern, user, daemon, auth, authpriv, local0…local7, …)", o.Facility)
	}
	if !printUSASCII(o.AppName, 48) {
		p.Add("app_name", "must be 1 to 48 printable US-ASCII characters")
	}
	if o.Hostname != "" && !printUSASCII(o.Hostname, 255) {
		p.Add("hostname", "must be 1 to 255 printable US-ASCII characters")
	}
	switch o.Body {
	case "json", "sd":
	default:
		p.Add("body", "must be json or sd; got %q", o.Body)
	}
	switch o.Framing {
	case netsend.FrameOctetCounting, netsend.FrameNewline:
	default:
		p.Add("framing", "must be octet_counting or newline; got %q", o.Framing)
	}
	p = append(p, o.TLS.Validate().Prefixed("tls")...)
	return p
}

func printUSASCII(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}

// Output sends syslog messages.
type Output struct {
	env  outputs.Env
	opts *Options
	conn *netsend.Conn
	fac  int
	host string
	pid  string
	buf  []byte
	msgs [][]byte
}

// New builds the output; it connects on first Write.
func New(env outputs.Env, o *Options) (*Output, error) {
	if o.Network == "tls" {
		o.TLS.Enabled = true
	}
	tc, err := o.TLS.ConfigFor(env.Log)
	if err != nil {
		return nil, err
	}
	network := o.Network
	host := o.Hostname
	if host == "" {
		host = env.Sensor
	}
	if !printUSASCII(host, 255) {
		host = "-"
	}
	return &Output{env: env, opts: o, fac: facilities[o.Facility], host: host, pid: strconv.Itoa(os.Getpid()),
		conn: &netsend.Conn{Network: network, Address: o.Address, TLS: tc, Timeout: o.Timeout, Framing: o.Framing}}, nil
}

// Write sends one message per event.
func (w *Output) Write(_ context.Context, b *outputs.Batch) error {
	var lines *outputs.Lines
	if w.opts.Body == "json" {
		lines = b.Encode(w.env.Encoder)
	}
	buf := w.buf[:0]
	ends := make([]int, len(b.Events))
	for i, e := range b.Events {
		buf = w.appendHeader(buf, e)
		if lines != nil {
			buf = append(buf, " - "...)
			buf = append(buf, lines.Line(i)...)
		} else {
			buf = append(buf, ' ')
			buf = appendSD(buf, e)
			buf = append(buf, ' ')
			buf = appendSummary(buf, e)
		}
		ends[i] = len(buf)
	}
	w.buf = buf
	msgs := w.msgs[:0]
	start := 0
	for _, end := range ends {
		msgs = append(msgs, buf[start:end:end])
		start = end
	}
	w.msgs = msgs
	err := w.conn.Send(msgs)
	clear(w.msgs)
	return err
}

// appendHeader appends "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID".
func (w *Output) appendHeader(b []byte, e *normalize.Event) []byte {
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(w.fac*8+Severity(e)), 10)
	b = append(b, ">1 "...)
	if e.Timestamp.IsZero() {
		b = append(b, '-')
	} else {
		b = e.Timestamp.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	}
	b = append(b, ' ')
	b = append(b, w.host...)
	b = append(b, ' ')
	b = append(b, w.opts.AppName...)
	b = append(b, ' ')
	b = append(b, w.pid...)
	b = append(b, ' ')
	if e.Kind == "" {
		return append(b, '-')
	}
	return append(b, e.Kind...)
}

// Severity is the syslog severity of an event: from the signature's
// priority for alerts (1 is the highest), notice for blocked traffic, info
// otherwise.
func Severity(e *normalize.Event) int {
	if e.Kind == normalize.KindAlert && e.Signature != nil {
		switch e.Signature.Priority {
		case 1:
			return 2 // crit
		case 2:
			return 3 // err
		case 3:
			return 4 // warning
		}
		return 5
	}
	if e.Action == normalize.ActionBlocked {
		return 5 // notice
	}
	return 6 // info
}

// sdID is alertgw's structured-data element; 32473 is the private
// enterprise number RFC 5612 reserves for documentation examples.
const sdID = "alertgw@32473"

// appendSD appends [alertgw@32473 key="value" …].
func appendSD(b []byte, e *normalize.Event) []byte {
	b = append(b, '[')
	b = append(b, sdID...)
	param := func(k, v string) {
		if v == "" {
			return
		}
		b = append(b, ' ')
		b = append(b, k...)
		b = append(b, '=', '"')
		for i := 0; i < len(v); i++ { // RFC 5424 6.3.3: escape '"', '\' and ']'
			if c := v[i]; c == '"' || c == '\\' || c == ']' {
				b = append(b, '\\')
			}
			b = append(b, v[i])
		}
		b = append(b, '"')
	}
	num := func(k string, v uint64) { param(k, strconv.FormatUint(v, 10)) }
	param("id", e.ID)
	param("kind", string(e.Kind))
	param("action", string(e.Action))
	param("source", e.Source.Type)
	if e.SrcIP.IsValid() {
		param("src_ip", e.SrcIP.String())
	}
	if e.DestIP.IsValid() {
		param("dest_ip", e.DestIP.String())
	}
	if e.HasPorts {
		num("src_port", uint64(e.SrcPort))
		num("dest_port", uint64(e.DestPort))
	}
	if e.HasProto {
		num("proto", uint64(e.Proto))
	}
	param("community_id", e.CommunityID)
	if s := e.Signature; s != nil {
		num("gid", uint64(s.GID))
		num("sid", uint64(s.ID))
		num("rev", uint64(s.Rev))
	}
	return append(b, ']')
}

func appendSummary(b []byte, e *normalize.Event) []byte {
	if e.Signature != nil && e.Signature.Name != "" {
		b = append(b, e.Signature.Name...)
	} else {
		b = append(b, e.Source.Type...)
		b = append(b, ' ')
		b = append(b, e.Kind...)
	}
	return b
}

// Close closes the socket.
func (w *Output) Close() error { return w.conn.Close() }
