package unified2

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"time"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/internal/jsonstr"
	"github.com/alertgw/alertgw/normalize/packet"
	"github.com/alertgw/alertgw/normalize/sigmap"
)

// Blocked byte values (Snort 2.9 U2_BLOCKED_FLAG_*).
const (
	BlockedAllow = 0
	BlockedYes   = 1
	BlockedWould = 2
	BlockedCant  = 3
	// ImpactFlagBlocked is U2_FLAG_BLOCKED; Suricata writes its
	// packet_action here and never sets the blocked byte.
	ImpactFlagBlocked = 0x20
)

// Type 114 snort_status and snort_action values (order from
// snort3 src/log/unified2.h).
const (
	Status3Allow = 0
	Status3Cant  = 1
	Status3Would = 2
	Status3Force = 3
	Action3Pass  = 0
	Action3Drop  = 1
	Action3Block = 2
	Action3Reset = 3
)

// ActionOf decides allowed/blocked for an event record; see
// inputs/unified2/README.md ("Action mapping").
//
//   - legacy and v2 records (7, 72, 104, 105, 111, 112): blocked when
//     blocked == 1 or impact_flag has 0x20 (Suricata's packet_action);
//     blocked 0 (allow), 2 (would have blocked: IDS / test mode) and 3
//     (could not block) mean the packet went through: allowed.
//   - type 114 (Snort 3): blocked when snort_action is drop, block or reset
//     and snort_status is allow or force (the action was applied); status
//     would/can't, or action pass, mean allowed.
func ActionOf(e *Event) normalize.Action {
	if e.Type == TypeEvent3 {
		if e.Action != Action3Pass && e.Action <= Action3Reset && (e.Status == Status3Allow || e.Status == Status3Force) {
			return normalize.ActionBlocked
		}
		if e.Action > Action3Reset || e.Status > Status3Force {
			return normalize.ActionUnknown
		}
		return normalize.ActionAllowed
	}
	if e.Blocked == BlockedYes || e.ImpactFlag&ImpactFlagBlocked != 0 {
		return normalize.ActionBlocked
	}
	if e.Blocked > BlockedCant {
		return normalize.ActionUnknown
	}
	return normalize.ActionAllowed
}

// Mapper turns aggregated alerts into events. Safe for concurrent use.
type Mapper struct {
	Sigs *sigmap.Map // signature names, categories; nil resolves nothing
	// NoPacketBytes leaves the base64 packet out of Details.
	NoPacketBytes bool
}

// maxVLAN is the largest 802.1Q VLAN id (12 bits).
const maxVLAN = 4095

