// Package unified2 reads unified2 files and datagrams (Snort 2.9, Snort 3,
// Suricata ≤ 5.0), decodes every record type, aggregates an event with the
// packet and extra-data records that follow it, and maps the result to a
// normalize.Event. Layouts: shared/FORMATS.md §4.
//
// The package does no I/O of its own: Reader wraps any io.Reader, and
// DecodeBody/Split work on bytes.
package unified2

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Record types (FORMATS.md §4.2).
const (
	TypeEvent           = 1 // historic, never written by Snort 2.9
	TypePacket          = 2
	TypeBuffer          = 3 // Snort 3 "cooked" packet, same body as 2
	TypeIDSEvent        = 7
	TypeIDSEventIPv6    = 72
	TypeIDSEventMPLS    = 99  // constant only
	TypeIDSEventIPv6MPL = 100 // constant only
	TypeIDSEventVLAN    = 104
	TypeIDSEventIPv6VLN = 105
	TypeExtraData       = 110
	TypeIDSEventAppID   = 111
	TypeIDSEventAppIDv6 = 112
	TypeAppStat         = 113
	TypeEvent3          = 114
)

// HeaderLen is the serial header: type and length, big-endian.
const HeaderLen = 8

// DefaultMaxBody caps a record body. The largest legitimate records are
// packets (28 + 65535, more for Snort 3 rebuilt buffers) and extra data;
// 1 MiB leaves room and bounds what a hostile length can make us allocate.
const DefaultMaxBody = 1 << 20

// Record is one record; Body aliases the reader's buffer and is valid
// until the next call to Next.
type Record struct {
	Type   uint32
	Body   []byte
	Offset int64 // of the serial header, from where the Reader started
}

// End is the offset just past the record.
func (r Record) End() int64 { return r.Offset + HeaderLen + int64(len(r.Body)) }

// CorruptError is a record header that cannot be right (a length beyond the
// cap). Reading cannot safely go on in that stream: the caller skips the
// rest of the file (or datagram) and reports Offset.
type CorruptError struct {
	Offset int64
	Type   uint32
	Length uint32
	Max    int
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("corrupt unified2 record at offset %d: type %d claims %d bytes (cap %d)", e.Offset, e.Type, e.Length, e.Max)
}

// Reader reads records one after another. The body buffer grows to the
// largest record seen (never beyond MaxBody) and is reused.
type Reader struct {
	r       io.Reader
	MaxBody int
	off     int64
	hdr     [HeaderLen]byte
	buf     []byte
}

// NewReader reads from r, whose first byte is at offset start (for error
// messages and Record.Offset).
func NewReader(r io.Reader, start int64) *Reader {
	return &Reader{r: r, MaxBody: DefaultMaxBody, off: start}
}

// Offset is where the next record starts.
func (rd *Reader) Offset() int64 { return rd.off }

// Reset points the reader at a new source starting at offset start.
func (rd *Reader) Reset(r io.Reader, start int64) { rd.r, rd.off = r, start }

// Next reads one record. At a clean end it returns io.EOF; in the middle of
// a record io.ErrUnexpectedEOF (wrapped, with the offset), and the offset is
// NOT advanced, so a follower can seek back to Offset() and retry once the
// writer finished the record. A length beyond MaxBody is a *CorruptError.
func (rd *Reader) Next() (Record, error) {
	n, err := io.ReadFull(rd.r, rd.hdr[:])
	if err != nil {
		if err == io.EOF {
			return Record{}, io.EOF
		}
		return Record{}, fmt.Errorf("unified2 header at offset %d: %d of %d bytes: %w", rd.off, n, HeaderLen, io.ErrUnexpectedEOF)
	}
	typ := binary.BigEndian.Uint32(rd.hdr[:4])
	length := binary.BigEndian.Uint32(rd.hdr[4:])
	maxBody := rd.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	if uint64(length) > uint64(maxBody) {
		return Record{}, &CorruptError{Offset: rd.off, Type: typ, Length: length, Max: maxBody}
	}
	if cap(rd.buf) < int(length) {
		rd.buf = make([]byte, length, max(int(length), 4096))
	}
	body := rd.buf[:length]
	if n, err := io.ReadFull(rd.r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Record{}, fmt.Errorf("unified2 type %d body at offset %d: %d of %d bytes: %w", typ, rd.off, n, length, err)
	}
	rec := Record{Type: typ, Body: body, Offset: rd.off}
	rd.off += HeaderLen + int64(length)
	return rec, nil
}

// Split walks the records of one buffer (a socket datagram carries one or
// more complete records). fn gets each record; bodies alias b.
func Split(b []byte, fn func(Record) error) error {
	off := 0
	for off < len(b) {
		if len(b)-off < HeaderLen {
			return fmt.Errorf("unified2 header at offset %d: %d of %d bytes: %w", off, len(b)-off, HeaderLen, io.ErrUnexpectedEOF)
		}
		typ := binary.BigEndian.Uint32(b[off:])
		length := binary.BigEndian.Uint32(b[off+4:])
		if uint64(length) > uint64(len(b)-off-HeaderLen) {
			return fmt.Errorf("unified2 type %d body at offset %d: %d bytes claimed, %d left: %w", typ, off, length, len(b)-off-HeaderLen, io.ErrUnexpectedEOF)
		}
		end := off + HeaderLen + int(length)
		if err := fn(Record{Type: typ, Body: b[off+HeaderLen : end : end], Offset: int64(off)}); err != nil {
			return err
		}
		off = end
	}
	return nil
}
