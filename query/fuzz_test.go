package query

import (
	"errors"
	"strings"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

var fuzzDialects = []*Dialect{
	{Columns: map[string]string{"kind": "kind", "src_ip": "src_ip", "timestamp": "ts", "dest_port": "dest_port", "flow_id": "flow_id", "dest_ip": "dest_ip"},
		Event: "event", FullText: "rowid IN (SELECT rowid FROM fts WHERE fts MATCH %s)"},
	{Postgres: true, Columns: map[string]string{"kind": "kind", "src_ip": "src_ip", "timestamp": "ts", "dest_port": "dest_port", "flow_id": "flow_id", "dest_ip": "dest_ip"},
		Event: "event", FullText: "to_tsvector('simple', fts) @@ to_tsquery('simple', %s)"},
}

// FuzzParse: any input either parses or yields an *Error with a position
// inside the query; what parses prints a canonical form that parses to
// itself, matches events without panicking and compiles to SQL whose text
// holds no quote of the user's.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "kind:alert", `src_ip:10.0.0.0/8 -dest_port:[1 TO 1024] OR "ssh scan"`,
		`signature.name:ET*SSH* details.http.status:>=200`, `kind:(alert OR packet) NOT source.type:nflog`,
		`timestamp:[2026-11-22 TO 2026-11-23} flow_id:1945813227475284`, `details.a.b:"x\"y" vlan:* src_labels:home*`,
		`((a) OR (b c)) -(d OR e*)`, `dest_ip:2001:db8::/32 src_geo.lat:{-1.5 TO 2e3]`, `a\ b "c\\d" 'e'`,
	} {
		f.Add(s)
	}
	evs := sampleEvents()
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("%q: error %T %v is not *Error", s, err, err)
			}
			if qe.Pos < 0 || qe.Pos > len(s) {
				t.Fatalf("%q: error position %d outside the query", s, qe.Pos)
			}
			return
		}
		c := q.String()
		again, err := Parse(c)
		if err != nil {
			t.Fatalf("%q: canonical %q does not parse: %v", s, c, err)
		}
		if again.String() != c {
			t.Fatalf("%q: canonical %q parses to %q", s, c, again.String())
		}
		m, m2 := q.Matcher(), again.Matcher()
		for _, e := range evs {
			if m.Match(e) != m2.Match(e) {
				t.Fatalf("%q and its canonical form %q disagree", s, c)
			}
		}
		for _, d := range fuzzDialects {
			sql, args := d.Where(q, nil)
			if strings.Count(sql, "(") != strings.Count(sql, ")") {
				t.Fatalf("%q: unbalanced SQL %s", s, sql)
			}
			// User text only travels as parameters: the SQL is made of
			// this package's constant fragments, which quote nothing
			// but type names and the C collation.
			rest := sql
			for _, ok := range []string{"'text'", "'integer'", "'real'", "'string'", "'number'", "'boolean'", "'null'", "'simple'", `"C"`} {
				rest = strings.ReplaceAll(rest, ok, "")
			}
			if strings.ContainsAny(rest, `'"`+"`;") {
				t.Fatalf("%q: SQL holds a quote: %s", s, sql)
			}
			_ = args
		}
	})
}

// FuzzDetails: hostile JSON under details never makes the matcher or the
// text flattener panic or loop.
func FuzzDetails(f *testing.F) {
	for _, s := range []string{`{"hostname":"a","status":200}`, `[1,"x",{"y":null}]`, `"\u00e9\ud83d\ude00"`, `{"a":{"b":[`, `{"a"`, `-`, `{"a":1,}`} {
		f.Add(s)
	}
	ms := []*Matcher{
		MustParse(`details.x.hostname:a*`).Matcher(), MustParse(`details.x.status:[1 TO 300]`).Matcher(),
		MustParse(`details.x.a.b:*`).Matcher(), MustParse(`details.x:"é😀"`).Matcher(), MustParse(`"a"`).Matcher(),
	}
	e := sampleEvents()[1]
	f.Fuzz(func(t *testing.T, s string) {
		ev := *e
		ev.Details = []normalize.Field{{Key: "x", Value: normalize.RawJSON(s)}}
		for _, m := range ms {
			m.Match(&ev)
		}
		if n := len(AppendText(nil, &ev)); n > MaxTextBytes {
			t.Fatalf("text of %d bytes", n)
		}
	})
}
