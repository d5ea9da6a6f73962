package audit

import (
	"math/bits"
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

	// Serial gap accounting: a bitmap of the serials seen in
	// [base, base+gapWindow), and the highest seen.
	started   bool
	base, top uint32
	window    [gapWindow / 64]uint64
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
	if len(msgs) > 0 {
		(*Assembler)(s).saw(msgs[0].Sequence)
	}
}

// EventsLost is go-libaudit's count of serials skipped between events as
// it hands them out; it counts events that merely completed out of order
// (serials are taken at syscall entry, records sent at exit) and serials
// going backwards as billions. The Assembler counts gaps itself instead,
// over a window of serials (see saw).
func (s *stream) EventsLost(int) {}

// gapWindow is how far behind the highest serial a missing one may still
// arrive before it is counted lost.
const gapWindow = 4096

// saw records serial s, counting as lost the serials that fall out of the
// window unseen.
func (a *Assembler) saw(s uint32) {
	if !a.started {
		a.started, a.base, a.top = true, s, s
	}
	switch {
	case s-a.top >= 1<<24 && s-a.top < 1<<31:
		// A jump of millions: another boot's log, not loss.
		a.resets++
		a.started = false
		a.clearWindow()
		a.saw(s)
		return
	case s-a.base >= 1<<31:
		// Behind the window: a serial counted lost came late after all,
		// or the serials restarted (a new boot on replay).
		if a.top-s > 2*gapWindow {
			a.resets++
			a.started = false
			a.clearWindow()
			a.saw(s)
		}
		return
	case s-a.base >= gapWindow:
		a.slide(s - gapWindow + 1)
	}
	a.window[s%gapWindow/64] |= 1 << (s % 64)
	if int32(s-a.top) > 0 {
		a.top = s
	}
}

// slide moves the window's base to nb, counting unseen serials as lost.
func (a *Assembler) slide(nb uint32) {
	if nb-a.base >= gapWindow {
		seen := 0
		for _, w := range a.window {
			seen += bits.OnesCount64(w)
		}
		a.lost += uint64(gapWindow-seen) + uint64(nb-a.base-gapWindow)
		a.clearWindow()
		a.base = nb
		return
	}
	for ; a.base != nb; a.base++ {
		if !a.seen(a.base) {
			a.lost++
		}
		a.window[a.base%gapWindow/64] &^= 1 << (a.base % 64)
	}
}

func (a *Assembler) seen(s uint32) bool { return a.window[s%gapWindow/64]&(1<<(s%64)) != 0 }

func (a *Assembler) clearWindow() { clear(a.window[:]) }

// settle counts the unseen serials below the highest seen (end of input).
func (a *Assembler) settle() {
	if !a.started {
		return
	}
	a.slide(a.top)
	a.window[a.top%gapWindow/64] |= 1 << (a.top % 64)
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
	a.settle()
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