// Map fills ev from a.
func (m *Mapper) Map(a *Alert, ev *normalize.Event) {
	ev.Source.Type = "unified2"
	det := detailBuilder{buf: make([]byte, 0, 256), fields: make(normalize.Details, 0, 16)}
	if !a.HasEvent() {
		m.mapStandalone(a, ev, &det)
		ev.Details = det.fields
		return
	}
	e := &a.Event
	ev.Kind = normalize.KindAlert
	ev.Timestamp = time.Unix(int64(e.Second), int64(min(e.Microsecond, 999999))*1000).UTC()
	ev.Action = ActionOf(e)

	// The packet first: it gives MACs, VLANs, TTL, flags. The event record
	// then sets the 5-tuple, which it states explicitly (and which XFF
	// "overwrite" mode may have replaced on purpose).
	if len(a.Packets) > 0 {
		p := &a.Packets[0]
		pd := packet.Pool.Get().(*packet.Decoder)
		pd.Decode(packet.LinkType(p.LinkType), p.Data, ev)
		packet.Pool.Put(pd)
	}
	icmpFromPacket := ev.HasICMP
	ev.HasPorts, ev.SrcPort, ev.DestPort = false, 0, 0
	ev.SrcIP, ev.DestIP = e.Src, e.Dst
	if e.Src.IsValid() || e.Proto != 0 {
		ev.SetProto(e.Proto)
	}
	switch e.Proto {
	case 1, 58:
		if !icmpFromPacket {
			ev.ICMPType, ev.ICMPCode, ev.HasICMP = uint8(e.SPortIType), uint8(e.DPortICode), true
		}
	case 6, 17, 132, 33, 136:
		ev.SetAddrs(e.Src, e.Dst, e.SPortIType, e.DPortICode, true)
	default:
		ev.HasICMP = false
	}
	if e.VLAN != 0 && e.VLAN <= maxVLAN && len(ev.VLAN) == 0 {
		ev.VLAN = append(ev.VLAN, e.VLAN)
	}
	if len(e.AppName) > 0 {
		ev.AppProto = string(e.AppName)
	}

	sig := &normalize.Signature{GID: e.GID, ID: e.SID, Rev: e.Rev, Priority: e.Priority}
	m.Sigs.Tables().Fill(sig, e.Class)
	ev.Signature = sig

	det.uint("record_type", uint64(e.Type))
	det.uint("sensor_id", uint64(e.SensorID))
	det.uint("event_id", uint64(e.EventID))
	det.uint("classification_id", uint64(e.Class))
	if e.Type == TypeEvent3 {
		det.uint("snort_status", uint64(e.Status))
		det.uint("snort_action", uint64(e.Action))
		det.uint("policy_id_context", uint64(e.PolicyContext))
		det.uint("policy_id_inspect", uint64(e.PolicyInspect))
		det.uint("policy_id_detect", uint64(e.PolicyDetect))
		if e.HTTPMethod != nil || e.HTTPRequestSize != 0 || e.HTTPResponseSize != 0 {
			det.str("http_method", e.HTTPMethod)
			det.str("http_version", e.HTTPVersion)
			det.str("http_user_agent", e.HTTPUserAgent)
			det.str("http_referer", e.HTTPReferer)
			det.uint("http_request_size", uint64(e.HTTPRequestSize))
			det.uint("http_response_size", uint64(e.HTTPResponseSize))
		}
		if len(e.MessageDetail) > 0 {
			det.str("message_detail", e.MessageDetail)
		}
	} else {
		det.uint("impact_flag", uint64(e.ImpactFlag))
		det.uint("impact", uint64(e.Impact))
		det.uint("blocked", uint64(e.Blocked))
		if e.HasV2 {
			det.uint("policy_id", uint64(e.PolicyID))
		}
	}
	if e.MPLSLabel != 0 {
		det.uint("mpls_label", uint64(e.MPLSLabel))
	}
	if e.VLAN > maxVLAN {
		// Snort writes the 12-bit id (VTH_VLAN); more is not a VLAN id the
		// schema can carry: kept as the record says.
		det.uint("vlan_id", uint64(e.VLAN))
	}
	m.packets(a, &det)
	det.extra("extra_data", a.Extra)
	det.extra("tagged_extra_data", a.TaggedExtra)
	if a.Skipped > 0 {
		det.uint("skipped_records", uint64(a.Skipped))
	}
	ev.Details = det.fields
}

func (m *Mapper) packets(a *Alert, det *detailBuilder) {
	if len(a.Packets) == 0 && len(a.Tagged) == 0 {
		return
	}
	if len(a.Packets) > 0 {
		p := &a.Packets[0]
		det.uint("linktype", uint64(p.LinkType))
		if !m.NoPacketBytes {
			det.b64("packet", p.Data)
		}
		det.uint("packets", uint64(len(a.Packets)))
	}
	if len(a.Tagged) > 0 {
		det.uint("tagged_packets", uint64(len(a.Tagged)))
	}
}

