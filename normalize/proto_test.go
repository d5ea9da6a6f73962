package normalize

import (
	"net/netip"
	"testing"
)

func TestProtoNumber(t *testing.T) {
	tests := []struct {
		in   string
		want uint8
		ok   bool
	}{
		// Suricata 7+ built-in table spellings.
		{"TCP", 6, true}, {"UDP", 17, true}, {"ICMP", 1, true}, {"IGMP", 2, true},
		{"IPv6", 41, true}, {"GRE", 47, true}, {"ESP", 50, true}, {"AH", 51, true},
		{"IPv6-ICMP", 58, true}, {"SCTP", 132, true}, {"UDPLite", 136, true},
		// /etc/protocols spellings (Suricata ≤ 6) and re-shippers.
		{"IPV6-ICMP", 58, true}, {"ipv6-icmp", 58, true}, {"tcp", 6, true}, {"OSPFIGP", 89, true},
		{"IP", 0, true}, {"HOPOPT", 0, true}, {"IPENCAP", 4, true}, {"IP-ENCAP", 4, true},
		{"ICMPv6", 58, true}, {"icmp6", 58, true}, {"ipv6-frag", 44, true}, {"Mobility-Header", 135, true},
		// Unnamed protocols come as decimal strings.
		{"253", 253, true}, {"0", 0, true}, {"255", 255, true},
		{"256", 0, false}, {"-1", 0, false}, {"", 0, false}, {"tcpx", 0, false},
		{"a-very-long-protocol-name-that-is-not-real-at-all", 0, false},
	}
	for _, tt := range tests {
		got, ok := ProtoNumber(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ProtoNumber(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestProtoName(t *testing.T) {
	tests := map[uint8]string{6: "tcp", 17: "udp", 1: "icmp", 58: "ipv6-icmp", 132: "sctp", 253: "253", 61: "61"}
	for n, want := range tests {
		if got := ProtoName(n); got != want {
			t.Errorf("ProtoName(%d) = %q, want %q", n, got, want)
		}
	}
	// Every keyword maps back to its own number.
	for n, k := range ianaKeywords {
		if k == "" {
			continue
		}
		if got, ok := ProtoNumber(k); !ok || int(got) != n {
			t.Errorf("round trip %q: %d, %v; want %d", k, got, ok, n)
		}
	}
}

func TestProtoNumberNoAlloc(t *testing.T) {
	if a := testing.AllocsPerRun(100, func() { ProtoNumber("IPv6-ICMP") }); a != 0 {
		t.Errorf("ProtoNumber allocates %.0f times", a)
	}
}

func TestCommunityID(t *testing.T) {
	// Vectors from corelight/community-id-spec's README and baseline.
	tcp := &Event{SrcIP: netip.MustParseAddr("128.232.110.120"), DestIP: netip.MustParseAddr("66.35.250.204"), SrcPort: 34855, DestPort: 80, HasPorts: true}
	tcp.SetProto(6)
	if got, want := CommunityID(tcp), "1:LQU9qZlK+B5F3KDmev6m5PMibrg="; got != want {
		t.Errorf("tcp: %s, want %s", got, want)
	}
	// The reverse direction has the same id.
	rev := *tcp
	rev.SrcIP, rev.DestIP, rev.SrcPort, rev.DestPort = tcp.DestIP, tcp.SrcIP, tcp.DestPort, tcp.SrcPort
	if CommunityID(&rev) != CommunityID(tcp) {
		t.Error("direction changes the id")
	}
	if CommunityID(&Event{}) != "" {
		t.Error("no addresses: want empty id")
	}
}
