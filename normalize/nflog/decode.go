package nflog

import (
	"bytes"
	"errors"
	"net/netip"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/packet"
)

// IfaceResolver turns an interface index into its name. The input keeps a
// cache refreshed when links change; tests pass a fixed map.
type IfaceResolver interface {
	IfaceName(index uint32) string
}

// IfaceMap is a fixed IfaceResolver.
type IfaceMap map[uint32]string

// IfaceName returns the name of index, or "".
func (m IfaceMap) IfaceName(index uint32) string { return m[index] }

// Record is the storage for one event: the Event and everything it points
// to, allocated together (inputs allocate Records in slabs). Its Details
// values point into arena, so a Record must not be reused while its event
// lives.
type Record struct {
	Event    normalize.Event
	Packet   normalize.Packet
	Firewall normalize.Firewall
	uid, gid uint32
	vlan     [1]uint16
	details  [22]normalize.Field // more than any packet needs; append moves on if not
	arena    [192]byte
	used     int // bytes of arena taken by Details values
}

// Decoder decodes NFLOG messages into events. It reuses one gopacket
// DecodingLayerParser and small caches, so it is not safe for concurrent
// use: give each reading goroutine its own.
type Decoder struct {
	Labeler  *Labeler      // nil: every action is unknown
	Resolver IfaceResolver // nil: interfaces are reported by index only

	parse4, parse6 *gopacket.DecodingLayerParser
	decoded        []gopacket.LayerType

	ip4   layers.IPv4
	ip6   packet.IPv6 // keeps the addresses when a hop-by-hop header is malformed
	ext   ip6Ext
	frag  ip6Frag
	ah    ipAH
	esp   ipESP
	tcp   layers.TCP
	udp   layers.UDP
	sctp  layers.SCTP
	icmp4 layers.ICMPv4
	icmp6 layers.ICMPv6
	echo6 layers.ICMPv6Echo
	gre   greOuter

	// per-packet state set by the extension-header layers
	l4proto    uint8 // next header of the last extension header walked
	extSeen    bool
	fragment   bool
	fragOffset uint16
	moreFrags  bool
	fragID     uint32
	ahSeen     bool

	prefixes   [16]prefixEntry
	prefixNext int
	macs       [8]macEntry
	macNext    int
}

type prefixEntry struct {
	valid  bool
	group  uint16
	prefix string
	action normalize.Action
}

type macEntry struct {
	raw [6]byte
	str string
}

// NewDecoder returns a decoder labelling with l (may be nil) and naming
// interfaces with r (may be nil).
func NewDecoder(l *Labeler, r IfaceResolver) *Decoder {
	d := &Decoder{Labeler: l, Resolver: r}
	d.ext.d, d.frag.d, d.ah.d = d, d, d
	ls := []gopacket.DecodingLayer{&d.ip4, &d.ip6, &d.ext, &d.frag, &d.ah, &d.esp, &d.tcp, &d.udp,
		&d.sctp, &d.icmp4, &d.icmp6, &d.echo6, &d.gre}
	d.parse4 = gopacket.NewDecodingLayerParser(layers.LayerTypeIPv4, ls...)
	d.parse6 = gopacket.NewDecodingLayerParser(layers.LayerTypeIPv6, ls...)
	for _, p := range []*gopacket.DecodingLayerParser{d.parse4, d.parse6} {
		p.IgnoreUnsupported = true // application layers and unknown protocols end the walk quietly
	}
	d.decoded = make([]gopacket.LayerType, 0, 8)
	return d
}

// errMalformedIPv6 reports an IPv6 packet whose fixed header alone could be
// decoded (see packet.IPv6).
var errMalformedIPv6 = errors.New("IPv6 extension headers malformed")

// Pre-encoded JSON values for Details.
var (
	hookNames = [...]normalize.RawJSON{
		normalize.RawJSON(`"prerouting"`), normalize.RawJSON(`"input"`), normalize.RawJSON(`"forward"`),
		normalize.RawJSON(`"output"`), normalize.RawJSON(`"postrouting"`),
	}
	jsonInet     = normalize.RawJSON(`"inet"`)
	jsonInet6    = normalize.RawJSON(`"inet6"`)
	jsonBridge   = normalize.RawJSON(`"bridge"`)
	jsonTrue     = normalize.RawJSON(`true`)
	jsonTrunc    = normalize.RawJSON(`"truncated"`)
	jsonMalform  = normalize.RawJSON(`"malformed"`)
	jsonNotIP    = normalize.RawJSON(`"not_ip"`)
	jsonDF       = normalize.RawJSON(`"DF"`)
	jsonMF       = normalize.RawJSON(`"MF"`)
	jsonDFMF     = normalize.RawJSON(`"DF,MF"`)
	sourceNFLOG  = "nflog"
	maxHexHeader = 64 // bytes of a link-layer header written out in hex
)

