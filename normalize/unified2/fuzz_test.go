package unified2

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

// FuzzRecordReader runs arbitrary bytes through the reader, the aggregator
// and the mapper: nothing may panic, allocate beyond the cap, or loop.
func FuzzRecordReader(f *testing.F) {
	for _, name := range []string{"py-idstools_merged.log", "py-idstools_multi-record-event.log", "py-idstools_ipv6-alert.unified2",
		"go-unified2_short-read-on-body.log", "go-unified2_short-read-on-header.log"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	snort, err := os.ReadFile("testdata/snort.u2.1795384908")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(snort[:2000])
	m := &Mapper{}
	f.Fuzz(func(t *testing.T, b []byte) {
		rd := NewReader(bytes.NewReader(b), 0)
		rd.MaxBody = 1 << 16
		var g Aggregator
		emit := func(a *Alert) {
			var ev normalize.Event
			m.Map(a, &ev)
		}
		for range len(b)/HeaderLen + 1 {
			rec, err := rd.Next()
			if err != nil {
				var ce *CorruptError
				if err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.As(err, &ce) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			if a, err := g.Add(rec); err == nil && a != nil {
				emit(a)
			}
		}
		if a := g.Flush(); a != nil {
			emit(a)
		}
		Split(b, func(Record) error { return nil })
	})
}
