package normalize

import (
	"net"
	"net/netip"
	"sync"

	"github.com/satta/gommunityid"
)

// Community ID v1 (corelight/community-id-spec), computed by satta/gommunityid.
var (
	communityOnce sync.Once
	communityID   gommunityid.CommunityID
)

// CommunityID returns the Community ID v1 (seed 0) of the event's 5-tuple,
// or "" when the event has no addresses or protocol. For ICMP and ICMPv6 the
// type and code stand in for the ports, as the spec says.
func CommunityID(e *Event) string {
	if !e.SrcIP.IsValid() || !e.DestIP.IsValid() || !e.HasProto {
		return ""
	}
	communityOnce.Do(func() {
		communityID, _ = gommunityid.GetCommunityIDByVersion(1, 0)
	})
	sport, dport := e.SrcPort, e.DestPort
	if e.HasICMP && (e.Proto == 1 || e.Proto == 58) {
		sport, dport = uint16(e.ICMPType), uint16(e.ICMPCode)
	}
	ft := gommunityid.MakeFlowTuple(ipOf(e.SrcIP), ipOf(e.DestIP), sport, dport, e.Proto)
	return communityID.CalcBase64(ft)
}

func ipOf(a netip.Addr) net.IP {
	if a.Is4() || a.Is4In6() {
		b := a.Unmap().As4()
		return net.IP(b[:])
	}
	b := a.As16()
	return net.IP(b[:])
}
