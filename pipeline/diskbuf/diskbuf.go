// Package diskbuf is an output's durable queue: an append-only log of
// records in segment files, read in order and acknowledged by persisting the
// read position. It gives at-least-once delivery across crashes: a record
// whose append returned is in the kernel's page cache (so it survives the
// process being killed) and, after the next fsync, on disk (so it survives
// the machine losing power); it is replayed until its reader acknowledges it.
//
// On disk, in the buffer's directory:
//
//	00000000000000000001.seg   segment: 8-byte magic, then records
//	00000000000000000002.seg
//	ack                        the acknowledged position (segment id, offset, crc)
//
// A record is framed as a little-endian uint32 payload length, a uint32
// CRC-32C of the payload, and the payload. On open every segment is scanned;
// a torn or corrupt tail (a crash mid-write, zeros after a power loss) ends
// the segment there: the file is truncated and Stats.BufferCorrupt counts it.
// Segments wholly before the acknowledged position are deleted.
package diskbuf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Sync policies.
const (
	SyncAlways   = "always"   // fsync after every append: survives power loss, slowest
	SyncInterval = "interval" // fsync at most every SyncInterval (default)
	SyncNever    = "never"    // leave it to the kernel: survives a crash, not a power loss
)

const (
	magic        = "AGWBUF1\n"
	headerSize   = 8 // length + crc
	maxRecord    = 64 << 20
	segExt       = ".seg"
	ackName      = "ack"
	ackSize      = 20
	defaultSeg   = 32 << 20
	defaultMax   = 1 << 30
	defaultSyncT = time.Second
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrFull is returned by Append when the records would not fit in MaxBytes.
var ErrFull = errors.New("disk buffer full")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("disk buffer closed")

// Options configure a Buffer.
type Options struct {
	Dir          string
	MaxBytes     int64         // bound on the segment files' total size; 0: 1 GiB
	SegmentBytes int64         // a segment is closed once it reaches this size; 0: 32 MiB or MaxBytes/8
	Sync         string        // SyncAlways, SyncInterval (default), SyncNever
	SyncInterval time.Duration // 0: 1s
}

// Counters are the buffer's figures, read with Buffer.Counters.
type Counters struct {
	Records   int64 // unacknowledged records
	Bytes     int64 // bytes of segment files on disk
	Corrupt   uint64
	Truncated int64 // bytes cut off torn or corrupt tails
	Lost      int64 // records skipped because corruption was found while reading them
}

type segment struct {
	id      uint64
	size    int64 // bytes, header included
	records int64 // records in the segment
}

// Pos is a position in the buffer: a segment and an offset in it.
type Pos struct {
	Seg uint64
	Off int64
}

// Buffer is a disk buffer. Its methods are safe for concurrent use; Next
// and Ack are meant for a single reader.
type Buffer struct {
	opts Options

	mu       sync.Mutex
	segs     []*segment // oldest first; the last is being written
	w        *os.File   // the last segment, open for append
	r        *os.File   // the segment being read
	rseg     uint64
	read     Pos   // next record to read
	acked    Pos   // records before this are delivered
	readRecs int64 // records returned by Next and not yet acknowledged
	readSeg  int64 // records of the read segment before the read position
	lost     int64 // records skipped after corruption found while reading
	records  int64 // records not yet acknowledged
	bytes    int64
	corrupt  uint64
	trunc    int64
	ackF     *os.File
	dirty    bool // appended since the last fsync
	ackDirty bool
	lastSync time.Time
	closed   bool
	frame    []byte
}

// Open opens or creates the buffer in opts.Dir, scanning what is there.
func Open(opts Options) (*Buffer, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = defaultMax
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = min(defaultSeg, max(opts.MaxBytes/8, 64<<10))
	}
	if opts.Sync == "" {
		opts.Sync = SyncInterval
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = defaultSyncT
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("disk buffer directory: %w", err)
	}
	b := &Buffer{opts: opts, lastSync: time.Now()}
	if err := b.load(); err != nil {
		b.closeFiles()
		return nil, err
	}
	return b, nil
}

