package unified2

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

var be = binary.BigEndian

// Event is any IDS event record (7, 72, 104, 105, 111, 112, 114), with
// fields of the kinds that lack them left zero. Slices alias the body.
type Event struct {
	Type                uint32
	SensorID, EventID   uint32
	Second, Microsecond uint32
	SID, GID, Rev       uint32
	Class, Priority     uint32
	Src, Dst            netip.Addr
	SPortIType          uint16 // ICMP type for ICMP/ICMPv6
	DPortICode          uint16
	Proto               uint8
	ImpactFlag, Impact  uint8 // legacy and v2 (Suricata: packet_action in ImpactFlag)
	Blocked             uint8 // legacy and v2: 0 allow, 1 blocked, 2 would, 3 can't
	MPLSLabel           uint32
	VLAN                uint16
	PolicyID            uint16 // Snort 2.9 stores the policy id in pad2
	HasV2               bool   // mpls/vlan/policy present (104, 105, 111, 112)
	AppName             []byte // NUL trimmed
	// Type 114 only.
	PolicyContext, PolicyInspect, PolicyDetect uint32
	IPVer                                      uint8
	Status, Action                             uint8
	HTTPRequestSize, HTTPResponseSize          uint32
	HTTPMethod, HTTPVersion                    []byte
	HTTPUserAgent, HTTPReferer, MessageDetail  []byte
}

// Packet is a packet (2) or buffer (3) record.
type Packet struct {
	Type                uint32
	SensorID, EventID   uint32
	EventSecond         uint32
	Second, Microsecond uint32
	LinkType            uint32
	Length              uint32 // as claimed; Data holds what is there
	Data                []byte
}

// ExtraData is a type 110 record.
type ExtraData struct {
	EventType, EventLength uint32
	SensorID, EventID      uint32
	EventSecond            uint32
	InfoType               uint32 // EventInfo: 1 XFF_IPV4 … 13 JSNORM_DATA …
	DataType               uint32 // 1 = blob
	Data                   []byte
}

// BodyError is a body too short for its type.
type BodyError struct {
	Type      uint32
	Len, Want int
}

func (e *BodyError) Error() string {
	return fmt.Sprintf("unified2 type %d body of %d bytes, want at least %d", e.Type, e.Len, e.Want)
}

// IsEvent reports whether typ is an IDS event record.
func IsEvent(typ uint32) bool {
	switch typ {
	case TypeIDSEvent, TypeIDSEventIPv6, TypeIDSEventVLAN, TypeIDSEventIPv6VLN, TypeIDSEventAppID, TypeIDSEventAppIDv6, TypeEvent3:
		return true
	}
	return false
}

// DecodeEvent decodes an event record body into ev.
func DecodeEvent(typ uint32, b []byte, ev *Event) error {
	if typ == TypeEvent3 {
		return decodeEvent3(b, ev)
	}
	v6 := typ == TypeIDSEventIPv6 || typ == TypeIDSEventIPv6VLN || typ == TypeIDSEventAppIDv6
	want := 52
	if v6 {
		want = 76
	}
	if len(b) < want {
		return &BodyError{Type: typ, Len: len(b), Want: want}
	}
	*ev = Event{Type: typ}
	ev.SensorID, ev.EventID, ev.Second, ev.Microsecond = be.Uint32(b), be.Uint32(b[4:]), be.Uint32(b[8:]), be.Uint32(b[12:])
	// sid before gid in every legacy/v2 record.
	ev.SID, ev.GID, ev.Rev, ev.Class, ev.Priority = be.Uint32(b[16:]), be.Uint32(b[20:]), be.Uint32(b[24:]), be.Uint32(b[28:]), be.Uint32(b[32:])
	o := 44
	if v6 {
		ev.Src = netip.AddrFrom16([16]byte(b[36:52]))
		ev.Dst = netip.AddrFrom16([16]byte(b[52:68]))
		o = 68
	} else {
		ev.Src = netip.AddrFrom4([4]byte(b[36:40]))
		ev.Dst = netip.AddrFrom4([4]byte(b[40:44]))
	}
	ev.SPortIType, ev.DPortICode = be.Uint16(b[o:]), be.Uint16(b[o+2:])
	ev.Proto, ev.ImpactFlag, ev.Impact, ev.Blocked = b[o+4], b[o+5], b[o+6], b[o+7]
	o += 8
	switch typ {
	case TypeIDSEventVLAN, TypeIDSEventIPv6VLN, TypeIDSEventAppID, TypeIDSEventAppIDv6:
		if len(b) < o+8 {
			return &BodyError{Type: typ, Len: len(b), Want: o + 8}
		}
		ev.HasV2 = true
		ev.MPLSLabel, ev.VLAN, ev.PolicyID = be.Uint32(b[o:]), be.Uint16(b[o+4:]), be.Uint16(b[o+6:])
		o += 8
		// app_name: 64 bytes (111, Snort 3 legacy 104/105) or 16 (Snort
		// 2.9's IPv6 app-id events written as 105): whatever follows.
		if len(b) > o {
			ev.AppName = cstring(b[o:min(len(b), o+64)])
		}
	}
	return nil
}

