package outputs

import (
	"fmt"
	"testing"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
)

// countingEncoder writes the event's id and counts its calls.
type countingEncoder struct{ calls *int }

func (countingEncoder) Name() string { return "counting" }
func (c countingEncoder) AppendEvent(dst []byte, e *normalize.Event) []byte {
	*c.calls++
	return append(dst, e.ID...)
}

func batchOf(ids ...string) *Batch {
	b := &Batch{}
	for _, id := range ids {
		b.Events = append(b.Events, &normalize.Event{ID: id})
	}
	return b
}

func TestEncodeLinesManyEvents(t *testing.T) {
	var calls int
	enc := countingEncoder{&calls}
	var ids []string
	for i := range 100 {
		ids = append(ids, fmt.Sprintf("event-%d", i*37)) // lines of different lengths
	}
	l := batchOf(ids...).Encode(enc)
	for i, id := range ids {
		if got := string(l.Line(i)); got != id {
			t.Fatalf("line %d = %q, want %q", i, got, id)
		}
	}
	if calls != len(ids) {
		t.Errorf("encoded %d times, want %d", calls, len(ids))
	}
}

func TestJoinKeepsEncoding(t *testing.T) {
	var calls int
	enc := countingEncoder{&calls}
	a, b, c := batchOf("a1", "a2"), batchOf("b1"), batchOf("c1", "c2", "c3")
	for _, x := range []*Batch{a, b, c} {
		x.Encode(enc)
	}
	before := calls

	tests := []struct {
		name    string
		enc     *countingEncoder
		parts   []*Batch
		want    []string
		encodes int // AppendEvent calls by the joined batch's Encode
	}{
		{"encoded parts", &enc, []*Batch{a, b, c}, []string{"a1", "a2", "b1", "c1", "c2", "c3"}, 0},
		{"one part not encoded", &enc, []*Batch{a, batchOf("d1")}, []string{"a1", "a2", "d1"}, 3},
		{"no encoder", nil, []*Batch{b, c}, []string{"b1", "c1", "c2", "c3"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var j *Batch
			if tt.enc != nil {
				j = Join(*tt.enc, tt.parts)
			} else {
				j = Join(nil, tt.parts)
			}
			before = calls
			l := j.Encode(enc)
			if got := calls - before; got != tt.encodes {
				t.Errorf("joined batch encoded %d events, want %d", got, tt.encodes)
			}
			if len(j.Events) != len(tt.want) {
				t.Fatalf("%d events, want %d", len(j.Events), len(tt.want))
			}
			for i, id := range tt.want {
				if j.Events[i].ID != id || string(l.Line(i)) != id {
					t.Errorf("event %d: id %q line %q, want %q", i, j.Events[i].ID, l.Line(i), id)
				}
			}
		})
	}
}

func TestSelectCarriesEncodingsOver(t *testing.T) {
	evs := []*normalize.Event{{ID: "a", Kind: normalize.KindAlert}, {ID: "b", Kind: normalize.KindFlow}, {ID: "c", Kind: normalize.KindAlert}}
	b := &Batch{Events: evs}
	full := b.Encode(format.Native{})
	sel := b.Select([]int{0, 2})
	if len(sel.Events) != 2 || sel.Events[1].ID != "c" {
		t.Fatalf("events %v", sel.Events)
	}
	got := sel.encodedAs(format.Native{})
	if got == nil {
		t.Fatal("the selection lost the batch's encoding")
	}
	want := string(full.Line(0)) + "\n" + string(full.Line(2)) + "\n"
	if string(got.Data) != want || got.Ends[0] != len(full.Line(0))+1 {
		t.Fatalf("selected lines %q, want %q", got.Data, want)
	}
	if again := EncodeLines(format.Native{}, sel.Events); string(again.Data) != want {
		t.Fatalf("copied lines differ from encoding the selection: %q", again.Data)
	}
}

func TestEncodedPartsShareTheParts(t *testing.T) {
	var calls int
	enc := countingEncoder{&calls}
	a, b := batchOf("a1", "a2"), batchOf("b1")
	la, lb := a.Encode(enc), b.Encode(enc)

	j := Join(enc, []*Batch{a, b})
	parts := j.EncodedParts(enc)
	if len(parts) != 2 || parts[0] != la || parts[1] != lb {
		t.Fatalf("EncodedParts = %v, want the parts' own Lines", parts)
	}
	var n int64
	j.EachEncoding(func(l *Lines) { n += int64(len(l.Data)) })
	if want := int64(len(la.Data) + len(lb.Data)); n != want {
		t.Errorf("EachEncoding counts %d bytes, want %d", n, want)
	}
	// Asked whole, the joined batch copies the parts once, then keeps it.
	before := calls
	whole := j.Encode(enc)
	if calls != before || string(whole.Data) != string(la.Data)+string(lb.Data) || whole.Ends[2] != len(whole.Data) {
		t.Fatalf("joined Lines %q (%d encodes)", whole.Data, calls-before)
	}
	if j.Encode(enc) != whole {
		t.Error("the joined Lines is not kept")
	}
	sel := j.Select([]int{0, 2})
	if got := sel.encodedAs(enc); got == nil || string(got.Data) != "a1\nb1\n" {
		t.Errorf("selection of a joined batch: %v", got)
	}

	// A batch not made by Join, or asked in another format: one part.
	other := countingEncoder{new(int)}
	if ps := j.EncodedParts(other); len(ps) != 1 || len(ps[0].Ends) != 3 {
		t.Errorf("EncodedParts in another format = %v", ps)
	}
	if ps := a.EncodedParts(enc); len(ps) != 1 || ps[0] != la {
		t.Errorf("EncodedParts of a plain batch = %v", ps)
	}
}