func (b *Buffer) segPath(id uint64) string {
	return filepath.Join(b.opts.Dir, fmt.Sprintf("%020d%s", id, segExt))
}

// load scans the directory: segments, their tails, the ack file.
func (b *Buffer) load() error {
	ents, err := os.ReadDir(b.opts.Dir)
	if err != nil {
		return fmt.Errorf("read disk buffer directory: %w", err)
	}
	var ids []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segExt)
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(name, 10, 64)
		if err != nil || id == 0 {
			continue // not ours
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)

	b.ackF, err = os.OpenFile(filepath.Join(b.opts.Dir, ackName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open ack file: %w", err)
	}
	// Two writers on one buffer would interleave records and acks: the
	// lock holds for the life of the process, the kernel drops it at exit.
	if err := syscall.Flock(int(b.ackF.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("disk buffer %s is in use by another process or output: %w", b.opts.Dir, err)
	}
	ack, ackOK := b.readAck()

	for _, id := range ids {
		if ackOK && id < ack.Seg {
			// Wholly delivered: left over by a crash between ack and delete.
			os.Remove(b.segPath(id))
			continue
		}
		s, err := b.scan(id)
		if err != nil {
			return err
		}
		b.segs = append(b.segs, s)
	}
	if len(b.segs) == 0 {
		next := uint64(1)
		if len(ids) > 0 {
			next = ids[len(ids)-1] + 1
		}
		if ackOK && ack.Seg > next {
			next = ack.Seg
		}
		if err := b.newSegment(next); err != nil {
			return err
		}
	} else {
		last := b.segs[len(b.segs)-1]
		b.w, err = os.OpenFile(b.segPath(last.id), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("open segment: %w", err)
		}
	}
	// Start reading at the acknowledged position when it is valid, at the
	// oldest segment otherwise (duplicates rather than loss).
	first := b.segs[0]
	b.acked = Pos{Seg: first.id, Off: int64(len(magic))}
	if ackOK && ack.Seg == first.id && ack.Off >= int64(len(magic)) && ack.Off <= first.size {
		b.acked = ack
	}
	b.read = b.acked
	for _, s := range b.segs {
		b.records += s.records
		b.bytes += s.size
	}
	if b.acked.Off > int64(len(magic)) {
		n, err := b.countRecords(first.id, b.acked.Off)
		if err != nil {
			return err
		}
		b.records -= n
		b.readSeg = n
	}
	return nil
}

func (b *Buffer) readAck() (Pos, bool) {
	var buf [ackSize]byte
	if n, _ := b.ackF.ReadAt(buf[:], 0); n != ackSize {
		return Pos{}, false
	}
	if crc32.Checksum(buf[:16], castagnoli) != binary.LittleEndian.Uint32(buf[16:]) {
		return Pos{}, false
	}
	return Pos{Seg: binary.LittleEndian.Uint64(buf[:8]), Off: int64(binary.LittleEndian.Uint64(buf[8:16]))}, true
}

// scan validates segment id, truncating a torn or corrupt tail.
func (b *Buffer) scan(id uint64) (*segment, error) {
	path := b.segPath(id)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat segment: %w", err)
	}
	s := &segment{id: id}
	var head [len(magic)]byte
	if _, err := io.ReadFull(f, head[:]); err != nil || string(head[:]) != magic {
		// A segment that never got its header (crash right after create)
		// or is not ours: start it afresh.
		b.corrupt++
		b.trunc += st.Size()
		if err := f.Truncate(0); err != nil {
			return nil, fmt.Errorf("truncate segment: %w", err)
		}
		if _, err := f.WriteAt([]byte(magic), 0); err != nil {
			return nil, fmt.Errorf("rewrite segment header: %w", err)
		}
		s.size = int64(len(magic))
		return s, nil
	}
	end, n, err := walk(f, int64(len(magic)), st.Size(), -1)
	if err != nil {
		return nil, fmt.Errorf("scan segment %s: %w", path, err)
	}
	if end < st.Size() {
		b.corrupt++
		b.trunc += st.Size() - end
		if err := f.Truncate(end); err != nil {
			return nil, fmt.Errorf("truncate torn tail of %s: %w", path, err)
		}
	}
	s.size, s.records = end, n
	return s, nil
}

