package packet

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// IPv6 is gopacket's IPv6 layer, lenient where the library is strict. The
// library decodes a hop-by-hop header as part of the IPv6 layer and refuses
// the whole layer when that header is malformed (an option running past
// it, a payload length shorter than it): the event would lose its
// addresses, and crafted hop-by-hop headers are exactly what an analyst
// wants to see. Then the fixed 40-byte header is decoded here, Malformed is
// set, and the walk stops at this layer. NFLOG's decoder uses it too.
type IPv6 struct {
	layers.IPv6
	Malformed bool
}

// DecodeFromBytes implements gopacket.DecodingLayer.
func (l *IPv6) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	l.Malformed = false
	err := l.IPv6.DecodeFromBytes(data, df)
	if err == nil || len(data) < 40 {
		return err
	}
	length := binary.BigEndian.Uint16(data[4:6])
	end := len(data)
	if n := 40 + int(length); length != 0 && n < end { // 0: a jumbogram, sized by the header that failed
		end = n
	}
	l.IPv6 = layers.IPv6{
		BaseLayer:    layers.BaseLayer{Contents: data[:40], Payload: data[40:end]},
		Version:      data[0] >> 4,
		TrafficClass: uint8(binary.BigEndian.Uint16(data[0:2]) >> 4),
		FlowLabel:    binary.BigEndian.Uint32(data[0:4]) & 0x000fffff,
		Length:       length,
		NextHeader:   layers.IPProtocol(data[6]),
		HopLimit:     data[7],
		SrcIP:        data[8:24],
		DstIP:        data[24:40],
	}
	l.Malformed = true
	return nil
}

// NextLayerType implements gopacket.DecodingLayer: nothing after a header
// decoded by hand.
func (l *IPv6) NextLayerType() gopacket.LayerType {
	if l.Malformed {
		return gopacket.LayerTypeZero
	}
	return l.IPv6.NextLayerType()
}

// ethernet and dot1q stop at EtherType 0xffff, which gopacket decodes as
// IPv4 ("Raw"; google/gopacket did not): no IPv4 datagram is framed with
// it, and a frame that claims it is damaged or not IP.
type ethernet struct{ layers.Ethernet }

func (e *ethernet) NextLayerType() gopacket.LayerType { return nextAfter(e.EthernetType) }

type dot1q struct{ layers.Dot1Q }

func (d *dot1q) NextLayerType() gopacket.LayerType { return nextAfter(d.Type) }

func nextAfter(t layers.EthernetType) gopacket.LayerType {
	if t == layers.EthernetTypeRaw {
		return gopacket.LayerTypeZero
	}
	return t.LayerType()
}
