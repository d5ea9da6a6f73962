// Package snort is the `snort` input: it binds the Unix datagram socket(s)
// that Snort 2.9 and Snort 3 `alert_unixsock` and Barnyard2's
// `output alert_unixsock` send to, and hands each datagram to
// normalize/snort. Snort is the client: it sendto()s to
// <log dir>/snort_alert (default /var/log/snort/snort_alert), Snort 3 with
// N packet threads to N_snort_alert, so one input binds several paths or a
// glob.
package snort

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/replay"
	"github.com/alertgw/alertgw/inputs/sigfiles"
	"github.com/alertgw/alertgw/inputs/unixsock"
	"github.com/alertgw/alertgw/normalize/packet"
	"github.com/alertgw/alertgw/normalize/snort"
)

// DefaultSocket is where Snort sends with the default log dir (-l
// /var/log/snort).
const DefaultSocket = "/var/log/snort/snort_alert"

// Paths is a list of socket paths or globs; a single string is accepted.
type Paths []string

// UnmarshalText lets `socket: /path` stand for a one-element list.
func (p *Paths) UnmarshalText(b []byte) error {
	*p = Paths{string(b)}
	return nil
}

// Options of a `type: snort` block.
type Options struct {
	// Socket is the path Snort sends to (<log dir>/snort_alert), or a list
	// of paths and globs (Snort 3 with N packet threads: N_snort_alert).
	Socket Paths `mapstructure:"socket" path:"socket"`
	// Format is the datagram layout: auto picks it from the size (65,864:
	// Snort 2.9 or 3; 65,928: Snort 2.9 OpenAppID; 1,856: Barnyard2);
	// snort2, snort3 or barnyard2 force one (a datagram of another size is
	// then dead-lettered).
	Format string `mapstructure:"format"`
	// LinkType is the datalink of the attached packets: ethernet, raw (IP
	// from the first byte) or auto (Ethernet when Snort's network-header
	// offset says so, raw IP when the packet parses as a whole IP datagram
	// from its first byte, Ethernet otherwise).
	LinkType string `mapstructure:"link_type"`
	// Signatures name the maps that give the category (classification
	// config) and the names of Barnyard2 alerts whose message was empty;
	// reloaded on SIGHUP.
	Signatures sigfiles.Files `mapstructure:"signatures"`
	// BatchSize is how many datagrams one recvmmsg call reads at most.
	BatchSize int `mapstructure:"batch_size"`

	unixsock.Options `mapstructure:",squash"`
}

// DefaultOptions returns the defaults: the default Snort path, datagrams of
// up to 65,928 bytes (anything larger is no Alertpkt: truncated,
// dead-lettered).
func DefaultOptions() *Options {
	o := &Options{Socket: Paths{DefaultSocket}, Format: "auto", LinkType: "auto", BatchSize: 64, Options: unixsock.DefaultOptions()}
	// Nothing larger is an Alertpkt: a larger datagram is cut by the
	// kernel, seen as MSG_TRUNC and dead-lettered. (How many alerts can be
	// in flight is set by Snort's send buffer, wmem_default: about 3.)
	o.MaxMessageSize = snort.SizeAlertpktAppID
	return o
}

// Validate checks the options.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if len(o.Socket) == 0 {
		p.Add("socket", "at least one socket path is required (Snort sends to <log dir>/snort_alert)")
	}
	for i, s := range o.Socket {
		p = append(p, unixsock.ValidatePath(fmt.Sprintf("socket[%d]", i), s)...)
	}
	if _, err := snort.ParseFormat(o.Format); err != nil {
		p.Add("format", "%v", err)
	}
	if _, err := linkType(o.LinkType); err != nil {
		p.Add("link_type", "%v", err)
	}
	switch unixsock.Type(o.SocketType) {
	case unixsock.Dgram, unixsock.SeqPacket:
	default:
		p.Add("socket_type", "must be dgram (Snort, Barnyard2) or seqpacket (Barnyard2's alert_unixsock with sync); got %q", o.SocketType)
	}
	if o.MaxMessageSize < snort.SizeAlertpktAppID {
		p.Add("max_message_size", "must be at least %d (the largest Alertpkt)", snort.SizeAlertpktAppID)
	}
	if o.BatchSize < 1 || o.BatchSize > 1024 {
		p.Add("batch_size", "must be between 1 and 1024")
	}
	common := o.Options
	common.SocketType = string(unixsock.Dgram) // checked above
	return append(p, common.Validate()...)
}

