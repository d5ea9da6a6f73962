package sqlite

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// ConsoleDir is the subdirectory the console keeps its triage state in,
// beside the partitions: neither foreign nor ever deleted.
const ConsoleDir = "console"

// Partition is one time partition of a store directory: its files (one per
// shard) and their size on disk.
type Partition struct {
	Start, End time.Time // span of received times
	Files      []string  // file names of the shards, each with its -wal and -shm
	Bytes      int64     // all of them, WAL and shared memory included
}

// Foreign is a file in the store directory that is not ours, or a file
// named like a partition that does not prove to be one (retention never
// deletes it).
type Foreign struct {
	Name   string
	Reason string
}

// Scan lists a store directory's partitions, oldest first, and the files
// that are not ours.
func Scan(dir string) ([]Partition, []Foreign, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	byStart := map[time.Time]*Partition{}
	var foreign []Foreign
	companion := map[string]bool{}
	for _, e := range ents {
		name := e.Name()
		start, end, ok := partSpan(name)
		if !ok {
			continue
		}
		path := filepath.Join(dir, name)
		if !e.Type().IsRegular() {
			foreign = append(foreign, Foreign{name, "not a regular file"})
			continue
		}
		if err := checkHeader(path); err != nil {
			foreign = append(foreign, Foreign{name, err.Error()})
			continue
		}
		p := byStart[start]
		if p == nil {
			p = &Partition{Start: start, End: end}
			byStart[start] = p
		}
		p.Files = append(p.Files, name)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			companion[name+suffix] = true
			if st, err := os.Stat(path + suffix); err == nil {
				p.Bytes += st.Size()
			}
		}
	}
	for _, e := range ents {
		n := e.Name()
		if _, _, ok := partSpan(n); ok || companion[n] {
			continue
		}
		if n == ConsoleDir && e.IsDir() {
			continue
		}
		if base, ok := cutCompanion(n); ok {
			if _, _, isPart := partSpan(base); isPart {
				if _, err := os.Stat(filepath.Join(dir, base)); err != nil {
					foreign = append(foreign, Foreign{n, "left over from a partition that is gone"})
				}
				continue // the companion of a foreign partition-named file
			}
		}
		foreign = append(foreign, Foreign{n, "not a store partition"})
	}
	out := make([]Partition, 0, len(byStart))
	for _, p := range byStart {
		slices.Sort(p.Files)
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Partition) int { return a.Start.Compare(b.Start) })
	return out, foreign, nil
}

func cutCompanion(n string) (string, bool) {
	for _, s := range []string{"-wal", "-shm", "-journal"} {
		if b, ok := cutSuffix(n, s); ok {
			return b, true
		}
	}
	return "", false
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return "", false
}

var sqliteMagic = []byte("SQLite format 3\x00")

// checkHeader proves a file is one of our partitions from its SQLite
// header: the magic, our application_id and our schema version. It reads
// the file, never opens it as a database, so it cannot change it.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var h [100]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return errors.New("not a SQLite database (too short)")
	}
	if !bytes.Equal(h[:16], sqliteMagic) {
		return errors.New("not a SQLite database")
	}
	if app := binary.BigEndian.Uint32(h[68:72]); app != ApplicationID {
		return fmt.Errorf("a SQLite database of another application (application_id %#x)", app)
	}
	// Every version the readers read is ours to expire: a partition from
	// before the rollups (version 1) is upgraded only when written again.
	if v := binary.BigEndian.Uint32(h[60:64]); v < 1 || v > SchemaVersion {
		return fmt.Errorf("an alertgw partition of schema version %d (this alertgw reads 1 to %d)", v, SchemaVersion)
	}
	return nil
}

// RetentionPolicy says which partitions go.
type RetentionPolicy struct {
	MaxAge   time.Duration // partitions whose span ended longer ago go; 0: no limit
	MaxBytes int64         // oldest partitions go until the rest fit; 0: no limit. The newest partition always stays.
}

// Removed is a partition retention deleted.
type Removed struct {
	Partition
	Reason string // "age" or "max_bytes"
}

// Expired returns the partitions the policy removes, oldest first.
func (p RetentionPolicy) Expired(parts []Partition, now time.Time) []Removed {
	var out []Removed
	var total int64
	for _, x := range parts {
		total += x.Bytes
	}
	for i, x := range parts {
		switch {
		case p.MaxAge > 0 && !x.End.After(now.Add(-p.MaxAge)):
			out = append(out, Removed{x, "age"})
		case p.MaxBytes > 0 && total > p.MaxBytes && i < len(parts)-1:
			out = append(out, Removed{x, "max_bytes"})
		default:
			continue
		}
		total -= x.Bytes
	}
	return out
}

// Remove deletes a partition's files (each with its WAL and shared memory).
func Remove(dir string, p Partition) error {
	var errs []error
	for _, f := range p.Files {
		path := filepath.Join(dir, f)
		// Checked again right before deleting: never delete what is not ours.
		if err := checkHeader(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("%s: kept: %w", f, err))
			continue
		}
		errs = append(errs, removePartition(path))
	}
	return errors.Join(errs...)
}
