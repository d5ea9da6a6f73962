// Package journal is an input's write-ahead log of raw messages. A socket
// input appends what recvmmsg(2) (or a stream read) returned before it hands
// the messages on, so that they are in the kernel's page cache — which
// survives the gateway being killed — from the moment the kernel handed them
// over. The pipeline acknowledges an entry once every output with a disk
// buffer holds its events (or has let them go by policy); what is not
// acknowledged when the gateway starts again is replayed through the
// decoders (Replay).
//
// It closes the window between the socket and the outputs' disk buffers: the
// input's hand-off buffer, the normalizer workers and the queues before the
// disk write. The journal is not fsynced: it protects against the process
// dying (SIGKILL, OOM, a crash), not against the machine losing power.
//
// On disk, in the journal's directory (one per input):
//
//	00000000000000000001.jnl   segment: 8-byte magic, then entries
//	ack                        the acknowledged position (segment, offset, crc)
//	id                         the journal's identity (10 hex digits, see origin.go)
//
// An entry is one batch of messages: a little-endian uint32 payload length,
// a uint32 CRC-32C of the payload, and the payload: a uvarint count, then
// each message as a uvarint length and its bytes. A torn or corrupt tail
// (a kill in the middle of a write) ends a segment: it is cut off at open.
//
// Entries are acknowledged out of order (the pipeline's workers run in
// parallel); the acknowledged position is the end of the longest prefix of
// acknowledged entries, so an entry acknowledged after a later one may be
// replayed after a crash: delivery is at least once. The events made from a
// replayed entry get the ids they had when it was first read (package
// eventid, origin.go), so the duplicates can be dropped by id.
package journal

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

	"github.com/alertgw/alertgw/inputs/eventid"
)

const (
	magic       = "AGWJNL1\n"
	headerSize  = 8
	segExt      = ".jnl"
	ackName     = "ack"
	ackSize     = 20
	defaultSeg  = 64 << 20
	maxEntry    = 256 << 20
	maxMessages = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("journal closed")

// Options configure a journal.
type Options struct {
	Dir          string
	SegmentBytes int64 // a new segment is started past this size; 0: 64 MiB
}

// pos is a position in the journal: a segment and an offset in it.
type pos struct {
	seg uint64
	off int64
}

// entry is an appended entry not yet covered by the acknowledged position.
type entry struct {
	seg        uint64
	start, end int64 // its bytes in the segment, header included
	acked      bool
}

// Journal is one input's journal. Its methods are safe for concurrent use.
type Journal struct {
	opts Options

	mu      sync.Mutex
	segs    []uint64 // segment ids, oldest first; the last is written
	w       *os.File // the segment being written
	wseg    uint64
	wsize   int64
	ackF    *os.File
	acked   pos      // entries before this are acknowledged
	pending []entry  // entries after acked, in append order
	base    uint64   // sequence number of pending[0]
	next    uint64   // sequence number of the next entry
	replay  []uint64 // sequence numbers of the entries found at open, not yet replayed
	replayN int      // messages in them
	frame   []byte
	open    bool // Start succeeded
	closed  bool
	corrupt int64 // bytes of torn or corrupt tails cut off at open
	bytes   int64 // size of the segment files
	// identity tells this journal's origins from every other's (see
	// origin.go); kept in the file "id" beside the segments.
	identity [5]byte
}

// ErrNotOpen is returned by Append on a journal made by Unopened before
// its Start: the batch goes on unjournaled, as when there is no journal.
var ErrNotOpen = errors.New("journal not open yet")

// Open opens or creates the journal in opts.Dir. Entries left by an earlier
// run are queued for Replay.
func Open(opts Options) (*Journal, error) {
	j := Unopened(opts)
	if err := j.Start(); err != nil {
		return nil, err
	}
	return j, nil
}

// Unopened returns the journal of opts.Dir without opening it yet: while
// another process (the alertgw this one takes over from) still holds it,
// Append returns ErrNotOpen and there is nothing to replay. Start opens it.
func Unopened(opts Options) *Journal {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = defaultSeg
	}
	return &Journal{opts: opts}
}

