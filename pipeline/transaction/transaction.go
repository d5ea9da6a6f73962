// Package transaction joins the records a sensor writes about one flow —
// EVE alerts, application-layer records (http, dns, tls, fileinfo …),
// netflow and the flow record — into one event of kind transaction, the
// "alert with its context" analysts otherwise script by hand. Records of
// other sources without a flow id (NFLOG packets, auditd socket events,
// Snort and unified2 alerts) can join by Community ID.
//
// A transaction is emitted complete when its flow record arrives, or
// partial after an idle or absolute timeout, or early when a cap (open
// transactions, bytes, records) is reached: it is never dropped, and a
// record that cannot be kept is still counted in it. A Joiner is not safe
// for concurrent use; the pipeline's stage runner serializes calls.
package transaction

import (
	"bytes"
	"fmt"
	"slices"
	"time"
	"unsafe"

	"github.com/alertgw/alertgw/internal/eventcodec"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/pipeline/ack"
	"github.com/alertgw/alertgw/pipeline/chain"
	"github.com/alertgw/alertgw/stats"
)

// Why a transaction was closed (Transaction.ClosedBy).
const (
	ClosedFlow     = "flow"      // its flow record arrived: complete
	ClosedIdle     = "idle"      // no record for idle_timeout
	ClosedMaxAge   = "max_age"   // open for max_age
	ClosedMaxOpen  = "max_open"  // the table was full and it was the least recently active
	ClosedMaxBytes = "max_bytes" // the memory cap was reached and it was the least recently active
	ClosedFlush    = "flush"     // shutdown, or a reload that changed the stage
)

// Config bounds a Joiner.
type Config struct {
	IdleTimeout     time.Duration // closed partial when no record came for this long
	MaxAge          time.Duration // closed partial this long after its first record
	MaxOpen         int           // open transactions at most
	MaxBytes        int64         // memory held by open transactions at most
	MaxRecords      int           // records kept per transaction; later ones are only counted
	JoinCommunityID bool          // records without a flow id join the transaction with their Community ID
	// FlowGrace keeps a transaction open this long after its flow record,
	// for the records a sensor writes right after it (Suricata's netflow
	// records follow the flow record). 0 closes it at the flow record.
	FlowGrace time.Duration
}

// Check reports each setting that makes no sense under its key.
func (c Config) Check(report func(key, msg string)) {
	if c.IdleTimeout <= 0 {
		report("idle_timeout", fmt.Sprintf("must be positive; got %s", c.IdleTimeout))
	}
	if c.MaxAge < c.IdleTimeout {
		report("max_age", fmt.Sprintf("must be at least idle_timeout (%s); got %s", c.IdleTimeout, c.MaxAge))
	}
	if c.MaxOpen <= 0 {
		report("max_open", fmt.Sprintf("must be at least 1; got %d", c.MaxOpen))
	}
	if c.MaxBytes < 64<<10 {
		report("max_bytes", fmt.Sprintf("must be at least 64KiB; got %d", c.MaxBytes))
	}
	if c.MaxRecords < 1 {
		report("max_records", fmt.Sprintf("must be at least 1; got %d", c.MaxRecords))
	}
	if c.FlowGrace < 0 || c.FlowGrace >= c.IdleTimeout {
		report("flow_grace", fmt.Sprintf("must be at least 0 and below idle_timeout (%s); got %s", c.IdleTimeout, c.FlowGrace))
	}
}

// Out is one event to emit and the batch acknowledgements it stands for.
type Out = ack.Out

// txSize is what a transaction costs besides its copies: its own
// allocation and its entries in the two indexes (measured by
// BenchmarkOpenFlows, which reports the heap beside this estimate).
var txSize = int64(unsafe.Sizeof(tx{})) + 2*mapEntry

// mapEntry estimates one entry of a Go map of pointers (key, value and the
// table's overhead at its usual load).
const mapEntry = 64

type flowKey struct {
	sensor string
	id     uint64
}

