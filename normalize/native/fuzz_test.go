package native

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
)

var knownReasons = map[string]bool{
	normalize.ReasonInvalidJSON: true, normalize.ReasonNotObject: true, normalize.ReasonInvalidField: true,
	normalize.ReasonMissingField: true, normalize.ReasonInvalidUTF8: true, normalize.ReasonTruncated: true,
	normalize.ReasonTooLarge: true, normalize.ReasonUnsupported: true,
}

// FuzzDecode: Decode never panics and never changes the message; a failure
// is a *normalize.Error with a known reason and leaves no partial event;
// invalid JSON is never accepted; what is accepted encodes to one valid
// JSON line that decodes back to itself. (The decoder refuses what an Event
// cannot represent; finer schema rules, such as string patterns, are the
// schema's: TestRoundTripEveryField validates a full event against it.)
func FuzzDecode(f *testing.F) {
	f.Add(encode(fullEvent()))
	f.Add(encode(testutil.FullEvent()))
	for _, s := range []string{
		"", "{}", "[]", "null", `{"schema":1}`, `{"schema":1,"details":{}}`,
		`{"schema":1,"id":"a","timestamp":"2026-01-02T03:04:05Z","received":"2026-01-02T03:04:05Z","kind":"stats","action":"unknown","source":{"type":"alertgw"},"details":{"a":{"b":[1,{"c":null}]}}}`,
		`{"schema":1,"id":"a","timestamp":"2026-01-02T03:04:05.999999999-12:00","received":"2026-01-02T03:04:05Z","kind":"flow","action":"allowed","source":{"type":"x","input":"i","sensor":"s"},"flow":{"pkts_toserver":0,"pkts_toclient":0,"bytes_toserver":0,"bytes_toclient":0,"age":-1}}`,
		"{ \"schema\" :\t1 , \"new\" : [ 1 , \"a b\" ] }\n", `{"schema":1,"vlan":[1,2,3],"src_ip":"::ffff:1.2.3.4"}`,
		`{"schema":1,"src_geo":{"lat":1e308,"lon":-0.0}}`, `{"schema":1,"s":"\ud800\udc00\ud800"}`, `[[[[[[[[[[`, `{"a":{"a":{"a":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		orig := bytes.Clone(msg)
		var ev normalize.Event
		err := (Decoder{}).Decode(msg, &ev)
		if !bytes.Equal(msg, orig) {
			t.Fatal("Decode changed the message")
		}
		if err != nil {
			var nerr *normalize.Error
			if !errors.As(err, &nerr) || !knownReasons[nerr.Reason] {
				t.Fatalf("error %T %v: not a *normalize.Error with a known reason", err, err)
			}
			if ev.ID != "" || ev.Details != nil {
				t.Fatal("a refused message left a partial event")
			}
			return
		}
		if !json.Valid(msg) {
			t.Fatalf("invalid JSON accepted: %q", msg)
		}
		for _, f := range ev.Details {
			if !json.Valid(f.Value) {
				t.Fatalf("details %q: invalid JSON %q", f.Key, f.Value)
			}
		}
		out := encode(&ev)
		if !json.Valid(out) || bytes.IndexByte(out, '\n') >= 0 {
			t.Fatalf("native encoding is not one valid JSON line: %s", out)
		}
		var again normalize.Event
		if err := (Decoder{}).Decode(out, &again); err != nil {
			t.Fatalf("own encoding %s refused: %v", out, err)
		}
		if back := encode(&again); !bytes.Equal(back, out) {
			t.Fatalf("not a fixed point:\n%s\n%s", out, back)
		}
	})
}
