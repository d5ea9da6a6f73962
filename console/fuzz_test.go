package console

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/alertgw/alertgw/query"
)

// FuzzQuoteValue: a pivot link's query finds exactly the value it was made
// from, whatever a sensor put in it.
func FuzzQuoteValue(f *testing.F) {
	for _, s := range []string{"ET SCAN", `a"b\c`, "OR", "-x", "x*y", "(a)", "10.0.0.1", "fe80::1", "", " lead", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if v == "" || !utf8.ValidString(v) || len(v) > 1000 {
			return
		}
		text := "signature.name:" + quoteValue(v)
		q, err := query.Parse(text)
		if err != nil {
			t.Fatalf("%q: pivot query %q does not parse: %v", v, text, err)
		}
		term, ok := q.Root.(*query.Term)
		if !ok || term.Op != query.OpEq || term.Value.Str != v {
			t.Fatalf("%q: pivot query %q means %v", v, text, q.Root)
		}
	})
}

// FuzzFlatten: any stored JSON is listed without panics, and every leaf of
// a valid object appears.
func FuzzFlatten(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":"x","d":[1,2]},"e":[{"f":true},{"g":null}]}`))
	f.Add([]byte(`{"details":{"payload":"R0VUIC8="}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		fields, err := flatten(doc)
		binaryFields(fields)
		if err != nil || !json.Valid(doc) {
			return
		}
		for _, fl := range fields {
			if strings.Contains(fl.Path, "..") && !strings.Contains(string(doc), "..") && !strings.Contains(string(doc), `""`) {
				t.Fatalf("odd path %q from %s", fl.Path, doc)
			}
		}
	})
}

// FuzzSafeNext: a post-login redirect never leaves the console.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/search?q=a", "//evil", "/\\evil", "https://evil", "/%2f%2fevil", "/\t/evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") || strings.ContainsAny(got, "\r\n\t") {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
	})
}
