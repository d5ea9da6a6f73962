package packet

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/alertgw/alertgw/normalize"
)

func build(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	mac1 = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	mac2 = net.HardwareAddr{2, 0, 0, 0, 0, 2}
)

func TestDecode(t *testing.T) {
	ip4 := func(p layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 61, Id: 7, Protocol: p, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
	}
	ip6 := func(nh layers.IPProtocol) *layers.IPv6 {
		return &layers.IPv6{Version: 6, HopLimit: 9, NextHeader: nh, SrcIP: net.ParseIP("fd00::1"), DstIP: net.ParseIP("fd00::2")}
	}
	eth := func(et layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: et}
	}
	frag := ip4(layers.IPProtocolUDP)
	frag.FragOffset = 100
	tests := []struct {
		name  string
		link  LinkType
		data  []byte
		proto uint8
		ports [2]uint16
		check func(t *testing.T, ev *normalize.Event, r Result)
	}{
		{"vlan tcp", LinkEthernet, build(t, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 42, Type: layers.EthernetTypeIPv4}, ip4(layers.IPProtocolTCP),
			&layers.TCP{SrcPort: 1234, DstPort: 80, SYN: true, ACK: true, Window: 512}), 6, [2]uint16{1234, 80},
			func(t *testing.T, ev *normalize.Event, r Result) {
				if len(ev.VLAN) != 1 || ev.VLAN[0] != 42 || ev.Packet.TCPFlags != "SA" || ev.Packet.TTL != 61 || ev.SrcMAC != "02:00:00:00:00:01" {
					t.Errorf("%+v %+v", ev.VLAN, ev.Packet)
				}
			}},
		{"sctp", LinkEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolSCTP), &layers.SCTP{SrcPort: 5000, DstPort: 6000}), 132, [2]uint16{5000, 6000}, nil},
		{"non-first fragment", LinkEthernet, build(t, eth(layers.EthernetTypeIPv4), frag, gopacket.Payload(make([]byte, 32))), 17, [2]uint16{},
			func(t *testing.T, ev *normalize.Event, r Result) {
				if !r.Fragment || ev.HasPorts {
					t.Errorf("fragment %v ports %v", r.Fragment, ev.HasPorts)
				}
			}},
		{"icmpv6 raw", LinkRaw, build(t, ip6(layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}), 58, [2]uint16{},
			func(t *testing.T, ev *normalize.Event, r Result) {
				if !ev.HasICMP || ev.ICMPType != 128 || ev.Packet.Len != 44 || ev.Packet.TTL != 9 {
					t.Errorf("icmp %v %d len %d", ev.HasICMP, ev.ICMPType, ev.Packet.Len)
				}
			}},
		{"garbage", LinkEthernet, []byte{1, 2, 3}, 0, [2]uint16{}, func(t *testing.T, ev *normalize.Event, r Result) {
			if r.Decoded || ev.HasProto {
				t.Error("decoded garbage")
			}
		}},
	}
	d := NewDecoder()
	for _, tc := range tests {
		var ev normalize.Event
		r := d.Decode(tc.link, tc.data, &ev)
		if tc.proto != 0 && (ev.Proto != tc.proto || !ev.HasProto) {
			t.Errorf("%s: proto %d", tc.name, ev.Proto)
		}
		if tc.ports != [2]uint16{} && (ev.SrcPort != tc.ports[0] || ev.DestPort != tc.ports[1] || !ev.HasPorts) {
			t.Errorf("%s: ports %d %d", tc.name, ev.SrcPort, ev.DestPort)
		}
		if tc.check != nil {
			tc.check(t, &ev, r)
		}
	}
}

