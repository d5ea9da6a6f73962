package auditd

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzFramer cuts arbitrary bytes as each format: it must not panic, and
// every record must fit the limits (binary: at most one kernel record).
func FuzzFramer(f *testing.F) {
	f.Add([]byte("type=EOE msg=audit(1.1:1): \ntype=EOE msg=audit(1.1:2): \n"), uint8(0))
	f.Add(frame("type=EOE msg=audit(1.1:1): ", true), uint8(1))
	f.Add(frame("type=EOE msg=audit(1.1:1): ", false), uint8(2))
	f.Add(kernelFrame(1320, "audit(1.1:1): "), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		bin, fixed := mode%3 != 0, mode%3 == 1
		fr := newFramer(iotest.HalfReader(bytes.NewReader(data)), bin, fixed)
		fr.buf = make([]byte, 32<<10) // small, so that over-long lines happen
		total := 0
		for i := 0; i < 10000; i++ {
			recs, _, err := fr.next(nil)
			for _, r := range recs {
				if bin && len(r.data) > maxAuditMessage {
					t.Fatalf("binary record of %d bytes", len(r.data))
				}
				total += len(r.data)
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, errFraming) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
		}
		if total > len(data) {
			t.Fatalf("records hold %d bytes, input had %d", total, len(data))
		}
	})
}

func TestFramerLines(t *testing.T) {
	in := "a\n\nb\r\nlast-without-newline"
	fr := newFramer(iotest.OneByteReader(bytes.NewReader([]byte(in))), false, false)
	var got []string
	for {
		recs, _, err := fr.next(nil)
		for _, r := range recs {
			got = append(got, string(r.data))
		}
		if err != nil {
			break
		}
	}
	want := []string{"a", "b\r", "last-without-newline"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
