package unified2

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	u2 "github.com/alertgw/alertgw/normalize/unified2"
)

// Snort's nostamp option (Snort 2.9 `output unified2: filename snort.u2,
// nostamp`; Snort 3 `unified2 = { nostamp = true }` or --nostamps) names
// its unified2 file without the .<unix time> suffix, and opens it with
// fopen(path, "wb") each time it starts and each time it rolls over at
// `limit`: the same name, truncated, written again from the start. Barnyard2
// cannot follow such a file; alertgw can, with `nostamp: true`:
//
//   - the spool is the one file <directory>/<prefix>;
//   - what is open is told apart from what Snort writes next by the file's
//     inode and a hash of its first record (its generation, kept in the
//     bookmark): a rewrite keeps the inode but changes the first record
//     (event id, second and microsecond, signature);
//   - after each wait at the end of the file, and before reading on, the
//     file is checked: a new inode, a size below the offset read so far or
//     another first record means Snort rewrote it, and reading starts again
//     at offset 0 of the new content;
//   - on start-up a bookmark whose generation differs from the file's, or
//     whose offset is past its end, is from a previous content: reading
//     starts at 0, with a warning;
//   - event ids include the generation, so an alert at the same offset of
//     two contents gets two ids, and one alert read twice the same id.
//
// What Snort wrote after the last end-of-file alertgw saw and before it
// rewrote the file is overwritten before anyone can read it: nostamp loses
// those alerts by design, whoever reads the file. Timestamped names (the
// default of Snort 2 and Snort 3) do not have this window.

// noStampFile lists the nostamp file when it exists.
func (s *Spool) noStampFile() ([]fileEntry, error) {
	fi, err := os.Stat(filepath.Join(s.Dir, s.Prefix))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, derr := os.Stat(s.Dir); derr != nil {
			return nil, derr
		}
		return nil, nil
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, nil
	}
	return []fileEntry{{name: s.Prefix}}, nil
}

// fileID is which content of a nostamp file is open.
type fileID struct {
	ino  uint64
	size int64
	gen  string // "" until the first record is complete
}

// name is the file name event ids are derived from: with the generation,
// so that ids differ between contents.
func (id fileID) name(file string) string {
	if id.gen == "" {
		return file
	}
	return file + "@" + id.gen
}

// differs reports whether a bookmarked position belongs to another content
// than the one open.
func (id fileID) differs(pos Position) bool {
	return pos.Offset > id.size || (pos.Gen != "" && id.gen != "" && pos.Gen != id.gen)
}

// genPrefix is how much of the first record the generation hashes: the
// record header and the start of its body (an event record's sensor id,
// event id, second, microsecond, signature, generator, revision …).
const genPrefix = u2.HeaderLen + 56

// identify returns the identity of what f holds now.
func identify(f *os.File) fileID {
	var id fileID
	fi, err := f.Stat()
	if err != nil {
		return id
	}
	id.size = fi.Size()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.ino = st.Ino
	}
	var hdr [genPrefix]byte
	n, _ := f.ReadAt(hdr[:], 0)
	if n < u2.HeaderLen {
		return id
	}
	rec := int64(u2.HeaderLen) + int64(binary.BigEndian.Uint32(hdr[4:8]))
	if id.size < rec {
		return id // the first record is still being written
	}
	n = int(min(int64(n), rec))
	sum := sha256.Sum256(hdr[:n])
	id.gen = hex.EncodeToString(sum[:8])
	return id
}

// rewritten reports whether the nostamp file is no longer the content open
// as f (read up to off): replaced (another inode at the path), truncated
// below off, or with another first record.
func (s *Spool) rewritten(f *os.File, open fileID, off int64) bool {
	fi, err := os.Stat(filepath.Join(s.Dir, s.Prefix))
	if err != nil {
		return false // gone: wait for Snort to create it again
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Ino != open.ino {
		s.Log.Warn().Str("file", s.Prefix).Int64("offset", off).Msg("nostamp spool file replaced: reading the new file from its start")
		return true
	}
	now := identify(f)
	if now.size < off || (open.gen != "" && now.gen != "" && now.gen != open.gen) {
		s.Log.Warn().Str("file", s.Prefix).Int64("offset", off).Int64("size", now.size).
			Msg("nostamp spool file rewritten (Snort restarted or rolled over): reading it from its start")
		return true
	}
	return false
}
