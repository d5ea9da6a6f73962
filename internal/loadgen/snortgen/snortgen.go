// Package snortgen generates the binary records of Snort 2/3
// (alert_unixsock Alertpkt), Barnyard2 (its alert_unixsock datagram) and
// unified2 (an event record and its packet record per datagram) for
// `alertgw send` and the benchmarks. The records are built with the same
// encoders the golden tests check against real sensor output.
package snortgen

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/alertgw/alertgw/normalize/snort"
	u2 "github.com/alertgw/alertgw/normalize/unified2"
)

// Names are the generator types this package provides.
var Names = []string{"snort", "snort3", "snort-openappid", "barnyard2", "unified2"}

// rule is one signature the generator fires.
type rule struct {
	gid, sid, rev, class, prio uint32
	msg                        string
	proto                      layers.IPProtocol
	dport                      uint16
}

var rules = []rule{
	{1, 2100498, 7, 3, 2, "GPL ATTACK_RESPONSE id check returned root", layers.IPProtocolTCP, 80},
	{1, 2001219, 20, 4, 2, "ET SCAN Potential SSH Scan", layers.IPProtocolTCP, 22},
	{1, 2013028, 7, 1, 3, "ET POLICY curl User-Agent Outbound", layers.IPProtocolTCP, 80},
	{1, 2027863, 4, 1, 3, "ET INFO Observed DNS Query to .cloud TLD", layers.IPProtocolUDP, 53},
	{1, 1000001, 1, 1, 3, "LOCAL ICMP echo request", layers.IPProtocolICMPv4, 0},
	{116, 420, 1, 25, 3, "(snort_decoder) WARNING: TCP SYN with FIN", layers.IPProtocolTCP, 8081},
}

// packet is one pre-built frame and what the headers say about it.
type packet struct {
	frame []byte
	r     *rule
}

// Generator produces one record per Next call.
type Generator struct {
	kind    string
	rnd     *rand.Rand
	pkts    []packet
	eventID uint32
	buf     []byte
}

// New returns a generator for kind (one of Names).
func New(kind string, seed uint64) (*Generator, error) {
	switch kind {
	case "snort", "snort3", "snort-openappid", "barnyard2", "unified2":
	default:
		return nil, fmt.Errorf("unknown snort generator %q", kind)
	}
	g := &Generator{kind: kind, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	// 64 distinct frames, cycled: building packets is not what a load
	// test measures.
	for i := range 64 {
		r := &rules[i%len(rules)]
		frame, err := buildFrame(g.rnd, r, i%5 == 4)
		if err != nil {
			return nil, err
		}
		g.pkts = append(g.pkts, packet{frame: frame, r: r})
	}
	return g, nil
}

func buildFrame(rnd *rand.Rand, r *rule, v6 bool) ([]byte, error) {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 10, 99, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 10, 99, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	var netLayer gopacket.NetworkLayer
	proto := r.proto
	if v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		if proto == layers.IPProtocolICMPv4 {
			proto = layers.IPProtocolICMPv6
		}
		netLayer = &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto,
			SrcIP: net.ParseIP(fmt.Sprintf("fd00:99::%x", 1+rnd.IntN(200))), DstIP: net.ParseIP("fd00:99::2")}
	} else {
		netLayer = &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: uint16(rnd.Uint32()), Protocol: proto, Flags: layers.IPv4DontFragment,
			SrcIP: net.IP{10, 99, byte(rnd.IntN(4)), byte(1 + rnd.IntN(250))}, DstIP: net.IP{10, 99, 0, 2}}
	}
	payload := gopacket.Payload(fmt.Appendf(nil, "GET /index.html?id=%d HTTP/1.1\r\nHost: 10.99.0.2\r\nUser-Agent: curl/7.88.1\r\n\r\n", rnd.IntN(1e6)))
	var l4 gopacket.SerializableLayer
	switch proto {
	case layers.IPProtocolTCP:
		t := &layers.TCP{SrcPort: layers.TCPPort(32768 + rnd.IntN(28000)), DstPort: layers.TCPPort(r.dport), Seq: rnd.Uint32(), Ack: rnd.Uint32(), ACK: true, PSH: true, Window: 502}
		if r.gid == 116 {
			t.ACK, t.PSH, t.SYN, t.FIN = false, false, true, true
		}
		_ = t.SetNetworkLayerForChecksum(netLayer) // fails only for a non-IP layer; netLayer is IPv4 or IPv6
		l4 = t
	case layers.IPProtocolUDP:
		u := &layers.UDP{SrcPort: layers.UDPPort(32768 + rnd.IntN(28000)), DstPort: layers.UDPPort(r.dport)}
		_ = u.SetNetworkLayerForChecksum(netLayer)
		l4 = u
	case layers.IPProtocolICMPv4:
		l4 = &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: uint16(rnd.IntN(100))}
	case layers.IPProtocolICMPv6:
		c := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}
		_ = c.SetNetworkLayerForChecksum(netLayer)
		l4 = c
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, netLayer.(gopacket.SerializableLayer), l4, payload)
	return buf.Bytes(), err
}