// Start opens the journal made by Unopened, queueing what an earlier
// process left for Replay.
func (j *Journal) Start() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.open {
		return nil
	}
	if err := os.MkdirAll(j.opts.Dir, 0o750); err != nil {
		return fmt.Errorf("journal directory: %w", err)
	}
	if err := j.load(); err != nil {
		return fmt.Errorf("journal %s: %w", j.opts.Dir, errors.Join(err, j.closeFiles()))
	}
	j.open = true
	return nil
}

func (j *Journal) segPath(id uint64) string {
	return filepath.Join(j.opts.Dir, fmt.Sprintf("%020d%s", id, segExt))
}

func (j *Journal) load() error {
	ents, err := os.ReadDir(j.opts.Dir)
	if err != nil {
		return err
	}
	var ids []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segExt)
		if !ok {
			continue
		}
		if id, err := strconv.ParseUint(name, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	j.ackF, err = os.OpenFile(filepath.Join(j.opts.Dir, ackName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open ack file: %w", err)
	}
	// One writer per journal: a second gateway on the same directory
	// would interleave entries and acknowledgements.
	if err := syscall.Flock(int(j.ackF.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("in use by another process or input: %w", err)
	}
	ack, ackOK := j.readAck()
	if err := j.loadIdentity(!ackOK && len(ids) == 0); err != nil {
		return err
	}
	for _, id := range ids {
		if ackOK && id < ack.seg {
			os.Remove(j.segPath(id)) // wholly acknowledged
			continue
		}
		start := int64(len(magic))
		if ackOK && id == ack.seg {
			start = ack.off
		}
		if err := j.scan(id, start); err != nil {
			return err
		}
		j.segs = append(j.segs, id)
	}
	// Appends go to a fresh segment after what is there.
	next := uint64(1)
	if len(ids) > 0 {
		next = ids[len(ids)-1] + 1
	}
	if ackOK && ack.seg >= next {
		// The acknowledged segment's file is gone: start past it, so that
		// no position (and no origin) is used twice.
		next = ack.seg + 1
	}
	j.acked = pos{seg: next, off: int64(len(magic))}
	if len(j.pending) > 0 || len(j.segs) > 0 {
		j.acked = pos{seg: 0, off: 0} // before everything kept
	}
	return j.newSegment(next)
}

func (j *Journal) readAck() (pos, bool) {
	var b [ackSize]byte
	if n, _ := j.ackF.ReadAt(b[:], 0); n != ackSize {
		return pos{}, false
	}
	if crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return pos{}, false
	}
	return pos{seg: binary.LittleEndian.Uint64(b[:8]), off: int64(binary.LittleEndian.Uint64(b[8:16]))}, true
}

// scan reads segment id from start, queueing its valid entries for replay
// and cutting off a torn or corrupt tail.
func (j *Journal) scan(id uint64, start int64) error {
	f, err := os.OpenFile(j.segPath(id), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	var head [len(magic)]byte
	if _, err := io.ReadFull(f, head[:]); err != nil || string(head[:]) != magic {
		j.corrupt += size
		return f.Truncate(0) // never got its header: nothing in it
	}
	if start < int64(len(magic)) || start > size {
		start = int64(len(magic))
	}
	off := start
	for {
		msgs, next, ok := readEntry(f, off, size)
		if !ok {
			break
		}
		j.pending = append(j.pending, entry{seg: id, start: off, end: next})
		j.replay = append(j.replay, j.next)
		j.replayN += msgs
		j.next++
		off = next
	}
	if off < size {
		j.corrupt += size - off
		if err := f.Truncate(off); err != nil {
			return fmt.Errorf("cut torn tail: %w", err)
		}
	}
	j.bytes += off
	return nil
}

// readEntry checks the entry at off and returns its message count and end.
func readEntry(f *os.File, off, size int64) (int, int64, bool) {
	var hdr [headerSize]byte
	if off+headerSize > size {
		return 0, 0, false
	}
	if _, err := f.ReadAt(hdr[:], off); err != nil {
		return 0, 0, false
	}
	ln := int64(binary.LittleEndian.Uint32(hdr[:4]))
	if ln == 0 || ln > maxEntry || off+headerSize+ln > size {
		return 0, 0, false
	}
	payload := make([]byte, ln)
	if _, err := f.ReadAt(payload, off+headerSize); err != nil {
		return 0, 0, false
	}
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
		return 0, 0, false
	}
	msgs, err := decode(payload)
	if err != nil {
		return 0, 0, false
	}
	return len(msgs), off + headerSize + ln, true
}

// decode splits an entry's payload into its messages (sub-slices of it).
func decode(p []byte) ([][]byte, error) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n == 0 || n > maxMessages {
		return nil, errors.New("bad message count")
	}
	p = p[k:]
	msgs := make([][]byte, 0, n)
	for range n {
		ln, k := binary.Uvarint(p)
		if k <= 0 || ln > uint64(len(p)-k) {
			return nil, errors.New("bad message length")
		}
		msgs = append(msgs, p[k:k+int(ln):k+int(ln)])
		p = p[k+int(ln):]
	}
	if len(p) != 0 {
		return nil, errors.New("trailing bytes")
	}
	return msgs, nil
}

