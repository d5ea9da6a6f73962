package snort

import (
	"encoding/binary"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/internal/jsonstr"
	"github.com/alertgw/alertgw/normalize/packet"
	"github.com/alertgw/alertgw/normalize/sigmap"
)

// Decoder maps datagrams to events. It is safe for concurrent use: the
// packet decoders it needs come from a pool.
type Decoder struct {
	Format Format
	// Link is the datalink type of the attached packets; 0 infers it from
	// the offsets and the first bytes (Snort does not send it).
	Link packet.LinkType
	// Sigs resolves classification names (and, for Barnyard2 datagrams
	// whose map had no entry, messages). Nil resolves nothing.
	Sigs *sigmap.Map
	// Compact, when not nil, is the compactor messages went through
	// (Compact.Append): they are decoded in either form.
	Compact *Compact
}

// Decode implements inputs.Decoder.
func (d *Decoder) Decode(msg []byte, ev *normalize.Event) error {
	if d.Compact != nil {
		var a Alert
		if d.Compact.parse(msg, &a) {
			d.Map(&a, ev)
			return nil
		}
	}
	a, err := Parse(msg, d.Format)
	if err != nil {
		var se *SizeError
		if errors.As(err, &se) && se.Size < SizeBarnyard2 {
			return &normalize.Error{Reason: normalize.ReasonTruncated, Err: err}
		}
		return &normalize.Error{Reason: normalize.ReasonUnsupported, Err: err}
	}
	d.Map(&a, ev)
	return nil
}

// Map fills ev from a parsed datagram.
func (d *Decoder) Map(a *Alert, ev *normalize.Event) {
	ev.Kind = normalize.KindAlert
	// Alertpkt carries no verdict (FORMATS.md §1.5, §8): never guess.
	ev.Action = normalize.ActionUnknown
	ev.Source.Type = "snort"
	if a.Variant == VariantBarnyard2 {
		ev.Source.Type = "barnyard2"
	}
	switch {
	case a.TsSec != 0:
		ev.Timestamp = time.Unix(int64(a.TsSec), int64(min(a.TsUsec, 999999))*1000).UTC()
	case a.RefSec != 0:
		ev.Timestamp = time.Unix(int64(a.RefSec), int64(min(a.RefUsec, 999999))*1000).UTC()
	}
	sig := &normalize.Signature{GID: a.GID, ID: a.SID, Rev: a.Rev, Priority: a.Priority, Name: text(a.Msg)}
	d.Sigs.Tables().Fill(sig, a.Class)
	ev.Signature = sig

	if a.HasPacket {
		pd := packet.Pool.Get().(*packet.Decoder)
		res := pd.Decode(d.linkType(a), a.Pkt, ev)
		packet.Pool.Put(pd)
		if !res.Decoded && ev.Packet == nil {
			ev.Packet = &normalize.Packet{}
		}
		if ev.Packet != nil && ev.Packet.Len == 0 {
			ev.Packet.Len = a.Len
		}
	}

	// What has no common field: one buffer holds every value.
	buf := make([]byte, 0, 96+len(a.AppName))
	det := make(normalize.Details, 0, 8)
	add := func(k string, start int) {
		det = append(det, normalize.Field{Key: k, Value: buf[start:len(buf):len(buf)]})
	}
	s := len(buf)
	buf = jsonstr.AppendString(buf, string(a.Variant))
	add("variant", s)
	s = len(buf)
	buf = strconv.AppendUint(buf, uint64(a.EventID), 10)
	add("event_id", s)
	if a.EventRef != a.EventID {
		s = len(buf)
		buf = strconv.AppendUint(buf, uint64(a.EventRef), 10)
		add("event_reference", s)
	}
	s = len(buf)
	buf = strconv.AppendUint(buf, uint64(a.Class), 10)
	add("classification_id", s)
	if a.Variant == VariantBarnyard2 {
		s = len(buf)
		buf = strconv.AppendUint(buf, uint64(a.SensorID), 10)
		add("sensor_id", s)
	}
	if len(a.AppName) > 0 {
		s = len(buf)
		buf = jsonstr.Append(buf, a.AppName)
		add("app_name", s)
	}
	if a.HasPacket {
		s = len(buf)
		buf = strconv.AppendUint(buf, uint64(a.Caplen), 10)
		add("caplen", s)
	} else {
		// No packet, so no addresses, ports or protocol: Snort 3 sends
		// alerts on rebuilt streams and inspection buffers (pkt_gen
		// stream_tcp, stream_ip, pdu) with caplen 0, Snort 2 sets
		// NOPACKET_STRUCT. Say so rather than leave the reader guessing
		// why the tuple is missing (and never guess it).
		s = len(buf)
		buf = append(buf, "true"...)
		add("no_packet", s)
	}
	if a.PktTruncated {
		s = len(buf)
		buf = append(buf, "true"...)
		add("packet_truncated", s)
	}
	if a.BadOffsets != 0 {
		s = len(buf)
		buf = strconv.AppendUint(buf, uint64(a.BadOffsets), 10)
		add("bad_offsets", s)
	}
	ev.Details = append(ev.Details, det...)
}

// linkType decides the packet's datalink. Snort sets dlthdr only with an
// Ethernet header and nethdr only for IPv4 (Snort 3: IPv6 too), so an IP
// header 14 or 18 bytes in means Ethernet; otherwise a packet that parses
// as a whole IP datagram from byte 0 is raw IP, and anything else Ethernet,
// by far the most common DLT.
func (d *Decoder) linkType(a *Alert) packet.LinkType {
	if d.Link != 0 {
		return d.Link
	}
	if a.BadOffsets&2 == 0 && a.NetHdr >= 14 {
		return packet.LinkEthernet
	}
	if looksLikeIP(a.Pkt, a.Len) {
		return packet.LinkRaw
	}
	return packet.LinkEthernet
}

func looksLikeIP(p []byte, wireLen uint32) bool {
	if len(p) < 20 {
		return false
	}
	switch p[0] >> 4 {
	case 4:
		return p[0]&0xf >= 5 && uint32(binary.BigEndian.Uint16(p[2:])) == wireLen
	case 6:
		return len(p) >= 40 && uint32(binary.BigEndian.Uint16(p[4:]))+40 == wireLen
	}
	return false
}

// text returns b as a string, with invalid UTF-8 replaced so the event
// always encodes.
func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string([]rune(string(b)))
}
