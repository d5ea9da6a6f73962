package nflog

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/alertgw/alertgw/normalize"
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	v4a, v4b = net.IP{192, 0, 2, 1}, net.IP{198, 51, 100, 2}
	v6a, v6b = net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8::2")
)

func ip4(p layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 61, TOS: 0x10, Id: 4242, Flags: layers.IPv4DontFragment, Protocol: p, SrcIP: v4a, DstIP: v4b}
}

func ip6(p layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 63, TrafficClass: 0x20, FlowLabel: 0x12345, NextHeader: p, SrcIP: v6a, DstIP: v6b}
}

func tcp(flags string) *layers.TCP {
	t := &layers.TCP{SrcPort: 40000, DstPort: 443, Seq: 1000, Ack: 77, Window: 512, DataOffset: 5}
	for _, c := range flags {
		switch c {
		case 'S':
			t.SYN = true
		case 'A':
			t.ACK = true
		case 'F':
			t.FIN = true
		case 'R':
			t.RST = true
		case 'P':
			t.PSH = true
		}
	}
	return t
}

// ext6 builds a raw IPv6 extension header of 8 bytes.
func ext6(next layers.IPProtocol) []byte { return []byte{byte(next), 0, 1, 4, 0, 0, 0, 0} }

func decodePayload(t *testing.T, payload []byte, mod func(*Attrs)) *normalize.Event {
	t.Helper()
	a := &Attrs{Group: 3, HasPacketHdr: true, Hook: 2, Payload: payload, Prefix: []byte("fw \x00")}
	if mod != nil {
		mod(a)
	}
	var r Record
	NewDecoder(nil, nil).Decode(a, time.Unix(1700000000, 0), &r)
	return &r.Event
}

// builtPayloads returns the packets TestDecodePayloads decodes.
func builtPayloads(t testing.TB) [][]byte {
	var out [][]byte
	for _, tc := range payloadCases(t) {
		out = append(out, tc.payload)
	}
	return out
}

type payloadCase struct {
	name    string
	payload []byte
	proto   uint8
	ports   [2]uint16 // 0,0 = no ports
	icmp    [2]uint8
	hasICMP bool
	flags   string
	details map[string]string
}

func TestDecodePayloads(t *testing.T) {
	for _, tc := range payloadCases(t) {
		t.Run(tc.name, func(t *testing.T) { checkPayloadCase(t, tc) })
	}
}

