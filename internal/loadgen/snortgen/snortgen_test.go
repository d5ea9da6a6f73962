package snortgen

import (
	"testing"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/snort"
	u2 "github.com/alertgw/alertgw/normalize/unified2"
)

// Every generated record decodes with the gateway's own decoders into the
// alert the generator meant.
func TestGeneratedRecordsDecode(t *testing.T) {
	for _, kind := range Names {
		g, err := New(kind, 7)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 200 {
			rec := g.Next(nil)
			var ev normalize.Event
			if kind == "unified2" {
				var agg u2.Aggregator
				var got *u2.Alert
				if err := u2.Split(rec, func(r u2.Record) error {
					a, err := agg.Add(r)
					if a != nil {
						got = a
					}
					return err
				}); err != nil {
					t.Fatal(err)
				}
				got = agg.Flush()
				if got == nil || len(got.Packets) != 1 {
					t.Fatalf("%s %d: no aggregated alert", kind, i)
				}
				(&u2.Mapper{}).Map(got, &ev)
			} else if err := (&snort.Decoder{}).Decode(rec, &ev); err != nil {
				t.Fatalf("%s %d: %v", kind, i, err)
			}
			s := ev.Signature
			r := rules[(i%64)%len(rules)] // 64 frames cycled, rules assigned round-robin
			if s.ID != r.sid || s.GID != r.gid || !ev.SrcIP.IsValid() || !ev.HasProto {
				t.Fatalf("%s %d: %+v %v proto %v", kind, i, s, ev.SrcIP, ev.HasProto)
			}
			if kind != "unified2" && kind != "barnyard2" && s.Name != r.msg {
				t.Fatalf("%s: msg %q", kind, s.Name)
			}
		}
	}
}
