package eventcodec

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"

	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
)

func fullEvent() *normalize.Event { return testutil.FullEvent() }

// TestFullEventSetsEveryField guards the round trip below: a field added to
// normalize.Event (or a nested struct) must be set in fullEvent, so that a
// codec that forgets it fails TestCodecRoundTrip.
func TestFullEventSetsEveryField(t *testing.T) {
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		for i := range v.NumField() {
			f, name := v.Field(i), path+"."+v.Type().Field(i).Name
			if f.IsZero() {
				t.Errorf("fullEvent leaves %s unset: set it, and encode it in codec.go", name)
				continue
			}
			if f.Kind() == reflect.Pointer && f.Elem().Kind() == reflect.Struct {
				f = f.Elem()
			}
			if f.Kind() == reflect.Struct && f.Type().PkgPath() == "github.com/alertgw/alertgw/normalize" {
				walk(f, name)
			}
		}
	}
	walk(reflect.ValueOf(*fullEvent()), "Event")
}

// TestCodecDecodesVersion1 reads a record as version 1 wrote it (before
// the enrichment fields): buffers written by an older alertgw replay.
func TestCodecDecodesVersion1(t *testing.T) {
	e := &normalize.Event{ID: "x", Kind: normalize.KindAlert, Action: normalize.ActionAllowed, Flow: &normalize.Flow{PktsToServer: 1}}
	v2 := AppendEvent(nil, e)
	// version 3 (and 2) = version 1 + three empty enrichment fields (two
	// label counts, the direction) before the details count, here 0; the
	// aggregate and transaction parts of version 3 are absent here.
	if v2[0] != codecVersion || !bytes.Equal(v2[len(v2)-4:], []byte{0, 0, 0, 0}) {
		t.Fatalf("unexpected layout: %x", v2)
	}
	v1 := append([]byte{1}, v2[1:len(v2)-4]...)
	v1 = append(v1, 0)
	var got normalize.Event
	if err := DecodeEvent(v1, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, e) {
		t.Errorf("version 1 record: got %+v, want %+v", got, e)
	}
}

func TestCodecRoundTrip(t *testing.T) {
	cases := map[string]*normalize.Event{
		"full":    fullEvent(),
		"minimal": {ID: "x", Kind: normalize.KindEvent},
		"empty":   {},
		"ipv4in6": {SrcIP: netip.MustParseAddr("::ffff:1.2.3.4"), Flow: &normalize.Flow{}},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			rec := AppendEvent(nil, in)
			var out normalize.Event
			if err := DecodeEvent(rec, &out); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(in, &out) {
				t.Fatalf("round trip changed the event:\n in: %#v\nout: %#v", in, &out)
			}
			// And the native encoding, what every consumer sees, is identical.
			a, b := (format.Native{}).AppendEvent(nil, in), (format.Native{}).AppendEvent(nil, &out)
			if string(a) != string(b) {
				t.Fatalf("native encoding differs:\n%s\n%s", a, b)
			}
		})
	}
}

func TestCodecRejectsTruncated(t *testing.T) {
	rec := AppendEvent(nil, fullEvent())
	for n := 0; n < len(rec); n++ {
		var e normalize.Event
		if err := DecodeEvent(rec[:n], &e); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(rec))
		}
	}
	var e normalize.Event
	if err := DecodeEvent(append(rec, 0), &e); err == nil {
		t.Fatal("trailing byte: no error")
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add(AppendEvent(nil, fullEvent()))
	f.Add(AppendEvent(nil, &normalize.Event{ID: "a"}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, rec []byte) {
		var e normalize.Event
		if err := DecodeEvent(rec, &e); err != nil {
			return
		}
		// Whatever decodes re-encodes to something that decodes the same.
		var again normalize.Event
		if err := DecodeEvent(AppendEvent(nil, &e), &again); err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if !reflect.DeepEqual(&e, &again) {
			t.Fatalf("unstable round trip:\n%#v\n%#v", &e, &again)
		}
	})
}

func BenchmarkCodec(b *testing.B) {
	e := fullEvent()
	rec := AppendEvent(nil, e)
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(rec)))
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			buf = AppendEvent(buf[:0], e)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(rec)))
		for b.Loop() {
			var out normalize.Event
			if err := DecodeEvent(rec, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
