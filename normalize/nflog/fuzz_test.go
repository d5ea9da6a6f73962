package nflog

import (
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/nativetest"
	"github.com/alertgw/alertgw/normalize"
)

// FuzzDecode feeds one netlink message (nlmsghdr + nfgenmsg + NFULA_*
// attributes, payload included) through the attribute parser and the packet
// decoder. Seeds: every message of the corpus capture. Whatever the bytes,
// nothing may panic, and an event that comes out must encode to valid JSON.
func FuzzDecode(f *testing.F) {
	for _, dg := range readDatagrams(f) {
		for rest := dg; len(rest) > 0; {
			msg, _, r, err := NextMessage(rest)
			if err != nil {
				break
			}
			f.Add(msg)
			rest = r
		}
	}
	lab, _ := NewLabeler(map[uint16]normalize.Action{5: normalize.ActionAllowed}, []PrefixRule{{Glob: "*DROP*", Action: normalize.ActionBlocked}})
	d := NewDecoder(lab, IfaceMap{1: "lo"})
	recv := time.Unix(1795384640, 0)
	f.Fuzz(func(t *testing.T, msg []byte) {
		var a Attrs
		if err := ParseMessage(msg, &a); err != nil {
			if _, ok := err.(*normalize.Error); !ok {
				t.Fatalf("error is not a *normalize.Error: %T %v", err, err)
			}
			return
		}
		var r Record
		d.Decode(&a, recv, &r)
		e := &r.Event
		if e.Kind != normalize.KindPacket || e.Firewall == nil {
			t.Fatalf("kind %q firewall %v", e.Kind, e.Firewall)
		}
		if e.HasPorts && !e.HasProto {
			t.Fatal("ports without a protocol")
		}
		e.ID, e.Source.Input, e.Source.Sensor = "x", "in", "s"
		line := nativetest.Line(e)
		if !json.Valid(line) {
			t.Fatalf("invalid JSON: %s", line)
		}
	})
}

// FuzzPayload aims at the packet decoder alone: the bytes are the
// NFULA_PAYLOAD of an otherwise fixed message, so mutations spend their time
// in the IPv4/IPv6/extension-header/transport walk. Seeds: the corpus
// payloads and the built packets of TestDecodePayloads (IPv6 extension
// headers, fragments, SCTP, GRE, ESP, AH).
func FuzzPayload(f *testing.F) {
	for _, dg := range readDatagrams(f) {
		for rest := dg; len(rest) > 0; {
			msg, typ, r, err := NextMessage(rest)
			if err != nil {
				break
			}
			rest = r
			var a Attrs
			if typ == MsgPacket && ParseMessage(msg, &a) == nil {
				f.Add(append([]byte(nil), a.Payload...), uint8(1))
			}
		}
	}
	for _, p := range builtPayloads(f) {
		f.Add(p, uint8(2))
	}
	d := NewDecoder(nil, nil)
	eth := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0, 0, 5, 0x86, 0xdd}
	f.Fuzz(func(t *testing.T, payload []byte, hook uint8) {
		a := Attrs{Group: 1, HasPacketHdr: true, Hook: hook, Payload: payload, Prefix: []byte("p\x00"), L2Hdr: eth}
		var r Record
		d.Decode(&a, time.Unix(0, 0), &r)
		e := &r.Event
		if e.HasPorts && !e.HasProto {
			t.Fatal("ports without a protocol")
		}
		if e.Packet != nil && !e.SrcIP.IsValid() {
			t.Fatal("packet fields without addresses")
		}
		e.ID = "x"
		if line := nativetest.Line(e); !json.Valid(line) {
			t.Fatalf("invalid JSON: %s", line)
		}
	})
}

// FuzzParseCapture feeds one LINKTYPE_NFLOG capture record (nflog header +
// TLVs, the form tcpdump -i nflog:N writes) in both TLV byte orders
// through ParseCapture and the decoder. Seeds: every message of the corpus
// capture without its nlmsghdr, as libpcap writes it.
func FuzzParseCapture(f *testing.F) {
	for _, dg := range readDatagrams(f) {
		for rest := dg; len(rest) > 0; {
			msg, _, r, err := NextMessage(rest)
			if err != nil {
				break
			}
			f.Add(msg[16:], false)
			rest = r
		}
	}
	d := NewDecoder(nil, nil)
	recv := time.Unix(1795384640, 0)
	f.Fuzz(func(t *testing.T, rec []byte, bigEndian bool) {
		var order binary.ByteOrder = binary.LittleEndian
		if bigEndian {
			order = binary.BigEndian
		}
		var a Attrs
		if err := ParseCapture(rec, order, &a); err != nil {
			if _, ok := err.(*normalize.Error); !ok {
				t.Fatalf("error is not a *normalize.Error: %T %v", err, err)
			}
			return
		}
		var r Record
		d.Decode(&a, recv, &r)
		e := &r.Event
		e.ID, e.Source.Input, e.Source.Sensor = "x", "in", "s"
		if line := nativetest.Line(e); !json.Valid(line) {
			t.Fatalf("invalid JSON: %s", line)
		}
	})
}
