// Package ack counts what still holds a batch of events on its way to the
// outputs, so that the batch is acknowledged to its input (bookmark, journal,
// forwarding peer, Kafka offset) only once nothing can lose it any more.
//
// Stages that keep events for a while (aggregation windows, open
// transactions) hold the batch's ticket until what they made of its events
// has been accepted downstream.
package ack

import (
	"sync/atomic"

	"github.com/alertgw/alertgw/normalize"
)

// Ticket is one batch's acknowledgement, shared by everything that holds
// part of the batch. It starts held once, by its creator.
type Ticket struct {
	n    atomic.Int32
	done func()
}

// New returns a ticket held once that calls done (which may be nil) when the
// last hold is released.
func New(done func()) *Ticket {
	t := &Ticket{done: done}
	t.n.Store(1)
	return t
}

// Hold adds one holder. It must be called while the ticket is still held.
func (t *Ticket) Hold() { t.n.Add(1) }

// Release drops one hold; the last one acknowledges the batch.
func (t *Ticket) Release() {
	switch n := t.n.Add(-1); {
	case n == 0:
		if t.done != nil {
			t.done()
		}
	case n < 0:
		panic("ack: ticket released more often than held")
	}
}

// ReleaseAll releases every ticket of ts once.
func ReleaseAll(ts []*Ticket) {
	for _, t := range ts {
		t.Release()
	}
}

// Set is the tickets one summary or transaction stands for, each held once
// by the set. Events arrive batch by batch, so consecutive adds of the same
// ticket are folded into one hold.
type Set []*Ticket

// Add holds t for the set unless the set already holds it last.
func (s *Set) Add(t *Ticket) {
	if t == nil {
		return
	}
	if n := len(*s); n > 0 && (*s)[n-1] == t {
		return
	}
	t.Hold()
	*s = append(*s, t)
}

// Out is an event a stage emits and the batch acknowledgements it stands
// for: they are released once the event has been accepted downstream.
type Out struct {
	Event   *normalize.Event
	Tickets Set
}
