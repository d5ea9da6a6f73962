package snort

import (
	"bytes"
	"path/filepath"
	"testing"
)

// The fuzz targets of this package do not take datagrams as they are.
// A Snort datagram is 65,864 bytes of which ~500 matter, and the Go fuzzer
// spends minutes on inputs that large: it mutates and, worse, minimizes
// every new interesting input with passes quadratic in its length (up to
// -fuzzminimizetime, 60 s, each time), so with 65 KB seeds the targets ran
// 20-38 inputs a minute. Even Barnyard2's 1,856 bytes stalled them.
//
// So the fuzzer works on a sparse form and each run expands it: the first
// byte picks a layout (its datagram size and the length of its fixed tail),
// the rest is the datagram's front (head and packet, trailing zeros cut)
// followed by its tail. Expanding pads the front with zeros up to the tail
// at its offset from the end, which is where the layouts keep their event.
// Layout "raw" hands the rest over verbatim, so wrong sizes are fuzzed too.

// fuzzLayout is one datagram layout of the sparse form.
type fuzzLayout struct {
	size    int // datagram size
	tailLen int // bytes at the end that the sparse form keeps apart
}

var fuzzLayouts = [...]fuzzLayout{
	{SizeAlertpkt, SizeAlertpkt - offSnortEvent},           // Snort 2/3: event at the end
	{SizeAlertpktAppID, SizeAlertpktAppID - offSnortEvent}, // Snort 2 with OpenAppID: event and app name
	{SizeBarnyard2, SizeBarnyard2 - offBy2Event},           // Barnyard2: event and padding
	{SizeBarnyard2Trimmed, SizeBarnyard2Trimmed - offBy2Event},
	{}, // raw: the bytes as they are
}

// scratch is one datagram per layout, reused by expandFuzz: a fresh 64 KiB
// allocation per run cost a hundred times the decoding (fresh pages to
// fault in and clear). dirty is how much of its front the last run wrote.
var scratch [len(fuzzLayouts)]struct {
	msg   []byte
	dirty int
}

// expandFuzz turns a sparse fuzz input into a datagram. The result is
// valid until the next call (fuzz functions run one at a time per worker).
func expandFuzz(in []byte) []byte {
	if len(in) == 0 {
		return nil
	}
	k := int(in[0]) % len(fuzzLayouts)
	l := fuzzLayouts[k]
	body := in[1:]
	if l.size == 0 {
		return body
	}
	sc := &scratch[k]
	if sc.msg == nil {
		sc.msg = make([]byte, l.size)
	}
	msg := sc.msg
	clear(msg[:sc.dirty])
	clear(msg[l.size-l.tailLen:])
	tail := body[max(0, len(body)-l.tailLen):]
	front := body[:len(body)-len(tail)]
	copy(msg[l.size-l.tailLen:], tail)
	sc.dirty = copy(msg[:l.size-l.tailLen], front)
	return msg
}

// sparseFuzz is the inverse of expandFuzz for a corpus datagram: the seed.
func sparseFuzz(t testing.TB, msg []byte) []byte {
	for i, l := range fuzzLayouts {
		if l.size != len(msg) {
			continue
		}
		front := bytes.TrimRight(msg[:l.size-l.tailLen], "\x00")
		return append(append([]byte{byte(i)}, front...), msg[l.size-l.tailLen:]...)
	}
	t.Fatalf("no fuzz layout for a datagram of %d bytes", len(msg))
	return nil
}

// fuzzSeeds adds the corpus datagrams matching glob, in the sparse form.
func fuzzSeeds(f *testing.F, glob string) {
	files, _ := filepath.Glob(glob)
	if len(files) == 0 {
		f.Fatalf("no seeds for %s", glob)
	}
	for _, p := range files {
		f.Add(sparseFuzz(f, readGz(f, p)))
	}
	f.Add([]byte{byte(len(fuzzLayouts) - 1), 1, 2, 3}) // a raw datagram of a wrong size
}

// The sparse form must give back every corpus datagram byte for byte, or
// the fuzzer would start from something else than the real datagrams.
func TestFuzzFormRoundTrip(t *testing.T) {
	for name, msg := range corpusDatagrams(t) {
		seed := sparseFuzz(t, msg)
		expandFuzz(append([]byte{seed[0]}, bytes.Repeat([]byte{0xff}, 4000)...)) // what a previous run left must not show
		if !bytes.Equal(expandFuzz(seed), msg) {
			t.Errorf("%s: sparse form does not expand to the datagram", name)
		}
		if len(seed) > 4096 {
			t.Errorf("%s: seed of %d bytes is too large to fuzz well", name, len(seed))
		}
	}
}