type tx struct {
	flow    flowKey // zero id: opened by Community ID
	cid     string
	base    []byte    // the first record (disk-buffer codec): the transaction's fields when no flow record closes it
	first   time.Time // earliest source timestamp
	opened  time.Time // gateway clock
	active  time.Time // gateway clock of the last record
	arena   arena
	tickets ack.Set
	size    int64
	// rec is the flow record, kept while the transaction waits out
	// FlowGrace; closed is set once it was emitted (the grace queue may
	// still point to it).
	rec    *flowRecord
	closed bool
	// activity order (least recently active first) and opening order.
	byActivity, byAge chain.Links[tx]

	// What the emitted event points to lives in the transaction's own
	// allocation, with room for what most flows hold: one allocation per
	// transaction rather than one per part. (The event itself is made at
	// close: a million open flows should not carry a million of them.)
	t       normalize.Transaction
	sig     normalize.Signature
	alerts  [1]normalize.TxAlert
	records [2]normalize.TxRecord
	sources [2]string
}

// flowRecord is a copy of a flow record that owns everything it points
// to, so that no batch stays pinned while the transaction waits.
type flowRecord struct {
	ev      normalize.Event
	flow    normalize.Flow
	alerted bool
	until   time.Time // the end of the grace
}

func (x *tx) keepFlow(e *normalize.Event, until time.Time) {
	f := &flowRecord{ev: *e, until: until}
	if e.Flow != nil {
		f.flow = *e.Flow
		if e.Flow.Alerted != nil {
			f.alerted = *e.Flow.Alerted
			f.flow.Alerted = &f.alerted
		}
		f.ev.Flow = &f.flow
	}
	f.ev.VLAN = slices.Clone(e.VLAN)
	f.ev.Details = nil
	if len(e.Details) > 0 {
		f.ev.Details = make(normalize.Details, 0, len(e.Details))
	}
	for _, d := range e.Details {
		f.ev.Details = append(f.ev.Details, normalize.Field{Key: d.Key, Value: x.arena.copy(d.Value)})
	}
	x.rec = f
	x.size += int64(unsafe.Sizeof(*f)) + int64(cap(f.ev.Details))*int64(unsafe.Sizeof(normalize.Field{})) + x.arena.grown()
}

// Joiner holds the open transactions of one stage.
type Joiner struct {
	cfg     Config
	byFlow  map[flowKey]*tx
	byCID   map[string]*tx
	active  chain.List[tx] // least recently active first
	age     chain.List[tx] // oldest first
	open    int
	bytes   int64
	st      *stats.Stage
	scratch []byte
	grace   []*tx // transactions waiting out FlowGrace, oldest first
}

// New returns a Joiner that counts into st (nil: counters of its own);
// cfg must be valid.
func New(cfg Config, st *stats.Stage) *Joiner {
	if st == nil {
		st = &stats.Stage{Type: "transactions"}
	}
	return &Joiner{cfg: cfg, byFlow: make(map[flowKey]*tx), byCID: make(map[string]*tx), st: st,
		active: chain.New(func(x *tx) *chain.Links[tx] { return &x.byActivity }),
		age:    chain.New(func(x *tx) *chain.Links[tx] { return &x.byAge })}
}

