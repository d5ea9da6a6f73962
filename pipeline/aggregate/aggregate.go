// Package aggregate folds repeated events into summaries that say how many
// they stand for: events with the same key (by default signature, source
// and destination) within a window become one event carrying count, first
// and last seen. Nothing disappears without a number: every folded event is
// counted, and a summary is emitted for every group, early when a cap is hit.
//
// An Aggregator is not safe for concurrent use; the pipeline's stage runner
// serializes calls and owns the clock.
package aggregate

import (
	"fmt"
	"time"

	"github.com/alertgw/alertgw/internal/eventcodec"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/pipeline/ack"
	"github.com/alertgw/alertgw/pipeline/chain"
	"github.com/alertgw/alertgw/query"
	"github.com/alertgw/alertgw/stats"
)

// Emit modes.
const (
	EmitSummary         = "summary"           // every event waits in its group; one summary per group
	EmitFirstAndSummary = "first_and_summary" // the first of a group goes on at once, the summary follows
)

// Why a group was closed, as written in the summary's aggregate.closed_by.
const (
	ClosedWindow    = "window"     // its window ended
	ClosedMaxCount  = "max_count"  // it reached the count cap
	ClosedMaxGroups = "max_groups" // the table was full and it was the oldest
	ClosedMaxBytes  = "max_bytes"  // the memory cap was reached and it was the oldest
	ClosedFlush     = "flush"      // shutdown or a reload that changed the stage
)

// KeyFunc appends the key of e to dst. Events with equal keys are folded.
type KeyFunc func(dst []byte, e *normalize.Event) []byte

// Config is what an Aggregator needs besides its key.
type Config struct {
	KeyFields []string      // names of the key's fields, written in summaries
	Window    time.Duration // a group is closed this long after its first event
	MaxCount  uint64        // a group is closed when it holds this many events (0: no cap)
	MaxGroups int           // open groups at most (> 0)
	MaxBytes  int64         // memory held by open groups at most (> 0)
	Emit      string        // EmitSummary or EmitFirstAndSummary
}

// Out is one event to emit and the batch acknowledgements it stands for.
type Out = ack.Out

// groupOverhead is what a group costs besides its first event's copy: the
// map entry, the struct and its key. An estimate, for the memory cap.
const groupOverhead = 160

type group struct {
	key          string
	first        []byte // the first event, copied (the disk-buffer codec), so no batch stays pinned
	firstID      string
	count        uint64
	firstSeen    time.Time
	lastSeen     time.Time
	closesAt     time.Time
	firstEmitted bool
	tickets      ack.Set
	size         int64
	order        chain.Links[group] // in opening order: the oldest group closes first
}

// Aggregator holds the open groups of one aggregation.
type Aggregator struct {
	cfg     Config
	key     KeyFunc
	groups  map[string]*group
	order   chain.List[group] // oldest first
	bytes   int64
	st      *stats.Stage
	scratch []byte
}

// New returns an Aggregator that counts into st (nil: counters of its
// own). cfg must be valid (see Check).
func New(cfg Config, key KeyFunc, st *stats.Stage) *Aggregator {
	if st == nil {
		st = &stats.Stage{Type: "aggregate"}
	}
	return &Aggregator{cfg: cfg, key: key, groups: make(map[string]*group), st: st,
		order: chain.New(func(g *group) *chain.Links[group] { return &g.order })}
}

// Check reports each setting that makes no sense under its key.
func (c Config) Check(report func(key, msg string)) {
	if c.Window <= 0 || c.Window > 24*time.Hour {
		report("window", fmt.Sprintf("must be between 1ns and 24h; got %s", c.Window))
	}
	if c.MaxCount == 1 {
		report("max_count", "1 would emit every event as its own summary; use 0 (no cap) or at least 2")
	}
	if c.MaxGroups <= 0 {
		report("max_groups", fmt.Sprintf("must be at least 1; got %d", c.MaxGroups))
	}
	if c.MaxBytes < 64<<10 {
		report("max_bytes", fmt.Sprintf("must be at least 64KiB; got %d", c.MaxBytes))
	}
	if c.Emit != EmitSummary && c.Emit != EmitFirstAndSummary {
		report("emit", fmt.Sprintf("must be %s or %s; got %q", EmitSummary, EmitFirstAndSummary, c.Emit))
	}
	if len(c.KeyFields) == 0 {
		report("key", "needs at least one field")
	}
}

