package nflog

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// TestRecordFits checks that the busiest packets keep their Details in the
// Record's own storage, so decoding allocates nothing.
func TestRecordFits(t *testing.T) {
	d := NewDecoder(nil, IfaceMap{1: "eth0", 2: "eth1", 3: "br0", 4: "br1"})
	eth := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0}
	a := &Attrs{Family: FamilyInet, Group: 1, HasPacketHdr: true, HwProtocol: 0x800, Hook: 2, InDev: 1, OutDev: 2, PhysInDev: 3, PhysOutDev: 4,
		HasSeq: true, Seq: 4294967295, HasSeqGl: true, SeqGlobal: 4294967295, HasCtInfo: true, CtInfo: 4294967295,
		HasHwTyp: true, HwType: 1, HwHeader: eth, Prefix: []byte("x\x00")}
	tc := tcp("SAU")
	tc.Urgent = 65535
	ip := ip4(layers.IPProtocolTCP)
	ip.Flags |= layers.IPv4MoreFragments
	a.Payload = serialize(t, ip, tc)
	var r Record
	allocs := testing.AllocsPerRun(100, func() { d.Decode(a, time.Now(), &r) })
	if n := len(r.Event.Details); n > cap(r.details) {
		t.Errorf("%d details, room for %d", n, cap(r.details))
	}
	if allocs != 0 {
		t.Errorf("%v allocations per decode, want 0 (arena used %d of %d)", allocs, r.used, len(r.arena))
	}
}
