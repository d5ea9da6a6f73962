// Package replay is the input behind `alertgw replay`: it reads files that
// sensors wrote, plain or gzip-compressed, with the FileReader the type's
// plugin declares (inputs.Plugin.Files), so that they go through the same
// decoders as the live inputs, and reports when everything it emitted was
// delivered. It also holds the framings several types share: one message
// per line (Lines) and length-prefixed datagrams (Datagrams).
package replay

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
)

// MaxDatagram caps one length-prefixed datagram (Snort's are 65,928 bytes).
const MaxDatagram = 1 << 20

// MaxLine caps one line of a lines file.
const MaxLine = 16 << 20

// DefaultBatchSize is how many messages Lines and Datagrams emit together
// when their BatchSize is 0.
const DefaultBatchSize = 256

// Input reads Files with Reader.
type Input struct {
	Files  []string
	Reader inputs.FileReader
	// Read counts the bytes of the files' contents read so far (after
	// decompression for gzip), for progress display against TotalSize.
	Read atomic.Int64
	// FileErrors lists files that could not be read to the end.
	FileErrors []error

	acks     sync.WaitGroup
	finished chan struct{}
	once     sync.Once
}

// Finished is closed when every file was read and every emitted batch
// acknowledged by the pipeline.
func (in *Input) Finished() <-chan struct{} {
	in.once.Do(func() { in.finished = make(chan struct{}) })
	return in.finished
}

// TotalSize is the sum of the files' content sizes, for a progress bar
// against Read: a gzip file counts its uncompressed size, from the size
// its trailer records (the last member's, modulo 4 GiB: an estimate).
func TotalSize(files []string) int64 {
	var n int64
	for _, f := range files {
		n += contentSize(f)
	}
	return n
}

func contentSize(name string) int64 {
	f, err := os.Open(name)
	if err != nil {
		return 0
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || magic != [2]byte{0x1f, 0x8b} || st.Size() < 18 {
		return st.Size()
	}
	var trailer [4]byte
	if _, err := f.ReadAt(trailer[:], st.Size()-4); err != nil {
		return st.Size()
	}
	isize := int64(binary.LittleEndian.Uint32(trailer[:]))
	// ISIZE is the size modulo 2^32: a file that compresses better than
	// 4 GiB per its own size is taken as whole multiples of 4 GiB more.
	for isize < st.Size() {
		isize += 1 << 32
	}
	return isize
}

// Finisher is implemented by FileReaders that hold state across files
// (audit events spanning a log rotation): Finish emits what is left once
// the last file was read.
type Finisher interface {
	Finish(ctx context.Context, emit inputs.Emitter) error
}

// Run reads every file in turn, then waits for the acknowledgements.
func (in *Input) Run(ctx context.Context, emit inputs.Emitter) error {
	in.Finished()
	defer close(in.finished)
	acked := &ackEmitter{next: emit, acks: &in.acks}
	for _, name := range in.Files {
		if ctx.Err() != nil {
			break
		}
		if err := in.readFile(ctx, name, acked); err != nil {
			in.FileErrors = append(in.FileErrors, fmt.Errorf("%s: %w", name, err))
		}
	}
	if f, ok := in.Reader.(Finisher); ok {
		if err := f.Finish(ctx, acked); err != nil {
			in.FileErrors = append(in.FileErrors, err)
		}
	}
	in.acks.Wait()
	return nil
}

// Close implements inputs.Input: a file is closed as soon as it was read.
func (in *Input) Close() error { return nil }

// ackEmitter counts what the reader emits until the pipeline acknowledges
// it, so that Run returns only once everything was delivered.
type ackEmitter struct {
	next inputs.Emitter
	acks *sync.WaitGroup
}

func (a *ackEmitter) done(then func()) func() {
	a.acks.Add(1)
	return func() {
		if then != nil {
			then()
		}
		a.acks.Done()
	}
}

func (a *ackEmitter) Messages(b *inputs.Batch) {
	b.Done = a.done(b.Done)
	a.next.Messages(b)
}

func (a *ackEmitter) Events(evs []*normalize.Event, done func()) {
	a.next.Events(evs, a.done(done))
}

func (a *ackEmitter) Failed(raw []byte, reason string, err error) { a.next.Failed(raw, reason, err) }

// countingReader counts what it reads into n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// open opens name, transparently gunzipping it when it starts with the gzip
// magic.
func (in *Input) open(name string) (*bufio.Reader, func(), error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, 256<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		z, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return bufio.NewReaderSize(countingReader{z, &in.Read}, 256<<10), func() { z.Close(); f.Close() }, nil
	}
	return bufio.NewReaderSize(countingReader{br, &in.Read}, 256<<10), func() { f.Close() }, nil
}

