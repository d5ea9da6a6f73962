package snort

import (
	"bytes"
	"path/filepath"
	"testing"
)

// Every corpus datagram, parsed and written again, is byte-identical: the
// encoder (used by `alertgw send`) writes exactly what the sensors write.
func TestEncodeRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/unsock-*.bin.gz")
	for _, f := range files {
		msg := readGz(t, f)
		a, err := Parse(msg, FormatAuto)
		if err != nil {
			t.Fatal(err)
		}
		if a.PktTruncated {
			a.Pkt = msg[offBy2Pkt : offBy2Pkt+pktLenBy2]
		}
		out, err := AppendDatagram(nil, &a, a.Variant)
		if err != nil {
			t.Fatal(err)
		}
		if a.Variant == VariantBarnyard2 {
			// Barnyard2 leaves its struct padding uninitialised.
			copy(out[1814:1816], msg[1814:1816])
			copy(out[1852:], msg[1852:])
		}
		if !bytes.Equal(out, msg) {
			for i := range out {
				if out[i] != msg[i] {
					t.Errorf("%s: first difference at byte %d: %#x vs %#x", f, i, out[i], msg[i])
					break
				}
			}
		}
	}
}
