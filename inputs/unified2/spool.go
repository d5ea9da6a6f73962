package unified2

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	u2 "github.com/alertgw/alertgw/normalize/unified2"
	"github.com/alertgw/alertgw/stats"
)

// Spool follows a directory of PREFIX.<unix-timestamp> files the way
// Barnyard2 does with -d DIR -f PREFIX: oldest first, waiting at the end of
// the newest file for more, moving on when a newer file appears.
//
// Delivery: an event's batch is registered with the tracker before it is
// emitted; the bookmark advances only over batches every output accepted,
// and always to a record boundary between two alerts. After a crash
// (SIGKILL included) the follower resumes at the bookmark: nothing is lost;
// alerts delivered after the last bookmark write are delivered again, with
// the same event id (derived from file name and offset), so consumers can
// drop the duplicates.
type Spool struct {
	Dir, Prefix string
	// NoStamp follows the one file Snort writes with its nostamp option:
	// named Prefix exactly, rewritten from its start (fopen "wb") each
	// time Snort starts or rolls over at its limit. See nostamp.go.
	NoStamp      bool
	BookmarkPath string
	Processed    string // keep | delete | archive
	ArchiveDir   string
	Poll         time.Duration // how often to look for more data at EOF
	IdleFlush    time.Duration // emit an open event after this long without a record
	BatchSize    int
	MaxRecord    int
	InputName    string
	Mapper       *u2.Mapper
	Log          zerolog.Logger
	Stats        *stats.Input
	// DrainWait bounds how long Run waits, once reading stopped, for the
	// pipeline to acknowledge what was emitted, so the final bookmark
	// covers it.
	DrainWait time.Duration
}

// fileEntry is one spool file.
type fileEntry struct {
	name string
	ts   uint64
}