func linkType(s string) (packet.LinkType, error) {
	switch s {
	case "", "auto":
		return 0, nil
	case "ethernet":
		return packet.LinkEthernet, nil
	case "raw":
		return packet.LinkRaw, nil
	}
	return 0, fmt.Errorf("unknown link_type %q (auto, ethernet or raw)", s)
}

// sample is sample.yaml: a minimal working block of this type.
//
//go:embed sample.yaml
var sample []byte

// Plugin registers the input type.
var Plugin = inputs.Plugin{
	Type:    "snort",
	Summary: "Snort 2/3 and Barnyard2 alert_unixsock datagrams (Alertpkt)",
	Sample:  sample,
	Options: func() any { return DefaultOptions() },
	Decoder: func(opts any) (inputs.Decoder, error) { return NewDecoder(opts.(*Options)) },
	Files:   func(any) (inputs.FileReader, error) { return replay.Datagrams{}, nil },
	New:     New,
	// Each EVE record (Alertpkt datagram) decodes on its own.
	Journaled: true,
}

// Input receives alert datagrams; the pipeline decodes them with the
// type's decoder on its workers.
type Input struct {
	srv  *unixsock.Server
	dec  *snort.Decoder
	sigs sigfiles.Files
	env  inputs.Env
}

// NewDecoder builds the decoder of the options: their format, link type
// and signature maps. Datagrams are compacted to their useful bytes as the
// input reads them (~500 of 65,864: see snort.Compact and
// docs/performance/snort-unified2.md); the decoder reads either form.
func NewDecoder(o *Options) (*snort.Decoder, error) {
	f, _ := snort.ParseFormat(o.Format)
	lt, _ := linkType(o.LinkType)
	compact, err := snort.NewCompact(f)
	if err != nil {
		return nil, err
	}
	dec := &snort.Decoder{Format: f, Link: lt, Compact: compact}
	if dec.Sigs, err = sigfiles.Load(o.Signatures); err != nil {
		return nil, err
	}
	return dec, nil
}

// New binds every socket now, so that a bad path fails at start-up. The
// sockets compact datagrams for env.Decoder (one is built when it is nil).
func New(env inputs.Env, opts any) (inputs.Input, error) {
	o := opts.(*Options)
	dec, _ := env.Decoder.(*snort.Decoder)
	if dec == nil {
		var err error
		if dec, err = NewDecoder(o); err != nil {
			return nil, err
		}
	}
	var shrink func(dst, msg []byte) []byte
	if dec.Compact != nil {
		shrink = dec.Compact.Append
	}
	srv, err := unixsock.Listen(unixsock.Config{
		Paths:     o.Socket,
		Options:   o.Options,
		BatchSize: o.BatchSize,
		Shrink:    shrink,
		Sensor:    "snort",
		Log:       env.Log,
		Stats:     env.Stats,
		Journal:   env.Journal,
	})
	if err != nil {
		return nil, err
	}
	return &Input{srv: srv, dec: dec, sigs: o.Signatures, env: env}, nil
}

// Run reads until ctx ends, drains the queue and removes the sockets.
func (in *Input) Run(ctx context.Context, emit inputs.Emitter) error {
	return in.srv.Run(ctx, emit)
}

// Reopen reads the signature maps again (SIGHUP); on error the previous
// ones stay in use.
func (in *Input) Reopen() error {
	if in.dec.Sigs == nil {
		return nil
	}
	if err := sigfiles.Reload(in.dec.Sigs, in.sigs); err != nil {
		return err
	}
	in.env.Log.Info().Msg("signature maps reloaded")
	return nil
}

// Close closes the sockets and removes their files.
func (in *Input) Close() error { return in.srv.Close() }

// Paths returns the bound socket paths.
func (in *Input) Paths() []string { return in.srv.Paths() }
