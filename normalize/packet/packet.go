// Package packet decodes the raw packet that Snort, Barnyard2 and unified2
// attach to an alert (Ethernet, 802.1Q, IPv4, IPv6 with extension headers,
// TCP, UDP, ICMPv4/v6, SCTP, fragments) into the common fields of a
// normalize.Event. It uses gopacket's DecodingLayerParser with layers reused
// across calls, so a Decoder is NOT safe for concurrent use: keep one per
// goroutine (Pool does that).
package packet

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/alertgw/alertgw/normalize"
)

// LinkType is the datalink type of a packet (libpcap DLT numbers).
type LinkType uint32

// Datalink types the decoder reads.
const (
	LinkEthernet LinkType = 1   // DLT_EN10MB
	LinkRaw      LinkType = 101 // LINKTYPE_RAW: IPv4 or IPv6 from the first byte
	LinkRawAlt   LinkType = 12  // DLT_RAW on most BSDs and old libpcap
	LinkIPv4     LinkType = 228
	LinkIPv6     LinkType = 229
)

// Result is what a decode found besides the Event fields.
type Result struct {
	Decoded    bool // at least a network header was found
	Fragment   bool // a non-first fragment: no transport header
	PayloadLen int  // transport payload bytes present in the capture
	VLANs      int
	Truncated  bool // the capture ends before the IP datagram does
}

// Decoder holds one set of reusable layers.
type Decoder struct {
	eth   ethernet
	dot1q dot1q
	ip4   layers.IPv4
	ip6   IPv6
	tcp   layers.TCP
	udp   layers.UDP
	icmp4 layers.ICMPv4
	icmp6 layers.ICMPv6
	sctp  layers.SCTP

	parser  *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

// NewDecoder builds a Decoder.
func NewDecoder() *Decoder {
	d := &Decoder{decoded: make([]gopacket.LayerType, 0, 12)}
	d.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet,
		&d.eth, &d.dot1q, &d.ip4, &d.ip6)
	d.parser.IgnoreUnsupported = true
	return d
}

// Pool hands out Decoders to concurrent callers.
var Pool = sync.Pool{New: func() any { return NewDecoder() }}

// Decode fills ev's addresses, ports, protocol, ICMP type/code, MACs, VLANs
// and Packet header fields from data, a packet starting at its link-layer
// header. Anything it cannot decode is left unset: a damaged or truncated
// packet never fails the alert it belongs to.
func (d *Decoder) Decode(link LinkType, data []byte, ev *normalize.Event) Result {
	var res Result
	if len(data) == 0 {
		return res
	}
	first := layers.LayerTypeEthernet
	switch link {
	case LinkEthernet:
	case LinkRaw, LinkRawAlt:
		switch data[0] >> 4 {
		case 4:
			first = layers.LayerTypeIPv4
		case 6:
			first = layers.LayerTypeIPv6
		default:
			return res
		}
	case LinkIPv4:
		first = layers.LayerTypeIPv4
	case LinkIPv6:
		first = layers.LayerTypeIPv6
	default:
		return res
	}
	d.decoded = d.decoded[:0]
	// An error means a layer failed or is unsupported; what was decoded
	// before it is still good, so it is not fatal.
	_ = d.decodeFrom(first, data)
	d.fill(ev, &res)
	return res
}

// decodeFrom runs the parser from a given first layer. DecodingLayerParser
// fixes its first layer at construction, so for raw IP we call the network
// layer directly and continue with the parser from its payload.
func (d *Decoder) decodeFrom(first gopacket.LayerType, data []byte) error {
	if first == layers.LayerTypeEthernet {
		// The parser knows only link and network layers: what follows is
		// decoded by continueFrom, which also walks IPv6 extension headers.
		if err := d.parser.DecodeLayers(data, &d.decoded); err != nil {
			return err
		}
		if n := len(d.decoded); n > 0 {
			switch d.decoded[n-1] {
			case layers.LayerTypeIPv4:
				return d.continueFrom(d.ip4Next(), d.ip4.Payload)
			case layers.LayerTypeIPv6:
				return d.continueFrom(d.ip6.NextLayerType(), d.ip6.Payload)
			}
		}
		return nil
	}
	if first == layers.LayerTypeIPv6 {
		if err := d.ip6.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
			return err
		}
		d.decoded = append(d.decoded, first)
		return d.continueFrom(d.ip6.NextLayerType(), d.ip6.Payload)
	}
	if err := d.ip4.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return err
	}
	d.decoded = append(d.decoded, first)
	return d.continueFrom(d.ip4Next(), d.ip4.Payload)
}