// walk checks records from off up to size (or up to limit records when
// limit >= 0) and returns where the valid ones end and how many there are.
func walk(f *os.File, off, size int64, limit int64) (end, n int64, err error) {
	r := io.NewSectionReader(f, off, size-off)
	buf := make([]byte, 256<<10)
	var hdr [headerSize]byte
	for limit < 0 || n < limit {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return off, n, nil // end, or a torn header
		}
		ln := binary.LittleEndian.Uint32(hdr[:4])
		if ln == 0 || ln > maxRecord || off+headerSize+int64(ln) > size {
			return off, n, nil
		}
		if int(ln) > len(buf) {
			buf = make([]byte, ln)
		}
		if _, err := io.ReadFull(r, buf[:ln]); err != nil {
			return off, n, nil
		}
		if crc32.Checksum(buf[:ln], castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
			return off, n, nil
		}
		off += headerSize + int64(ln)
		n++
	}
	return off, n, nil
}

func (b *Buffer) countRecords(id uint64, upto int64) (int64, error) {
	f, err := os.Open(b.segPath(id))
	if err != nil {
		return 0, fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	_, n, err := walk(f, int64(len(magic)), upto, -1)
	return n, err
}

func (b *Buffer) newSegment(id uint64) error {
	f, err := os.OpenFile(b.segPath(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	if _, err := f.Write([]byte(magic)); err != nil {
		f.Close()
		return fmt.Errorf("write segment header: %w", err)
	}
	// The new name must survive a power loss too, or the records written
	// to it would be unreachable.
	if b.opts.Sync != SyncNever {
		if err := syncDir(b.opts.Dir); err != nil {
			f.Close()
			return err
		}
	}
	if b.w != nil {
		// The finished segment is fsynced now whatever the policy: it will
		// not be written again.
		if err := b.w.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("sync segment: %w", err)
		}
		b.w.Close()
	}
	b.w = f
	b.segs = append(b.segs, &segment{id: id, size: int64(len(magic))})
	b.bytes += int64(len(magic))
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open disk buffer directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync disk buffer directory: %w", err)
	}
	return nil
}

// Append writes records, each a non-empty payload, in one write. It returns
// ErrFull, writing nothing, when they would not fit in MaxBytes.
func (b *Buffer) Append(recs ...[]byte) error {
	var size int64
	for _, r := range recs {
		if len(r) == 0 || len(r) > maxRecord {
			return fmt.Errorf("disk buffer: record of %d bytes (allowed 1 to %d)", len(r), maxRecord)
		}
		size += headerSize + int64(len(r))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	// A batch bigger than the whole buffer still goes into an empty one, so
	// a small max_bytes never wedges the output.
	if b.bytes+size > b.opts.MaxBytes && b.records > 0 {
		return ErrFull
	}
	last := b.segs[len(b.segs)-1]
	if last.size > int64(len(magic)) && last.size+size > b.opts.SegmentBytes {
		if err := b.newSegment(last.id + 1); err != nil {
			return err
		}
		last = b.segs[len(b.segs)-1]
	}
	fr := b.frame[:0]
	for _, r := range recs {
		fr = binary.LittleEndian.AppendUint32(fr, uint32(len(r)))
		fr = binary.LittleEndian.AppendUint32(fr, crc32.Checksum(r, castagnoli))
		fr = append(fr, r...)
	}
	if cap(fr) <= 4<<20 {
		b.frame = fr
	}
	n, err := b.w.Write(fr)
	if err != nil {
		// A partial write leaves a torn record the next open truncates;
		// cut it now so later appends are not behind it.
		if n > 0 {
			if terr := b.w.Truncate(last.size); terr != nil {
				err = errors.Join(err, fmt.Errorf("cut the torn record: %w", terr))
			}
		}
		return fmt.Errorf("disk buffer write: %w", err)
	}
	last.size += size
	last.records += int64(len(recs))
	b.bytes += size
	b.records += int64(len(recs))
	b.dirty = true
	return b.maybeSync()
}

func (b *Buffer) maybeSync() error {
	switch b.opts.Sync {
	case SyncAlways:
	case SyncInterval:
		if time.Since(b.lastSync) < b.opts.SyncInterval {
			return nil
		}
	default:
		return nil
	}
	return b.syncLocked()
}

func (b *Buffer) syncLocked() error {
	b.lastSync = time.Now()
	if b.dirty {
		b.dirty = false
		if err := b.w.Sync(); err != nil {
			return fmt.Errorf("disk buffer fsync: %w", err)
		}
	}
	if b.ackDirty {
		b.ackDirty = false
		if err := b.ackF.Sync(); err != nil {
			return fmt.Errorf("disk buffer ack fsync: %w", err)
		}
	}
	return nil
}

// Sync forces written records and the ack position to disk.
func (b *Buffer) Sync() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	return b.syncLocked()
}

// Unread reports how many appended records Next has not returned yet.
func (b *Buffer) Unread() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.records - b.readRecs
}

