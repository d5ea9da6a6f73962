package unified2

import (
	"fmt"
)

// AppendRecord appends a serial header and body: the framing of files and
// of socket datagrams.
func AppendRecord(dst []byte, typ uint32, body []byte) []byte {
	dst = be.AppendUint32(dst, typ)
	dst = be.AppendUint32(dst, uint32(len(body)))
	return append(dst, body...)
}

// AppendEventBody appends the body of an event record of type e.Type
// (7, 72, 104, 105, 111, 112 or 114), the inverse of DecodeEvent. App names
// are written in 64 bytes.
func AppendEventBody(dst []byte, e *Event) ([]byte, error) {
	if e.Type == TypeEvent3 {
		return appendEvent3(dst, e), nil
	}
	v6 := e.Type == TypeIDSEventIPv6 || e.Type == TypeIDSEventIPv6VLN || e.Type == TypeIDSEventAppIDv6
	switch e.Type {
	case TypeIDSEvent, TypeIDSEventIPv6, TypeIDSEventVLAN, TypeIDSEventIPv6VLN, TypeIDSEventAppID, TypeIDSEventAppIDv6:
	default:
		return dst, fmt.Errorf("type %d is not an event record", e.Type)
	}
	for _, x := range [...]uint32{e.SensorID, e.EventID, e.Second, e.Microsecond, e.SID, e.GID, e.Rev, e.Class, e.Priority} {
		dst = be.AppendUint32(dst, x)
	}
	if v6 {
		s, d := e.Src.As16(), e.Dst.As16()
		dst = append(append(dst, s[:]...), d[:]...)
	} else {
		s, d := e.Src.Unmap().As4(), e.Dst.Unmap().As4()
		dst = append(append(dst, s[:]...), d[:]...)
	}
	dst = be.AppendUint16(dst, e.SPortIType)
	dst = be.AppendUint16(dst, e.DPortICode)
	dst = append(dst, e.Proto, e.ImpactFlag, e.Impact, e.Blocked)
	switch e.Type {
	case TypeIDSEventVLAN, TypeIDSEventIPv6VLN, TypeIDSEventAppID, TypeIDSEventAppIDv6:
		dst = be.AppendUint32(dst, e.MPLSLabel)
		dst = be.AppendUint16(dst, e.VLAN)
		dst = be.AppendUint16(dst, e.PolicyID)
		if e.Type == TypeIDSEventAppID || e.Type == TypeIDSEventAppIDv6 || len(e.AppName) > 0 {
			dst = appendFixed(dst, e.AppName, 64)
		}
	}
	return dst, nil
}

func appendEvent3(dst []byte, e *Event) []byte {
	for _, x := range [...]uint32{e.SensorID, e.EventID, e.Second, e.Microsecond, e.GID, e.SID, e.Rev, e.Class, e.Priority,
		e.PolicyContext, e.PolicyInspect, e.PolicyDetect} {
		dst = be.AppendUint32(dst, x)
	}
	s, d := e.Src.As16(), e.Dst.As16() // IPv4 is stored IPv4-mapped
	dst = append(append(dst, s[:]...), d[:]...)
	dst = be.AppendUint32(dst, e.MPLSLabel)
	dst = be.AppendUint16(dst, e.SPortIType)
	dst = be.AppendUint16(dst, e.DPortICode)
	dst = be.AppendUint16(dst, e.VLAN)
	dst = be.AppendUint16(dst, 0)
	dst = append(dst, e.IPVer, e.Proto, e.Status, e.Action)
	dst = appendFixed(dst, e.AppName, 64)
	dst = be.AppendUint32(dst, e.HTTPRequestSize)
	dst = be.AppendUint32(dst, e.HTTPResponseSize)
	dst = appendFixed(dst, e.HTTPMethod, 80)
	dst = appendFixed(dst, e.HTTPVersion, 16)
	dst = appendFixed(dst, e.HTTPUserAgent, 256)
	dst = appendFixed(dst, e.HTTPReferer, 256)
	return appendFixed(dst, e.MessageDetail, 256)
}

// appendFixed appends b NUL-padded (and NUL-terminated) to n bytes.
func appendFixed(dst, b []byte, n int) []byte {
	b = b[:min(len(b), n-1)]
	dst = append(dst, b...)
	return append(dst, make([]byte, n-len(b))...)
}

// AppendPacketBody appends a packet record body (type 2 or 3).
func AppendPacketBody(dst []byte, p *Packet) []byte {
	for _, x := range [...]uint32{p.SensorID, p.EventID, p.EventSecond, p.Second, p.Microsecond, p.LinkType, uint32(len(p.Data))} {
		dst = be.AppendUint32(dst, x)
	}
	return append(dst, p.Data...)
}

// AppendExtraDataBody appends an extra-data record body (type 110).
func AppendExtraDataBody(dst []byte, x *ExtraData) []byte {
	total := uint32(32 + len(x.Data))
	for _, v := range [...]uint32{4, total, x.SensorID, x.EventID, x.EventSecond, x.InfoType, 1, uint32(len(x.Data)) + 8} {
		dst = be.AppendUint32(dst, v)
	}
	return append(dst, x.Data...)
}
