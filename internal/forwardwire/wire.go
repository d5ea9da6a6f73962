// Package forwardwire is the protocol one gateway's forward output speaks to
// another's forward input: a batch of events in alertgw's binary event codec
// (every field of normalize.Event, id included), compressed, in the body of
// an HTTPS POST; the reply says whether the receiver has the batch.
//
// A batch body, once its Content-Encoding is undone, is
//
//	"AGWB" version(1 byte) count(uint32) { length(uint32) record }×count
//
// (integers little-endian; fixed-size lengths let the sender encode each
// record in place, without a copy)
//
// where each record is one event as the codec of the disk buffer writes it
// (a record carries its own codec version, so gateways of different
// versions understand each other as long as the receiver is not older than
// the codec the sender writes).
//
// Replies (JSON bodies, see Reply):
//
//	200  the receiver has every event: the sender may forget the batch
//	400  the body is not a batch (the sender dead-letters it: resending cannot help)
//	401  no or unknown credentials; 403 credentials not allowed here
//	413  the body is larger than the receiver accepts (the sender splits it)
//	429  the receiver is full: retry after Retry-After seconds (the sender buffers)
//	503  the receiver could not make the batch safe in time, or is stopping (retry)
package forwardwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Paths served by the forward input.
const (
	PathBatch  = "/alertgw/v1/batch"  // batches from a forward output
	PathIngest = "/alertgw/v1/ingest" // NDJSON from other shippers (EVE or native JSON)
)

// ContentType of a batch body.
const ContentType = "application/vnd.alertgw.batch"

// HeaderEvents carries the number of events of a batch, so a receiver can
// refuse a batch it has no room for before reading it.
const HeaderEvents = "Alertgw-Events"

var magic = []byte("AGWB")

const version = 1

// MaxRecord bounds one event record (as the disk buffer does).
const MaxRecord = 64 << 20

// Encodings (Content-Encoding values). s2 (a faster Snappy) costs a
// quarter of zstd's CPU for about a fifth more bytes: the forward output's
// default, since a sensor's CPU is for its sensor; zstd for slow links.
const (
	EncodingS2       = "s2"
	EncodingZstd     = "zstd"
	EncodingGzip     = "gzip"
	EncodingIdentity = "identity"
)

// AppendHeader starts a batch of count records.
func AppendHeader(dst []byte, count int) []byte {
	dst = append(dst, magic...)
	dst = append(dst, version)
	return binary.LittleEndian.AppendUint32(dst, uint32(count))
}

// AppendRecord adds one record (an encoded event) to a batch.
func AppendRecord(dst, rec []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(rec)))
	return append(dst, rec...)
}

// AppendRecordFunc adds one record that encode appends to its argument,
// in place: encode(dst) must return dst with the record appended.
func AppendRecordFunc(dst []byte, encode func([]byte) []byte) []byte {
	at := len(dst)
	dst = encode(append(dst, 0, 0, 0, 0))
	binary.LittleEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	return dst
}

// ErrMalformed wraps every reason a body is not a batch.
var ErrMalformed = errors.New("malformed batch")

// Records splits a batch body into its records, which alias body. It
// refuses a body whose count does not match what it holds.
func Records(body []byte) ([][]byte, error) {
	if !bytes.HasPrefix(body, magic) || len(body) < len(magic)+1 {
		return nil, fmt.Errorf("%w: no batch header", ErrMalformed)
	}
	if v := body[len(magic)]; v != version {
		return nil, fmt.Errorf("%w: batch version %d (this gateway reads %d)", ErrMalformed, v, version)
	}
	b := body[len(magic)+1:]
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: no record count", ErrMalformed)
	}
	count := binary.LittleEndian.Uint32(b)
	b = b[4:]
	// Each record takes at least five bytes: a count beyond that is a lie
	// that must not size an allocation.
	if uint64(count) > uint64(len(b)/5) {
		return nil, fmt.Errorf("%w: %d records announced in %d bytes", ErrMalformed, count, len(b))
	}
	recs := make([][]byte, 0, count)
	for i := range count {
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: record %d: no length", ErrMalformed, i)
		}
		size := uint64(binary.LittleEndian.Uint32(b))
		b = b[4:]
		if size == 0 || size > MaxRecord || size > uint64(len(b)) {
			return nil, fmt.Errorf("%w: record %d: bad length", ErrMalformed, i)
		}
		recs = append(recs, b[:size:size])
		b = b[size:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last record", ErrMalformed, len(b))
	}
	return recs, nil
}

// ErrTooLarge is a body that decompresses to more than the limit.
var ErrTooLarge = errors.New("body too large")

var (
	zenc = sync.OnceValue(func() *zstd.Encoder {
		// Fastest: a sensor's CPU is for its sensor; the link rarely is
		// the bottleneck at 1:5 or better.
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			panic(err) // only for invalid options
		}
		return e
	})
	zdec = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecodeAllCapLimit(true))
		if err != nil {
			panic(err)
		}
		return d
	})
)

