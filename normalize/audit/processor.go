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
	// Failed receives what could not be mapped (the records' text) with
	// the error; nil drops them silently, which only tests should do.
	Failed func(raw []byte, err error)
}

// NewProcessor builds a processor with its own assembler.
func NewProcessor(ao AssemblerOptions, r Resolver, t *Table) *Processor {
	return &Processor{Asm: NewAssembler(ao), Mapper: Mapper{Resolver: r, Table: t}}
}

// Line parses one text record and appends the events it completed to out.
// A record that cannot be parsed is returned as an error (the caller
// dead-letters it); it does not disturb the events in flight.
func (p *Processor) Line(line []byte, out []*normalize.Event) ([]*normalize.Event, error) {
	msg, err := ParseLine(line)
	if err != nil {
		return out, err
	}
	return p.emit(p.Asm.Push(msg), out), nil
}

// Kernel parses one record in kernel form (binary protocol version 0).
func (p *Processor) Kernel(typ uint32, text []byte, out []*normalize.Event) ([]*normalize.Event, error) {
	msg, err := ParseKernel(typ, text)
	if err != nil {
		return out, err
	}
	return p.emit(p.Asm.Push(msg), out), nil
}

// Maintain completes events whose EOE did not come in time.
func (p *Processor) Maintain(out []*normalize.Event) []*normalize.Event {
	return p.emit(p.Asm.Maintain(), out)
}

// Close completes every open event.
func (p *Processor) Close(out []*normalize.Event) []*normalize.Event {
	return p.emit(p.Asm.Close(), out)
}

func (p *Processor) emit(groups [][]*auparse.AuditMessage, out []*normalize.Event) []*normalize.Event {
	for _, g := range groups {
		ev := &normalize.Event{}
		if err := p.Mapper.Map(g, ev); err != nil {
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