// ip4Next is the layer after the IPv4 header. gopacket calls every
// fragment, even the first, a "Fragment"; the first one (offset 0) carries
// the transport header, so decode it.
func (d *Decoder) ip4Next() gopacket.LayerType {
	if d.ip4.FragOffset != 0 {
		return gopacket.LayerTypeFragment
	}
	return d.ip4.Protocol.LayerType()
}

// continueFrom decodes the layers after a network header by hand, one
// DecodingLayer at a time, so that it can also step over IPv6 routing and
// fragment headers, which gopacket has no DecodingLayer for.
func (d *Decoder) continueFrom(next gopacket.LayerType, data []byte) error {
	for depth := 0; depth < 10 && len(data) > 0; depth++ {
		var dl gopacket.DecodingLayer
		switch next {
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Destination, layers.LayerTypeIPv6Routing:
			nh, rest, ok := skipExt(data)
			if !ok {
				return nil
			}
			next, data = layers.IPProtocol(nh).LayerType(), rest
			continue
		case layers.LayerTypeIPv6Fragment:
			if len(data) < 8 {
				return nil
			}
			if binary.BigEndian.Uint16(data[2:4])&0xfff8 != 0 {
				d.decoded = append(d.decoded, gopacket.LayerTypeFragment)
				return nil
			}
			next, data = layers.IPProtocol(data[0]).LayerType(), data[8:]
			continue
		case layers.LayerTypeTCP:
			dl = &d.tcp
		case layers.LayerTypeUDP:
			dl = &d.udp
		case layers.LayerTypeICMPv4:
			dl = &d.icmp4
		case layers.LayerTypeICMPv6:
			dl = &d.icmp6
		case layers.LayerTypeSCTP:
			dl = &d.sctp
		case gopacket.LayerTypeFragment:
			d.decoded = append(d.decoded, gopacket.LayerTypeFragment)
			return nil
		default:
			return nil
		}
		if err := dl.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
			return err
		}
		d.decoded = append(d.decoded, next)
		return nil
	}
	return nil
}

// skipExt steps over a generic IPv6 extension header (next, len in 8-octet
// units not counting the first 8).
func skipExt(data []byte) (next uint8, rest []byte, ok bool) {
	if len(data) < 8 {
		return 0, nil, false
	}
	n := (int(data[1]) + 1) * 8
	if n > len(data) {
		return 0, nil, false
	}
	return data[0], data[n:], true
}

