package query

import (
	"fmt"
	"strings"
	"testing"
)

func TestWhere(t *testing.T) {
	lite, pg := fuzzDialects[0], fuzzDialects[1]
	for _, tc := range []struct {
		q    string
		d    *Dialect
		sql  string
		args string
	}{
		{"", lite, "TRUE", "[]"},
		{"kind:alert dest_port:>1024", lite, "((kind = ?1) AND (dest_port >= ?2))", "[alert 1025]"},
		{"kind:alert dest_port:>1024", pg, "((kind = $1) AND (dest_port >= $2))", "[alert 1025]"},
		{"-dest_port:[1 TO 1024]", lite, "(((dest_port BETWEEN ?1 AND ?2)) IS NOT TRUE)", "[1 1024]"},
		{"src_ip:10.0.0.0/8", lite, "(src_ip BETWEEN ?1 AND ?2)",
			"[[0 0 0 0 0 0 0 0 0 0 255 255 10 0 0 0] [0 0 0 0 0 0 0 0 0 0 255 255 10 255 255 255]]"},
		{"src_ip:10.0.0.0/8", pg, "(src_ip <<= $1::inet)", "[10.0.0.0/8]"},
		{"kind:al*", lite, "(kind GLOB ?1)", "[al*]"},
		{`signature.name:a?[b]%_*`, lite, `(json_extract(event, ?1) GLOB ?2)`, `[$."signature"."name" a[?][[]b]%_*]`},
		{`signature.name:a?[b]%_*`, pg, `((event #>> $1::text[]) LIKE $2)`, `[[signature name] a?[b]\%\_%]`},
		{`"ssh scan"*`, lite, `(rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?1))`, `["ssh scan"*]`},
		{`"ssh scan"*`, pg, `(to_tsvector('simple', fts) @@ to_tsquery('simple', $1))`, `['ssh' <-> 'scan':*]`},
		{`signature.name:"x' OR 1=1 --"`, lite, `(json_extract(event, ?1) = ?2)`, `[$."signature"."name" x' OR 1=1 --]`},
		{`flow_id:18446744073709551615`, lite, `(flow_id = ?1)`, `[-1]`},
		{`flow_id:18446744073709551615`, pg, `(flow_id = $1::numeric)`, `[18446744073709551615]`},
		{`details.http.status:200`, lite, `((json_type(event, ?1) = 'text' AND json_extract(event, ?1) = ?2) OR (json_type(event, ?1) IN ('integer', 'real') AND json_extract(event, ?1) = ?3))`,
			`[$."details"."http"."status" 200 200]`},
	} {
		sql, args := tc.d.Where(MustParse(tc.q), nil)
		if sql != tc.sql || fmt.Sprint(args) != tc.args {
			t.Errorf("%q (postgres %v):\n got %s %v\nwant %s %s", tc.q, tc.d.Postgres, sql, args, tc.sql, tc.args)
		}
	}
	if err := lite.Check(); err != nil {
		t.Errorf("Check = %v", err)
	}
	if err := (&Dialect{}).Check(); err == nil || !strings.Contains(err.Error(), "needs a column") {
		t.Errorf("Check = %v", err)
	}
}
