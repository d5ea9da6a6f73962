package pcapfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"runtime"
	"testing"
)

// The tcpdump project's NFLOG capture as written (little-endian pcap), in
// pcapng (editcap) and written big-endian: the same four packets with
// their link type, times and lengths, and the writer's byte order.
func TestFormats(t *testing.T) {
	var first []Packet
	for _, c := range []struct {
		file, format string
		order        binary.ByteOrder
	}{
		{"tcpdump_nflog.pcap", FormatPcap, binary.LittleEndian},
		{"tcpdump_nflog.pcapng", FormatPcapNG, binary.LittleEndian},
		{"tcpdump_nflog-be.pcap", FormatPcap, binary.BigEndian},
	} {
		b, err := os.ReadFile("../../inputs/nflog/testdata/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if r.Format() != c.format || r.ByteOrder() != c.order {
			t.Errorf("%s: %s %v", c.file, r.Format(), r.ByteOrder())
		}
		var pkts []Packet
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			pkts = append(pkts, p)
		}
		if len(pkts) != 4 || pkts[0].LinkType != 239 || len(pkts[0].Data) != 180 || pkts[0].Length != 180 ||
			pkts[0].Time.UnixMicro() != 1378492319615994 {
			t.Fatalf("%s: %d packets, first %+v", c.file, len(pkts), pkts[0])
		}
		if first == nil {
			first = pkts
		} else if c.order == binary.LittleEndian && !bytes.Equal(pkts[3].Data, first[3].Data) {
			t.Errorf("%s: packet data differs from the pcap's", c.file)
		}
	}
}

// Not a capture, a header cut short, a packet cut short.
func TestBadFiles(t *testing.T) {
	if _, err := NewReader(bytes.NewReader([]byte("hello, world"))); !errors.Is(err, ErrNotCapture) {
		t.Errorf("text: %v", err)
	}
	if _, err := NewReader(bytes.NewReader([]byte{0xd4, 0xc3})); !errors.Is(err, ErrNotCapture) {
		t.Errorf("2 bytes: %v", err)
	}
	b, _ := os.ReadFile("../../inputs/nflog/testdata/tcpdump_nflog.pcap")
	r, err := NewReader(bytes.NewReader(b[:len(b)-10]))
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for last == nil {
		_, last = r.Next()
	}
	if !errors.Is(last, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: %v", last)
	}
}

// FuzzReader reads whatever bytes as a capture: no panic, and a reader
// that starts returns packets or an error, never loops.
func FuzzReader(f *testing.F) {
	for _, name := range []string{"tcpdump_nflog.pcap", "tcpdump_nflog.pcapng", "tcpdump_nflog-be.pcap"} {
		b, err := os.ReadFile("../../inputs/nflog/testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		for i := 0; i <= len(b); i++ {
			if _, err := r.Next(); err != nil {
				return
			}
		}
		t.Fatal("more packets than bytes")
	})
}

// TestHugeCapturedLength: a header of a few bytes that claims a packet of
// nearly 4 GiB is refused before anything is allocated for it.
func TestHugeCapturedLength(t *testing.T) {
	le := binary.LittleEndian
	// Classic pcap: snapshot length 0xffffffff, one record claiming 4e9 bytes.
	pcap := le.AppendUint32(nil, 0xa1b2c3d4)
	pcap = le.AppendUint16(pcap, 2)
	pcap = le.AppendUint16(pcap, 4)
	pcap = le.AppendUint32(pcap, 0)
	pcap = le.AppendUint32(pcap, 0)
	pcap = le.AppendUint32(pcap, 0xffffffff) // snaplen
	pcap = le.AppendUint32(pcap, 239)        // LINKTYPE_NFLOG
	pcap = le.AppendUint32(pcap, 1)          // ts sec
	pcap = le.AppendUint32(pcap, 0)          // ts usec
	pcap = le.AppendUint32(pcap, 4_000_000_000)
	pcap = le.AppendUint32(pcap, 4_000_000_000)
	pcap = append(pcap, "short"...)

	// pcapng: section header, one interface, one enhanced packet block
	// claiming 0xfffffff0 captured bytes in a 36-byte block.
	block := func(b []byte, typ uint32, body []byte) []byte {
		total := uint32(12 + len(body))
		b = le.AppendUint32(b, typ)
		b = le.AppendUint32(b, total)
		b = append(b, body...)
		return le.AppendUint32(b, total)
	}
	shb := le.AppendUint32(nil, ngByteOrder)
	shb = le.AppendUint16(shb, 1)
	shb = le.AppendUint16(shb, 0)
	shb = le.AppendUint64(shb, ^uint64(0))
	idb := le.AppendUint16(nil, 239)
	idb = le.AppendUint16(idb, 0)
	idb = le.AppendUint32(idb, 0) // snaplen: none
	epb := le.AppendUint32(nil, 0)
	epb = le.AppendUint32(epb, 0)
	epb = le.AppendUint32(epb, 0)
	epb = le.AppendUint32(epb, 0xfffffff0) // captured length
	epb = le.AppendUint32(epb, 0xfffffff0)
	epb = append(epb, 0, 0, 0, 0)
	ng := block(block(block(nil, ngSectionHeader, shb), 1, idb), 6, epb)

	for name, file := range map[string][]byte{"pcap": pcap, "pcapng": ng} {
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		p, err := r.Next()
		runtime.ReadMemStats(&after)
		if err == nil || errors.Is(err, io.EOF) {
			t.Errorf("%s: packet of %d bytes, err %v; want a refusal", name, len(p.Data), err)
		}
		// Without the bound pcapgo allocates the claimed length (and then
		// fails on the short file): the error alone does not show it.
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("%s: %d bytes allocated for a %d-byte file", name, grew, len(file))
		}
		t.Logf("%s: %v", name, err)
	}
}
