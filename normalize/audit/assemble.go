package audit

import (
	"time"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/auparse"
)

// Assembler groups records into audit events by serial with go-libaudit's
// Reassembler: an event completes on its EOE record (or, for single-record
// types, on arrival), on timeout, or when more than MaxInFlight events are
// open (the oldest goes first). Interleaved and out-of-order records are
// put back together; gaps in the serials are counted as lost events.
//
// An Assembler is used by one goroutine: Push, Maintain and Close return the
// events they completed, oldest serial first.
type Assembler struct {
	r      *libaudit.Reassembler
	out    [][]*auparse.AuditMessage
	lost   uint64
	resets uint64
}

// AssemblerOptions bound the records held while events are open.
type AssemblerOptions struct {
	MaxInFlight int           // open events kept at most; default 1000
	Timeout     time.Duration // how long an event waits for its EOE; default 2s
}

// NewAssembler returns an empty Assembler.
func NewAssembler(o AssemblerOptions) *Assembler {
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 1000
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	a := &Assembler{}
	// NewReassembler fails only for a nil stream.
	a.r, _ = libaudit.NewReassembler(o.MaxInFlight, o.Timeout, (*stream)(a))
	return a
}

type stream Assembler

func (s *stream) ReassemblyComplete(msgs []*auparse.AuditMessage) {
	s.out = append(s.out, msgs)
}

func (s *stream) EventsLost(n int) {
	// The reassembler subtracts serials as uint32: a serial that goes
	// backwards (a record later than its evicted event, a restarted
	// kernel) shows as a gap of billions. That is a reset, not a loss.
	if n > 0 && n < 1<<24 {
		s.lost += uint64(n)
	} else if n != 0 {
		s.resets++
	}
}

// Push adds one record and returns the events it completed. The returned
// slice is reused by the next call.
func (a *Assembler) Push(msg *auparse.AuditMessage) [][]*auparse.AuditMessage {
	a.out = a.out[:0]
	a.r.PushMessage(msg)
	return a.out
}

// Maintain evicts events that waited longer than the timeout; call it
// periodically when records stop arriving.
func (a *Assembler) Maintain() [][]*auparse.AuditMessage {
	a.out = a.out[:0]
	_ = a.r.Maintain() // only fails once closed
	return a.out
}

// Close completes every open event (end of a file, shutdown).
func (a *Assembler) Close() [][]*auparse.AuditMessage {
	a.out = a.out[:0]
	_ = a.r.Close()
	return a.out
}

// Lost returns how many events were missing from the serial sequence so
// far (records the kernel or auditd dropped, or a reconnect's gap), and
// resets the count.
func (a *Assembler) Lost() uint64 {
	n := a.lost
	a.lost = 0
	return n
}

// Resets returns how many times the serials went backwards so far.
func (a *Assembler) Resets() uint64 { return a.resets }
