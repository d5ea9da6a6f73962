package file

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// stampLayout is the time in rotated names: UTC to the millisecond, fixed
// width, so that names sort in time order ("events-20261122T101112.123Z.json").
const stampLayout = "20060102T150405.000Z"

// names derives rotated file names from the active path: the stem, a dash,
// the stamp, the extension, and ".gz" once compressed.
type names struct {
	dir, stem, ext string
	last           time.Time // newest stamp handed out or found on disk
}

func newNames(path string) names {
	base := filepath.Base(path)
	ext := filepath.Ext(base)
	if ext == base { // ".events": a dot file, no extension
		ext = ""
	}
	return names{dir: filepath.Dir(path), stem: strings.TrimSuffix(base, ext), ext: ext}
}

// next returns a fresh rotated name stamped at (or just after) at. Stamps
// only ever increase, one millisecond past the previous at least, so names
// never collide and sort in rotation order even when the clock steps back
// or two rotations fall in one millisecond.
func (n *names) next(at time.Time) string {
	stamp := at.UTC().Truncate(time.Millisecond)
	if !stamp.After(n.last) {
		stamp = n.last.Add(time.Millisecond)
	}
	for {
		name := n.path(stamp)
		if !exists(name) && !exists(name+gzSuffix) {
			n.last = stamp
			return name
		}
		stamp = stamp.Add(time.Millisecond)
	}
}

func (n *names) path(stamp time.Time) string {
	return filepath.Join(n.dir, n.stem+"-"+stamp.Format(stampLayout)+n.ext)
}

const (
	gzSuffix  = ".gz"
	tmpSuffix = ".tmp"
)

// rotatedFile is one file in the directory that belongs to this output.
type rotatedFile struct {
	path  string
	stamp time.Time
	gz    bool // compressed (.gz)
	tmp   bool // a compression that did not finish (.gz.tmp)
}

// parse recognizes the output's rotated files by name; anything else in
// the directory is not ours and is never touched.
func (n *names) parse(base string) (rotatedFile, bool) {
	rest, ok := strings.CutPrefix(base, n.stem+"-")
	if !ok || len(rest) < len(stampLayout) {
		return rotatedFile{}, false
	}
	stamp, err := time.Parse(stampLayout, rest[:len(stampLayout)])
	if err != nil {
		return rotatedFile{}, false
	}
	f := rotatedFile{path: filepath.Join(n.dir, base), stamp: stamp}
	switch rest[len(stampLayout):] {
	case n.ext:
	case n.ext + gzSuffix:
		f.gz = true
	case n.ext + gzSuffix + tmpSuffix:
		f.gz, f.tmp = true, true
	default:
		return rotatedFile{}, false
	}
	return f, true
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