// details appends Details into the Record's own storage.
type details struct{ r *Record }

func (d details) add(key string, v normalize.RawJSON) {
	d.r.Event.Details = append(d.r.Event.Details, normalize.Field{Key: key, Value: v})
}

func (d details) num(key string, n uint64) {
	d.commit(key, strconv.AppendUint(d.tail(), n, 10))
}

// str writes s as a JSON string. Only ASCII names reach it (interface
// names); other bytes are escaped so the value is always valid JSON.
func (d details) str(key, s string) {
	v := append(d.tail(), '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			v = append(v, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			continue
		}
		v = append(v, c)
	}
	d.commit(key, append(v, '"'))
}

// hexColon writes b as "aa:bb:…", as ulogd's mac.str does.
func (d details) hexColon(key string, b []byte) {
	if len(b) > maxHexHeader {
		b = b[:maxHexHeader]
	}
	v := append(d.tail(), '"')
	for i, c := range b {
		if i > 0 {
			v = append(v, ':')
		}
		v = append(v, hexDigits[c>>4], hexDigits[c&15])
	}
	d.commit(key, append(v, '"'))
}

const hexDigits = "0123456789abcdef"

// tail returns the unused part of the arena as an empty slice for the next
// value to be appended to.
func (d details) tail() []byte { return d.r.arena[d.r.used:d.r.used] }

// commit adds the value and, when it was written inside the arena (it fit
// in the remaining capacity, so append did not move it), marks that space
// used. A value that did not fit was moved to the heap by append, which
// stays correct.
func (d details) commit(key string, v []byte) {
	d.add(key, v)
	if len(v) <= len(d.r.arena)-d.r.used {
		d.r.used += len(v)
	}
}

// Decode fills r with the event for one NFLOG message. received is the
// gateway's receive time, used as the event time when the kernel sent no
// timestamp (OUTPUT and POSTROUTING hooks). Decode never fails: a payload
// that cannot be parsed still gives an event with the firewall fields, and
// Details.payload_error says why.
func (d *Decoder) Decode(a *Attrs, received time.Time, r *Record) {
	*r = Record{}
	e := &r.Event
	e.Details = r.details[:0]
	det := details{r}
	e.Kind = normalize.KindPacket
	e.Source.Type = sourceNFLOG
	e.Received = received.UTC()
	e.Timestamp = e.Received
	if !a.Timestamp.IsZero() {
		e.Timestamp = a.Timestamp.UTC()
	}

	fw := &r.Firewall
	e.Firewall = fw
	fw.Group = a.Group
	fw.Mark = a.Mark
	prefix := bytes.TrimRight(a.Prefix, "\x00")
	fw.Prefix, e.Action = d.prefixAction(a.Group, prefix)
	if a.HasUID {
		r.uid = a.UID
		fw.UID = &r.uid
	}
	if a.HasGID {
		r.gid = a.GID
		fw.GID = &r.gid
	}
	if a.InDev != 0 {
		fw.InIface = d.ifaceName(a.InDev)
		e.InIface = fw.InIface
	}
	if a.OutDev != 0 {
		fw.OutIface = d.ifaceName(a.OutDev)
	}

	switch FamilyOf(a) {
	case FamilyInet:
		det.add("family", jsonInet)
	case FamilyInet6:
		det.add("family", jsonInet6)
	case FamilyBridge:
		det.add("family", jsonBridge)
	}
	if a.HasPacketHdr {
		if int(a.Hook) < len(hookNames) {
			det.add("hook", hookNames[a.Hook])
		} else {
			det.num("hook", uint64(a.Hook))
		}
		det.num("ethertype", uint64(a.HwProtocol))
	}
	if a.InDev != 0 {
		det.num("in_ifindex", uint64(a.InDev))
	}
	if a.OutDev != 0 {
		det.num("out_ifindex", uint64(a.OutDev))
	}
	if a.PhysInDev != 0 {
		det.num("phys_in_ifindex", uint64(a.PhysInDev))
		if n := d.ifaceName(a.PhysInDev); n != "" {
			det.str("phys_in_iface", n)
		}
	}
	if a.PhysOutDev != 0 {
		det.num("phys_out_ifindex", uint64(a.PhysOutDev))
		if n := d.ifaceName(a.PhysOutDev); n != "" {
			det.str("phys_out_iface", n)
		}
	}
	if a.HasSeq {
		det.num("seq", uint64(a.Seq))
	}
	if a.HasSeqGl {
		det.num("seq_global", uint64(a.SeqGlobal))
	}
	if a.HasCtInfo {
		det.num("ct_info", uint64(a.CtInfo))
	}
	d.linkLayer(a, r, det)
	if a.Payload != nil {
		det.num("cap_len", uint64(len(a.Payload)))
		d.payload(a.Payload, r, det)
	}
}

