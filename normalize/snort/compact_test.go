package snort

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

// corpusDatagrams returns every datagram of the test corpus.
func corpusDatagrams(t testing.TB) map[string][]byte {
	files, _ := filepath.Glob("testdata/*/unsock-*.bin.gz")
	if len(files) < 10 {
		t.Fatalf("only %d corpus datagrams", len(files))
	}
	out := make(map[string][]byte, len(files))
	for _, f := range files {
		out[f] = readGz(t, f)
	}
	return out
}

// variants adds hostile and edge-case versions of a Snort datagram: caplen
// 0, beyond the packet area, NOPACKET, and wrong sizes.
func variants(name string, msg []byte) map[string][]byte {
	out := map[string][]byte{name: msg}
	if len(msg) != SizeAlertpkt && len(msg) != SizeAlertpktAppID {
		return out
	}
	withCaplen := func(c uint32) []byte {
		m := append([]byte(nil), msg...)
		binary.LittleEndian.PutUint32(m[offSnortPkth+8:], c)
		return m
	}
	out[name+"/caplen0"] = withCaplen(0)
	out[name+"/caplen-room"] = withCaplen(pktLenSnort)
	out[name+"/caplen-beyond"] = withCaplen(1 << 31)
	nopkt := append([]byte(nil), msg...)
	binary.LittleEndian.PutUint32(nopkt[offSnortHdrs+16:], FlagNoPacket)
	out[name+"/nopacket"] = nopkt
	out[name+"/short"] = msg[:len(msg)-1]
	out[name+"/long"] = append(append([]byte(nil), msg...), 0)
	out[name+"/tiny"] = msg[:20]
	return out
}

func decodeBoth(t *testing.T, f Format, msg []byte) {
	t.Helper()
	c, err := NewCompact(f)
	if err != nil {
		t.Fatal(err)
	}
	plain := &Decoder{Format: f}
	compacting := &Decoder{Format: f, Compact: c}
	var want, got normalize.Event
	werr := plain.Decode(msg, &want)
	small := c.Append(nil, msg)
	gerr := compacting.Decode(small, &got)
	if fmt.Sprint(werr) != fmt.Sprint(gerr) {
		t.Fatalf("error %v, want %v", gerr, werr)
	}
	if werr != nil {
		// What does not decode stays as it arrived, for the dead letter.
		if string(small) != string(msg) {
			t.Fatalf("undecodable datagram of %d bytes was compacted to %d", len(msg), len(small))
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("compact form decodes differently:\n got %+v\nwant %+v", got, want)
	}
	if len(msg) >= SizeAlertpkt {
		caplen := binary.LittleEndian.Uint32(msg[offSnortPkth+8:])
		if max := compactHead + offSnortPkt + (len(msg) - offSnortEvent) + int(min(caplen, pktLenSnort)); len(small) != max {
			t.Fatalf("compact form is %d bytes, want %d", len(small), max)
		}
	}
}

func TestCompactDecodesTheSame(t *testing.T) {
	formats := []Format{FormatAuto, FormatSnort2, FormatSnort3, FormatBarnyard2}
	for name, msg := range corpusDatagrams(t) {
		for vname, v := range variants(name, msg) {
			for _, f := range formats {
				t.Run(fmt.Sprintf("%s/format%d", vname, f), func(t *testing.T) { decodeBoth(t, f, v) })
			}
		}
	}
}

// A datagram shaped like a compact message, but from another process (any
// sender), is not taken for one: the nonce is random per compactor.
func TestCompactNotForgeable(t *testing.T) {
	msg := readGz(t, "testdata/snort-2.9.20-no-openappid/unsock-0001.bin.gz")
	other, _ := NewCompact(FormatAuto)
	mine, _ := NewCompact(FormatAuto)
	forged := other.Append(nil, msg)
	var ev normalize.Event
	err := (&Decoder{Compact: mine}).Decode(forged, &ev)
	if err == nil {
		t.Fatal("a compact message from another compactor was decoded")
	}
	if ok := mine.parse(forged, &Alert{}); ok {
		t.Fatal("forged message parsed as compact")
	}
}

// FuzzCompact: for any input, decoding the compacted form gives what
// decoding the datagram gives. Inputs are in the sparse form of
// fuzzform_test.go.
func FuzzCompact(f *testing.F) {
	fuzzSeeds(f, "testdata/*/unsock-*.bin.gz")
	f.Fuzz(func(t *testing.T, msg []byte) {
		decodeBoth(t, FormatAuto, expandFuzz(msg))
	})
}