// listFiles returns PREFIX.<digits> files, oldest first (with nostamp:
// the file PREFIX, when it exists).
func (s *Spool) listFiles() ([]fileEntry, error) {
	if s.NoStamp {
		return s.noStampFile()
	}
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("spool directory: %w", err)
	}
	var out []fileEntry
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), s.Prefix+".")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		ts, err := strconv.ParseUint(rest, 10, 64)
		if err != nil {
			continue
		}
		out = append(out, fileEntry{name: e.Name(), ts: ts})
	}
	slices.SortFunc(out, func(a, b fileEntry) int {
		if a.ts != b.ts {
			if a.ts < b.ts {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	return out, nil
}

// fileTS is the timestamp suffix of a spool file name.
func (s *Spool) fileTS(name string) uint64 {
	ts, _ := strconv.ParseUint(strings.TrimPrefix(name, s.Prefix+"."), 10, 64)
	return ts
}

// next returns the first file after cur (by timestamp), if any.
func (s *Spool) next(cur string) (string, bool, error) {
	if s.NoStamp {
		return "", false, nil // one file, rewritten in place: see rewritten
	}
	files, err := s.listFiles()
	if err != nil {
		return "", false, err
	}
	ts := s.fileTS(cur)
	for _, f := range files {
		if f.ts > ts || (f.ts == ts && f.name > cur) {
			return f.name, true, nil
		}
	}
	return "", false, nil
}

// Run follows the spool until ctx ends.
func (s *Spool) Run(ctx context.Context, emit inputs.Emitter) error {
	start, ok, err := ReadBookmark(s.BookmarkPath)
	if err != nil {
		return err
	}
	if !ok {
		start = Position{}
	}
	tr := newTracker(start)
	tr.persist = s.bookmarkWriter(start)
	err = s.follow(ctx, emit, tr, start)
	// The pipeline's workers and outputs are still running: give them a
	// moment to acknowledge what was emitted, so the last bookmark is as
	// far as it can be.
	deadline := time.Now().Add(s.DrainWait)
	for time.Now().Before(deadline) {
		if _, n := tr.position(); n == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// follow is the reading loop.
func (s *Spool) follow(ctx context.Context, emit inputs.Emitter, tr *tracker, pos Position) error {
	// Find the file to start with: the bookmarked one if it is still
	// there, else the first newer one (it was processed and removed).
	for {
		files, err := s.listFiles()
		if err != nil {
			return err
		}
		if pos.File != "" && slices.ContainsFunc(files, func(f fileEntry) bool { return f.name == pos.File }) {
			break
		}
		if pos.File != "" {
			if n, ok, err := s.next(pos.File); err != nil {
				return err
			} else if ok {
				s.Log.Warn().Str("bookmark_file", pos.File).Str("file", n).Msg("bookmarked file is gone; starting at the next one")
				pos = Position{File: n}
				break
			}
		} else if len(files) > 0 {
			pos = Position{File: files[0].name}
			break
		}
		if !sleep(ctx, s.Poll) {
			return nil
		}
	}

	var (
		g       u2.Aggregator
		acct    = accounting{st: s.Stats}
		batch   []*normalize.Event
		lastEnd = pos.Offset // end of the last alert put into batch
		idle    time.Time
		id      fileID // nostamp: which content of the file is open
	)
	rd := u2.NewReader(nil, pos.Offset)
	rd.MaxBody = s.MaxRecord
	flushBatch := func(file string) {
		if len(batch) == 0 {
			return
		}
		done := tr.add(Position{File: file, Offset: lastEnd, Gen: id.gen})
		emit.Events(batch, done)
		batch = nil
	}
	addAlert := func(file string, a *u2.Alert) {
		ev := &normalize.Event{}
		s.Mapper.Map(a, ev)
		ev.ID = eventID(s.InputName, id.name(file), a.Start)
		batch = append(batch, ev)
		lastEnd = a.End
		if len(batch) >= s.BatchSize {
			flushBatch(file)
		}
	}

	for ctx.Err() == nil {
		f, err := os.Open(filepath.Join(s.Dir, pos.File))
		if err != nil {
			return fmt.Errorf("open spool file: %w", err)
		}
		if s.NoStamp {
			id = identify(f)
			if id.differs(pos) {
				s.Log.Warn().Str("file", pos.File).Int64("bookmark_offset", pos.Offset).Int64("size", id.size).
					Msg("nostamp spool file was rewritten (Snort restarted or rolled over) since the bookmark: reading it from the start; what the previous content held after the bookmark was overwritten before it could be read")
				pos = Position{File: pos.File}
				tr.advanceTo(pos)
			}
		}
		if _, err := f.Seek(pos.Offset, io.SeekStart); err != nil {
			f.Close()
			return fmt.Errorf("seek %s to %d: %w", pos.File, pos.Offset, err)
		}
		br := bufio.NewReaderSize(f, 256<<10)
		rd.Reset(br, pos.Offset)
		lastEnd = pos.Offset
		idle = time.Now()
		s.Log.Info().Str("file", pos.File).Int64("offset", pos.Offset).Msg("reading spool file")

		nextFile := ""
	read:
		for ctx.Err() == nil {
			rec, err := rd.Next()
			switch {
			case err == nil:
				if s.NoStamp && id.gen == "" {
					id = identify(f) // the first record is complete now
				}
				idle = time.Now()
				s.Stats.Received.Add(1)
				s.Stats.Bytes.Add(uint64(u2.HeaderLen + len(rec.Body)))
				a, aerr := g.Add(rec)
				acct.update(&g)
				if aerr != nil {
					emit.Failed(slices.Clone(rec.Body), normalize.ReasonMalformed, fmt.Errorf("%s: %w", pos.File, aerr))
				}
				if a != nil {
					addAlert(pos.File, a)
				}
				continue
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				// End of what is written so far. A partial record waits
				// for its writer, unless a newer file shows this one is
				// finished: then the tail is corrupt.
				partial := err != io.EOF
				off := rd.Offset()
				n, newer, lerr := s.next(pos.File)
				if lerr != nil {
					f.Close()
					return lerr
				}
				if newer {
					// Re-check the file once: the writer may have finished
					// the record just before rotating.
					if partial {
						if rest, ok := s.tail(f, off); ok {
							s.Log.Error().Str("file", pos.File).Int64("offset", off).Int("bytes", len(rest)).Msg("truncated record at the end of a rotated spool file; skipped")
							s.Stats.Received.Add(1) // the partial record
							emit.Failed(rest, normalize.ReasonTruncated, fmt.Errorf("%s: truncated record at offset %d", pos.File, off))
						} else {
							// more data arrived: read on
							if _, err := f.Seek(off, io.SeekStart); err != nil {
								return fmt.Errorf("%s: %w", pos.File, err)
							}
							br.Reset(f)
							rd.Reset(br, off)
							continue
						}
					}
					if a := g.Flush(); a != nil {
						addAlert(pos.File, a)
					}
					lastEnd = off
					flushBatch(pos.File)
					nextFile = n
					break read
				}
				flushBatch(pos.File)
				if g.Open() && time.Since(idle) >= s.IdleFlush {
					addAlert(pos.File, g.Flush())
					flushBatch(pos.File)
				}
				if !sleep(ctx, s.Poll) {
					break read
				}
				if s.NoStamp && s.rewritten(f, id, off) {
					// Checked after the wait, before reading on: what is
					// at off now may be the middle of a record of the
					// new content.
					if a := g.Flush(); a != nil {
						addAlert(pos.File, a)
					}
					flushBatch(pos.File)
					nextFile = pos.File // the same name, from its start
					break read
				}
				// Seek back to the record boundary and drop what bufio
				// holds, so a partial record is read again whole.
				if _, err := f.Seek(off, io.SeekStart); err != nil {
					f.Close()
					return fmt.Errorf("seek %s: %w", pos.File, err)
				}
				br.Reset(f)
				rd.Reset(br, off)
			default:
				var ce *u2.CorruptError
				if !errors.As(err, &ce) {
					f.Close()
					return fmt.Errorf("read %s: %w", pos.File, err)
				}
				if s.NoStamp && s.rewritten(f, id, ce.Offset) {
					// Snort rewrote the file between the check after the
					// wait and this read: not corruption, new content.
					if a := g.Flush(); a != nil {
						addAlert(pos.File, a)
					}
					flushBatch(pos.File)
					nextFile = pos.File
					break read
				}
				s.Log.Error().Str("file", pos.File).Int64("offset", ce.Offset).Uint32("type", ce.Type).Uint32("length", ce.Length).Msg("corrupt unified2 record: skipping the rest of the file")
				s.Stats.Received.Add(1) // the rest of the file, as one message
				emit.Failed(nil, normalize.ReasonMalformed, fmt.Errorf("%s: %w", pos.File, err))
				if a := g.Flush(); a != nil {
					addAlert(pos.File, a)
				}
				flushBatch(pos.File)
				// Wait for a newer file (nostamp: new content): the rest
				// of this one cannot be read safely.
				for ctx.Err() == nil {
					if s.NoStamp {
						if s.rewritten(f, id, ce.Offset) {
							nextFile = pos.File
							break
						}
						sleep(ctx, s.Poll)
						continue
					}
					n, newer, lerr := s.next(pos.File)
					if lerr != nil {
						f.Close()
						return lerr
					}
					if newer {
						nextFile = n
						break
					}
					sleep(ctx, s.Poll)
				}
				break read
			}
		}
		f.Close()
		if nextFile == "" {
			break // ctx done
		}
		// Everything of the old file is in batches already registered;
		// the switch itself is a position, acked after them.
		pos = Position{File: nextFile}
		tr.advanceTo(pos)
	}
	// Shutting down: hand over what is aggregated so far; the bookmark
	// covers it only if the pipeline delivers it before the deadline.
	if a := g.Flush(); a != nil {
		addAlert(pos.File, a)
	}
	flushBatch(pos.File)
	return nil
}

// tail returns the bytes from off to the end of f if no complete record
// is there now.
func (s *Spool) tail(f *os.File, off int64) ([]byte, bool) {
	st, err := f.Stat()
	if err != nil {
		return nil, false
	}
	n := st.Size() - off
	if n <= 0 {
		return nil, false
	}
	if n >= u2.HeaderLen {
		var hdr [u2.HeaderLen]byte
		if _, err := f.ReadAt(hdr[:], off); err == nil {
			if int64(binary.BigEndian.Uint32(hdr[4:]))+u2.HeaderLen <= n {
				return nil, false // complete now
			}
		}
	}
	b := make([]byte, min(n, 1<<16))
	m, _ := f.ReadAt(b, off)
	return b[:m], true
}

// bookmarkWriter returns the tracker's persist function: it writes the
// bookmark when the position moved, and handles processed files
// (delete/archive) when it moved to another file. Calls are serialized by
// the tracker.
func (s *Spool) bookmarkWriter(written Position) func(Position) {
	return func(pos Position) {
		if pos == written || pos.File == "" {
			return
		}
		if err := WriteBookmark(s.BookmarkPath, pos); err != nil {
			s.Log.Error().Err(err).Str("bookmark", s.BookmarkPath).Msg("bookmark write failed: a restart would read again from the last bookmark written")
			if s.Stats != nil { // not ready until a write succeeds
				s.Stats.SetProblem(fmt.Sprintf("bookmark %s cannot be written (%v): a restart would read again from the last bookmark written", s.BookmarkPath, err))
			}
			return
		}
		if s.Stats != nil {
			s.Stats.SetProblem("")
		}
		if pos.File != written.File {
			s.processed(pos.File)
		}
		written = pos
	}
}

// processed deletes or archives every spool file older than cur.
func (s *Spool) processed(cur string) {
	if s.Processed == "" || s.Processed == "keep" {
		return
	}
	files, err := s.listFiles()
	if err != nil {
		s.Log.Error().Err(err).Msg("list spool for processed files")
		return
	}
	ts := s.fileTS(cur)
	for _, f := range files {
		if f.ts > ts || f.name == cur || (f.ts == ts && f.name > cur) {
			break
		}
		p := filepath.Join(s.Dir, f.name)
		switch s.Processed {
		case "delete":
			err = os.Remove(p)
		case "archive":
			err = os.Rename(p, filepath.Join(s.ArchiveDir, f.name))
		}
		if err != nil {
			s.Log.Error().Err(err).Str("file", f.name).Msg("processed spool file: " + s.Processed)
		} else {
			s.Log.Info().Str("file", f.name).Msg("processed spool file: " + s.Processed)
		}
	}
}

// eventID is stable for one alert of one file: the same alert read again
// after a restart gets the same id, so duplicates can be recognised.
func eventID(input, file string, off int64) string {
	h := fnv.New128a()
	h.Write([]byte(input))
	h.Write([]byte{0})
	h.Write([]byte(file))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(off))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil))
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
