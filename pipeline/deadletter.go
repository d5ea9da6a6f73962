package pipeline

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/alertgw/alertgw/outputs/format"
)

// DeadLetter writes messages that could not be normalized to a JSON-lines
// file, raw bytes in base64, so that nothing read is ever lost without a
// trace and a fixed decoder can replay them:
//
//	{"time":"…","input":"suricata","type":"suricata","reason":"invalid_json","error":"…","size":17,"raw":"…"}
type DeadLetter struct {
	mu      sync.Mutex
	path    string
	maxSize int64
	f       *os.File
	w       *bufio.Writer
	size    int64
	buf     []byte
}

// OpenDeadLetter opens (appending) the dead-letter file at path. The file is
// rotated to path.1 when it grows past maxSize.
func OpenDeadLetter(path string, maxSize int64) (*DeadLetter, error) {
	d := &DeadLetter{path: path, maxSize: maxSize}
	if err := d.open(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *DeadLetter) open() error {
	if err := os.MkdirAll(filepath.Dir(d.path), 0o750); err != nil {
		return fmt.Errorf("dead-letter directory: %w", err)
	}
	f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open dead-letter file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat dead-letter file: %w", err)
	}
	d.f, d.w, d.size = f, bufio.NewWriterSize(f, 64<<10), st.Size()
	return nil
}

// Write records one message.
func (d *DeadLetter) Write(input, typ, reason string, cause error, raw []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := append(d.buf[:0], '{')
	b = format.AppendTimeField(b, "time", time.Now())
	b = format.AppendStringField(b, "input", input)
	b = format.AppendStringField(b, "type", typ)
	b = format.AppendStringField(b, "reason", reason)
	if cause != nil {
		b = format.AppendStringField(b, "error", cause.Error())
	}
	b = format.AppendUintField(b, "size", uint64(len(raw)))
	b = append(format.AppendKey(b, "raw"), '"')
	b = base64.StdEncoding.AppendEncode(b, raw)
	b = append(b, '"', '}', '\n')
	d.buf = b
	if d.maxSize > 0 && d.size+int64(len(b)) > d.maxSize && d.size > 0 {
		if err := d.rotate(); err != nil {
			return err
		}
	}
	n, err := d.w.Write(b)
	d.size += int64(n)
	return err
}

func (d *DeadLetter) rotate() error {
	if err := d.closeLocked(); err != nil {
		return err
	}
	if err := os.Rename(d.path, d.path+".1"); err != nil {
		return fmt.Errorf("rotate dead-letter file: %w", err)
	}
	return d.open()
}

// Flush writes buffered records to the file.
func (d *DeadLetter) Flush() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil // closed
	}
	return d.w.Flush()
}

// Reopen closes and reopens the file (SIGHUP, after logrotate).
func (d *DeadLetter) Reopen() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.closeLocked(); err != nil {
		return err
	}
	return d.open()
}

// Close flushes, syncs and closes the file.
func (d *DeadLetter) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closeLocked()
}

func (d *DeadLetter) closeLocked() error {
	if d.f == nil {
		return nil
	}
	err := d.w.Flush()
	if serr := d.f.Sync(); err == nil {
		err = serr
	}
	if cerr := d.f.Close(); err == nil {
		err = cerr
	}
	d.f = nil
	return err
}

// WriteEvent records one event that an output's destination rejected for
// good, with the destination's reason and the event in the native format,
// so it can be fixed and replayed:
//
//	{"time":"…","output":"es","type":"elasticsearch","reason":"mapper_parsing_exception","error":"…","event":{…}}
func (d *DeadLetter) WriteEvent(output, typ, reason string, cause error, event []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := append(d.buf[:0], '{')
	b = format.AppendTimeField(b, "time", time.Now())
	b = format.AppendStringField(b, "output", output)
	b = format.AppendStringField(b, "type", typ)
	b = format.AppendStringField(b, "reason", reason)
	if cause != nil {
		b = format.AppendStringField(b, "error", cause.Error())
	}
	b = append(format.AppendKey(b, "event"), event...)
	b = append(b, '}', '\n')
	d.buf = b
	if d.maxSize > 0 && d.size+int64(len(b)) > d.maxSize && d.size > 0 {
		if err := d.rotate(); err != nil {
			return err
		}
	}
	n, err := d.w.Write(b)
	d.size += int64(n)
	return err
}