func (j *Journal) newSegment(id uint64) error {
	f, err := os.OpenFile(j.segPath(id), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	if _, err := f.Write([]byte(magic)); err != nil {
		f.Close()
		return fmt.Errorf("write segment header: %w", err)
	}
	if j.w != nil {
		j.w.Close()
	}
	j.w, j.wseg, j.wsize = f, id, int64(len(magic))
	j.segs = append(j.segs, id)
	j.bytes += int64(len(magic))
	return nil
}

// Pending reports the entries found at open and not replayed yet, and the
// messages in them.
func (j *Journal) Pending() (entries, messages int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.replay), j.replayN
}

// Replay calls fn with the messages of every entry found at open, in order,
// its sequence number, to pass to Ack once its events are safe, and its
// origin, the one Append returned for it. The messages alias memory of
// their own. Replay runs once; later calls do nothing.
func (j *Journal) Replay(fn func(msgs [][]byte, seq uint64, o eventid.Origin)) error {
	j.mu.Lock()
	seqs := j.replay
	j.replay, j.replayN = nil, 0
	ents := make([]entry, 0, len(seqs))
	for _, s := range seqs {
		// Not acknowledged yet: nobody had its sequence number.
		ents = append(ents, j.pending[s-j.base])
	}
	j.mu.Unlock()
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	for i, e := range ents {
		if i == 0 || ents[i-1].seg != e.seg {
			if f != nil {
				f.Close()
			}
			var err error
			if f, err = os.Open(j.segPath(e.seg)); err != nil {
				return fmt.Errorf("journal replay: %w", err)
			}
		}
		msgs, err := readMessages(f, e.start, e.end)
		if err != nil {
			return fmt.Errorf("journal replay: segment %d at %d: %w", e.seg, e.start, err)
		}
		fn(msgs, seqs[i], j.origin(e.seg, e.start))
	}
	return nil
}

func readMessages(f *os.File, off, end int64) ([][]byte, error) {
	if end-off < headerSize {
		return nil, errors.New("entry out of bounds")
	}
	b := make([]byte, end-off)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, err
	}
	payload := b[headerSize:]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(b[4:8]) {
		return nil, errors.New("checksum mismatch")
	}
	return decode(payload)
}

