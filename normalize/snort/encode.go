package snort

import (
	"encoding/binary"
	"fmt"
)

// AppendDatagram appends a as one datagram in the layout of v, exactly as
// the sensor sends it (test data, `alertgw send`). Pkt is copied up to the
// room the layout has; the other fields are written as they are, so
// callers can also build hostile datagrams.
func AppendDatagram(dst []byte, a *Alert, v Variant) ([]byte, error) {
	switch v {
	case VariantSnort2, VariantSnort2AppID, VariantSnort3:
		return appendSnort(dst, a, v), nil
	case VariantBarnyard2:
		return appendBarnyard2(dst, a), nil
	}
	return dst, fmt.Errorf("unknown variant %q", v)
}

func grow(dst []byte, n int) ([]byte, []byte) {
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	b := dst[start:]
	clear(b)
	return dst, b
}

func appendSnort(dst []byte, a *Alert, v Variant) []byte {
	size := SizeAlertpkt
	if v == VariantSnort2AppID {
		size = SizeAlertpktAppID
	}
	dst, b := grow(dst, size)
	le := binary.LittleEndian
	msg := b[:msgLen-1]
	if v == VariantSnort3 {
		n := copy(msg[1:len(msg)-1], a.Msg)
		msg[0], msg[n+1] = '"', '"'
	} else {
		copy(msg, a.Msg)
	}
	h := b[offSnortPkth:]
	le.PutUint32(h, a.TsSec)
	le.PutUint32(h[4:], a.TsUsec)
	le.PutUint32(h[8:], a.Caplen)
	le.PutUint32(h[12:], a.Len)
	o := b[offSnortHdrs:]
	for i, x := range [...]uint32{a.DLTHdr, a.NetHdr, a.TransHdr, a.Data, a.Val} {
		le.PutUint32(o[4*i:], x)
	}
	copy(b[offSnortPkt:offSnortPkt+pktLenSnort], a.Pkt)
	e := b[offSnortEvent:]
	for i, x := range [...]uint32{a.GID, a.SID, a.Rev, a.Class, a.Priority, a.EventID, a.EventRef, a.RefSec, a.RefUsec} {
		le.PutUint32(e[4*i:], x)
	}
	if v == VariantSnort2AppID {
		copy(b[offSnortApp:offSnortApp+appNameLen-1], a.AppName)
	}
	return dst
}

func appendBarnyard2(dst []byte, a *Alert) []byte {
	dst, b := grow(dst, SizeBarnyard2)
	le, be := binary.LittleEndian, binary.BigEndian
	copy(b[:msgLen-1], a.Msg)
	h := b[offBy2Pkth:]
	le.PutUint64(h, uint64(a.TsSec))
	le.PutUint64(h[8:], uint64(a.TsUsec))
	le.PutUint32(h[16:], a.Caplen)
	le.PutUint32(h[20:], a.Len)
	o := b[offBy2Hdrs:]
	for i, x := range [...]uint32{a.DLTHdr, a.NetHdr, a.TransHdr, a.Data, a.Val} {
		le.PutUint32(o[4*i:], x)
	}
	copy(b[offBy2Pkt:offBy2Pkt+pktLenBy2], a.Pkt)
	e := b[offBy2Event:]
	for i, x := range [...]uint32{a.SensorID, a.EventID, a.RefSec, a.RefUsec, a.SID, a.GID, a.Rev, a.Class, a.Priority} {
		be.PutUint32(e[4*i:], x)
	}
	return dst
}