const event3Len = 1032

func decodeEvent3(b []byte, ev *Event) error {
	if len(b) < event3Len {
		return &BodyError{Type: TypeEvent3, Len: len(b), Want: event3Len}
	}
	*ev = Event{Type: TypeEvent3, HasV2: true}
	ev.SensorID, ev.EventID, ev.Second, ev.Microsecond = be.Uint32(b), be.Uint32(b[4:]), be.Uint32(b[8:]), be.Uint32(b[12:])
	// gid before sid in type 114.
	ev.GID, ev.SID, ev.Rev, ev.Class, ev.Priority = be.Uint32(b[16:]), be.Uint32(b[20:]), be.Uint32(b[24:]), be.Uint32(b[28:]), be.Uint32(b[32:])
	ev.PolicyContext, ev.PolicyInspect, ev.PolicyDetect = be.Uint32(b[36:]), be.Uint32(b[40:]), be.Uint32(b[44:])
	ev.IPVer = b[92]
	ev.Src = addr114(b[48:64], ev.IPVer>>4)
	ev.Dst = addr114(b[64:80], ev.IPVer&0xf)
	ev.MPLSLabel = be.Uint32(b[80:])
	ev.SPortIType, ev.DPortICode, ev.VLAN = be.Uint16(b[84:]), be.Uint16(b[86:]), be.Uint16(b[88:])
	ev.Proto, ev.Status, ev.Action = b[93], b[94], b[95]
	ev.AppName = cstring(b[96:160])
	ev.HTTPRequestSize, ev.HTTPResponseSize = be.Uint32(b[160:]), be.Uint32(b[164:])
	ev.HTTPMethod = cstring(b[168:248])
	ev.HTTPVersion = cstring(b[248:264])
	ev.HTTPUserAgent = cstring(b[264:520])
	ev.HTTPReferer = cstring(b[520:776])
	ev.MessageDetail = cstring(b[776:1032])
	return nil
}

// addr114 reads a 16-byte address whose version nibble says 4 (stored
// IPv4-mapped), 6, or 0 (none).
func addr114(b []byte, ver uint8) netip.Addr {
	a := netip.AddrFrom16([16]byte(b))
	switch ver {
	case 4:
		return a.Unmap()
	case 6:
		return a
	}
	return netip.Addr{}
}

// DecodePacket decodes a packet (2) or buffer (3) body.
func DecodePacket(typ uint32, b []byte, p *Packet) error {
	if len(b) < 28 {
		return &BodyError{Type: typ, Len: len(b), Want: 28}
	}
	*p = Packet{Type: typ}
	p.SensorID, p.EventID, p.EventSecond = be.Uint32(b), be.Uint32(b[4:]), be.Uint32(b[8:])
	p.Second, p.Microsecond, p.LinkType, p.Length = be.Uint32(b[12:]), be.Uint32(b[16:]), be.Uint32(b[20:]), be.Uint32(b[24:])
	// Never trust packet_length: keep what the record holds.
	n := min(uint64(p.Length), uint64(len(b)-28))
	p.Data = b[28 : 28+n]
	return nil
}

// DecodeExtraData decodes a type 110 body.
func DecodeExtraData(b []byte, x *ExtraData) error {
	if len(b) < 32 {
		return &BodyError{Type: TypeExtraData, Len: len(b), Want: 32}
	}
	*x = ExtraData{}
	x.EventType, x.EventLength = be.Uint32(b), be.Uint32(b[4:])
	x.SensorID, x.EventID, x.EventSecond = be.Uint32(b[8:]), be.Uint32(b[12:]), be.Uint32(b[16:])
	x.InfoType, x.DataType = be.Uint32(b[20:]), be.Uint32(b[24:])
	blobLen := be.Uint32(b[28:]) // counts data_type and blob_length: data = blob_length - 8
	n := uint64(0)
	if blobLen > 8 {
		n = min(uint64(blobLen-8), uint64(len(b)-32))
	}
	x.Data = b[32 : 32+n]
	return nil
}

func cstring(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}
