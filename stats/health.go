package stats

import (
	"fmt"
	"time"
)

// Output states, from best to worst.
const (
	StateOK       = "ok"       // delivering
	StateDegraded = "degraded" // failing or spilling to disk but buffering within its limits, or delivering with its buffer full
	StateFailing  = "failing"  // failing for longer than the grace period, failing with its buffer full, or paused: not ready
)

// Health is an output's state and why.
type Health struct {
	State  string
	Reason string        // empty when ok
	For    time.Duration // how long it has been failing; 0 when it is not
}

// Ready reports whether the state lets the gateway be ready.
func (h Health) Ready() bool { return h.State != StateFailing }

// Health tells the output's state at now. An output whose destination has
// refused every attempt for longer than grace is failing, however much
// room its buffer has left: events pile up and nothing reaches the
// destination. So is one that fails with its buffer full (it blocks or
// drops, by its when_full policy), and one that is paused. Within grace,
// while it overflows to its disk buffer, or while it delivers but its
// buffer is full (the destination takes events slower than they come: the
// inputs are held back or events dropped, by when_full), it is degraded:
// it is not fine, but it is delivering, and a restart would not help.
func (o *Output) Health(now time.Time, grace time.Duration) Health {
	failingFor, lastErr := o.FailingFor(now)
	switch {
	case o.PausedFor() != "":
		return Health{StateFailing, fmt.Sprintf("paused: %s (%d events held)", o.PausedFor(), o.Queued.Load()), failingFor}
	case failingFor > 0 && !o.Ready():
		return Health{StateFailing, fmt.Sprintf("failing for %s and its buffer is full (%s): %s", roundDur(failingFor), o.fill(), lastErr), failingFor}
	case failingFor > grace:
		return Health{StateFailing, fmt.Sprintf("failing for %s (longer than the %s grace period), %s buffered: %s", roundDur(failingFor), grace, o.fill(), lastErr), failingFor}
	case failingFor > 0:
		return Health{StateDegraded, fmt.Sprintf("failing for %s, retrying; %s buffered: %s", roundDur(failingFor), o.fill(), lastErr), failingFor}
	case o.Spilling.Load():
		return Health{StateDegraded, fmt.Sprintf("buffering on disk (%s): the destination is slower than the events arriving", o.fill()), 0}
	case o.Capacity.Load() > 0 && o.bufferFull():
		return Health{StateDegraded, fmt.Sprintf("buffer full (%s): the destination takes events slower than they arrive; when_full applies", o.fill()), 0}
	}
	return Health{State: StateOK}
}

// fill describes how full the buffer is.
func (o *Output) fill() string {
	if limit := o.BufferLimit.Load(); limit > 0 {
		return fmt.Sprintf("%d events, %d of %d disk bytes", o.Queued.Load(), o.BufferedBytes.Load(), limit)
	}
	return fmt.Sprintf("%d/%d events", o.Queued.Load(), o.Capacity.Load())
}

func roundDur(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