func payloadCases(t testing.TB) []payloadCase {
	udp := &layers.UDP{SrcPort: 5000, DstPort: 53}
	sctpPkt := func() []byte {
		b := serialize(t, ip4(layers.IPProtocolSCTP), gopacket.Payload(make([]byte, 12)))
		binary.BigEndian.PutUint16(b[20:], 2905)
		binary.BigEndian.PutUint16(b[22:], 38412)
		binary.BigEndian.PutUint32(b[24:], 0xdeadbeef)
		return b
	}()
	frag4 := func(offset uint16, mf bool) []byte {
		ip := ip4(layers.IPProtocolUDP)
		ip.Flags = 0
		if mf {
			ip.Flags = layers.IPv4MoreFragments
		}
		ip.FragOffset = offset
		body := serialize(t, &layers.UDP{SrcPort: 7, DstPort: 9}, gopacket.Payload(make([]byte, 16)))
		return serialize(t, ip, gopacket.Payload(body))
	}
	frag6 := func(offset uint16, mf bool) []byte {
		fo := offset << 3
		if mf {
			fo |= 1
		}
		h := []byte{byte(layers.IPProtocolUDP), 0, byte(fo >> 8), byte(fo), 0, 0, 0x30, 0x39}
		body := serialize(t, &layers.UDP{SrcPort: 7, DstPort: 9}, gopacket.Payload(make([]byte, 16)))
		return serialize(t, ip6(layers.IPProtocolIPv6Fragment), gopacket.Payload(append(h, body...)))
	}
	udp.SetNetworkLayerForChecksum(ip4(layers.IPProtocolUDP))

	return []payloadCase{
		{name: "tcp4 syn", payload: serialize(t, ip4(layers.IPProtocolTCP), tcp("S")), proto: 6, ports: [2]uint16{40000, 443}, flags: "S",
			details: map[string]string{"ip_flags": `"DF"`, "ip_ihl": "5", "tcp_offset": "5"}},
		{name: "tcp4 fin ack", payload: serialize(t, ip4(layers.IPProtocolTCP), tcp("FPA")), proto: 6, ports: [2]uint16{40000, 443}, flags: "FPA"},
		{name: "udp4", payload: serialize(t, ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 5000, DstPort: 53}, gopacket.Payload("q")), proto: 17, ports: [2]uint16{5000, 53},
			details: map[string]string{"udp_len": "9"}},
		{name: "icmp4 echo", payload: serialize(t, ip4(layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 9, Seq: 3}), proto: 1, icmp: [2]uint8{8, 0}, hasICMP: true,
			details: map[string]string{"icmp_echo_id": "9", "icmp_echo_seq": "3"}},
		{name: "icmp6 echo", payload: serialize(t, ip6(layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}, &layers.ICMPv6Echo{Identifier: 5, SeqNumber: 6}), proto: 58, icmp: [2]uint8{128, 0}, hasICMP: true,
			details: map[string]string{"icmp_echo_id": "5", "icmp_echo_seq": "6", "ip6_flow_label": "74565"}},
		{name: "tcp6", payload: serialize(t, ip6(layers.IPProtocolTCP), tcp("SA")), proto: 6, ports: [2]uint16{40000, 443}, flags: "SA"},
		{name: "udp6 after hop-by-hop, routing and destination options",
			payload: serialize(t, ip6(layers.IPProtocolIPv6HopByHop), gopacket.Payload(append(append(append(
				[]byte{byte(layers.IPProtocolIPv6Routing), 0, 1, 4, 0, 0, 0, 0}, ext6(layers.IPProtocolIPv6Destination)...), ext6(layers.IPProtocolUDP)...),
				serialize(t, &layers.UDP{SrcPort: 1, DstPort: 2}, gopacket.Payload("x"))...))),
			proto: 17, ports: [2]uint16{1, 2}, details: map[string]string{"ip6_next_header": "0"}},
		{name: "sctp4", payload: sctpPkt, proto: 132, ports: [2]uint16{2905, 38412}, details: map[string]string{"sctp_vtag": "3735928559"}},
		{name: "gre4", payload: serialize(t, ip4(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4}, ip4(layers.IPProtocolTCP), tcp("S")), proto: 47,
			details: map[string]string{"gre_protocol": "2048"}},
		{name: "esp6", payload: serialize(t, ip6(layers.IPProtocolESP), gopacket.Payload([]byte{0, 0, 1, 0, 0, 0, 0, 7, 1, 2, 3, 4})), proto: 50,
			details: map[string]string{"esp_spi": "256", "esp_seq": "7"}},
		{name: "ah then tcp (v4)", payload: serialize(t, ip4(layers.IPProtocolAH), gopacket.Payload(append([]byte{byte(layers.IPProtocolTCP), 4, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
			serialize(t, tcp("R"))...))), proto: 6, ports: [2]uint16{40000, 443}, flags: "R", details: map[string]string{"ah_spi": "9"}},
		{name: "first ipv4 fragment keeps ports", payload: frag4(0, true), proto: 17, ports: [2]uint16{7, 9}, details: map[string]string{"ip_flags": `"MF"`, "frag_offset": "0"}},
		{name: "later ipv4 fragment has none", payload: frag4(3, false), proto: 17, details: map[string]string{"frag_offset": "3"}},
		{name: "first ipv6 fragment keeps ports", payload: frag6(0, true), proto: 17, ports: [2]uint16{7, 9}, details: map[string]string{"more_fragments": "true"}},
		{name: "later ipv6 fragment has none", payload: frag6(5, false), proto: 17, details: map[string]string{"frag_offset": "5"}},
		{name: "truncated tcp (copy range)", payload: serialize(t, ip4(layers.IPProtocolTCP), tcp("S"))[:30], proto: 6,
			details: map[string]string{"payload_error": `"truncated"`}},
		// A hop-by-hop header claiming 48 bytes where 8 are: gopacket
		// refuses the IPv6 layer; the fixed header's fields stay.
		{name: "ipv6 with a malformed hop-by-hop header keeps its addresses",
			payload: serialize(t, ip6(layers.IPProtocolIPv6HopByHop), gopacket.Payload(append([]byte{byte(layers.IPProtocolTCP), 5, 1, 4, 0, 0, 0, 0}, serialize(t, tcp("S"))...))),
			proto:   0, details: map[string]string{"payload_error": `"malformed"`, "ip6_next_header": "0"}},
	}
}

func checkPayloadCase(t *testing.T, tc payloadCase) {
	e := decodePayload(t, tc.payload, nil)
	validateNative(t, e)
	if !e.HasProto || e.Proto != tc.proto {
		t.Errorf("proto %d (has %v), want %d", e.Proto, e.HasProto, tc.proto)
	}
	if (tc.ports != [2]uint16{}) != e.HasPorts || e.SrcPort != tc.ports[0] || e.DestPort != tc.ports[1] {
		t.Errorf("ports %d→%d (has %v), want %v", e.SrcPort, e.DestPort, e.HasPorts, tc.ports)
	}
	if e.HasICMP != tc.hasICMP || e.ICMPType != tc.icmp[0] || e.ICMPCode != tc.icmp[1] {
		t.Errorf("icmp %d/%d (has %v), want %v", e.ICMPType, e.ICMPCode, e.HasICMP, tc.icmp)
	}
	if e.Packet == nil {
		t.Fatal("no packet fields")
	}
	if e.Packet.TCPFlags != tc.flags {
		t.Errorf("tcp flags %q, want %q", e.Packet.TCPFlags, tc.flags)
	}
	v4 := tc.payload[0]>>4 == 4
	if v4 && (e.SrcIP.String() != "192.0.2.1" || e.Packet.TTL != 61 || e.Packet.TOS != 0x10 || e.Packet.IPID != 4242) {
		t.Errorf("ipv4 fields: %s ttl %d tos %d id %d", e.SrcIP, e.Packet.TTL, e.Packet.TOS, e.Packet.IPID)
	}
	if !v4 && (e.DestIP.String() != "2001:db8::2" || e.Packet.TTL != 63 || e.Packet.TOS != 0x20) {
		t.Errorf("ipv6 fields: %s hop limit %d tc %d", e.DestIP, e.Packet.TTL, e.Packet.TOS)
	}
	if tc.details["payload_error"] == "" {
		if v := e.Details.Get("payload_error"); v != nil {
			t.Errorf("payload_error %s", v)
		}
		if int(e.Packet.Len) != len(tc.payload) {
			t.Errorf("len %d, want %d", e.Packet.Len, len(tc.payload))
		}
	}
	for k, want := range tc.details {
		if got := string(e.Details.Get(k)); got != want {
			t.Errorf("details.%s = %s, want %s", k, got, want)
		}
	}
}

