package journal

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/alertgw/alertgw/inputs/eventid"
)

// Origins: an entry's origin (eventid.Origin) is the journal's identity
// and the entry's position, the segment and the offset in it. It is the
// same when the entry is appended and when a later run replays it, and no
// other entry of any journal has it: segment ids only grow, and a journal
// that starts afresh draws a new identity.

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

// origin is the origin of the entry at off in segment seg; none past what
// an origin can hold.
func (j *Journal) origin(seg uint64, off int64) eventid.Origin {
	if seg > math.MaxUint32 || off < 0 || off > math.MaxUint32 {
		return eventid.Origin{}
	}
	return eventid.New(j.identity, seg<<32|uint64(off))
}
