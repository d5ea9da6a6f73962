package query

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

func TestKeyerTellsValuesAndAbsenceApart(t *testing.T) {
	withSig := func(id uint32) *normalize.Event {
		return &normalize.Event{Signature: &normalize.Signature{ID: id}, SrcIP: netip.MustParseAddr("10.0.0.1"),
			Details: normalize.Details{{Key: "http", Value: normalize.RawJSON(`{"hostname":"a.example"}`)}}}
	}
	cases := []struct {
		field string
		a, b  *normalize.Event
		same  bool
	}{
		{"signature.id", withSig(1), withSig(1), true},
		{"signature.id", withSig(1), withSig(2), false},
		{"signature.id", withSig(0), &normalize.Event{}, false}, // sid 0 is not absence
		{"src_ip", withSig(1), &normalize.Event{SrcIP: netip.MustParseAddr("10.0.0.2")}, false},
		{"src_ip", &normalize.Event{SrcIP: netip.MustParseAddr("::ffff:10.0.0.1")}, withSig(1), true}, // one host, as the store indexes it
		{"proto_name", &normalize.Event{ProtoName: "tcp"}, &normalize.Event{ProtoName: "tcp"}, true},
		{"proto_name", &normalize.Event{ProtoName: ""}, &normalize.Event{ProtoName: "tcp"}, false},
		{"details.http.hostname", withSig(1), withSig(2), true},
		{"details.http.hostname", withSig(1), &normalize.Event{}, false},
		{"vlan", &normalize.Event{VLAN: []uint16{1, 2}}, &normalize.Event{VLAN: []uint16{1}}, false},
	}
	for _, c := range cases {
		f := Lookup(c.field)
		if f == nil {
			t.Fatalf("no field %s", c.field)
		}
		k := f.Keyer()
		ka, kb := k(nil, c.a), k(nil, c.b)
		if got := bytes.Equal(ka, kb); got != c.same {
			t.Errorf("%s: keys %x and %x equal=%v, want %v", c.field, ka, kb, got, c.same)
		}
	}
}
