// Package snort decodes the alert datagrams that Snort 2.9 and Snort 3 send
// with `alert_unixsock` (the Alertpkt struct, 65,864 bytes, or 65,928 from an
// OpenAppID build) and that Barnyard2 sends with its own `alert_unixsock`
// (1,856 bytes, a different layout), and maps them to normalize.Event.
//
// Layouts: shared/FORMATS.md §1–3. Every offset in a datagram is checked
// against the captured length before use, and the packet is decoded from its
// first byte rather than through Snort's offsets (Snort 2 leaves them at 0
// for IPv6, Snort 3 sends garbage when no packet is attached).
package snort

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Datagram sizes, from the C structs on x86_64 (FORMATS.md §1.2, §3.2).
const (
	SizeAlertpkt      = 65864 // Snort 2.9 and Snort 3
	SizeAlertpktAppID = 65928 // Snort 2.9 built with --enable-open-appid
	SizeBarnyard2     = 1856  // Barnyard2 on 64-bit hosts
	// SizeBarnyard2Trimmed is what a 1852-byte reader (Trisul's FFI struct)
	// would keep: the last 4 bytes are padding, so it is accepted too.
	SizeBarnyard2Trimmed = 1852

	msgLen        = 256
	pktLenSnort   = 65535
	pktLenBy2     = 1514 // PKT_SNAPLEN in Barnyard2
	offSnortPkth  = 256
	offSnortHdrs  = 272
	offSnortPkt   = 292
	offSnortEvent = 65828
	offSnortApp   = 65864
	appNameLen    = 64
	offBy2Pkth    = 256
	offBy2Hdrs    = 280
	offBy2Pkt     = 300
	offBy2Event   = 1816
)

// Flag bits of Alertpkt.val.
const (
	FlagNoPacket   = 0x1 // NOPACKET_STRUCT: no packet attached
	FlagNoTranshdr = 0x2 // NO_TRANSHDR: not TCP/UDP/ICMP
)

// Format selects how datagrams are read.
type Format uint8

// Datagram layouts (Decoder.Format).
const (
	FormatAuto      Format = iota // from the datagram size (and the message's quotes)
	FormatSnort2                  // Snort 2.9 Alertpkt, with or without app_name
	FormatSnort3                  // Snort 3 alert_unixsock: the message keeps the rule's quotes
	FormatBarnyard2               // Barnyard2 alert_unixsock
)

// ParseFormat reads a `format:` option.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "", "auto":
		return FormatAuto, nil
	case "snort2", "snort":
		return FormatSnort2, nil
	case "snort3":
		return FormatSnort3, nil
	case "barnyard2":
		return FormatBarnyard2, nil
	}
	return 0, fmt.Errorf("unknown format %q (want auto, snort2, snort3 or barnyard2)", s)
}

// Variant names the layout a datagram was read with.
type Variant string

// Layouts, as Variant reports them.
const (
	VariantSnort2      Variant = "snort2"
	VariantSnort2AppID Variant = "snort2_openappid"
	VariantSnort3      Variant = "snort3"
	VariantBarnyard2   Variant = "barnyard2"
)

// Alert is one datagram's fields, as sent. Byte slices alias the datagram.
type Alert struct {
	Variant Variant
	Msg     []byte // without NUL padding (and without Snort 3's quotes)

	TsSec, TsUsec uint32 // packet header time
	Caplen, Len   uint32
	DLTHdr        uint32 // offsets into Pkt as sent: check before use
	NetHdr        uint32
	TransHdr      uint32
	Data          uint32
	Val           uint32
	// Pkt is the captured packet: min(Caplen, room in the datagram) bytes.
	Pkt []byte
	// PktTruncated: Caplen is larger than what the datagram holds
	// (Barnyard2 keeps the original caplen but copies at most 1514 bytes).
	PktTruncated bool

	GID, SID, Rev     uint32
	Class, Priority   uint32
	EventID, EventRef uint32
	RefSec, RefUsec   uint32 // Snort: event time; Barnyard2: event_second/microsecond
	SensorID          uint32 // Barnyard2 only
	AppName           []byte // OpenAppID builds only
	HasPacket         bool   // a packet is attached (not NOPACKET, caplen > 0)
	BadOffsets        uint8  // bit set of offsets beyond caplen: 1 dlthdr, 2 nethdr, 4 transhdr, 8 data
}

// Parse reads a datagram. f == FormatAuto picks the layout from the size.
// The returned Alert aliases msg.
func Parse(msg []byte, f Format) (Alert, error) {
	var a Alert
	switch f {
	case FormatAuto:
		switch len(msg) {
		case SizeAlertpkt, SizeAlertpktAppID:
			return a, parseSnort(msg, &a, false)
		case SizeBarnyard2, SizeBarnyard2Trimmed:
			return a, parseBarnyard2(msg, &a)
		}
		return a, sizeError(msg, "65864, 65928 or 1856")
	case FormatSnort2, FormatSnort3:
		if len(msg) != SizeAlertpkt && len(msg) != SizeAlertpktAppID {
			return a, sizeError(msg, "65864 or 65928")
		}
		return a, parseSnort(msg, &a, f == FormatSnort3)
	case FormatBarnyard2:
		if len(msg) != SizeBarnyard2 && len(msg) != SizeBarnyard2Trimmed {
			return a, sizeError(msg, "1856")
		}
		return a, parseBarnyard2(msg, &a)
	}
	return a, fmt.Errorf("unknown format %d", f)
}