// Add joins e, whose batch is acknowledged through t, at gateway time now,
// and appends to out what must be emitted at once: e itself when it has
// nothing to join on, the transaction its flow record completed, and
// transactions closed early by a cap.
func (j *Joiner) Add(e *normalize.Event, t *ack.Ticket, now time.Time, out []Out) []Out {
	j.st.In.Add(1)
	key := flowKey{sensor: e.Source.Sensor, id: e.FlowID}
	cid := ""
	if j.cfg.JoinCommunityID {
		cid = e.CommunityID
	}
	if key.id == 0 && cid == "" {
		j.st.Passed.Add(1)
		var ts ack.Set
		ts.Add(t)
		return append(out, Out{Event: e, Tickets: ts})
	}
	x := j.find(key, cid)
	if x == nil {
		out = j.makeRoom(out)
		x = j.start(key, cid, now)
	} else if key.id != 0 && x.flow.id == 0 {
		// Opened by Community ID (a firewall packet came first): now that
		// the sensor's flow id is known, index it by that too.
		x.flow = key
		j.byFlow[key] = x
	}
	flow := isFlowRecord(e) && x.rec == nil
	j.join(x, e, t, now, flow)
	j.st.Folded.Add(1)
	if flow {
		if j.cfg.FlowGrace == 0 {
			return j.closeWith(x, ClosedFlow, e, out)
		}
		before := x.size
		x.keepFlow(e, now.Add(j.cfg.FlowGrace))
		j.bytes += x.size - before
		j.grace = append(j.grace, x)
	}
	if j.bytes > j.cfg.MaxBytes {
		out = j.shed(out)
	}
	return out
}

func (j *Joiner) find(key flowKey, cid string) *tx {
	if key.id != 0 {
		if x := j.byFlow[key]; x != nil {
			return x
		}
	}
	if cid != "" {
		if x := j.byCID[cid]; x != nil && (key.id == 0 || x.flow.id == 0 || x.flow == key) {
			return x
		}
	}
	return nil
}

func (j *Joiner) start(key flowKey, cid string, now time.Time) *tx {
	x := &tx{flow: key, cid: cid, opened: now, size: txSize}
	x.t.Alerts, x.t.Records, x.t.Sources = x.alerts[:0], x.records[:0], x.sources[:0]
	if key.id != 0 {
		j.byFlow[key] = x
	}
	if cid != "" {
		j.byCID[cid] = x
	}
	j.open++
	j.bytes += x.size
	j.age.PushBack(x)
	j.active.PushBack(x)
	return x
}

// join adds e's content to x; flow says e is the flow record, which closes
// x at once and so needs no copy.
func (j *Joiner) join(x *tx, e *normalize.Event, t *ack.Ticket, now time.Time, flow bool) {
	before := x.size
	x.tickets.Add(t)
	x.active = now
	j.active.MoveToBack(x)
	if x.first.IsZero() || e.Timestamp.Before(x.first) {
		x.first = e.Timestamp
	}
	if x.cid == "" && e.CommunityID != "" && j.cfg.JoinCommunityID {
		if _, taken := j.byCID[e.CommunityID]; !taken {
			x.cid = e.CommunityID
			j.byCID[x.cid] = x
		}
	}
	tr := &x.t
	tr.Events++
	if !slices.Contains(tr.Sources, e.Source.Type) {
		c := cap(tr.Sources)
		tr.Sources = append(tr.Sources, e.Source.Type)
		x.size += grown(c, cap(tr.Sources), unsafe.Sizeof(""))
	}
	if flow {
		j.bytes += x.size - before
		return // its fields and counters become the transaction's own
	}
	if x.base == nil {
		// Encode into the joiner's scratch, then keep an exact copy: one
		// allocation of the right size instead of a slice grown step by step.
		j.scratch = eventcodec.AppendEvent(j.scratch[:0], e)
		x.size += int64(len(j.scratch) - len(x.base))
		x.base = bytes.Clone(j.scratch)
	}
	if len(tr.Alerts)+len(tr.Records) >= j.cfg.MaxRecords {
		tr.Omitted++
		j.st.Omitted.Add(1)
		j.bytes += x.size - before
		return
	}
	// Strings are kept as they are (decoders allocate them per event);
	// byte values are copied into the arena so that no batch stays pinned.
	x.size += int64(len(e.ID))
	if e.Kind == normalize.KindAlert && e.Signature != nil {
		c := cap(tr.Alerts)
		tr.Alerts = append(tr.Alerts, normalize.TxAlert{ID: e.ID, Timestamp: e.Timestamp, Action: e.Action,
			Signature: *e.Signature})
		x.size += grown(c, cap(tr.Alerts), unsafe.Sizeof(normalize.TxAlert{})) + int64(len(e.Signature.Name)+len(e.Signature.Category))
	} else {
		r := normalize.TxRecord{ID: e.ID, Timestamp: e.Timestamp, Kind: e.Kind, Type: recordType(e),
			SourceType: e.Source.Type, Action: e.Action}
		if e.Firewall != nil {
			fw := *e.Firewall
			r.Firewall = &fw
			x.size += int64(unsafe.Sizeof(fw))
		}
		if len(e.Details) > 0 {
			r.Details = make(normalize.Details, 0, len(e.Details))
			for _, f := range e.Details {
				if f.Key == "event_type" {
					continue // said by Type
				}
				r.Details = append(r.Details, normalize.Field{Key: f.Key, Value: x.arena.copy(f.Value)})
			}
			x.size += int64(cap(r.Details)) * int64(unsafe.Sizeof(normalize.Field{}))
		}
		c := cap(tr.Records)
		tr.Records = append(tr.Records, r)
		x.size += grown(c, cap(tr.Records), unsafe.Sizeof(r))
	}
	x.size += x.arena.grown()
	j.bytes += x.size - before
}