// IPv6 with a hop-by-hop header, then a first fragment header, then UDP:
// the protocol is UDP (not ipv6-frag) and the ports are found.
func TestIPv6ExtensionHeaders(t *testing.T) {
	udp := []byte{0x13, 0x88, 0x00, 0x35, 0, 8, 0, 0}
	hop := []byte{44, 0, 1, 4, 0, 0, 0, 0}     // next: fragment; PadN
	fragHdr := []byte{17, 0, 0, 0, 0, 0, 0, 1} // next: UDP, offset 0, M=0
	payload := append(append(append([]byte{}, hop...), fragHdr...), udp...)
	ip := &layers.IPv6{Version: 6, HopLimit: 3, NextHeader: layers.IPProtocolIPv6HopByHop, SrcIP: net.ParseIP("fd00::1"), DstIP: net.ParseIP("fd00::2")}
	data := build(t, ip, gopacket.Payload(payload))
	var ev normalize.Event
	NewDecoder().Decode(LinkRaw, data, &ev)
	if ev.Proto != 17 || !ev.HasPorts || ev.SrcPort != 5000 || ev.DestPort != 53 {
		t.Errorf("proto %d ports %v %d %d", ev.Proto, ev.HasPorts, ev.SrcPort, ev.DestPort)
	}
	// Same with a non-first fragment: UDP, no ports.
	fragHdr[3] = 0x08
	payload = append(append(append([]byte{}, hop...), fragHdr...), udp...)
	data = build(t, ip, gopacket.Payload(payload))
	ev = normalize.Event{}
	r := NewDecoder().Decode(LinkRaw, data, &ev)
	if ev.Proto != 17 || ev.HasPorts || !r.Fragment {
		t.Errorf("later fragment: proto %d ports %v frag %v", ev.Proto, ev.HasPorts, r.Fragment)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(uint8(1), []byte{})
	f.Add(uint8(101), []byte{0x60, 0, 0, 0, 0, 8, 17, 64})
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, link uint8, data []byte) {
		var ev normalize.Event
		d.Decode(LinkType(link), data, &ev)
	})
}

// A hop-by-hop header claiming 48 bytes where 8 are makes gopacket refuse
// the IPv6 layer; the event keeps the fixed header's addresses and hop
// limit, over raw IP and over Ethernet.
func TestIPv6MalformedHopByHopKeepsAddresses(t *testing.T) {
	ip := &layers.IPv6{Version: 6, HopLimit: 7, NextHeader: layers.IPProtocolIPv6HopByHop, SrcIP: net.ParseIP("fd00::1"), DstIP: net.ParseIP("fd00::2")}
	hop := []byte{byte(layers.IPProtocolUDP), 5, 1, 4, 0, 0, 0, 0}
	raw := build(t, ip, gopacket.Payload(append(hop, 0x13, 0x88, 0x00, 0x35, 0, 8, 0, 0)))
	eth := build(t, &layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv6}, gopacket.Payload(raw))
	for _, tc := range []struct {
		link LinkType
		data []byte
	}{{LinkRaw, raw}, {LinkEthernet, eth}} {
		var ev normalize.Event
		r := NewDecoder().Decode(tc.link, tc.data, &ev)
		if !r.Decoded || ev.SrcIP.String() != "fd00::1" || ev.DestIP.String() != "fd00::2" || ev.Packet == nil || ev.Packet.TTL != 7 {
			t.Errorf("link %d: decoded %v, %s → %s, packet %+v", tc.link, r.Decoded, ev.SrcIP, ev.DestIP, ev.Packet)
		}
		if ev.HasPorts {
			t.Errorf("link %d: ports %d→%d read past a malformed header", tc.link, ev.SrcPort, ev.DestPort)
		}
	}
}

// EtherType 0xffff is not IPv4, whatever gopacket maps it to.
func TestEtherTypeRawIsNotIP(t *testing.T) {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 61, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
	for _, ls := range [][]gopacket.SerializableLayer{
		{&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeRaw}, ip},
		{&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeDot1Q}, &layers.Dot1Q{VLANIdentifier: 5, Type: layers.EthernetTypeRaw}, ip},
	} {
		var ev normalize.Event
		if r := NewDecoder().Decode(LinkEthernet, build(t, ls...), &ev); r.Decoded || ev.SrcIP.IsValid() {
			t.Errorf("%d layers: decoded %v, source %s", len(ls), r.Decoded, ev.SrcIP)
		}
	}
}

// The protocol after a hop-by-hop header is the one that header names, even
// when the transport header that follows is cut short (gopacket has taken
// the hop-by-hop header out of the payload already).
func TestIPv6ProtocolAfterHopByHop(t *testing.T) {
	ip := &layers.IPv6{Version: 6, HopLimit: 7, NextHeader: layers.IPProtocolIPv6HopByHop, SrcIP: net.ParseIP("fd00::1"), DstIP: net.ParseIP("fd00::2")}
	hop := []byte{byte(layers.IPProtocolTCP), 0, 1, 4, 0, 0, 0, 0}
	tcpStart := []byte{0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 1, 0, 0} // 10 of TCP's 20 bytes
	var ev normalize.Event
	NewDecoder().Decode(LinkRaw, build(t, ip, gopacket.Payload(append(hop, tcpStart...))), &ev)
	if !ev.HasProto || ev.Proto != 6 {
		t.Errorf("proto %d (has %v), want 6", ev.Proto, ev.HasProto)
	}
}
