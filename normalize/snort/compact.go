package snort

import (
	"bytes"
	"crypto/rand"
	"fmt"
)

// Compact shrinks Snort Alertpkt datagrams between the socket and the
// decoder. An Alertpkt is 65,864 bytes of which typically ~500 matter: the
// 292-byte head, the captured packet (caplen bytes of a 65,535-byte area)
// and the 36-byte event at the end. Copying and keeping whole datagrams
// until the event is written dominated the socket listener's cost (a 64 KiB
// allocation, clear and copy per alert); the compact form keeps exactly the
// bytes the decoder reads, so decoding it gives the same alert.
//
// Only datagrams the decoder accepts by size (Format permitting) are
// compacted; anything else is kept verbatim, so that what fails to decode is
// dead-lettered as it arrived. A compact message starts with a random
// per-Compact nonce, which a sender cannot predict, so a verbatim datagram
// is never mistaken for a compact one.
type Compact struct {
	nonce  [8]byte
	format Format
}

// compactHead is the nonce and one byte: 0 for a 65,864-byte datagram, 1
// for a 65,928-byte one (OpenAppID). Then the datagram's head, its tail
// (event and app name), and last the captured packet bytes.
const compactHead = 9

// NewCompact returns a compactor for datagrams read with format f.
func NewCompact(f Format) (*Compact, error) {
	c := &Compact{format: f}
	if _, err := rand.Read(c.nonce[:]); err != nil {
		return nil, fmt.Errorf("compact nonce: %w", err)
	}
	return c, nil
}

// Append appends msg to dst, compacted when the decoder would accept it.
func (c *Compact) Append(dst, msg []byte) []byte {
	if c.format == FormatBarnyard2 || (len(msg) != SizeAlertpkt && len(msg) != SizeAlertpktAppID) {
		return append(dst, msg...)
	}
	var appID byte
	if len(msg) == SizeAlertpktAppID {
		appID = 1
	}
	caplen := uint32(msg[offSnortPkth+8]) | uint32(msg[offSnortPkth+9])<<8 | uint32(msg[offSnortPkth+10])<<16 | uint32(msg[offSnortPkth+11])<<24
	k := int(min(uint64(caplen), pktLenSnort))
	dst = append(dst, c.nonce[:]...)
	dst = append(dst, appID)
	dst = append(dst, msg[:offSnortPkt]...)
	dst = append(dst, msg[offSnortEvent:]...)
	return append(dst, msg[offSnortPkt:offSnortPkt+k]...)
}

// parse reads a compact message; ok is false when msg is not one.
func (c *Compact) parse(msg []byte, a *Alert) (ok bool) {
	if len(msg) < compactHead+offSnortPkt+SizeAlertpkt-offSnortEvent || !bytes.Equal(msg[:8], c.nonce[:]) || msg[8] > 1 {
		return false
	}
	tailLen := SizeAlertpkt - offSnortEvent
	if msg[8] == 1 {
		tailLen = SizeAlertpktAppID - offSnortEvent
	}
	if len(msg) < compactHead+offSnortPkt+tailLen {
		return false
	}
	head := msg[compactHead : compactHead+offSnortPkt]
	tail := msg[compactHead+offSnortPkt : compactHead+offSnortPkt+tailLen]
	room := msg[compactHead+offSnortPkt+tailLen:]
	parseSnortParts(head, room, tail, msg[8] == 1, a, c.format == FormatSnort3)
	return true
}
