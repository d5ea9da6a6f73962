package eve

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/alertgw/alertgw/internal/nativetest"
	"github.com/alertgw/alertgw/internal/schematest"
	"github.com/alertgw/alertgw/normalize"
)

var knownReasons = set(normalize.ReasonInvalidJSON, normalize.ReasonNotObject, normalize.ReasonInvalidField,
	normalize.ReasonMissingField, normalize.ReasonInvalidUTF8, normalize.ReasonTruncated, normalize.ReasonTooLarge)

// FuzzDecode: Decode never panics and never changes the message; a failure
// is a *normalize.Error with a known reason; it refuses no valid JSON as
// invalid; and what it accepts is valid JSON whose native encoding is one
// valid line that the schema accepts.
//
// Seeds: every line of testdata/*.json plus malformed cases (the corpus in
// testdata/fuzz/FuzzDecode, if any, is added by go test).
func FuzzDecode(f *testing.F) {
	samples, _ := filepath.Glob("testdata/*.json")
	for _, s := range samples {
		for _, line := range sampleLines(f, s) {
			f.Add(line)
			f.Add(line[:len(line)/2]) // truncated
		}
	}
	for _, s := range []string{
		"", "{}", "[]", "null", `"x"`, "{", "}", `{"event_type":"alert"}`, `{"event_type":"dns","dns":{}}`,
		`{"event_type":"alert","alert":{"signature_id":1},"verdict":{"action":"drop"}}`,
		`{"event_type":"drop","drop":{"syn":false,"tos":0}}`, `{"event_type":"netflow","netflow":{},"flow":{}}`,
		`{"event_type":"flow","flow":{"age":0,"end":"ts-error"}}`, `{"timestamp":"ts-error","event_type":"x"}`,
		`{"event_type":"x","vlan":[1,2,3],"proto":"\u0054CP","src_ip":"::ffff:1.2.3.4","dest_ip":"1.2.3.4","icmp_type":3,"icmp_code":1}`,
		`{"event_type":"x","a":1,"a":2}`, `{"event_type":"x","\u0061":1,"a":2}`, "{\"event_type\":\"x\",\"a\":\"\xff\"}",
		`{"event_type":"x","n":1e999999,"m":-0.0e-0}`, `{"event_type":"x","s":"\ud800\udc00\ud800"}`,
		"{\"event_type\" :\t\"x\" ,\n\"o\": { \"a\" : [ 1 , 2 ] } }\n", `[[[[[[[[[[[[[[[[[[[[`, `{"a":{"a":{"a":{"a":`,
		`{"event_type":"alert","alert":{"action":"allowed","gid":4294967295,"signature_id":0,"rev":0,"severity":0,"category":""}}`,
		`{"event_type":"x","flow_id":18446744073709551615,"parent_id":18446744073709551616}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		orig := bytes.Clone(msg)
		var ev normalize.Event
		err := (Decoder{}).Decode(msg, &ev)
		if !bytes.Equal(msg, orig) {
			t.Fatalf("Decode changed the message")
		}
		if err != nil {
			var nerr *normalize.Error
			if !errors.As(err, &nerr) || !knownReasons[nerr.Reason] {
				t.Fatalf("error %T %v: not a *normalize.Error with a known reason", err, err)
			}
			if (nerr.Reason == normalize.ReasonInvalidJSON || nerr.Reason == normalize.ReasonTruncated) && json.Valid(msg) {
				t.Fatalf("valid JSON refused as %v", err)
			}
			return
		}
		if !json.Valid(msg) {
			t.Fatalf("invalid JSON accepted")
		}
		for _, f := range ev.Details {
			if !json.Valid(f.Value) || bytes.ContainsAny(f.Value, "\n\r\t ") && !bytes.Contains(f.Value, []byte(`"`)) {
				t.Fatalf("details %q: not compact JSON: %q", f.Key, f.Value)
			}
		}
		complete(&ev, 1)
		out := nativetest.Line(&ev)
		if !json.Valid(out) || bytes.IndexByte(out, '\n') >= 0 {
			t.Fatalf("native encoding is not one valid JSON line: %s", out)
		}
		schematest.Validate(t, out)
	})
}
