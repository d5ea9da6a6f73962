package snort

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

func TestDecodeRejectsUnknownSizes(t *testing.T) {
	d := &Decoder{}
	for _, tc := range []struct {
		size   int
		reason string
	}{
		{0, normalize.ReasonTruncated},
		{100, normalize.ReasonTruncated},
		{SizeBarnyard2 + 1, normalize.ReasonUnsupported},
		{SizeAlertpkt - 1, normalize.ReasonUnsupported},
		{SizeAlertpktAppID + 1, normalize.ReasonUnsupported},
	} {
		var ev normalize.Event
		err := d.Decode(make([]byte, tc.size), &ev)
		var ne *normalize.Error
		if !errors.As(err, &ne) || ne.Reason != tc.reason {
			t.Errorf("size %d: err %v, want reason %s", tc.size, err, tc.reason)
		}
	}
}

func TestExplicitFormat(t *testing.T) {
	msg := readGz(t, "testdata/snort-2.9.20-no-openappid/unsock-0001.bin.gz")
	if _, err := Parse(msg, FormatBarnyard2); err == nil {
		t.Error("barnyard2 format accepted a 65864-byte datagram")
	}
	a, err := Parse(msg, FormatSnort3)
	if err != nil || a.Variant != VariantSnort3 {
		t.Errorf("explicit snort3: %v %v", a.Variant, err)
	}
	if f, err := ParseFormat("barnyard2"); err != nil || f != FormatBarnyard2 {
		t.Error("ParseFormat")
	}
	if _, err := ParseFormat("snort4"); err == nil {
		t.Error("ParseFormat accepted snort4")
	}
}

// Hostile offsets and caplen never reach past the datagram, and are flagged.
func TestHostileOffsets(t *testing.T) {
	msg := readGz(t, "testdata/snort-2.9.20-no-openappid/unsock-0001.bin.gz")
	le := binary.LittleEndian
	le.PutUint32(msg[offSnortPkth+8:], 0xffffffff) // caplen
	for i := range 4 {
		le.PutUint32(msg[offSnortHdrs+4*i:], 0xfffffff0)
	}
	var ev normalize.Event
	if err := (&Decoder{}).Decode(msg, &ev); err != nil {
		t.Fatal(err)
	}
	if string(ev.Details.Get("packet_truncated")) != "true" {
		t.Error("caplen beyond the datagram not flagged")
	}
	le.PutUint32(msg[offSnortPkth+8:], 98)
	ev = normalize.Event{}
	if err := (&Decoder{}).Decode(msg, &ev); err != nil {
		t.Fatal(err)
	}
	if string(ev.Details.Get("bad_offsets")) != "15" {
		t.Errorf("bad_offsets = %s, want 15", ev.Details.Get("bad_offsets"))
	}
	if ev.SrcIP.String() != "10.99.0.1" {
		t.Errorf("packet not decoded from its first byte: %v", ev.SrcIP)
	}
}

func TestNoPacketFlag(t *testing.T) {
	msg := readGz(t, "testdata/snort-2.9.20-no-openappid/unsock-0001.bin.gz")
	binary.LittleEndian.PutUint32(msg[offSnortHdrs+16:], FlagNoPacket)
	var ev normalize.Event
	if err := (&Decoder{}).Decode(msg, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.SrcIP.IsValid() || ev.Packet != nil {
		t.Error("NOPACKET_STRUCT datagram got a 5-tuple")
	}
}

// Raw-IP captures (no Ethernet) are recognised without configuration.
func TestRawIPInference(t *testing.T) {
	msg := readGz(t, "testdata/snort-2.9.20-no-openappid/unsock-0001.bin.gz")
	le := binary.LittleEndian
	// Move the IPv4 packet 14 bytes down and fix the header fields.
	copy(msg[offSnortPkt:], msg[offSnortPkt+14:offSnortPkt+98])
	le.PutUint32(msg[offSnortPkth+8:], 84)
	le.PutUint32(msg[offSnortPkth+12:], 84)
	le.PutUint32(msg[offSnortHdrs+4:], 0)
	var ev normalize.Event
	if err := (&Decoder{}).Decode(msg, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.SrcIP.String() != "10.99.0.1" || ev.Proto != 1 || ev.SrcMAC != "" {
		t.Errorf("raw IP: %v %d %q", ev.SrcIP, ev.Proto, ev.SrcMAC)
	}
}

// BenchmarkDecodeAlertpkt: one Snort 2 TCP datagram (65,928 bytes) through
// Parse, gopacket decoding and mapping.
func BenchmarkDecodeAlertpkt(b *testing.B) {
	msg := readGz(b, "testdata/snort-2.9.20/unsock-0003.bin.gz")
	d := &Decoder{}
	b.ReportAllocs()
	for b.Loop() {
		var ev normalize.Event
		if err := d.Decode(msg, &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
}
