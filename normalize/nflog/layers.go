package nflog

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// gopacket has no DecodingLayer for the IPv6 routing header, and its
// destination-options and AH layers keep every option (allocating per
// packet) where NFLOG needs only the next header. These small layers fill
// the gaps so that one reused DecodingLayerParser walks the whole header
// chain without allocating.

var errShortExt = errors.New("IPv6 extension header truncated")

// ip6Ext skips an IPv6 hop-by-hop (after a fragment or repeated), routing
// or destination-options header, recording its next header.
type ip6Ext struct {
	layers.BaseLayer
	next layers.IPProtocol
	d    *Decoder
}

var ip6ExtClass = gopacket.NewLayerClass([]gopacket.LayerType{
	layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination,
})

func (e *ip6Ext) CanDecode() gopacket.LayerClass    { return ip6ExtClass }
func (e *ip6Ext) NextLayerType() gopacket.LayerType { return e.next.LayerType() }
func (e *ip6Ext) LayerType() gopacket.LayerType     { return layers.LayerTypeIPv6Destination }
func (e *ip6Ext) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return errShortExt
	}
	n := int(data[1])*8 + 8
	if n > len(data) {
		df.SetTruncated()
		return errShortExt
	}
	e.next = layers.IPProtocol(data[0])
	e.d.l4proto, e.d.extSeen = data[0], true
	e.BaseLayer = layers.BaseLayer{Contents: data[:n], Payload: data[n:]}
	return nil
}

// ip6Frag reads an IPv6 fragment header. After a non-first fragment there is
// no upper-layer header to decode, so it ends the chain there.
type ip6Frag struct {
	layers.BaseLayer
	next layers.IPProtocol
	d    *Decoder
}

func (f *ip6Frag) CanDecode() gopacket.LayerClass { return layers.LayerTypeIPv6Fragment }
func (f *ip6Frag) LayerType() gopacket.LayerType  { return layers.LayerTypeIPv6Fragment }
func (f *ip6Frag) NextLayerType() gopacket.LayerType {
	if f.d.fragOffset != 0 {
		return gopacket.LayerTypeFragment
	}
	return f.next.LayerType()
}
func (f *ip6Frag) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return errShortExt
	}
	f.next = layers.IPProtocol(data[0])
	fo := binary.BigEndian.Uint16(data[2:4])
	f.d.l4proto, f.d.extSeen = data[0], true
	f.d.fragment = true
	f.d.fragOffset = fo >> 3
	f.d.moreFrags = fo&1 != 0
	f.d.fragID = binary.BigEndian.Uint32(data[4:8])
	f.BaseLayer = layers.BaseLayer{Contents: data[:8], Payload: data[8:]}
	return nil
}

// ipAH skips an IPsec authentication header (RFC 4302): its length is in
// 4-octet units minus 2.
type ipAH struct {
	layers.BaseLayer
	next layers.IPProtocol
	spi  uint32
	d    *Decoder
}

func (a *ipAH) CanDecode() gopacket.LayerClass    { return layers.LayerTypeIPSecAH }
func (a *ipAH) LayerType() gopacket.LayerType     { return layers.LayerTypeIPSecAH }
func (a *ipAH) NextLayerType() gopacket.LayerType { return a.next.LayerType() }
func (a *ipAH) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 12 {
		df.SetTruncated()
		return errors.New("AH header truncated")
	}
	n := (int(data[1]) + 2) * 4
	if n > len(data) {
		df.SetTruncated()
		return errors.New("AH header truncated")
	}
	a.next = layers.IPProtocol(data[0])
	a.spi = binary.BigEndian.Uint32(data[4:8])
	a.d.l4proto, a.d.extSeen = data[0], true
	a.d.ahSeen = true
	a.BaseLayer = layers.BaseLayer{Contents: data[:n], Payload: data[n:]}
	return nil
}

// ipESP reads an ESP header's SPI and sequence number; what follows is
// encrypted.
type ipESP struct {
	layers.BaseLayer
	spi, seq uint32
}

func (e *ipESP) CanDecode() gopacket.LayerClass    { return layers.LayerTypeIPSecESP }
func (e *ipESP) LayerType() gopacket.LayerType     { return layers.LayerTypeIPSecESP }
func (e *ipESP) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }
func (e *ipESP) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return errors.New("ESP header truncated")
	}
	e.spi = binary.BigEndian.Uint32(data[0:4])
	e.seq = binary.BigEndian.Uint32(data[4:8])
	e.BaseLayer = layers.BaseLayer{Contents: data[:8]}
	return nil
}

// greOuter decodes a GRE header but stops there: the tunnelled packet is
// not the one the firewall logged, and decoding it would overwrite the
// outer IP layer the parser reuses.
type greOuter struct{ layers.GRE }

func (g *greOuter) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }
