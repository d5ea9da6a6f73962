package unified2

import "fmt"

// Alert is an event record with the packet and extra-data records that
// follow it, or (Event.Type == 0) packets and extra data that arrived with
// no event open. Its slices point into its own copy of the records.
type Alert struct {
	Event   Event
	Packets []Packet    // same (sensor, event id, event second) as the event
	Extra   []ExtraData // same key as the event
	// Tagged are packets and extra data that arrived while this event was
	// open but name another event: Snort's tagged packets refer to an
	// earlier event (FORMATS.md §4.5). They stay with the record stream
	// order rather than being lost.
	Tagged      []Packet
	TaggedExtra []ExtraData
	Skipped     int // records of other types (113 app stats, unknown) inside the group
	Start, End  int64
	firstPacket [1]Packet // backs Packets for the usual one packet per event
}

// HasEvent reports whether the alert has an event record.
func (a *Alert) HasEvent() bool { return a.Event.Type != 0 }

// Aggregator groups records into alerts: an event record opens a group,
// records with its key join it, the next event record (or Flush: idle
// timeout, end of file) closes it. Not safe for concurrent use.
type Aggregator struct {
	open *Alert
	// slab is carved into the copies alerts keep of their records: one
	// allocation per 64 KiB instead of one or two per record. A slab lives
	// as long as any alert carved from it.
	slab []byte
	// Counts of what did not become part of an alert.
	Unknown int // records of unknown types, skipped by length
	// Accounting of the records fed, for received = normalized + merged +
	// failed + dropped: each record starts an alert, joins the open one
	// (Merged), carries no alert part (NoAlert), or fails (Add's error).
	Merged  uint64 // packet and extra-data records added to the open alert
	NoAlert uint64 // records of other types (113 app stats, historic, unknown), skipped
}

// Open reports whether a group is open.
func (g *Aggregator) Open() bool { return g.open != nil }

// Add feeds one record. It returns the alert that the record closed, if
// any. A body too short for its type is an error; the record is then left
// out and the group stays open.
func (g *Aggregator) Add(rec Record) (*Alert, error) {
	switch {
	case IsEvent(rec.Type):
		a := &Alert{Start: rec.Offset, End: rec.End()}
		a.Packets = a.firstPacket[:0]
		if err := DecodeEvent(rec.Type, g.keep(rec.Body), &a.Event); err != nil {
			return nil, g.bad(rec, err)
		}
		done := g.open
		g.open = a
		return done, nil
	case rec.Type == TypePacket || rec.Type == TypeBuffer:
		var p Packet
		if err := DecodePacket(rec.Type, rec.Body, &p); err != nil {
			return nil, g.bad(rec, err)
		}
		a, standalone := g.target(rec)
		p.Data = g.keep(p.Data)
		if !standalone {
			g.Merged++
		}
		if !standalone && g.matches(p.SensorID, p.EventID, p.EventSecond) {
			a.Packets = append(a.Packets, p)
		} else if standalone {
			a.Packets = append(a.Packets, p)
		} else {
			a.Tagged = append(a.Tagged, p)
		}
		if standalone {
			return a, nil
		}
		return nil, nil
	case rec.Type == TypeExtraData:
		var x ExtraData
		if err := DecodeExtraData(rec.Body, &x); err != nil {
			return nil, g.bad(rec, err)
		}
		a, standalone := g.target(rec)
		if !standalone {
			g.Merged++
		}
		x.Data = g.keep(x.Data)
		if !standalone && g.matches(x.SensorID, x.EventID, x.EventSecond) || standalone {
			a.Extra = append(a.Extra, x)
		} else {
			a.TaggedExtra = append(a.TaggedExtra, x)
		}
		if standalone {
			return a, nil
		}
		return nil, nil
	default:
		// 1 (historic), 99/100 (never written), 113 (app stats, not an
		// alert) and anything unknown: skipped by length, counted.
		if rec.Type != TypeAppStat && rec.Type != TypeEvent {
			g.Unknown++
		}
		g.NoAlert++
		if g.open != nil {
			g.open.Skipped++
			g.open.End = rec.End()
		}
		return nil, nil
	}
}

// bad extends the open group over a record that failed to decode, so a
// bookmark taken after the group does not bring it back, and wraps err.
func (g *Aggregator) bad(rec Record, err error) error {
	if g.open != nil {
		g.open.Skipped++
		g.open.End = rec.End()
	}
	return fmt.Errorf("record at offset %d: %w", rec.Offset, err)
}

// target returns the open group, extended over rec, or a new standalone
// alert when none is open.
func (g *Aggregator) target(rec Record) (*Alert, bool) {
	if g.open != nil {
		g.open.End = rec.End()
		return g.open, false
	}
	return &Alert{Start: rec.Offset, End: rec.End()}, true
}

func (g *Aggregator) matches(sensor, id, sec uint32) bool {
	e := &g.open.Event
	return e.SensorID == sensor && e.EventID == id && e.Second == sec
}

const slabSize = 64 << 10

// keep copies b into the slab.
func (g *Aggregator) keep(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if len(b) > cap(g.slab)-len(g.slab) {
		if len(b) > slabSize/4 {
			return append([]byte(nil), b...) // large: its own allocation
		}
		g.slab = make([]byte, 0, slabSize)
	}
	start := len(g.slab)
	g.slab = append(g.slab, b...)
	return g.slab[start:len(g.slab):len(g.slab)]
}

// Flush closes the open group, if any, and returns it.
func (g *Aggregator) Flush() *Alert {
	a := g.open
	g.open = nil
	return a
}
