package normalize

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
)

// CommunityID returns the Community ID v1 (seed 0, base64) of the event's
// flow tuple (corelight/community-id-spec), or "" when the event has no
// addresses or protocol. It is CommunityIDSeed with the default seed.
func CommunityID(e *Event) string { return CommunityIDSeed(e, 0) }

// CommunityIDSeed returns the Community ID v1 (base64) of the event's flow
// tuple hashed with seed, or "" when the event has no addresses or
// protocol. The seed is what Suricata's community-id-seed, Zeek's
// CommunityID::seed and Filebeat's community_id processor call seed: sites
// set it so that their tools agree, and every tool of a site must use the
// same one (the spec's baselines hold IDs for seeds 0 and 1, and normalize's
// tests check both).
//
// The rules are the reference implementation's (corelight/pycommunityid):
// TCP, UDP and SCTP need their ports (an event of those without ports, a
// fragment, gets no ID rather than one no other tool would compute); for
// ICMP and ICMPv6 the type and code stand in for the ports, mapped by
// icmpCounterpart (request/reply pairs, one-way messages); other
// protocols hash addresses and protocol only, plus ports if the source gave
// any. The library always hashes two ports, which gives a wrong ID for,
// say, RSVP, GRE or ESP (the official vectors include RSVP, and normalize's
// tests check every one of them).
//
// The hash is computed here rather than with the library's Calc: it feeds a
// reflection-based binary.Write and allocates a sha1 state and net.IPs:
// 650 ns and 11 allocations per IPv6 TCP event on the reference machine,
// as much as encoding the event. Here the tuple is laid out in a stack
// buffer and hashed with sha1.Sum: 110 ns and one allocation (the returned
// string). BenchmarkCommunityID compares both; docs/performance/formats.md
// has the figures.
func CommunityIDSeed(e *Event, seed uint16) string {
	if !e.SrcIP.IsValid() || !e.DestIP.IsValid() || !e.HasProto {
		return ""
	}
	src, dst := e.SrcIP.Unmap(), e.DestIP.Unmap()
	var sport, dport uint16
	hasPorts, oneWay := false, false
	switch e.Proto {
	case protoICMP, protoICMPv6:
		typ, code := e.ICMPType, e.ICMPCode
		switch {
		case e.HasICMP:
		case e.HasPorts && e.SrcPort <= 0xff && e.DestPort <= 0xff:
			// A source that puts type and code in the port fields (EVE
			// does for some records): the reference implementation takes
			// them as given.
			typ, code = uint8(e.SrcPort), uint8(e.DestPort)
		default:
			return "" // the spec hashes type and code: no ID without them
		}
		sport, dport, oneWay = icmpPorts(e.Proto, typ, code)
		hasPorts = true
	case protoTCP, protoUDP, protoSCTP:
		if !e.HasPorts {
			// A truncated packet or fragment: the spec's tuple needs the
			// ports, and an ID other tools would not compute is worse than
			// none (as the reference implementation, which refuses it).
			return ""
		}
		sport, dport, hasPorts = e.SrcPort, e.DestPort, true
	default:
		// Other protocols hash without ports, unless the source gave some:
		// the reference implementation (corelight/pycommunityid) hashes
		// whatever ports it is given.
		if e.HasPorts {
			sport, dport, hasPorts = e.SrcPort, e.DestPort, true
		}
	}
	// The spec orders the endpoints (smaller address first, then smaller
	// port) so both directions of a flow get one ID; one-way ICMP messages
	// keep their direction. Addresses compare as their packed bytes, as the
	// reference implementation does (which also decides the odd case of an
	// IPv4 and an IPv6 address).
	var sa, da [16]byte
	sl, dl := putAddr(sa[:], src), putAddr(da[:], dst)
	if !oneWay {
		if c := bytes.Compare(sa[:sl], da[:dl]); c > 0 || (c == 0 && sport > dport) {
			sa, da, sl, dl, sport, dport = da, sa, dl, sl, dport, sport
		}
	}
	var buf [2 + 16 + 16 + 2 + 4]byte // seed, two addresses, proto + pad, two ports
	binary.BigEndian.PutUint16(buf[:], seed)
	n := 2
	n += copy(buf[n:], sa[:sl])
	n += copy(buf[n:], da[:dl])
	buf[n] = e.Proto
	n += 2
	if hasPorts {
		binary.BigEndian.PutUint16(buf[n:], sport)
		binary.BigEndian.PutUint16(buf[n+2:], dport)
		n += 4
	}
	sum := sha1.Sum(buf[:n])
	var out [2 + 28]byte
	out[0], out[1] = '1', ':'
	base64.StdEncoding.Encode(out[2:], sum[:])
	return string(out[:])
}

// IANA protocol numbers the Community ID treats apart.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

// icmpCounterpart maps each ICMP (index 0) and ICMPv6 (index 1) request
// type to its reply and back, as Zeek does (ICMP4_counterpart and
// ICMP6_counterpart) and the reference implementation (pycommunityid)
// copies: echo, timestamp, information, router solicitation/advertisement
// and address mask for ICMP; echo, MLD query/report, router and neighbor
// discovery, who-are-you (node information) and home agent address
// discovery for ICMPv6. A type without one is a one-way message.
var icmpCounterpart = func() (t [2][256]struct {
	typ uint8
	ok  bool
}) {
	pairs := [2][][2]uint8{
		{{8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18}},
		{{128, 129}, {130, 131}, {133, 134}, {135, 136}, {139, 140}, {144, 145}},
	}
	for v, ps := range pairs {
		for _, p := range ps {
			t[v][p[0]].typ, t[v][p[0]].ok = p[1], true
			t[v][p[1]].typ, t[v][p[1]].ok = p[0], true
		}
	}
	return t
}()

// icmpPorts returns the port equivalents of an ICMP (proto 1) or ICMPv6
// message: its type and its counterpart's for a request or a reply; its
// type and code for a one-way message, which keeps its direction.
func icmpPorts(proto, typ, code uint8) (sport, dport uint16, oneWay bool) {
	v := 0
	if proto == protoICMPv6 {
		v = 1
	}
	if peer := icmpCounterpart[v][typ]; peer.ok {
		return uint16(typ), uint16(peer.typ), false
	}
	return uint16(typ), uint16(code), true
}

func putAddr(dst []byte, a netip.Addr) int {
	if a.Is4() {
		b := a.As4()
		return copy(dst, b[:])
	}
	b := a.As16()
	return copy(dst, b[:])
}