// SizeError is a datagram of a size no known layout has.
type SizeError struct {
	Size int
	Want string
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("datagram of %d bytes is no known alert_unixsock layout (want %s)", e.Size, e.Want)
}

func sizeError(msg []byte, want string) error { return &SizeError{Size: len(msg), Want: want} }

func parseSnort(msg []byte, a *Alert, snort3 bool) error {
	parseSnortParts(msg[:offSnortPkt], msg[offSnortPkt:offSnortPkt+pktLenSnort], msg[offSnortEvent:], len(msg) == SizeAlertpktAppID, a, snort3)
	return nil
}

// parseSnortParts reads an Alertpkt from its parts: head is everything
// before the packet (message, pcap header, offsets), room the packet area
// (at least the captured bytes), tail the event and, with appID, the
// OpenAppID name after it.
func parseSnortParts(head, room, tail []byte, appID bool, a *Alert, snort3 bool) {
	le := binary.LittleEndian // host order; every known Snort host is little-endian
	a.Variant = VariantSnort2
	if appID {
		a.Variant = VariantSnort2AppID
		a.AppName = cstring(tail[offSnortApp-offSnortEvent : offSnortApp-offSnortEvent+appNameLen])
	}
	a.Msg = cstring(head[:msgLen])
	// Snort 3 keeps the rule's quotes around msg; Snort 2 never does. In
	// auto mode a message both starting and ending with a quote is taken as
	// Snort 3's (a Snort 2 rule cannot produce one: its parser strips them).
	if m := a.Msg; len(m) >= 2 && m[0] == '"' && m[len(m)-1] == '"' && (snort3 || a.Variant == VariantSnort2) {
		a.Msg = m[1 : len(m)-1]
		a.Variant = VariantSnort3
	} else if snort3 {
		a.Variant = VariantSnort3
	}
	h := head[offSnortPkth:]
	a.TsSec, a.TsUsec, a.Caplen, a.Len = le.Uint32(h), le.Uint32(h[4:]), le.Uint32(h[8:]), le.Uint32(h[12:])
	o := head[offSnortHdrs:]
	a.DLTHdr, a.NetHdr, a.TransHdr, a.Data, a.Val = le.Uint32(o), le.Uint32(o[4:]), le.Uint32(o[8:]), le.Uint32(o[12:]), le.Uint32(o[16:])
	setPacket(a, room)
	e := tail
	a.GID, a.SID, a.Rev, a.Class, a.Priority = le.Uint32(e), le.Uint32(e[4:]), le.Uint32(e[8:]), le.Uint32(e[12:]), le.Uint32(e[16:])
	a.EventID, a.EventRef, a.RefSec, a.RefUsec = le.Uint32(e[20:]), le.Uint32(e[24:]), le.Uint32(e[28:]), le.Uint32(e[32:])
}

func parseBarnyard2(msg []byte, a *Alert) error {
	le, be := binary.LittleEndian, binary.BigEndian
	a.Variant = VariantBarnyard2
	a.Msg = cstring(msg[:msgLen])
	h := msg[offBy2Pkth:]
	// Native struct pcap_pkthdr: 64-bit tv_sec and tv_usec. Seconds past
	// 2106 do not fit the schema's uint32 packet time either; clamp.
	sec, usec := le.Uint64(h), le.Uint64(h[8:])
	a.TsSec, a.TsUsec = uint32(min(sec, 1<<32-1)), uint32(min(usec, 999999))
	a.Caplen, a.Len = le.Uint32(h[16:]), le.Uint32(h[20:])
	o := msg[offBy2Hdrs:]
	a.DLTHdr, a.NetHdr, a.TransHdr, a.Data, a.Val = le.Uint32(o), le.Uint32(o[4:]), le.Uint32(o[8:]), le.Uint32(o[12:]), le.Uint32(o[16:])
	setPacket(a, msg[offBy2Pkt:offBy2Pkt+pktLenBy2])
	// Unified2EventCommon, network order, sid before gid.
	e := msg[offBy2Event:]
	a.SensorID, a.EventID, a.RefSec, a.RefUsec = be.Uint32(e), be.Uint32(e[4:]), be.Uint32(e[8:]), be.Uint32(e[12:])
	a.SID, a.GID, a.Rev, a.Class, a.Priority = be.Uint32(e[16:]), be.Uint32(e[20:]), be.Uint32(e[24:]), be.Uint32(e[28:]), be.Uint32(e[32:])
	a.EventRef = a.EventID
	return nil
}

// setPacket clamps the packet to caplen and to the room in the datagram,
// and flags offsets that point past the captured bytes.
func setPacket(a *Alert, room []byte) {
	if a.Val&FlagNoPacket != 0 || a.Caplen == 0 {
		// Snort 3 PDU alerts: caplen 0, val 0 and a meaningless data offset.
		a.Pkt = nil
		return
	}
	n := int(min(uint64(a.Caplen), uint64(len(room))))
	a.Pkt = room[:n]
	a.PktTruncated = uint64(a.Caplen) > uint64(len(room))
	a.HasPacket = true
	for i, off := range [...]uint32{a.DLTHdr, a.NetHdr, a.TransHdr, a.Data} {
		if uint64(off) > uint64(a.Caplen) {
			a.BadOffsets |= 1 << i
		}
	}
}

// cstring returns b up to its first NUL.
func cstring(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}