// mapStandalone maps packets or extra data that arrived with no event open:
// Snort's tagged packets, or records of an event already flushed on idle.
func (m *Mapper) mapStandalone(a *Alert, ev *normalize.Event, det *detailBuilder) {
	ev.Kind = normalize.KindEvent
	ev.Action = normalize.ActionUnknown
	var sensor, id, sec uint32
	if len(a.Packets) > 0 {
		p := &a.Packets[0]
		sensor, id, sec = p.SensorID, p.EventID, p.EventSecond
		ev.Timestamp = time.Unix(int64(p.Second), int64(min(p.Microsecond, 999999))*1000).UTC()
		pd := packet.Pool.Get().(*packet.Decoder)
		pd.Decode(packet.LinkType(p.LinkType), p.Data, ev)
		packet.Pool.Put(pd)
		det.str("unified2", []byte("tagged_packet"))
	} else if len(a.Extra) > 0 {
		x := &a.Extra[0]
		sensor, id, sec = x.SensorID, x.EventID, x.EventSecond
		ev.Timestamp = time.Unix(int64(sec), 0).UTC()
		det.str("unified2", []byte("extra_data"))
	}
	det.uint("sensor_id", uint64(sensor))
	det.uint("event_id", uint64(id))
	det.uint("event_second", uint64(sec))
	m.packets(a, det)
	det.extra("extra_data", a.Extra)
}

// ExtraDataName names an EventInfo type (Snort 2.9 Unified2_common.h);
// types without a stable name across Snort builds are "info_<n>".
func ExtraDataName(t uint32) string {
	switch t {
	case 1:
		return "xff_ipv4"
	case 2:
		return "xff_ipv6"
	case 3:
		return "reviewed_by"
	case 4:
		return "gzip_data"
	case 5:
		return "smtp_filename"
	case 6:
		return "smtp_mailfrom"
	case 7:
		return "smtp_rcptto"
	case 8:
		return "smtp_email_hdrs"
	case 9:
		return "http_uri"
	case 10:
		return "http_hostname"
	case 11:
		return "ipv6_src"
	case 12:
		return "ipv6_dst"
	case 13:
		return "jsnorm_data"
	}
	return "info_" + strconv.FormatUint(uint64(t), 10)
}

// detailBuilder appends Details values into one buffer.
type detailBuilder struct {
	buf    []byte
	fields normalize.Details
}

func (d *detailBuilder) add(k string, start int) {
	d.fields = append(d.fields, normalize.Field{Key: k, Value: d.buf[start:len(d.buf):len(d.buf)]})
}

func (d *detailBuilder) uint(k string, v uint64) {
	s := len(d.buf)
	d.buf = strconv.AppendUint(d.buf, v, 10)
	d.add(k, s)
}

func (d *detailBuilder) str(k string, v []byte) {
	s := len(d.buf)
	d.buf = jsonstr.Append(d.buf, v)
	d.add(k, s)
}

func (d *detailBuilder) b64(k string, v []byte) {
	s := len(d.buf)
	d.buf = append(d.buf, '"')
	d.buf = base64.StdEncoding.AppendEncode(d.buf, v)
	d.buf = append(d.buf, '"')
	d.add(k, s)
}

// extra writes extra data as an object keyed by EventInfo name. Addresses
// (XFF, IPv6 src/dst) are printed as addresses, binary blobs (gzip) as
// base64, the rest as text. A repeated type keeps its first value; later
// ones go under "<name>_<i>".
func (d *detailBuilder) extra(k string, xs []ExtraData) {
	if len(xs) == 0 {
		return
	}
	s := len(d.buf)
	d.buf = append(d.buf, '{')
	for i := range xs {
		x := &xs[i]
		if i > 0 {
			d.buf = append(d.buf, ',')
		}
		name := ExtraDataName(x.InfoType)
		for j := range i {
			if xs[j].InfoType == x.InfoType {
				name += "_" + strconv.Itoa(i)
				break
			}
		}
		d.buf = jsonstr.AppendString(d.buf, name)
		d.buf = append(d.buf, ':')
		switch x.InfoType {
		case 1, 2, 11, 12:
			if a, ok := netip.AddrFromSlice(x.Data); ok {
				d.buf = append(d.buf, '"')
				d.buf = a.AppendTo(d.buf)
				d.buf = append(d.buf, '"')
				continue
			}
			d.buf = jsonstr.Append(d.buf, x.Data) // Snort 3 may write text
		case 4:
			d.buf = append(d.buf, '"')
			d.buf = base64.StdEncoding.AppendEncode(d.buf, x.Data)
			d.buf = append(d.buf, '"')
		default:
			d.buf = jsonstr.Append(d.buf, x.Data)
		}
	}
	d.buf = append(d.buf, '}')
	d.add(k, s)
}
