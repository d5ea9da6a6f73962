package unified2

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/inputs/unixsock"
	"github.com/alertgw/alertgw/normalize"
	u2 "github.com/alertgw/alertgw/normalize/unified2"
	"github.com/alertgw/alertgw/stats"
)

// Paths is a list of socket paths or globs; a single string is accepted.
type Paths []string

// UnmarshalText lets `socket: /path` stand for a one-element list.
func (p *Paths) UnmarshalText(b []byte) error {
	*p = Paths{string(b)}
	return nil
}

// SocketOptions are the socket-mode options.
type SocketOptions struct {
	// Socket is the path to bind in socket mode, a list of paths, or
	// globs.
	Socket           Paths `mapstructure:"socket"`
	unixsock.Options `mapstructure:",squash"`
}

func defaultSocketOptions() SocketOptions {
	return SocketOptions{Options: unixsock.DefaultOptions()}
}

func (o *SocketOptions) validate() config.Problems {
	var p config.Problems
	if len(o.Socket) == 0 {
		p.Add("socket", "required in socket mode")
	}
	for i, s := range o.Socket {
		p = append(p, unixsock.ValidatePath(fmt.Sprintf("socket[%d]", i), s)...)
	}
	if o.SocketType != string(unixsock.Dgram) {
		p.Add("socket_type", "must be dgram: each datagram carries whole unified2 records")
	}
	common := o.Options
	common.SocketType = string(unixsock.Dgram) // checked above
	return append(p, common.Validate()...)
}

// socketListener receives datagrams of unified2 records and aggregates
// them across datagrams (an event and its packet may come apart).
type socketListener struct {
	srv *unixsock.Server
}

func newSocketListener(env inputs.Env, o *SocketOptions) (*socketListener, error) {
	srv, err := unixsock.Listen(unixsock.Config{Paths: o.Socket, Options: o.Options, Sensor: "unified2", Log: env.Log, Stats: env.Stats})
	if err != nil {
		return nil, err
	}
	return &socketListener{srv: srv}, nil
}

func (l *socketListener) run(ctx context.Context, emit inputs.Emitter, m *u2.Mapper, o *Options, st *stats.Input) error {
	a := &aggregatingEmitter{next: emit, mapper: m, maxRecord: int(o.MaxRecord), st: st, acct: accounting{st: st}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { a.flushIdle(o.IdleFlush, stop) })
	err := l.srv.Run(ctx, a)
	close(stop)
	wg.Wait()
	a.flush()
	return err
}

// aggregatingEmitter sits between the socket server and the pipeline: it
// takes raw datagrams, splits them into records, aggregates and emits
// finished events. Several sockets may call it at once.
type aggregatingEmitter struct {
	next      inputs.Emitter
	mapper    *u2.Mapper
	maxRecord int

	mu       sync.Mutex
	g        u2.Aggregator
	lastSeen time.Time
	st       *stats.Input
	acct     accounting
}

func (a *aggregatingEmitter) Messages(b *inputs.Batch) {
	a.mu.Lock()
	var evs []*normalize.Event
	for _, msg := range b.Msgs {
		// The socket counted the datagram as one message; it is counted
		// here as the records it carries (as in spool mode), the rest of
		// a datagram that cannot be split being one more.
		records := 0
		err := u2.Split(msg, func(r u2.Record) error {
			if len(r.Body) > a.maxRecord {
				return fmt.Errorf("record of %d bytes is longer than max_record", len(r.Body))
			}
			records++
			al, err := a.g.Add(r)
			if err != nil {
				a.next.Failed(slices.Clone(r.Body), normalize.ReasonMalformed, err)
			}
			if al != nil {
				evs = append(evs, a.mapAlert(al))
			}
			return nil
		})
		if err != nil {
			records++
			a.next.Failed(msg, normalize.ReasonMalformed, err)
		}
		switch {
		case records > 1:
			a.st.Received.Add(uint64(records - 1))
		case records == 0: // an empty datagram (the socket drops those first)
			a.st.Dropped.Add(unixsock.DropEmpty, 1)
		}
	}
	a.acct.update(&a.g)
	a.lastSeen = time.Now()
	a.mu.Unlock()
	if len(evs) > 0 {
		a.next.Events(evs, b.Done)
	} else if b.Done != nil {
		b.Done()
	}
}

func (a *aggregatingEmitter) mapAlert(al *u2.Alert) *normalize.Event {
	ev := &normalize.Event{}
	a.mapper.Map(al, ev)
	return ev
}

func (a *aggregatingEmitter) Events(evs []*normalize.Event, done func()) { a.next.Events(evs, done) }

func (a *aggregatingEmitter) Failed(raw []byte, reason string, err error) {
	a.next.Failed(raw, reason, err)
}

// flushIdle emits an open event once no datagram came for idle.
func (a *aggregatingEmitter) flushIdle(idle time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(max(idle/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			a.mu.Lock()
			quiet := a.g.Open() && time.Since(a.lastSeen) >= idle
			a.mu.Unlock()
			if quiet {
				a.flush()
			}
		}
	}
}

func (a *aggregatingEmitter) flush() {
	a.mu.Lock()
	al := a.g.Flush()
	a.mu.Unlock()
	if al != nil {
		a.next.Events([]*normalize.Event{a.mapAlert(al)}, nil)
	}
}
