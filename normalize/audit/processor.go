package audit

import (
	"strings"

	"github.com/elastic/go-libaudit/v2/auparse"

	"github.com/alertgw/alertgw/normalize"
)

// Processor is the whole pure chain: records in, one event per audit event
// out. Inputs feed it lines (audit.log, af_unix "string") or kernel-form
// frames (af_unix "binary"), call Maintain on a timer and Close at the end.
type Processor struct {
	Asm    *Assembler
	Mapper Mapper
	// NewTable, when set, gives each remote node (records with a "node="
	// prefix, from an auditd aggregating other hosts) its own process
	// table: pids and serials are per host. Nodes get their own assembler
	// either way.
	NewTable func() *Table
	// Failed receives what could not be mapped (the records' text) with
	// the error; nil drops them silently, which only tests should do.
	Failed func(raw []byte, err error)

	ao    AssemblerOptions
	nodes map[string]*nodeState
	// merged counts the records folded into an event another record
	// started: all but the first of each event, and EOE records.
	merged uint64
}

// MaxNodes bounds the per-node state; records of further nodes share the
// local one.
const MaxNodes = 256

type nodeState struct {
	asm    *Assembler
	mapper *Mapper
}

// NewProcessor builds a processor with its own assembler.
func NewProcessor(ao AssemblerOptions, r Resolver, t *Table) *Processor {
	return &Processor{Asm: NewAssembler(ao), Mapper: Mapper{Resolver: r, Table: t}, ao: ao}
}

// Line parses one text record and appends the events it completed to out.
// A record that cannot be parsed is returned as an error (the caller
// dead-letters it); it does not disturb the events in flight.
func (p *Processor) Line(line []byte, out []*normalize.Event) ([]*normalize.Event, error) {
	return p.line(line, false, out)
}

// LineOwned is Line for a line the caller will never modify again (see
// ParseLineOwned).
func (p *Processor) LineOwned(line []byte, out []*normalize.Event) ([]*normalize.Event, error) {
	return p.line(line, true, out)
}

func (p *Processor) line(line []byte, owned bool, out []*normalize.Event) ([]*normalize.Event, error) {
	msg, err := parseLine(line, owned)
	if err != nil {
		return out, err
	}
	p.countEOE(msg)
	if m := metaOf(msg); m != nil && m.node != "" {
		if n := p.node(m.node); n != nil {
			return p.emitWith(n.mapper, n.asm.Push(msg), out), nil
		}
	}
	return p.emit(p.Asm.Push(msg), out), nil
}

func (p *Processor) node(name string) *nodeState {
	if n := p.nodes[name]; n != nil {
		return n
	}
	if len(p.nodes) >= MaxNodes {
		return nil
	}
	if p.nodes == nil {
		p.nodes = map[string]*nodeState{}
	}
	n := &nodeState{asm: NewAssembler(p.ao), mapper: &Mapper{Resolver: nil, Summary: p.Mapper.Summary}}
	// Another host's ids mean nothing to this host's user database: only
	// the names auditd's enriched format carries are used.
	if p.NewTable != nil {
		n.mapper.Table = p.NewTable()
	}
	p.nodes[strings.Clone(name)] = n // not a sub-string of an input's buffer
	return n
}

// Merged returns how many records were folded into an event another
// record started since the last call (all but the first record of each
// event, and the EOE records, which end an event and are not kept), so
// that records = events + merged + failures.
func (p *Processor) Merged() uint64 {
	n := p.merged
	p.merged = 0
	return n
}

// countEOE counts an EOE record as merged: go-libaudit ends its event with
// it and keeps it out of the event's records.
func (p *Processor) countEOE(msg *auparse.AuditMessage) {
	if msg.RecordType == auparse.AUDIT_EOE {
		p.merged++
	}
}

// Lost returns the serials counted lost since the last call, over every
// node.
func (p *Processor) Lost() uint64 {
	n := p.Asm.Lost()
	for _, ns := range p.nodes {
		n += ns.asm.Lost()
	}
	return n
}

// Resets returns how many times serials went backwards or jumped by
// millions (auditd or the kernel restarted, logs of several boots), over
// every node.
func (p *Processor) Resets() uint64 {
	n := p.Asm.Resets()
	for _, ns := range p.nodes {
		n += ns.asm.Resets()
	}
	return n
}

// TableStats sums the process tables' counters.
func (p *Processor) TableStats() TableStats {
	var st TableStats
	add := func(t *Table) {
		if t == nil {
			return
		}
		s := t.Stats()
		st.Entries += s.Entries
		st.Evicted += s.Evicted
		st.Expired += s.Expired
		st.Labeled += s.Labeled
		st.Adopted += s.Adopted
	}
	add(p.Mapper.Table)
	for _, ns := range p.nodes {
		add(ns.mapper.Table)
	}
	return st
}

// Kernel parses one record in kernel form (binary protocol version 0).
func (p *Processor) Kernel(typ uint32, text []byte, out []*normalize.Event) ([]*normalize.Event, error) {
	return p.kernel(typ, text, false, out)
}

// KernelOwned is Kernel for bytes the caller will never modify again.
func (p *Processor) KernelOwned(typ uint32, text []byte, out []*normalize.Event) ([]*normalize.Event, error) {
	return p.kernel(typ, text, true, out)
}

func (p *Processor) kernel(typ uint32, text []byte, owned bool, out []*normalize.Event) ([]*normalize.Event, error) {
	msg, err := parseKernel(typ, text, owned)
	if err != nil {
		return out, err
	}
	p.countEOE(msg)
	return p.emit(p.Asm.Push(msg), out), nil
}

// Maintain completes events whose EOE did not come in time.
func (p *Processor) Maintain(out []*normalize.Event) []*normalize.Event {
	out = p.emit(p.Asm.Maintain(), out)
	for _, n := range p.nodes {
		out = p.emitWith(n.mapper, n.asm.Maintain(), out)
	}
	return out
}

// Close completes every open event.
func (p *Processor) Close(out []*normalize.Event) []*normalize.Event {
	out = p.emit(p.Asm.Close(), out)
	for _, n := range p.nodes {
		out = p.emitWith(n.mapper, n.asm.Close(), out)
	}
	return out
}

func (p *Processor) emit(groups [][]*auparse.AuditMessage, out []*normalize.Event) []*normalize.Event {
	return p.emitWith(&p.Mapper, groups, out)
}

func (p *Processor) emitWith(m *Mapper, groups [][]*auparse.AuditMessage, out []*normalize.Event) []*normalize.Event {
	for _, g := range groups {
		p.merged += uint64(max(len(g)-1, 0))
		ev := &normalize.Event{}
		if err := m.Map(g, ev); err != nil {
			if p.Failed != nil {
				var sb strings.Builder
				for _, r := range g {
					sb.WriteString(r.RecordType.String())
					sb.WriteString(" ")
					sb.WriteString(r.RawData)
					sb.WriteString("\n")
				}
				p.Failed([]byte(sb.String()), err)
			}
			continue
		}
		out = append(out, ev)
	}
	return out
}