func (d *Decoder) fill(ev *normalize.Event, res *Result) {
	var pkt *normalize.Packet
	var haveNet bool
	for _, lt := range d.decoded {
		switch lt {
		case layers.LayerTypeEthernet:
			ev.SrcMAC = macString(d.eth.SrcMAC)
			ev.DestMAC = macString(d.eth.DstMAC)
		case layers.LayerTypeDot1Q:
			ev.VLAN = append(ev.VLAN, d.dot1q.VLANIdentifier)
			res.VLANs++
		case layers.LayerTypeIPv4:
			if haveNet { // tunnelled: keep the outer header
				continue
			}
			haveNet = true
			ip := &d.ip4
			ev.SrcIP = addr4(ip.SrcIP)
			ev.DestIP = addr4(ip.DstIP)
			ev.SetProto(uint8(ip.Protocol))
			pkt = ensure(ev)
			pkt.Len = uint32(ip.Length)
			pkt.TTL, pkt.HasTTL = ip.TTL, true
			pkt.TOS = ip.TOS
			pkt.IPID = uint32(ip.Id)
			if ip.FragOffset != 0 {
				res.Fragment = true
			}
			if int(ip.Length) > len(ip.Contents)+len(ip.Payload) {
				res.Truncated = true
			}
		case layers.LayerTypeIPv6:
			if haveNet {
				continue
			}
			haveNet = true
			ip := &d.ip6
			ev.SrcIP = addr16(ip.SrcIP)
			ev.DestIP = addr16(ip.DstIP)
			ev.SetProto(finalProto(&ip.IPv6))
			pkt = ensure(ev)
			pkt.Len = uint32(ip.Length) + 40
			pkt.TTL, pkt.HasTTL = ip.HopLimit, true
			pkt.TOS = ip.TrafficClass
		case gopacket.LayerTypeFragment:
			res.Fragment = true
		case layers.LayerTypeTCP:
			t := &d.tcp
			ev.SetProto(6)
			ev.SetAddrs(ev.SrcIP, ev.DestIP, uint16(t.SrcPort), uint16(t.DstPort), true)
			pkt = ensure(ev)
			pkt.TCPFlags = tcpFlags(t)
			pkt.TCPWindow = uint32(t.Window)
			pkt.TCPSeq, pkt.TCPAck = t.Seq, t.Ack
			res.PayloadLen = len(t.Payload)
		case layers.LayerTypeUDP:
			u := &d.udp
			ev.SetProto(17)
			ev.SetAddrs(ev.SrcIP, ev.DestIP, uint16(u.SrcPort), uint16(u.DstPort), true)
			res.PayloadLen = len(u.Payload)
		case layers.LayerTypeSCTP:
			s := &d.sctp
			ev.SetProto(132)
			ev.SetAddrs(ev.SrcIP, ev.DestIP, uint16(s.SrcPort), uint16(s.DstPort), true)
		case layers.LayerTypeICMPv4:
			c := &d.icmp4
			ev.SetProto(1)
			ev.ICMPType, ev.ICMPCode, ev.HasICMP = c.TypeCode.Type(), c.TypeCode.Code(), true
			res.PayloadLen = len(c.Payload)
		case layers.LayerTypeICMPv6:
			c := &d.icmp6
			ev.SetProto(58)
			ev.ICMPType, ev.ICMPCode, ev.HasICMP = c.TypeCode.Type(), c.TypeCode.Code(), true
			res.PayloadLen = len(c.Payload)
		}
	}
	res.Decoded = haveNet
}

// finalProto returns the upper-layer protocol of an IPv6 packet, stepping
// over extension headers (0 hop-by-hop, 43 routing, 44 fragment, 60
// destination options, 51 AH) so that proto is never "ipv6-frag". A
// hop-by-hop header gopacket decoded is no longer in the payload: the walk
// starts at the header it names.
func finalProto(ip *layers.IPv6) uint8 {
	nh := uint8(ip.NextHeader)
	if ip.HopByHop != nil {
		nh = uint8(ip.HopByHop.NextHeader)
	}
	data := ip.Payload
	for range 8 {
		switch nh {
		case 0, 43, 60:
			next, rest, ok := skipExt(data)
			if !ok {
				return nh
			}
			nh, data = next, rest
		case 44:
			if len(data) < 8 {
				return nh
			}
			nh, data = data[0], data[8:]
		case 51:
			if len(data) < 8 {
				return nh
			}
			n := (int(data[1]) + 2) * 4
			if n > len(data) {
				return nh
			}
			nh, data = data[0], data[n:]
		default:
			return nh
		}
	}
	return nh
}

func ensure(ev *normalize.Event) *normalize.Packet {
	if ev.Packet == nil {
		ev.Packet = &normalize.Packet{}
	}
	return ev.Packet
}

func addr4(ip net.IP) netip.Addr {
	if a, ok := netip.AddrFromSlice(ip.To4()); ok {
		return a
	}
	return netip.Addr{}
}

func addr16(ip net.IP) netip.Addr {
	if a, ok := netip.AddrFromSlice(ip.To16()); ok {
		return a
	}
	return netip.Addr{}
}

const hexDigits = "0123456789abcdef"

func macString(m net.HardwareAddr) string {
	if len(m) != 6 {
		return m.String()
	}
	var b [17]byte
	for i, c := range m {
		if i > 0 {
			b[i*3-1] = ':'
		}
		b[i*3], b[i*3+1] = hexDigits[c>>4], hexDigits[c&0xf]
	}
	return string(b[:])
}

// tcpFlags spells the flags one letter each, in FSRPAUEC order.
func tcpFlags(t *layers.TCP) string {
	var b [8]byte
	n := 0
	for _, f := range [...]struct {
		on bool
		c  byte
	}{{t.FIN, 'F'}, {t.SYN, 'S'}, {t.RST, 'R'}, {t.PSH, 'P'}, {t.ACK, 'A'}, {t.URG, 'U'}, {t.ECE, 'E'}, {t.CWR, 'C'}} {
		if f.on {
			b[n] = f.c
			n++
		}
	}
	return string(b[:n])
}
