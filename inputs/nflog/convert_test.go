package nflog

import (
	"reflect"
	"testing"
	"time"

	gonflog "github.com/florianl/go-nflog/v2"

	nfdec "github.com/alertgw/alertgw/normalize/nflog"
)

func TestFromGoNflog(t *testing.T) {
	u8 := func(v uint8) *uint8 { return &v }
	u16 := func(v uint16) *uint16 { return &v }
	u32 := func(v uint32) *uint32 { return &v }
	bs := func(b ...byte) *[]byte { return &b }
	prefix := "DROP-IN "
	ts := time.Unix(1795384640, 277422000)
	src := gonflog.Attribute{
		Hook: u8(1), HwProtocol: u16(0x86dd), Mark: u32(42), Timestamp: &ts, InDev: u32(2), OutDev: u32(3),
		PhysInDev: u32(4), PhysOutDev: u32(5), Payload: bs(0x60, 0), Prefix: &prefix, UID: u32(1000), GID: u32(100),
		Seq: u32(7), SeqGlobal: u32(8), HwType: u16(1), HwAddr: bs(1, 2, 3, 4, 5, 6), HwHeader: bs(9, 9),
		Layer2Hdr: bs(7, 7), CtInfo: u32(2), VLAN: &gonflog.VLAN{Proto: 0x8100, TCI: 5},
	}
	var a nfdec.Attrs
	fromGoNflog(&src, 11, &a)
	want := nfdec.Attrs{Group: 11, HasPacketHdr: true, HwProtocol: 0x86dd, Hook: 1, Mark: 42, Timestamp: ts,
		InDev: 2, OutDev: 3, PhysInDev: 4, PhysOutDev: 5, HwType: 1, HasHwTyp: true,
		UID: 1000, GID: 100, HasUID: true, HasGID: true, Seq: 7, SeqGlobal: 8, HasSeq: true, HasSeqGl: true,
		VLANProto: 0x8100, VLANTCI: 5, HasVLAN: true, CtInfo: 2, HasCtInfo: true}
	if string(a.Prefix) != prefix || len(a.Payload) != 2 || len(a.HwAddr) != 6 || len(a.HwHeader) != 2 || len(a.L2Hdr) != 2 {
		t.Errorf("slices: %+v", a)
	}
	a.Prefix, a.Payload, a.HwAddr, a.HwHeader, a.L2Hdr = nil, nil, nil, nil, nil
	if !a.Timestamp.Equal(want.Timestamp) {
		t.Errorf("timestamp %v", a.Timestamp)
	}
	a.Timestamp, want.Timestamp = time.Time{}, time.Time{}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("got  %+v\nwant %+v", a, want)
	}
	// Nothing set: nothing present.
	fromGoNflog(&gonflog.Attribute{}, 3, &a)
	if a.HasPacketHdr || a.HasUID || a.HasSeq || a.Payload != nil || a.Group != 3 {
		t.Errorf("empty attribute: %+v", a)
	}
}