// grown is the bytes a slice's backing array took when append moved it from
// capacity before to after (0 while it fits: the first elements live in the
// transaction's own allocation).
func grown(before, after int, elem uintptr) int64 {
	if after == before {
		return 0
	}
	return int64(after) * int64(elem)
}

// isFlowRecord says whether e is a sensor's end-of-flow record (EVE
// event_type flow; netflow records come one per direction and do not end
// the transaction).
func isFlowRecord(e *normalize.Event) bool {
	return e.Kind == normalize.KindFlow && e.FlowID != 0 && e.Details.Get("event_type") == nil
}

// recordType is the EVE event_type of e, or its kind.
func recordType(e *normalize.Event) string {
	if v := e.Details.Get("event_type"); len(v) > 2 && v[0] == '"' {
		return string(v[1 : len(v)-1]) // event types are plain words, never escaped
	}
	return string(e.Kind)
}

// makeRoom closes the least recently active transactions while opening one
// more would break max_open.
func (j *Joiner) makeRoom(out []Out) []Out {
	for j.active.Front() != nil && j.open >= j.cfg.MaxOpen {
		out = j.close(j.active.Front(), ClosedMaxOpen, out)
	}
	return out
}

// shed closes the least recently active transactions until the memory cap
// holds again.
func (j *Joiner) shed(out []Out) []Out {
	for j.active.Front() != nil && j.bytes > j.cfg.MaxBytes {
		out = j.close(j.active.Front(), ClosedMaxBytes, out)
	}
	return out
}

// Expire closes the transactions idle for idle_timeout or open for max_age.
func (j *Joiner) Expire(now time.Time, out []Out) []Out {
	for len(j.grace) > 0 && (j.grace[0].closed || !j.grace[0].rec.until.After(now)) {
		x := j.grace[0]
		j.grace[0] = nil
		j.grace = j.grace[1:]
		if !x.closed {
			out = j.close(x, ClosedFlow, out)
		}
	}
	for j.active.Front() != nil && !j.active.Front().active.Add(j.cfg.IdleTimeout).After(now) {
		out = j.close(j.active.Front(), ClosedIdle, out)
	}
	for j.age.Front() != nil && !j.age.Front().opened.Add(j.cfg.MaxAge).After(now) {
		out = j.close(j.age.Front(), ClosedMaxAge, out)
	}
	return out
}

// NextClose returns the earliest time at which Expire has work.
func (j *Joiner) NextClose() (time.Time, bool) {
	if j.active.Front() == nil {
		return time.Time{}, false
	}
	next := j.active.Front().active.Add(j.cfg.IdleTimeout)
	if age := j.age.Front().opened.Add(j.cfg.MaxAge); age.Before(next) {
		next = age
	}
	if len(j.grace) > 0 && j.grace[0].rec.until.Before(next) {
		next = j.grace[0].rec.until
	}
	return next, true
}

