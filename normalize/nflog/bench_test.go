package nflog

import (
	"testing"
	"time"

	"github.com/alertgw/alertgw/normalize"
)

// BenchmarkDecode measures attribute parsing plus packet decoding over every
// packet message of the corpus capture (ICMP, ICMPv6, TCP, UDP).
func BenchmarkDecode(b *testing.B) {
	var msgs [][]byte
	for _, dg := range readDatagrams(b) {
		for rest := dg; len(rest) > 0; {
			msg, typ, r, err := NextMessage(rest)
			if err != nil {
				b.Fatal(err)
			}
			if typ == MsgPacket {
				msgs = append(msgs, msg)
			}
			rest = r
		}
	}
	lab, _ := NewLabeler(map[uint16]normalize.Action{5: normalize.ActionAllowed}, []PrefixRule{{Glob: "*DROP*", Action: normalize.ActionBlocked}})
	d := NewDecoder(lab, IfaceMap{1: "lo"})
	recv := time.Now()
	recs := make([]Record, len(msgs))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(msgs)
		var a Attrs
		if err := ParseMessage(msgs[j], &a); err != nil {
			b.Fatal(err)
		}
		d.Decode(&a, recv, &recs[j])
	}
}