// Add folds e, whose batch is acknowledged through t (nil: nothing to
// acknowledge), at gateway time now. It appends to out what must be emitted
// at once: the first event of a new group (first_and_summary) and groups
// closed early by a cap.
func (a *Aggregator) Add(e *normalize.Event, t *ack.Ticket, now time.Time, out []Out) []Out {
	a.st.In.Add(1)
	a.scratch = a.key(a.scratch[:0], e)
	g, ok := a.groups[string(a.scratch)] // no allocation: the compiler reads the key in place
	if !ok {
		out = a.makeRoom(out)
		g = a.open(e, now)
		if a.cfg.Emit == EmitFirstAndSummary {
			g.firstEmitted = true
			a.st.Passed.Add(1)
			var ts ack.Set
			ts.Add(t)
			out = append(out, Out{Event: e, Tickets: ts})
			// The first event's batch is held by its own emission; the
			// group holds only what it folds.
			return a.capped(g, out)
		}
	}
	g.count++
	if g.count > 1 || !g.firstEmitted {
		g.tickets.Add(t)
	}
	if ts := e.Timestamp; ts.Before(g.firstSeen) {
		g.firstSeen = ts
	} else if ts.After(g.lastSeen) {
		g.lastSeen = ts
	}
	return a.capped(g, out)
}

func (a *Aggregator) open(e *normalize.Event, now time.Time) *group {
	first := eventcodec.AppendEvent(nil, e)
	g := &group{key: string(a.scratch), first: first, firstID: e.ID, count: 0,
		firstSeen: e.Timestamp, lastSeen: e.Timestamp, closesAt: now.Add(a.cfg.Window)}
	if a.cfg.Emit == EmitFirstAndSummary {
		g.count = 1
	}
	g.size = int64(len(first)+len(g.key)) + groupOverhead
	a.bytes += g.size
	a.groups[g.key] = g
	a.order.PushBack(g)
	return g
}

// capped closes g when it reached the count cap.
func (a *Aggregator) capped(g *group, out []Out) []Out {
	if a.cfg.MaxCount > 0 && g.count >= a.cfg.MaxCount {
		return a.close(g, ClosedMaxCount, out)
	}
	return out
}

// makeRoom closes the oldest groups while a new one would break a cap.
func (a *Aggregator) makeRoom(out []Out) []Out {
	for a.order.Front() != nil && len(a.groups) >= a.cfg.MaxGroups {
		out = a.close(a.order.Front(), ClosedMaxGroups, out)
	}
	for a.order.Front() != nil && a.bytes >= a.cfg.MaxBytes {
		out = a.close(a.order.Front(), ClosedMaxBytes, out)
	}
	return out
}

// Expire closes every group whose window has ended by now.
func (a *Aggregator) Expire(now time.Time, out []Out) []Out {
	for a.order.Front() != nil && !a.order.Front().closesAt.After(now) {
		out = a.close(a.order.Front(), ClosedWindow, out)
	}
	return out
}

// Flush closes every open group (shutdown, or a reload that changed the stage).
func (a *Aggregator) Flush(out []Out) []Out {
	for a.order.Front() != nil {
		out = a.close(a.order.Front(), ClosedFlush, out)
	}
	return out
}

// NextClose returns when the oldest open group's window ends.
func (a *Aggregator) NextClose() (time.Time, bool) {
	if a.order.Front() == nil {
		return time.Time{}, false
	}
	return a.order.Front().closesAt, true
}

// Open returns the number of open groups and the bytes they hold.
func (a *Aggregator) Open() (groups int, bytes int64) { return len(a.groups), a.bytes }

// close takes g out of the table and emits its summary, unless its first
// event, already sent on its own, is all it held.
func (a *Aggregator) close(g *group, reason string, out []Out) []Out {
	delete(a.groups, g.key)
	a.order.Remove(g)
	a.bytes -= g.size
	a.st.Closed.Add(reason, 1)
	if g.firstEmitted && g.count == 1 {
		return out // nothing was folded
	}
	folded := g.count
	if g.firstEmitted {
		folded-- // the first went on by itself
	}
	a.st.Folded.Add(folded)
	a.st.Emitted.Add(1)
	e := new(normalize.Event)
	if err := eventcodec.DecodeEvent(g.first, e); err != nil {
		// The copy was made by this process a moment ago: a failure is a bug.
		panic(fmt.Sprintf("aggregate: decoding a group's first event: %v", err))
	}
	e.ID = g.firstID + "-agg"
	e.Aggregate = &normalize.Aggregate{Count: g.count, FirstSeen: g.firstSeen, LastSeen: g.lastSeen,
		Key: a.cfg.KeyFields, ClosedBy: reason, FirstSent: g.firstEmitted}
	return append(out, Out{Event: e, Tickets: g.tickets})
}

// DefaultKey is the analyst's inbox row: one rule between two hosts.
var DefaultKey = []string{"signature.gid", "signature.id", "src_ip", "dest_ip"}

// KeyOf builds the key of the named fields (the search language's names,
// e.g. signature.id, src_ip, details.http.hostname).
func KeyOf(names []string) (KeyFunc, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("key needs at least one field")
	}
	keyers := make([]func([]byte, *normalize.Event) []byte, len(names))
	for i, n := range names {
		f := query.Lookup(n)
		if f == nil {
			return nil, fmt.Errorf("key: unknown field %q", n)
		}
		keyers[i] = f.Keyer()
	}
	return func(dst []byte, e *normalize.Event) []byte {
		for _, k := range keyers {
			dst = k(dst, e)
		}
		return dst
	}, nil
}