// FamilyOf returns the message's address family: nfgen_family when known,
// otherwise (go-nflog does not pass nfgenmsg on) inferred: a bridge-family
// message carries the L2 header, otherwise the ethertype or the IP version
// nibble tells.
func FamilyOf(a *Attrs) uint8 {
	switch {
	case a.Family != FamilyUnspec:
		return a.Family
	case a.L2Hdr != nil:
		return FamilyBridge
	case a.HasPacketHdr && a.HwProtocol == 0x0800:
		return FamilyInet
	case a.HasPacketHdr && a.HwProtocol == 0x86dd:
		return FamilyInet6
	case len(a.Payload) > 0 && a.Payload[0]>>4 == 4:
		return FamilyInet
	case len(a.Payload) > 0 && a.Payload[0]>>4 == 6:
		return FamilyInet6
	}
	return FamilyUnspec
}

// linkLayer fills the MAC addresses and VLAN from the hardware header
// (inet/inet6 families), the L2 header (bridge family) or the bare source
// address.
func (d *Decoder) linkLayer(a *Attrs, r *Record, det details) {
	e := &r.Event
	if a.HasHwTyp {
		det.num("hw_type", uint64(a.HwType))
	}
	hdr := a.L2Hdr
	if hdr == nil && a.HasHwTyp && (a.HwType == 1 || a.HwType == 772) { // ARPHRD_ETHER, ARPHRD_LOOPBACK
		hdr = a.HwHeader
	}
	if a.HwHeader != nil {
		det.hexColon("hw_header", a.HwHeader)
	} else if a.L2Hdr != nil {
		det.hexColon("hw_header", a.L2Hdr)
	}
	if len(hdr) >= 14 {
		e.DestMAC = d.mac(hdr[0:6])
		e.SrcMAC = d.mac(hdr[6:12])
		if hdr[12] == 0x81 && hdr[13] == 0x00 && len(hdr) >= 16 && !a.HasVLAN {
			r.vlan[0] = (uint16(hdr[14])<<8 | uint16(hdr[15])) & 0x0fff
			e.VLAN = r.vlan[:1]
		}
	} else if len(a.HwAddr) == 6 {
		e.SrcMAC = d.mac(a.HwAddr)
	}
	if a.HasVLAN {
		r.vlan[0] = a.VLANTCI & 0x0fff
		e.VLAN = r.vlan[:1]
	}
}