// Flush closes every open transaction.
func (j *Joiner) Flush(out []Out) []Out {
	for j.active.Front() != nil {
		out = j.close(j.active.Front(), ClosedFlush, out)
	}
	return out
}

// Open returns the number of open transactions and the bytes they hold.
func (j *Joiner) Open() (int, int64) { return j.open, j.bytes }

// close takes x out of the tables and emits it, partial.
func (j *Joiner) close(x *tx, reason string, out []Out) []Out {
	return j.closeWith(x, reason, nil, out)
}

// closeWith takes x out of the tables and emits it. flowRec, when not nil,
// is the flow record that completed it: the transaction takes its fields
// (a shallow copy: it is emitted at once, and nothing here modifies what
// the copy shares with the record).
func (j *Joiner) closeWith(x *tx, reason string, flowRec *normalize.Event, out []Out) []Out {
	if x.flow.id != 0 && j.byFlow[x.flow] == x {
		delete(j.byFlow, x.flow)
	}
	if x.cid != "" && j.byCID[x.cid] == x {
		delete(j.byCID, x.cid)
	}
	j.active.Remove(x)
	j.age.Remove(x)
	j.open--
	j.bytes -= x.size
	j.st.Closed.Add(reason, 1)
	j.st.Emitted.Add(1)
	x.closed = true
	if flowRec == nil && x.rec != nil {
		flowRec = &x.rec.ev
	}

	e := new(normalize.Event)
	if flowRec != nil {
		*e = *flowRec
	} else if err := eventcodec.DecodeEvent(x.base, e); err != nil {
		// The copy was made by this process: a failure is a bug.
		panic(fmt.Sprintf("transaction: decoding a record copy: %v", err))
	}
	if flowRec == nil {
		// The first record's own kind-specific parts describe it, not the
		// transaction: they are in the records list.
		e.Signature, e.Packet, e.Firewall, e.Details = nil, nil, nil, nil
	}
	e.ID += "-tx"
	e.Kind = normalize.KindTransaction
	e.Timestamp = x.first
	tr := &x.t
	tr.Complete = flowRec != nil
	tr.ClosedBy = reason
	e.Transaction = tr
	e.Action = transactionAction(e.Action, tr)
	if len(tr.Alerts) > 0 {
		x.sig = tr.Alerts[0].Signature
		e.Signature = &x.sig
	}
	return append(out, Out{Event: e, Tickets: x.tickets})
}

// transactionAction is blocked when any record says blocked, else allowed
// when any says allowed, else what the base record said.
func transactionAction(base normalize.Action, t *normalize.Transaction) normalize.Action {
	seen := base
	note := func(a normalize.Action) {
		switch {
		case a == normalize.ActionBlocked:
			seen = a
		case a == normalize.ActionAllowed && seen != normalize.ActionBlocked:
			seen = a
		}
	}
	for _, a := range t.Alerts {
		note(a.Action)
	}
	for _, r := range t.Records {
		note(r.Action)
	}
	if seen == "" {
		return normalize.ActionUnknown
	}
	return seen
}

// arena copies record bytes into chunks that never move, so that the
// batch a record came in is not kept alive by the transaction. Chunks start
// small and double up to maxChunk: most transactions hold a few records,
// and a million of them must fit the memory cap.
type arena struct {
	chunk []byte
	alloc int64 // bytes allocated, all chunks
	told  int64 // of which grown() already reported
}

const (
	minChunk = 256
	maxChunk = 8 << 10
)

func (a *arena) copy(b []byte) []byte {
	if cap(a.chunk)-len(a.chunk) < len(b) {
		size := min(max(2*cap(a.chunk), minChunk), maxChunk)
		if len(b) > size {
			size = len(b)
		}
		a.chunk = make([]byte, 0, size)
		a.alloc += int64(size)
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	return a.chunk[start:len(a.chunk):len(a.chunk)]
}

// grown returns the bytes allocated since the last call.
func (a *arena) grown() int64 {
	d := a.alloc - a.told
	a.told = a.alloc
	return d
}
