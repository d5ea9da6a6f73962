// Package graphite is the graphite output: instead of events it sends
// counters, as ulogd sends NFACCT counters: every interval, how many events
// were seen per input, kind, action and protocol, and per signature, in
// Graphite's plaintext protocol ("path value timestamp\n") over TCP or UDP.
//
// Counts are per interval (not running totals), stamped with the interval's
// end. When Graphite is down, the points wait in memory (up to max_pending
// lines, oldest dropped and counted first) and go with the next flush.
package graphite

import (
	"context"
	_ "embed"
	"strconv"
	"sync"
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
	Type:    "graphite",
	Summary: "send per-interval counters (input/kind/action/protocol, signature) to Graphite's plaintext port",
	Sample:  sample,
	Options: func() any {
		return &Options{Network: "tcp", Prefix: "alertgw", Interval: 10 * time.Second, MaxPending: 100_000, Timeout: 5 * time.Second}
	},
	New: func(env outputs.Env, opts any) (outputs.Output, error) { return New(env, opts.(*Options)) },
}

// Options are the graphite block's own keys.
type Options struct {
	// Address is Graphite's plaintext listener, host:2003 (required).
	Address string `mapstructure:"address"`
	// Network is tcp or udp.
	Network string `mapstructure:"network"`
	// Prefix starts every metric path.
	Prefix string `mapstructure:"prefix"`
	// Interval is how often the counts are sent, one point per series.
	Interval time.Duration `mapstructure:"interval"`
	// MaxPending is how many points are kept while Graphite is down; the
	// oldest are dropped beyond it.
	MaxPending int `mapstructure:"max_pending"`
	// Timeout bounds connecting and writing.
	Timeout time.Duration `mapstructure:"timeout"`
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if o.Address == "" {
		p.Add("address", "required, e.g. graphite:2003")
	}
	if o.Network != "tcp" && o.Network != "udp" {
		p.Add("network", "must be tcp or udp; got %q", o.Network)
	}
	if o.Interval < time.Second {
		p.Add("interval", "must be at least 1s; got %s", o.Interval)
	}
	if o.MaxPending < 1 {
		p.Add("max_pending", "must be positive")
	}
	return p
}

type flowKey struct{ input, kind, action, proto string }

type sigKey struct{ gid, sid uint32 }

// Output aggregates events and flushes counters on a timer.
type Output struct {
	env    outputs.Env
	opts   *Options
	conn   *netsend.Conn
	prefix string

	mu      sync.Mutex
	flows   map[flowKey]uint64
	sigs    map[sigKey]uint64
	pending [][]byte // points not sent yet, oldest first

	stop chan struct{}
	done chan struct{}
}

// New starts the flush timer.
func New(env outputs.Env, o *Options) (*Output, error) {
	prefix := sanitize(nil, o.Prefix)
	if env.Sensor != "" {
		prefix = append(append(prefix, '.'), sanitize(nil, env.Sensor)...)
	}
	w := &Output{env: env, opts: o, prefix: string(prefix),
		conn:  &netsend.Conn{Network: o.Network, Address: o.Address, Timeout: o.Timeout, Framing: netsend.FrameNewline},
		flows: map[flowKey]uint64{}, sigs: map[sigKey]uint64{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w, nil
}

func (w *Output) loop() {
	defer close(w.done)
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case now := <-t.C:
			w.flush(now)
		}
	}
}

// Write counts the batch; it never fails.
func (w *Output) Write(_ context.Context, b *outputs.Batch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range b.Events {
		k := flowKey{e.Source.Input, string(e.Kind), string(e.Action), e.ProtoName}
		w.flows[k]++
		if e.Signature != nil && e.Kind == normalize.KindAlert {
			w.sigs[sigKey{e.Signature.GID, e.Signature.ID}]++
		}
	}
	return nil
}

// flush turns the interval's counts into points and sends what is pending.
func (w *Output) flush(now time.Time) error {
	ts := strconv.AppendInt(nil, now.Unix(), 10)
	w.mu.Lock()
	for k, n := range w.flows {
		b := append([]byte(w.prefix), ".events."...)
		b = sanitize(b, k.input)
		b = append(b, '.')
		b = sanitize(b, k.kind)
		b = append(b, '.')
		b = sanitize(b, k.action)
		b = append(b, '.')
		b = sanitize(b, k.proto)
		w.pending = append(w.pending, point(b, n, ts))
	}
	for k, n := range w.sigs {
		b := append([]byte(w.prefix), ".signatures."...)
		b = strconv.AppendUint(b, uint64(k.gid), 10)
		b = append(b, '_')
		b = strconv.AppendUint(b, uint64(k.sid), 10)
		w.pending = append(w.pending, point(b, n, ts))
	}
	clear(w.flows)
	clear(w.sigs)
	if over := len(w.pending) - w.opts.MaxPending; over > 0 {
		w.pending = w.pending[over:]
		if w.env.Stats != nil {
			w.env.Stats.Dropped.Add("graphite_backlog", uint64(over))
		}
	}
	pending := w.pending
	w.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	err := w.conn.Send(pending)
	if err != nil {
		w.env.Log.Warn().Err(err).Int("points", len(pending)).Msg("graphite unreachable: counters kept for the next flush")
		return err
	}
	w.mu.Lock()
	w.pending = w.pending[len(pending):]
	w.mu.Unlock()
	return nil
}

func point(path []byte, n uint64, ts []byte) []byte {
	path = append(path, ' ')
	path = strconv.AppendUint(path, n, 10)
	path = append(path, ' ')
	return append(path, ts...)
}

// sanitize appends s as one Graphite path component: dots, spaces and
// anything else outside [A-Za-z0-9_-] become '_'; empty is "none".
func sanitize(b []byte, s string) []byte {
	if s == "" {
		return append(b, "none"...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b = append(b, c)
		} else {
			b = append(b, '_')
		}
	}
	return b
}

// Close sends the last counts and stops.
func (w *Output) Close() error {
	close(w.stop)
	<-w.done
	err := w.flush(time.Now())
	w.conn.Close()
	return err
}