func (d *Decoder) payload(p []byte, r *Record, det details) {
	if len(p) == 0 {
		return
	}
	var parser *gopacket.DecodingLayerParser
	switch p[0] >> 4 {
	case 4:
		parser = d.parse4
	case 6:
		parser = d.parse6
	default:
		det.add("payload_error", jsonNotIP)
		return
	}
	d.l4proto, d.extSeen, d.fragment, d.fragOffset, d.moreFrags, d.fragID, d.ahSeen = 0, false, false, 0, false, 0, false
	err := parser.DecodeLayers(p, &d.decoded)
	e, pk := &r.Event, &r.Packet
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			ip := &d.ip4
			e.Packet = pk
			src, _ := netip.AddrFromSlice(ip.SrcIP)
			dst, _ := netip.AddrFromSlice(ip.DstIP)
			e.SetAddrs(src, dst, 0, 0, false)
			e.SetProto(uint8(ip.Protocol))
			pk.Len = uint32(ip.Length)
			pk.TTL, pk.HasTTL = ip.TTL, true
			pk.TOS = ip.TOS
			pk.IPID = uint32(ip.Id)
			det.num("ip_ihl", uint64(ip.IHL))
			det.num("ip_csum", uint64(ip.Checksum))
			switch ip.Flags & (layers.IPv4DontFragment | layers.IPv4MoreFragments) {
			case layers.IPv4DontFragment:
				det.add("ip_flags", jsonDF)
			case layers.IPv4MoreFragments:
				det.add("ip_flags", jsonMF)
			case layers.IPv4DontFragment | layers.IPv4MoreFragments:
				det.add("ip_flags", jsonDFMF)
			}
			if ip.FragOffset != 0 || ip.Flags&layers.IPv4MoreFragments != 0 {
				d.fragment, d.fragOffset, d.moreFrags = true, ip.FragOffset, ip.Flags&layers.IPv4MoreFragments != 0
				det.num("frag_offset", uint64(ip.FragOffset))
				if ip.FragOffset == 0 {
					// The first fragment holds the transport header; the
					// parser stops at fragments, so decode it directly.
					d.firstFragmentL4(ip.Protocol, ip.Payload, r, det)
				}
			}
		case layers.LayerTypeIPv6:
			ip := &d.ip6
			e.Packet = pk
			src, _ := netip.AddrFromSlice(ip.SrcIP)
			dst, _ := netip.AddrFromSlice(ip.DstIP)
			e.SetAddrs(src, dst, 0, 0, false)
			e.SetProto(uint8(ip.NextHeader))
			if ip.HopByHop != nil { // gopacket's IPv6 layer consumes a hop-by-hop header itself
				e.SetProto(uint8(ip.HopByHop.NextHeader))
			}
			pk.Len = uint32(ip.Length) + 40
			pk.TTL, pk.HasTTL = ip.HopLimit, true
			pk.TOS = ip.TrafficClass
			if ip.FlowLabel != 0 {
				det.num("ip6_flow_label", uint64(ip.FlowLabel))
			}
			det.num("ip6_next_header", uint64(ip.NextHeader))
			if ip.Malformed && err == nil {
				err = errMalformedIPv6
			}
		case layers.LayerTypeIPv6Fragment:
			pk.IPID = d.fragID
			det.num("frag_offset", uint64(d.fragOffset))
			if d.moreFrags {
				det.add("more_fragments", jsonTrue)
			}
		case layers.LayerTypeTCP, layers.LayerTypeUDP, layers.LayerTypeSCTP,
			layers.LayerTypeICMPv4, layers.LayerTypeICMPv6, layers.LayerTypeICMPv6Echo,
			layers.LayerTypeGRE, layers.LayerTypeIPSecESP:
			d.transport(t, r, det)
		}
	}
	if d.extSeen && e.SrcIP.IsValid() {
		e.SetProto(d.l4proto) // the upper-layer protocol after the extension headers and AH
	}
	if d.ahSeen {
		det.num("ah_spi", uint64(d.ah.spi))
	}
	if err != nil {
		if parser.Truncated {
			det.add("payload_error", jsonTrunc)
		} else {
			det.add("payload_error", jsonMalform)
		}
	}
}

// firstFragmentL4 decodes the transport header of a first IPv4 fragment.
func (d *Decoder) firstFragmentL4(p layers.IPProtocol, b []byte, r *Record, det details) {
	var l gopacket.DecodingLayer
	var t gopacket.LayerType
	switch p {
	case layers.IPProtocolTCP:
		l, t = &d.tcp, layers.LayerTypeTCP
	case layers.IPProtocolUDP:
		l, t = &d.udp, layers.LayerTypeUDP
	case layers.IPProtocolSCTP:
		l, t = &d.sctp, layers.LayerTypeSCTP
	case layers.IPProtocolICMPv4:
		l, t = &d.icmp4, layers.LayerTypeICMPv4
	default:
		return
	}
	if l.DecodeFromBytes(b, gopacket.NilDecodeFeedback) == nil {
		d.transport(t, r, det)
	}
}