// Compress appends src compressed with encoding to dst.
func Compress(dst, src []byte, encoding string) ([]byte, error) {
	switch encoding {
	case EncodingS2:
		if n := s2.MaxEncodedLen(len(src)); cap(dst)-len(dst) < n {
			dst = append(make([]byte, 0, len(dst)+n), dst...)
		}
		return dst[:len(dst)+len(s2.Encode(dst[len(dst):cap(dst)], src))], nil
	case EncodingZstd:
		return zenc().EncodeAll(src, dst), nil
	case EncodingGzip:
		buf := bytes.NewBuffer(dst)
		w, err := gzip.NewWriterLevel(buf, gzip.BestSpeed)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(src); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case EncodingIdentity, "":
		return append(dst, src...), nil
	}
	return nil, fmt.Errorf("unknown encoding %q (s2, zstd, gzip, identity)", encoding)
}

// ReadBody reads an HTTP body in encoding, refusing more than limit bytes
// once decompressed (ErrTooLarge) so that a small hostile body cannot make
// the receiver allocate without bound. size is the body's length when
// known (Content-Length), -1 otherwise.
func ReadBody(r io.Reader, encoding string, size, limit int64) ([]byte, error) {
	switch encoding {
	case EncodingS2:
		src, err := readLimitedSized(r, size, s2MaxEncoded(limit))
		if err != nil {
			return nil, err
		}
		n, err := s2.DecodedLen(src)
		if err != nil {
			return nil, fmt.Errorf("%w: s2: %v", ErrMalformed, err)
		}
		if int64(n) > limit {
			return nil, ErrTooLarge
		}
		out, err := s2.Decode(make([]byte, n), src)
		if err != nil {
			return nil, fmt.Errorf("%w: s2: %v", ErrMalformed, err)
		}
		return out, nil
	case EncodingZstd:
		// The compressed body is bounded too: zstd does not expand data
		// by more than a small margin.
		src, err := readLimitedSized(r, size, limit+limit/8+1024)
		if err != nil {
			return nil, err
		}
		hdr := zstd.Header{}
		if err := hdr.Decode(src); err != nil {
			return nil, fmt.Errorf("%w: zstd: %v", ErrMalformed, err)
		}
		if !hdr.HasFCS || hdr.FrameContentSize == 0 {
			// A streamed frame (other shippers): decode it as a stream.
			return readZstdStream(src, limit)
		}
		if hdr.FrameContentSize > uint64(limit) {
			return nil, ErrTooLarge
		}
		// With the cap limit, DecodeAll never grows dst beyond the size the
		// frame announced, whatever the frame really holds.
		out, err := zdec().DecodeAll(src, make([]byte, 0, hdr.FrameContentSize))
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %v", ErrMalformed, err)
		}
		return out, nil
	case EncodingGzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", ErrMalformed, err)
		}
		defer zr.Close()
		b, err := readLimited(zr, limit)
		if err != nil && !errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("%w: gzip: %v", ErrMalformed, err)
		}
		return b, err
	case EncodingIdentity, "":
		return readLimitedSized(r, size, limit)
	}
	return nil, fmt.Errorf("unsupported Content-Encoding %q (s2, zstd, gzip, identity)", encoding)
}

func readZstdStream(src []byte, limit int64) ([]byte, error) {
	d, err := zstd.NewReader(bytes.NewReader(src), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: zstd: %v", ErrMalformed, err)
	}
	defer d.Close()
	b, err := readLimited(d, limit)
	if err != nil && !errors.Is(err, ErrTooLarge) {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return nil, ErrTooLarge
		}
		return nil, fmt.Errorf("%w: zstd: %v", ErrMalformed, err)
	}
	return b, err
}

// s2MaxEncoded bounds the encoded size of limit bytes.
func s2MaxEncoded(limit int64) int64 {
	if n := s2.MaxEncodedLen(int(min(limit, 1<<40))); n > 0 {
		return int64(n)
	}
	return limit + limit/8 + 1024
}

// readLimitedSized is readLimited with the size known up front (when it
// is, and within the limit): one allocation, no regrowth.
func readLimitedSized(r io.Reader, size, limit int64) ([]byte, error) {
	if size < 0 || size > limit {
		return readLimited(r, limit)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	// Nothing may follow what the length announced.
	var one [1]byte
	if n, _ := r.Read(one[:]); n > 0 {
		return nil, fmt.Errorf("%w: body longer than its Content-Length", ErrMalformed)
	}
	return b, nil
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, ErrTooLarge
	}
	return buf.Bytes(), nil
}

// Reply is the JSON body of every answer of the forward input.
type Reply struct {
	Accepted int    `json:"accepted"`         // events the receiver has
	Invalid  int    `json:"invalid"`          // events it could not decode (dead-lettered there)
	Error    string `json:"error,omitempty"`  // why the batch was refused
	Sensor   string `json:"sensor,omitempty"` // the identity the receiver recorded
}
