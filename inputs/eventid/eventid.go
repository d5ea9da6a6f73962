// Package eventid gives the events made from an input's raw messages ids
// that come from where the messages are kept — a place in the input's
// journal, an offset in a Kafka partition — rather than from a counter, so
// that a message read again (the journal replaying it after a restart, a
// partition re-read after a rebalance) makes an event with the same id,
// and a consumer can drop the duplicates of at-least-once delivery by id.
package eventid

import (
	"encoding/binary"
	"encoding/hex"
)

// Origin names where a run of messages is kept: a source (5 bytes that
// tell one journal or partition from another) and a position in it. The
// zero Origin names nothing.
type Origin [13]byte

// New is the Origin of position in source.
func New(source [5]byte, position uint64) Origin {
	var o Origin
	copy(o[:5], source[:])
	binary.BigEndian.PutUint64(o[5:], position)
	return o
}

// EventID is the id of the event made from message i of the run the
// Origin starts: 32 lower-case hex digits, like the ids the pipeline
// numbers itself. It is empty for the zero Origin.
func (o Origin) EventID(i int) string {
	if o == (Origin{}) || i < 0 || i >= 1<<24 {
		return ""
	}
	var b [32]byte
	hex.Encode(b[:26], o[:])
	const digits = "0123456789abcdef"
	for k := 31; k >= 26; k-- {
		b[k] = digits[i&0xf]
		i >>= 4
	}
	return string(b[:])
}

// Run is N consecutive messages of a batch kept from Origin on (or, with
// the zero Origin, kept nowhere).
type Run struct {
	N      int
	Origin Origin
}

// Cover returns runs, or for a batch of n messages without any, one run
// with no origin: the runs of batches joined into one stay aligned with
// their messages.
func Cover(runs []Run, n int) []Run {
	if runs != nil {
		return runs
	}
	return []Run{{N: n}}
}

// IDs walks the runs of a batch message by message.
type IDs struct {
	runs []Run
	r, i int
}

// NewIDs walks runs from the first message.
func NewIDs(runs []Run) IDs { return IDs{runs: runs} }

// Next returns the event id of the next message, empty when it has none.
func (c *IDs) Next() string {
	for c.r < len(c.runs) && c.i >= c.runs[c.r].N {
		c.r, c.i = c.r+1, 0
	}
	if c.r >= len(c.runs) {
		return ""
	}
	c.i++
	return c.runs[c.r].Origin.EventID(c.i - 1)
}