func (d *Decoder) transport(t gopacket.LayerType, r *Record, det details) {
	e, pk := &r.Event, &r.Packet
	switch t {
	case layers.LayerTypeTCP:
		tc := &d.tcp
		e.SrcPort, e.DestPort, e.HasPorts = uint16(tc.SrcPort), uint16(tc.DstPort), true
		pk.TCPFlags = tcpFlags(tc)
		pk.TCPWindow = uint32(tc.Window)
		pk.TCPSeq = tc.Seq
		pk.TCPAck = tc.Ack
		det.num("tcp_offset", uint64(tc.DataOffset))
		det.num("tcp_csum", uint64(tc.Checksum))
		if tc.URG {
			det.num("tcp_urgent", uint64(tc.Urgent))
		}
		if len(tc.Contents) > 12 && tc.Contents[12]&0x0f != 0 { // reserved bits (and NS): zero unless something is odd
			det.num("tcp_reserved", uint64(tc.Contents[12]&0x0f))
		}
	case layers.LayerTypeUDP:
		u := &d.udp
		e.SrcPort, e.DestPort, e.HasPorts = uint16(u.SrcPort), uint16(u.DstPort), true
		det.num("udp_len", uint64(u.Length))
		det.num("udp_csum", uint64(u.Checksum))
	case layers.LayerTypeSCTP:
		s := &d.sctp
		e.SrcPort, e.DestPort, e.HasPorts = uint16(s.SrcPort), uint16(s.DstPort), true
		det.num("sctp_vtag", uint64(s.VerificationTag))
		det.num("sctp_csum", uint64(s.Checksum))
	case layers.LayerTypeICMPv4:
		ic := &d.icmp4
		e.ICMPType, e.ICMPCode, e.HasICMP = ic.TypeCode.Type(), ic.TypeCode.Code(), true
		det.num("icmp_csum", uint64(ic.Checksum))
		switch ic.TypeCode.Type() {
		case layers.ICMPv4TypeEchoRequest, layers.ICMPv4TypeEchoReply,
			layers.ICMPv4TypeTimestampRequest, layers.ICMPv4TypeTimestampReply:
			det.num("icmp_echo_id", uint64(ic.Id))
			det.num("icmp_echo_seq", uint64(ic.Seq))
		}
	case layers.LayerTypeICMPv6:
		ic := &d.icmp6
		e.ICMPType, e.ICMPCode, e.HasICMP = ic.TypeCode.Type(), ic.TypeCode.Code(), true
		det.num("icmp_csum", uint64(ic.Checksum))
	case layers.LayerTypeICMPv6Echo:
		det.num("icmp_echo_id", uint64(d.echo6.Identifier))
		det.num("icmp_echo_seq", uint64(d.echo6.SeqNumber))
	case layers.LayerTypeGRE:
		det.num("gre_protocol", uint64(d.gre.Protocol))
	case layers.LayerTypeIPSecESP:
		det.num("esp_spi", uint64(d.esp.spi))
		det.num("esp_seq", uint64(d.esp.seq))
	}
}

// tcpFlags writes the set flags in the schema's FSRPAUEC order, from a
// table of the 256 combinations so that no string is built per packet.
func tcpFlags(t *layers.TCP) string {
	var i int
	for bit, on := range [...]bool{t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR} {
		if on {
			i |= 1 << bit
		}
	}
	return tcpFlagNames[i]
}

var tcpFlagNames = func() (t [256]string) {
	const order = "FSRPAUEC"
	for i := range t {
		var s []byte
		for j := range 8 {
			if i&(1<<j) != 0 {
				s = append(s, order[j])
			}
		}
		t[i] = string(s)
	}
	return t
}()

// prefixAction returns the prefix as a string and its action, from a small
// cache: a firewall logs with a handful of prefixes, so neither the string
// nor the label is computed again per packet.
func (d *Decoder) prefixAction(group uint16, prefix []byte) (string, normalize.Action) {
	for i := range d.prefixes {
		p := &d.prefixes[i]
		if p.valid && p.group == group && p.prefix == string(prefix) {
			return p.prefix, p.action
		}
	}
	s := string(prefix)
	act := normalize.ActionUnknown
	if d.Labeler != nil {
		act = d.Labeler.Label(group, s)
	}
	d.prefixes[d.prefixNext] = prefixEntry{valid: true, group: group, prefix: s, action: act}
	d.prefixNext = (d.prefixNext + 1) % len(d.prefixes)
	return s, act
}

func (d *Decoder) mac(b []byte) string {
	var raw [6]byte
	copy(raw[:], b)
	for i := range d.macs {
		if d.macs[i].str != "" && d.macs[i].raw == raw {
			return d.macs[i].str
		}
	}
	s := formatMAC(raw)
	d.macs[d.macNext] = macEntry{raw: raw, str: s}
	d.macNext = (d.macNext + 1) % len(d.macs)
	return s
}

func formatMAC(m [6]byte) string {
	const hexd = hexDigits
	var b [17]byte
	for i, c := range m {
		if i > 0 {
			b[i*3-1] = ':'
		}
		b[i*3], b[i*3+1] = hexd[c>>4], hexd[c&15]
	}
	return string(b[:])
}

func (d *Decoder) ifaceName(index uint32) string {
	if d.Resolver == nil {
		return ""
	}
	return d.Resolver.IfaceName(index)
}
