package snort

import (
	"path/filepath"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

// fuzzSeeds adds the corpus datagrams of one layout.
func fuzzSeeds(f *testing.F, glob string) {
	files, _ := filepath.Glob(glob)
	if len(files) == 0 {
		f.Fatalf("no seeds for %s", glob)
	}
	for _, p := range files {
		f.Add(readGz(f, p))
	}
}

// FuzzAlertpkt: Snort 2/3 datagrams (fixed size, so the fuzzer mutates
// contents: offsets, caplen, the packet, the message).
func FuzzAlertpkt(f *testing.F) {
	fuzzSeeds(f, "testdata/snort-*/unsock-*.bin.gz")
	d := &Decoder{}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var ev normalize.Event
		if err := d.Decode(msg, &ev); err != nil {
			return
		}
		if ev.Signature == nil {
			t.Fatal("decoded without a signature")
		}
	})
}

// FuzzBarnyard2: Barnyard2 datagrams.
func FuzzBarnyard2(f *testing.F) {
	fuzzSeeds(f, "testdata/barnyard2-*/unsock-*.bin.gz")
	d := &Decoder{Format: FormatBarnyard2}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var ev normalize.Event
		if err := d.Decode(msg, &ev); err != nil {
			return
		}
		if ev.Source.Type != "barnyard2" {
			t.Fatal("wrong source")
		}
	})
}
