package auditd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Binary dispatcher protocol (auditd's libaudit.h, audispd): a header in
// host byte order, then the record.
const (
	hdrLen          = 16   // struct audit_dispatcher_header {u32 ver, hlen, type, size}
	maxAuditMessage = 8970 // MAX_AUDIT_MESSAGE_LENGTH: the 3.0.x fixed body size
	protoKernel     = 0    // AUDISP_PROTOCOL_VER: raw kernel text, type in the header
	protoFormatted  = 1    // AUDISP_PROTOCOL_VER2: a complete "type=… msg=…" line
)

// record is one record read from the stream. kernel records carry their
// type from the frame header; the others are complete text lines.
type record struct {
	typ    uint32
	kernel bool
	data   []byte
}

// errFraming means the byte stream no longer lines up with frames: the
// connection must be dropped (or the stream abandoned).
var errFraming = errors.New("binary frame header out of line")

// framer cuts a byte stream into records. It reads into its own buffer;
// the records it returns are copied into a fresh arena per call, because
// they outlive the next read (the Processor keeps them while events are
// open, and events keep sub-strings).
type framer struct {
	r       io.Reader
	binary  bool
	fixed   bool // 3.0.x: every frame's body is maxAuditMessage bytes
	buf     []byte
	start   int  // unconsumed data is buf[start:end]
	end     int  //
	skipEOL bool // discarding the rest of an over-long line
	// tooLong counts text lines longer than the buffer (dropped).
	tooLong uint64
}

func newFramer(r io.Reader, bin, fixed bool) *framer {
	return &framer{r: r, binary: bin, fixed: fixed, buf: make([]byte, 256<<10)}
}

// next reads at least once and returns the complete records now
// available. err is io.EOF at the end of the stream, errFraming for a
// corrupt binary stream, or the reader's error.
func (f *framer) next(out []record) ([]record, int, error) {
	if f.start > 0 && f.start == f.end {
		f.start, f.end = 0, 0
	}
	if f.end == len(f.buf) && f.start > 0 {
		n := copy(f.buf, f.buf[f.start:f.end])
		f.start, f.end = 0, n
	}
	n, err := f.r.Read(f.buf[f.end:])
	f.end += n
	var ferr error
	if f.binary {
		out, ferr = f.frames(out)
	} else {
		out = f.lines(out, err != nil)
	}
	if ferr != nil {
		return out, n, ferr
	}
	return out, n, err
}

func (f *framer) lines(out []record, final bool) []record {
	data := f.buf[f.start:f.end]
	first := len(out)
	consumed := 0
	for {
		i := bytes.IndexByte(data[consumed:], '\n')
		if i < 0 {
			break
		}
		line := data[consumed : consumed+i]
		consumed += i + 1
		if f.skipEOL {
			f.skipEOL = false
			continue
		}
		if len(line) > 0 {
			out = append(out, record{data: line})
		}
	}
	rest := data[consumed:]
	switch {
	case f.skipEOL:
		consumed = len(data)
	case len(rest) == len(f.buf):
		// A line longer than the whole buffer is no audit record.
		f.tooLong++
		f.skipEOL = true
		consumed = len(data)
	case final && len(rest) > 0:
		out = append(out, record{data: rest})
		consumed = len(data)
	}
	f.start += consumed
	f.arena(out[first:])
	return out
}

func (f *framer) frames(out []record) ([]record, error) {
	first := len(out)
	for {
		data := f.buf[f.start:f.end]
		if len(data) < hdrLen {
			break
		}
		ver := binary.NativeEndian.Uint32(data[0:])
		hlen := binary.NativeEndian.Uint32(data[4:])
		typ := binary.NativeEndian.Uint32(data[8:])
		size := binary.NativeEndian.Uint32(data[12:])
		if ver > protoFormatted || hlen != hdrLen || size > maxAuditMessage {
			f.arena(out[first:])
			return out, fmt.Errorf("%w: ver=%d hlen=%d size=%d (is binary_framing right for this auditd? 3.0.x needs fixed, 3.1+ exact)", errFraming, ver, hlen, size)
		}
		body := int(size)
		if f.fixed {
			body = maxAuditMessage
		}
		if len(data) < hdrLen+body {
			break
		}
		rec := data[hdrLen : hdrLen+int(size)]
		if ver == protoKernel {
			out = append(out, record{typ: typ, kernel: true, data: rec})
		} else {
			out = append(out, record{data: rec})
		}
		f.start += hdrLen + body
	}
	f.arena(out[first:])
	return out, nil
}

// arena copies the records' bytes out of the read buffer.
func (f *framer) arena(recs []record) {
	n := 0
	for _, r := range recs {
		n += len(r.data)
	}
	if n == 0 {
		return
	}
	a := make([]byte, 0, n)
	for i := range recs {
		s := len(a)
		a = append(a, recs[i].data...)
		recs[i].data = a[s:len(a):len(a)]
	}
}