// Next appends the next record to dst.
func (g *Generator) Next(dst []byte) []byte {
	p := &g.pkts[int(g.eventID)%len(g.pkts)]
	g.eventID++
	now := time.Now()
	sec, usec := uint32(now.Unix()), uint32(now.Nanosecond()/1000)
	if g.kind == "unified2" {
		return g.unified2(dst, p, sec, usec)
	}
	a := snort.Alert{
		Msg: []byte(p.r.msg), TsSec: sec, TsUsec: usec, Caplen: uint32(len(p.frame)), Len: uint32(len(p.frame)),
		Pkt: p.frame, GID: p.r.gid, SID: p.r.sid, Rev: p.r.rev, Class: p.r.class, Priority: p.r.prio,
		EventID: g.eventID, EventRef: g.eventID, RefSec: sec, RefUsec: usec,
	}
	// The offsets Snort fills: Ethernet at 0; IPv4 header at 14 and its
	// transport after it; Snort 2 leaves IPv6 offsets at 0.
	if p.frame[12] == 0x08 {
		a.NetHdr, a.TransHdr = 14, 34
	} else if g.kind == "snort3" {
		a.NetHdr, a.TransHdr = 14, 54
	}
	v := snort.VariantSnort2
	switch g.kind {
	case "snort3":
		v = snort.VariantSnort3
	case "snort-openappid":
		v = snort.VariantSnort2AppID
	case "barnyard2":
		v = snort.VariantBarnyard2
		a.SensorID = 1
		if len(a.Pkt) > 1514 {
			a.Pkt = a.Pkt[:1514]
		}
	}
	out, _ := snort.AppendDatagram(dst, &a, v)
	return out
}

// unified2 writes a legacy IPv4/IPv6 event (type 7/72) and its packet.
func (g *Generator) unified2(dst []byte, p *packet, sec, usec uint32) []byte {
	e := u2.Event{Type: u2.TypeIDSEvent, SensorID: 1, EventID: g.eventID, Second: sec, Microsecond: usec,
		SID: p.r.sid, GID: p.r.gid, Rev: p.r.rev, Class: p.r.class, Priority: p.r.prio, Proto: uint8(p.r.proto)}
	f := p.frame
	switch f[12] {
	case 0x08:
		e.Src, e.Dst = netip.AddrFrom4([4]byte(f[26:30])), netip.AddrFrom4([4]byte(f[30:34]))
		e.Proto = f[23]
		if e.Proto == 6 || e.Proto == 17 {
			e.SPortIType, e.DPortICode = uint16(f[34])<<8|uint16(f[35]), uint16(f[36])<<8|uint16(f[37])
		} else {
			e.SPortIType = uint16(f[34])
		}
	default:
		e.Type = u2.TypeIDSEventIPv6
		e.Src, e.Dst = netip.AddrFrom16([16]byte(f[22:38])), netip.AddrFrom16([16]byte(f[38:54]))
		e.Proto = f[20]
		if e.Proto == 6 || e.Proto == 17 {
			e.SPortIType, e.DPortICode = uint16(f[54])<<8|uint16(f[55]), uint16(f[56])<<8|uint16(f[57])
		} else {
			e.SPortIType = uint16(f[54])
		}
	}
	if g.eventID%50 == 0 {
		e.ImpactFlag, e.Blocked = u2.ImpactFlagBlocked, u2.BlockedYes
	}
	g.buf, _ = u2.AppendEventBody(g.buf[:0], &e)
	dst = u2.AppendRecord(dst, e.Type, g.buf)
	pk := u2.Packet{SensorID: 1, EventID: g.eventID, EventSecond: sec, Second: sec, Microsecond: usec, LinkType: 1, Data: f}
	g.buf = u2.AppendPacketBody(g.buf[:0], &pk)
	return u2.AppendRecord(dst, u2.TypePacket, g.buf)
}