// Counters returns the buffer's figures.
func (b *Buffer) Counters() Counters {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Counters{Records: b.records, Bytes: b.bytes, Corrupt: b.corrupt, Truncated: b.trunc, Lost: b.lost}
}

// Next reads up to maxRecs records (and about maxBytes) after the last one
// read. The records alias freshly allocated memory, so they stay valid while
// the caller keeps them. It returns the position after the last record, to
// pass to Ack once they are delivered; no records means nothing is waiting.
// A record found corrupt while reading (the disk changed under us) ends its
// segment: the rest of it is skipped and counted.
func (b *Buffer) Next(maxRecs int, maxBytes int) ([][]byte, Pos, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, b.read, ErrClosed
	}
	var recs [][]byte
	got := 0
	for len(recs) < maxRecs && got < maxBytes {
		s := b.segment(b.read.Seg)
		if s == nil {
			break
		}
		if b.read.Off >= s.size {
			if s == b.segs[len(b.segs)-1] {
				break // caught up with the writer
			}
			b.read = Pos{Seg: b.nextSeg(s.id), Off: int64(len(magic))}
			b.readSeg = 0
			continue
		}
		if b.r == nil || b.rseg != s.id {
			if b.r != nil {
				b.r.Close()
			}
			f, err := os.Open(b.segPath(s.id))
			if err != nil {
				b.r = nil
				return recs, b.read, fmt.Errorf("open segment for reading: %w", err)
			}
			b.r, b.rseg = f, s.id
		}
		avail := s.size - b.read.Off
		chunk := make([]byte, min(avail, int64(max(maxBytes-got, 64<<10))))
		if _, err := b.r.ReadAt(chunk, b.read.Off); err != nil {
			return recs, b.read, fmt.Errorf("read segment: %w", err)
		}
		used := 0
		for len(recs) < maxRecs && got < maxBytes {
			rest := chunk[used:]
			if len(rest) < headerSize {
				if used == 0 {
					b.skipCorrupt(s)
				}
				break
			}
			ln := int(binary.LittleEndian.Uint32(rest[:4]))
			if ln == 0 || ln > maxRecord || b.read.Off+headerSize+int64(ln) > s.size {
				b.skipCorrupt(s)
				break
			}
			if len(rest) < headerSize+ln {
				if used > 0 {
					break // the outer loop reads on from here
				}
				// One record longer than the chunk: read it whole.
				chunk = make([]byte, headerSize+ln)
				if _, err := b.r.ReadAt(chunk, b.read.Off); err != nil {
					return recs, b.read, fmt.Errorf("read segment: %w", err)
				}
				rest = chunk
			}
			rec := rest[headerSize : headerSize+ln : headerSize+ln]
			if crc32.Checksum(rec, castagnoli) != binary.LittleEndian.Uint32(rest[4:8]) {
				b.skipCorrupt(s)
				break
			}
			recs = append(recs, rec)
			used += headerSize + ln
			got += ln
			b.read.Off += int64(headerSize + ln)
			b.readRecs++
			b.readSeg++
		}
	}
	return recs, b.read, nil
}