func TestDecodeFirewallFields(t *testing.T) {
	lab, _ := NewLabeler(map[uint16]normalize.Action{3: normalize.ActionBlocked}, nil)
	d := NewDecoder(lab, IfaceMap{2: "eth0", 3: "eth1", 7: "br0"})
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	eth := []byte{0x02, 0, 0, 0, 0, 0xbb, 0x02, 0, 0, 0, 0, 0xaa, 0x08, 0x00}
	a := &Attrs{Family: FamilyInet, Group: 3, HasPacketHdr: true, HwProtocol: 0x0800, Hook: 2, Mark: 0x2a, Timestamp: ts,
		InDev: 2, OutDev: 3, PhysInDev: 7, HwType: 1, HasHwTyp: true, HwHeader: eth, HwAddr: eth[6:12],
		Prefix: []byte("DROP fwd\x00"), HasUID: true, UID: 1000, HasGID: true, GID: 100, HasSeq: true, Seq: 9,
		Payload: serialize(t, ip4(layers.IPProtocolTCP), tcp("S"))}
	var r Record
	recv := time.Now()
	d.Decode(a, recv, &r)
	e := &r.Event
	fw := e.Firewall
	if e.Action != normalize.ActionBlocked || fw.Group != 3 || fw.Prefix != "DROP fwd" || fw.Mark != 42 ||
		fw.InIface != "eth0" || fw.OutIface != "eth1" || *fw.UID != 1000 || *fw.GID != 100 {
		t.Errorf("firewall: action %s %+v", e.Action, fw)
	}
	if !e.Timestamp.Equal(ts) || !e.Received.Equal(recv) || e.Timestamp.Location() != time.UTC {
		t.Errorf("timestamp %v received %v", e.Timestamp, e.Received)
	}
	if e.SrcMAC != "02:00:00:00:00:aa" || e.DestMAC != "02:00:00:00:00:bb" {
		t.Errorf("macs %s → %s", e.SrcMAC, e.DestMAC)
	}
	for k, want := range map[string]string{"family": `"inet"`, "hook": `"forward"`, "ethertype": "2048", "in_ifindex": "2",
		"out_ifindex": "3", "phys_in_iface": `"br0"`, "seq": "9", "hw_type": "1", "hw_header": `"02:00:00:00:00:bb:02:00:00:00:00:aa:08:00"`} {
		if got := string(e.Details.Get(k)); got != want {
			t.Errorf("details.%s = %s, want %s", k, got, want)
		}
	}

	// Copy mode "meta": no payload, still an event with the firewall fields.
	a.Payload = nil
	d.Decode(a, recv, &r)
	if e.Packet != nil || e.HasProto || e.Firewall.Prefix != "DROP fwd" {
		t.Errorf("meta-only event: %+v", e)
	}
}

func TestDecodeBridge(t *testing.T) {
	l2 := []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x64, 0x86, 0xdd}
	e := decodePayload(t, serialize(t, ip6(layers.IPProtocolUDP), &layers.UDP{SrcPort: 1, DstPort: 2}), func(a *Attrs) {
		a.L2Hdr = l2
		a.HwProtocol = 0x86dd
	})
	if e.SrcMAC != "02:00:00:00:00:01" || e.DestMAC != "02:00:00:00:00:02" || len(e.VLAN) != 1 || e.VLAN[0] != 100 {
		t.Errorf("bridge L2: %s → %s vlan %v", e.SrcMAC, e.DestMAC, e.VLAN)
	}
	if got := string(e.Details.Get("family")); got != `"bridge"` {
		t.Errorf("family %s", got)
	}
	if e.Proto != 17 || e.DestPort != 2 {
		t.Errorf("proto %d port %d", e.Proto, e.DestPort)
	}
}

func TestDecodeNotIP(t *testing.T) {
	e := decodePayload(t, []byte{0x00, 0x01, 0x08, 0x00}, nil) // an ARP header in a bridge log
	if e.HasProto || e.Details.Get("payload_error") == nil {
		t.Errorf("not-IP payload: %+v", e)
	}
}