func (in *Input) readFile(ctx context.Context, name string, emit inputs.Emitter) error {
	r, closeFn, err := in.open(name)
	if err != nil {
		return err
	}
	defer closeFn()
	return in.Reader.ReadFile(ctx, name, r, emit)
}

// messages batches raw messages into one arena per batch (the pipeline's
// decoders may keep sub-slices).
type messages struct {
	size  int // messages per batch
	emit  inputs.Emitter
	arena []byte
	msgs  [][]byte
}

func (m *messages) add(b []byte) {
	if cap(m.arena)-len(m.arena) < len(b) && len(m.msgs) > 0 {
		m.flush()
	}
	if m.arena == nil {
		m.arena = make([]byte, 0, max(len(b), 1<<20))
	}
	start := len(m.arena)
	m.arena = append(m.arena, b...)
	m.msgs = append(m.msgs, m.arena[start:len(m.arena):len(m.arena)])
	if len(m.msgs) >= m.size {
		m.flush()
	}
}

func (m *messages) flush() {
	if len(m.msgs) == 0 {
		return
	}
	m.emit.Messages(&inputs.Batch{Msgs: m.msgs, Received: time.Now()})
	m.msgs, m.arena = nil, nil
}

// Lines reads files of one message per line (EVE JSON). Empty lines are
// skipped; a line longer than MaxLine is dead-lettered.
type Lines struct {
	BatchSize int // 0: DefaultBatchSize
}

// ReadFile implements inputs.FileReader.
func (l Lines) ReadFile(ctx context.Context, _ string, br *bufio.Reader, emit inputs.Emitter) error {
	m := &messages{size: cmp.Or(l.BatchSize, DefaultBatchSize), emit: emit}
	defer m.flush()
	var long []byte
	for ctx.Err() == nil {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(long)+len(line) > MaxLine {
				emit.Failed(slices.Clone(line[:min(len(line), 4096)]), normalize.ReasonTooLarge, fmt.Errorf("line longer than %d bytes", MaxLine))
				long = long[:0]
				if _, err := br.ReadSlice('\n'); err != nil && err != bufio.ErrBufferFull {
					return nil
				}
				continue
			}
			long = append(long, line...)
			continue
		}
		if len(long) > 0 {
			line = append(long, line...)
			long = long[:0]
		}
		line = trimEOL(line)
		if len(line) > 0 {
			m.add(line)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// RawDatagramSizes are the sizes of files replayed as one datagram each
// (a file holding exactly one captured datagram, as in the project corpus),
// when their first four bytes are not a length prefix.
var RawDatagramSizes = []int64{65864, 65928, 1856, 1852}

// Datagrams reads captured datagrams, each preceded by its length as a
// 4-byte big-endian integer (WriteDatagram), or a file holding exactly one
// raw datagram of one of RawDatagramSizes.
type Datagrams struct {
	BatchSize int // 0: DefaultBatchSize
}

// ReadFile implements inputs.FileReader.
func (d Datagrams) ReadFile(ctx context.Context, name string, r *bufio.Reader, emit inputs.Emitter) error {
	var size int64 = -1
	if st, err := os.Stat(name); err == nil {
		size = st.Size()
	}
	m := &messages{size: cmp.Or(d.BatchSize, DefaultBatchSize), emit: emit}
	defer m.flush()
	var hdr [4]byte
	buf := make([]byte, 0, 65928)
	var off int64
	for ctx.Err() == nil {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("length at offset %d: %w", off, io.ErrUnexpectedEOF)
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if off == 0 && slices.Contains(RawDatagramSizes, size) && int64(n) != size-4 {
			// One raw datagram: the four bytes read are its start.
			buf = append(buf[:0], hdr[:]...)
			rest, err := io.ReadAll(io.LimitReader(r, size))
			if err != nil {
				return err
			}
			m.add(append(buf, rest...))
			return nil
		}
		if n > MaxDatagram {
			err := fmt.Errorf("datagram at offset %d claims %d bytes (cap %d)", off, n, MaxDatagram)
			emit.Failed(nil, normalize.ReasonTooLarge, err)
			return err
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			err = fmt.Errorf("datagram at offset %d: %w", off, io.ErrUnexpectedEOF)
			emit.Failed(nil, normalize.ReasonTruncated, err)
			return err
		}
		m.add(buf)
		off += 4 + int64(n)
	}
	return nil
}

// WriteDatagram appends one datagram in the framing Datagrams reads.
func WriteDatagram(w io.Writer, d []byte) error {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(d)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(d)
	return err
}