func (b *Buffer) skipCorrupt(s *segment) {
	b.corrupt++
	b.trunc += s.size - b.read.Off
	// The records after the corruption are lost to us: take them out of
	// the figures, or Unread would promise records that never come.
	lost := max(s.records-b.readSeg, 0)
	s.records -= lost
	b.records -= lost
	b.lost += lost
	if s != b.segs[len(b.segs)-1] {
		b.read = Pos{Seg: b.nextSeg(s.id), Off: int64(len(magic))}
		b.readSeg = 0
	} else {
		b.read.Off = s.size
	}
}

func (b *Buffer) segment(id uint64) *segment {
	for _, s := range b.segs {
		if s.id == id {
			return s
		}
	}
	return nil
}

func (b *Buffer) nextSeg(id uint64) uint64 {
	for _, s := range b.segs {
		if s.id > id {
			return s.id
		}
	}
	return id + 1
}

// Rewind makes Next return the unacknowledged records again.
func (b *Buffer) Rewind() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.read = b.acked
	b.readRecs = 0
	b.readSeg, _ = b.countRecords(b.acked.Seg, b.acked.Off)
}

// Ack records that every record before p is delivered (n of them), persists
// the position and deletes segments that are wholly delivered.
func (b *Buffer) Ack(p Pos, n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.acked = p
	b.records -= int64(n)
	b.readRecs -= int64(n)
	var buf [ackSize]byte
	binary.LittleEndian.PutUint64(buf[:8], p.Seg)
	binary.LittleEndian.PutUint64(buf[8:16], uint64(p.Off))
	binary.LittleEndian.PutUint32(buf[16:], crc32.Checksum(buf[:16], castagnoli))
	if _, err := b.ackF.WriteAt(buf[:], 0); err != nil {
		return fmt.Errorf("disk buffer ack: %w", err)
	}
	b.ackDirty = true
	for len(b.segs) > 1 && b.segs[0].id < p.Seg {
		b.removeFirst()
	}
	if b.opts.Sync == SyncAlways {
		return b.syncLocked()
	}
	return nil
}

func (b *Buffer) removeFirst() {
	s := b.segs[0]
	if b.r != nil && b.rseg == s.id {
		b.r.Close()
		b.r = nil
	}
	os.Remove(b.segPath(s.id))
	b.bytes -= s.size
	b.segs = b.segs[1:]
}

// DropOldest deletes the oldest segment that holds only unread records and
// is not being written, to make room (when_full: drop_oldest). It returns
// how many records were lost, 0 when there is no such segment (the caller
// then drops the newest instead).
func (b *Buffer) DropOldest() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, s := range b.segs[:len(b.segs)-1] {
		if s.id <= b.read.Seg {
			continue // read (maybe in flight) or being read
		}
		os.Remove(b.segPath(s.id))
		b.bytes -= s.size
		b.records -= s.records
		b.segs = slices.Delete(b.segs, i, i+1)
		return s.records
	}
	return 0
}

// Close syncs and closes the buffer.
func (b *Buffer) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	err := b.syncLocked()
	b.closed = true
	b.closeFiles()
	return err
}

func (b *Buffer) closeFiles() {
	for _, f := range []*os.File{b.w, b.r, b.ackF} {
		if f != nil {
			f.Close()
		}
	}
}
