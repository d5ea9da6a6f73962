package snort

import (
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

// FuzzAlertpkt: Snort 2/3 datagrams, in the sparse form of fuzzform_test.go
// (fixed size, so the fuzzer mutates contents: offsets, caplen, the packet,
// the message).
func FuzzAlertpkt(f *testing.F) {
	fuzzSeeds(f, "testdata/snort-*/unsock-*.bin.gz")
	d := &Decoder{}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var ev normalize.Event
		if err := d.Decode(expandFuzz(msg), &ev); err != nil {
			return
		}
		if ev.Signature == nil {
			t.Fatal("decoded without a signature")
		}
	})
}

// FuzzBarnyard2: Barnyard2 datagrams, in the sparse form.
func FuzzBarnyard2(f *testing.F) {
	fuzzSeeds(f, "testdata/barnyard2-*/unsock-*.bin.gz")
	d := &Decoder{Format: FormatBarnyard2}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var ev normalize.Event
		if err := d.Decode(expandFuzz(msg), &ev); err != nil {
			return
		}
		if ev.Source.Type != "barnyard2" {
			t.Fatal("wrong source")
		}
	})
}