// Append writes one entry of messages and returns its sequence number, to
// pass to Ack, and its origin (the ids of its messages' events). The write
// goes to the kernel before Append returns.
func (j *Journal) Append(msgs [][]byte) (uint64, eventid.Origin, error) {
	size := binary.MaxVarintLen64
	for _, m := range msgs {
		size += binary.MaxVarintLen64 + len(m)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return 0, eventid.Origin{}, ErrClosed
	}
	if !j.open {
		return 0, eventid.Origin{}, ErrNotOpen
	}
	fr := slices.Grow(j.frame[:0], headerSize+size)[:headerSize]
	fr = binary.AppendUvarint(fr, uint64(len(msgs)))
	for _, m := range msgs {
		fr = binary.AppendUvarint(fr, uint64(len(m)))
		fr = append(fr, m...)
	}
	payload := fr[headerSize:]
	if len(payload) > maxEntry {
		return 0, eventid.Origin{}, fmt.Errorf("journal entry of %d bytes is larger than %d", len(payload), maxEntry)
	}
	binary.LittleEndian.PutUint32(fr[:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(fr[4:8], crc32.Checksum(payload, castagnoli))
	if cap(fr) <= 4<<20 {
		j.frame = fr
	}
	if j.wsize > int64(len(magic)) && j.wsize+int64(len(fr)) > j.opts.SegmentBytes {
		if err := j.newSegment(j.wseg + 1); err != nil {
			return 0, eventid.Origin{}, err
		}
	}
	n, err := j.w.Write(fr)
	if err != nil {
		if n > 0 {
			if terr := j.w.Truncate(j.wsize); terr != nil { // never leave a torn entry behind a good one
				err = errors.Join(err, fmt.Errorf("cut the torn entry: %w", terr))
			}
		}
		return 0, eventid.Origin{}, fmt.Errorf("journal write: %w", err)
	}
	j.wsize += int64(n)
	j.bytes += int64(n)
	seq := j.next
	j.next++
	start := j.wsize - int64(n)
	j.pending = append(j.pending, entry{seg: j.wseg, start: start, end: j.wsize})
	return seq, j.origin(j.wseg, start), nil
}

// Ack acknowledges entry seq: its events are safe. Once every entry before
// it is acknowledged too, the acknowledged position moves past it, is
// written to the ack file, and segments wholly before it are removed.
func (j *Journal) Ack(seq uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if seq < j.base || seq-j.base >= uint64(len(j.pending)) {
		return // acknowledged already, or not ours
	}
	j.pending[seq-j.base].acked = true
	moved := false
	for len(j.pending) > 0 && j.pending[0].acked {
		j.acked = pos{seg: j.pending[0].seg, off: j.pending[0].end}
		j.pending = j.pending[1:]
		j.base++
		moved = true
	}
	if len(j.pending) == 0 {
		j.pending = nil // let the backing array go
	}
	if !moved || j.closed {
		return
	}
	j.writeAck()
	for len(j.segs) > 1 && j.segs[0] < j.acked.seg {
		if j.segs[0] != j.wseg {
			if fi, err := os.Stat(j.segPath(j.segs[0])); err == nil {
				j.bytes -= fi.Size()
			}
			os.Remove(j.segPath(j.segs[0]))
		}
		j.segs = j.segs[1:]
	}
}

// AckFunc returns a function that acknowledges the entries seqs.
func (j *Journal) AckFunc(seqs ...uint64) func() {
	return func() {
		for _, s := range seqs {
			j.Ack(s)
		}
	}
}

func (j *Journal) writeAck() {
	var b [ackSize]byte
	binary.LittleEndian.PutUint64(b[:8], j.acked.seg)
	binary.LittleEndian.PutUint64(b[8:16], uint64(j.acked.off))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	// A failed write leaves the older position: entries are replayed
	// again, never lost.
	_, _ = j.ackF.WriteAt(b[:], 0)
}

// Counts are a journal's figures.
type Counts struct {
	Unacknowledged int   // entries written and not acknowledged
	Bytes          int64 // size of the segment files
	Corrupt        int64 // bytes of torn or corrupt tails cut off at open
}

// Counts returns the journal's figures.
func (j *Journal) Counts() Counts {
	j.mu.Lock()
	defer j.mu.Unlock()
	return Counts{Unacknowledged: len(j.pending), Bytes: j.bytes, Corrupt: j.corrupt}
}

// Close writes the acknowledged position and closes the files. Later acks
// and appends do nothing; what is not acknowledged is replayed at the next
// open.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	if !j.open {
		return nil
	}
	if j.acked.seg != 0 {
		j.writeAck()
	}
	if len(j.pending) == 0 {
		// Everything is acknowledged: only the segment being written
		// may remain, and it holds nothing to replay.
		for _, id := range j.segs {
			if id != j.wseg {
				os.Remove(j.segPath(id))
			}
		}
	}
	return j.closeFiles()
}

func (j *Journal) closeFiles() error {
	var err error
	for _, f := range []*os.File{j.w, j.ackF} {
		if f != nil {
			err = errors.Join(err, f.Close())
		}
	}
	return err
}
