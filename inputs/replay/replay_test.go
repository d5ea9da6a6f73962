package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/snort"
)

// collector is an Emitter that decodes raw batches with the input's
// decoder, as the pipeline would, and acknowledges everything.
type collector struct {
	mu     sync.Mutex
	dec    inputs.Decoder
	events []*normalize.Event
	failed []string
}

func (c *collector) Messages(b *inputs.Batch) {
	for _, m := range b.Msgs {
		ev := &normalize.Event{}
		if err := c.dec.Decode(m, ev); err != nil {
			c.Failed(m, "x", err)
			continue
		}
		c.mu.Lock()
		c.events = append(c.events, ev)
		c.mu.Unlock()
	}
	if b.Done != nil {
		b.Done()
	}
}

func (c *collector) Events(evs []*normalize.Event, done func()) {
	c.mu.Lock()
	c.events = append(c.events, evs...)
	c.mu.Unlock()
	if done != nil {
		go done()
	}
}

func (c *collector) Failed(raw []byte, reason string, err error) {
	c.mu.Lock()
	c.failed = append(c.failed, reason+": "+err.Error())
	c.mu.Unlock()
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	z.Write(b)
	z.Close()
	return buf.Bytes()
}

func TestReplaySnortDatagrams(t *testing.T) {
	f, _ := os.Open("testdata/unsock-0001.bin.gz")
	z, _ := gzip.NewReader(f)
	dgram, _ := io.ReadAll(z)
	f.Close()
	var buf bytes.Buffer
	for range 3 {
		WriteDatagram(&buf, dgram)
	}
	WriteDatagram(&buf, dgram[:100]) // a bad datagram: decode error, counted
	buf.Write([]byte{0, 1})          // a torn length at the end
	p := filepath.Join(t.TempDir(), "alerts.dgrams")
	os.WriteFile(p, buf.Bytes(), 0o644)
	in := &Input{Files: []string{p}, Reader: Datagrams{}}
	c := &collector{dec: &snort.Decoder{}}
	in.Run(context.Background(), c)
	if len(c.events) != 3 || c.events[0].Signature.ID != 1000001 {
		t.Fatalf("%d events", len(c.events))
	}
	if len(c.failed) != 1 || len(in.FileErrors) != 1 {
		t.Errorf("failed %q, file errors %v", c.failed, in.FileErrors)
	}
}

type lineDecoder struct{}

func (lineDecoder) Decode(m []byte, ev *normalize.Event) error {
	ev.Details.Set("line", normalize.RawJSON(m))
	return nil
}

func TestReplayLines(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 300<<10) // longer than the read buffer
	data := append([]byte("{\"a\":1}\r\n\n{\"b\":2}\n\""), long...)
	data = append(data, "\"\n{\"c\":3}"...)
	p := filepath.Join(t.TempDir(), "eve.json.gz")
	os.WriteFile(p, gz(t, data), 0o644)
	in := &Input{Files: []string{p}, Reader: Lines{}}
	c := &collector{dec: lineDecoder{}}
	in.Run(context.Background(), c)
	if len(c.events) != 4 {
		t.Fatalf("%d lines", len(c.events))
	}
	if string(c.events[0].Details.Get("line")) != `{"a":1}` || len(c.events[2].Details.Get("line")) != len(long)+2 {
		t.Errorf("lines: %s / %d", c.events[0].Details.Get("line"), len(c.events[2].Details.Get("line")))
	}
}

// A file holding exactly one raw datagram (as the corpus keeps them) is
// replayed as that datagram.
func TestReplayRawDatagramFile(t *testing.T) {
	f, _ := os.Open("testdata/unsock-0001.bin.gz")
	z, _ := gzip.NewReader(f)
	dgram, _ := io.ReadAll(z)
	f.Close()
	p := filepath.Join(t.TempDir(), "unsock-0001.bin")
	os.WriteFile(p, dgram, 0o644)
	in := &Input{Files: []string{p, p}, Reader: Datagrams{}}
	c := &collector{dec: &snort.Decoder{}}
	in.Run(context.Background(), c)
	if len(c.events) != 2 || len(c.failed) != 0 || len(in.FileErrors) != 0 {
		t.Fatalf("%d events, failed %v, errors %v", len(c.events), c.failed, in.FileErrors)
	}
}
