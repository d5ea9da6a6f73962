package journal

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Origin is where an entry lies: the journal's identity, the segment and
// the entry's offset in it. It is the same when the entry is appended and
// when a later run replays it, and no other entry of any journal has it
// (segment ids only grow, and a journal that starts afresh draws a new
// identity), so the events made from the entry's messages can have ids that
// survive a restart: a consumer drops the duplicates that at-least-once
// delivery makes by id. The zero Origin names no entry.
type Origin [13]byte

// EventID is the id of the event made from message i of the entry: 32
// lower-case hex digits, like the ids the pipeline numbers itself. It is
// empty for the zero Origin.
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

// Run is N consecutive messages of a batch that come from one entry (or,
// with the zero Origin, from none).
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

const idName = "id"

// loadIdentity reads the journal's identity, or draws a new one when there
// is none or when the journal starts afresh (no acknowledged position and
// no segment: the segment ids start again at 1, and with a new identity
// the origins still never repeat).
func (j *Journal) loadIdentity(fresh bool) error {
	path := filepath.Join(j.opts.Dir, idName)
	if !fresh {
		b, err := os.ReadFile(path)
		if err == nil {
			if n, derr := hex.Decode(j.identity[:], []byte(strings.TrimSpace(string(b)))); derr == nil && n == len(j.identity) {
				return nil
			}
		} else if !os.IsNotExist(err) {
			return fmt.Errorf("read journal identity: %w", err)
		}
	}
	if _, err := rand.Read(j.identity[:]); err != nil {
		return fmt.Errorf("journal identity: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(hex.EncodeToString(j.identity[:])+"\n"), 0o640); err != nil {
		return fmt.Errorf("write journal identity: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write journal identity: %w", err)
	}
	return nil
}

// origin is the Origin of the entry at off in segment seg; zero past what
// an Origin can hold.
func (j *Journal) origin(seg uint64, off int64) Origin {
	var o Origin
	if seg > math.MaxUint32 || off < 0 || off > math.MaxUint32 {
		return o
	}
	copy(o[:5], j.identity[:])
	binary.BigEndian.PutUint32(o[5:9], uint32(seg))
	binary.BigEndian.PutUint32(o[9:13], uint32(off))
	return o
}
