package query

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/alertgw/alertgw/outputs/format"
)

// Dialect describes how a backend stores events, so that a query compiles
// to a WHERE condition for it. Every value a query carries becomes a
// parameter: the SQL text holds only column names, operators and
// placeholders from this package, never the user's values.
//
// Storage conventions the compiled SQL relies on:
//
//	SQLite:     addresses in BLOB(16) columns (IPv4 as ::ffff:a.b.c.d, AddrBytes),
//	            times in INTEGER Unix microseconds, flow_id as INTEGER (the
//	            uint64 bit pattern), the event as JSON text.
//	PostgreSQL: inet, timestamptz, flow_id numeric(20), the event as json.
//
// A typed column is NULL exactly when the native encoder leaves the field
// out.
type Dialect struct {
	Postgres bool              // else SQLite
	Columns  map[string]string // field name → typed column; other fields are read from Event
	Event    string            // column holding the whole event as JSON
	// FullText is the SQL that is true when an event's text matches,
	// with %s where the parameter goes. The parameter is an FTS5 query
	// ("w1 w2"*) for SQLite and a tsquery ('w1' <-> 'w2':*) for
	// PostgreSQL, built from words that hold only letters and digits.
	FullText string
}

// Check reports a dialect that cannot compile every query: addresses and
// flow_id need typed columns.
func (d *Dialect) Check() error {
	for _, f := range fields {
		if f.Type == IP || f.Type == ID {
			if _, ok := d.Columns[f.Name]; !ok {
				return fmt.Errorf("query dialect: field %s needs a column", f.Name)
			}
		}
	}
	return nil
}

// Where compiles q to a condition (without WHERE), appending its
// parameters to args; placeholders are numbered after those already in
// args. The empty query compiles to TRUE.
func (d *Dialect) Where(q *Query, args []any) (string, []any) {
	if q == nil || q.Root == nil {
		return "TRUE", args
	}
	b := &sqlBuilder{d: d, args: args}
	b.node(q.Root)
	return b.sb.String(), b.args
}

type sqlBuilder struct {
	d    *Dialect
	sb   strings.Builder
	args []any
}

func (b *sqlBuilder) w(s ...string) {
	for _, x := range s {
		b.sb.WriteString(x)
	}
}

// arg adds a parameter and returns its placeholder.
func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	n := strconv.Itoa(len(b.args))
	if b.d.Postgres {
		return "$" + n
	}
	return "?" + n
}

func (b *sqlBuilder) node(n Node) {
	switch n := n.(type) {
	case *And:
		b.list(n.X, " AND ")
	case *Or:
		b.list(n.X, " OR ")
	case *Not:
		// NOT of NULL is NULL: "IS NOT TRUE" makes a term on an absent
		// field false before negating, as the in-memory matcher does.
		b.w("((")
		b.node(n.X)
		b.w(") IS NOT TRUE)")
	case *Term:
		b.w("(")
		b.term(n)
		b.w(")")
	}
}

func (b *sqlBuilder) list(xs []Node, sep string) {
	b.w("(")
	for i, x := range xs {
		if i > 0 {
			b.w(sep)
		}
		b.node(x)
	}
	b.w(")")
}

func (b *sqlBuilder) term(t *Term) {
	if t.Op == OpText {
		b.fullText(t)
		return
	}
	if col, ok := b.d.Columns[t.Field.Name]; ok {
		b.column(col, t)
		return
	}
	b.jsonTerm(t)
}

func (b *sqlBuilder) fullText(t *Term) {
	var q string
	if b.d.Postgres {
		parts := make([]string, len(t.Words))
		for i, w := range t.Words {
			parts[i] = "'" + w + "'"
		}
		q = strings.Join(parts, " <-> ")
		if t.PrefixWord {
			q += ":*"
		}
	} else {
		q = `"` + strings.Join(t.Words, " ") + `"`
		if t.PrefixWord {
			q += "*"
		}
	}
	b.w(fmt.Sprintf(b.d.FullText, b.arg(q)))
}

// column compiles a term on a typed column.
func (b *sqlBuilder) column(col string, t *Term) {
	if t.Op == OpExists {
		b.w(col, " IS NOT NULL")
		return
	}
	switch t.Field.Type {
	case String, Enum:
		b.stringOp(col, t)
	case Uint, Int:
		b.intRange(col, intervalOf(t))
	case ID:
		if b.d.Postgres {
			b.w(col, " = ", b.arg(strconv.FormatUint(t.Value.U, 10)), "::numeric")
		} else {
			b.w(col, " = ", b.arg(int64(t.Value.U)))
		}
	case Time:
		r := intRange(t)
		if r.empty {
			b.w("FALSE")
			return
		}
		if b.d.Postgres {
			b.timeRangePG(col, r)
		} else {
			b.intRange(col, r)
		}
	case IP:
		b.ipOp(col, t)
	default:
		panic("query: no column encoding for " + t.Field.Type.String())
	}
}

func (b *sqlBuilder) stringOp(expr string, t *Term) {
	if t.Op == OpGlob {
		if b.d.Postgres {
			b.w(expr, " LIKE ", b.arg(likePattern(t.Glob)))
		} else {
			b.w(expr, " GLOB ", b.arg(globPattern(t.Glob)))
		}
		return
	}
	b.w(expr, " = ", b.arg(t.Value.Str))
}

// intervalOf returns an integer term's closed interval, clamped to int64
// (what SQL integer columns hold).
func intervalOf(t *Term) iRange {
	if t.Field.Type == Int {
		return intRange(t)
	}
	u := uintRange(t)
	if u.empty || u.lo > math.MaxInt64 {
		return iRange{empty: true}
	}
	return iRange{lo: int64(u.lo), hi: int64(min(u.hi, math.MaxInt64))}
}

func (b *sqlBuilder) intRange(expr string, r iRange) {
	switch {
	case r.empty:
		b.w("FALSE")
	case r.lo == r.hi:
		b.w(expr, " = ", b.arg(r.lo))
	case r.lo == math.MinInt64 && r.hi == math.MaxInt64:
		b.w(expr, " IS NOT NULL")
	case r.lo == math.MinInt64:
		b.w(expr, " <= ", b.arg(r.hi))
	case r.hi == math.MaxInt64:
		b.w(expr, " >= ", b.arg(r.lo))
	default:
		b.w(expr, " BETWEEN ", b.arg(r.lo), " AND ", b.arg(r.hi))
	}
}

func (b *sqlBuilder) timeRangePG(col string, r iRange) {
	micros := func(x int64) string { return b.arg(timeFromMicros(x)) }
	switch {
	case r.lo == r.hi:
		b.w(col, " = ", micros(r.lo))
	case r.lo == math.MinInt64 && r.hi == math.MaxInt64:
		b.w(col, " IS NOT NULL")
	case r.lo == math.MinInt64:
		b.w(col, " <= ", micros(r.hi))
	case r.hi == math.MaxInt64:
		b.w(col, " >= ", micros(r.lo))
	default:
		b.w(col, " BETWEEN ", micros(r.lo), " AND ", micros(r.hi))
	}
}

func (b *sqlBuilder) ipOp(col string, t *Term) {
	lo, hi, ok := t.IPRange()
	if !ok {
		b.w("FALSE")
		return
	}
	if b.d.Postgres {
		if t.Op == OpCIDR {
			b.w(col, " <<= ", b.arg(t.Prefix), "::inet")
			return
		}
		if lo == hi {
			b.w(col, " = ", b.arg(lo), "::inet")
			return
		}
		b.w(col, " BETWEEN ", b.arg(lo), "::inet AND ", b.arg(hi), "::inet")
		return
	}
	if lo == hi {
		b.w(col, " = ", b.arg(AddrBytes(lo)))
		return
	}
	b.w(col, " BETWEEN ", b.arg(AddrBytes(lo)), " AND ", b.arg(AddrBytes(hi)))
}

// AddrBytes is an address as the SQLite store keeps it: 16 bytes, IPv4 as
// IPv4-mapped IPv6, so that byte order is address order within a family
// and a CIDR block is one BETWEEN.
func AddrBytes(a netip.Addr) []byte {
	b := a.Unmap().As16()
	return b[:]
}

// globPattern makes a SQLite GLOB pattern: '*' between the parts, and the
// parts' own GLOB metacharacters in brackets.
func globPattern(parts []string) string {
	var sb strings.Builder
	for i, p := range parts {
		if i > 0 {
			sb.WriteByte('*')
		}
		for j := 0; j < len(p); j++ {
			switch c := p[j]; c {
			case '*', '?', '[':
				sb.WriteByte('[')
				sb.WriteByte(c)
				sb.WriteByte(']')
			default:
				sb.WriteByte(c)
			}
		}
	}
	return sb.String()
}

// likePattern makes a PostgreSQL LIKE pattern (escape character '\').
func likePattern(parts []string) string {
	var sb strings.Builder
	for i, p := range parts {
		if i > 0 {
			sb.WriteByte('%')
		}
		for j := 0; j < len(p); j++ {
			switch c := p[j]; c {
			case '%', '_', '\\':
				sb.WriteByte('\\')
				sb.WriteByte(c)
			default:
				sb.WriteByte(c)
			}
		}
	}
	return sb.String()
}

// --- fields read from the event's JSON

// jsonPath returns the parameter naming a field's JSON path.
func (b *sqlBuilder) jsonPath(name string) string {
	keys := strings.Split(name, ".")
	if b.d.Postgres {
		return b.arg(keys) + "::text[]"
	}
	var sb strings.Builder
	sb.WriteByte('$')
	for _, k := range keys {
		sb.WriteString(`."`)
		sb.WriteString(k)
		sb.WriteByte('"')
	}
	return b.arg(sb.String())
}

func (b *sqlBuilder) jsonTerm(t *Term) {
	ev := b.d.Event
	p := b.jsonPath(t.Field.Name)
	pg := b.d.Postgres
	// text: the value as SQL text; typ: its JSON type name.
	text := "json_extract(" + ev + ", " + p + ")"
	typ := "json_type(" + ev + ", " + p + ")"
	if pg {
		text = "(" + ev + " #>> " + p + ")"
		typ = "json_typeof(" + ev + " #> " + p + ")"
	}
	switch t.Field.Type {
	case String, Enum:
		if t.Op == OpExists {
			b.w(typ, " IS NOT NULL")
			return
		}
		b.stringOp(text, t)
	case Uint, Int:
		if t.Op == OpExists {
			b.w(typ, " IS NOT NULL")
			return
		}
		num := text
		if pg {
			num = text + "::numeric"
		}
		b.intRange(num, intervalOf(t))
	case Float:
		if t.Op == OpExists {
			b.w(typ, " IS NOT NULL")
			return
		}
		num := text
		if pg {
			num = text + "::float8"
		}
		b.floatRange(num, floatRange(t))
	case Time:
		if t.Op == OpExists {
			b.w(typ, " IS NOT NULL")
			return
		}
		// Native times have a fixed layout, so text order is time order.
		r := intRange(t)
		if pg {
			text += ` COLLATE "C"`
		}
		b.timeText(text, r)
	case Bool:
		if t.Op == OpExists {
			b.w(typ, " IS NOT NULL")
			return
		}
		if pg {
			b.w(text, " = ", b.arg(strconv.FormatBool(t.Value.Bool)))
		} else {
			b.w(typ, " = ", b.arg(strconv.FormatBool(t.Value.Bool)))
		}
	case Strings, Uints:
		b.jsonArray(ev, p, t)
	case JSON:
		b.jsonAny(text, typ, t)
	default:
		panic("query: no JSON encoding for " + t.Field.Type.String())
	}
}

func (b *sqlBuilder) timeText(expr string, r iRange) {
	ts := func(x int64) string { return b.arg(string(format.AppendTime(nil, timeFromMicros(x))[1:27])) }
	switch {
	case r.empty:
		b.w("FALSE")
	case r.lo == r.hi:
		b.w(expr, " = ", ts(r.lo))
	case r.lo == math.MinInt64 && r.hi == math.MaxInt64:
		b.w(expr, " IS NOT NULL")
	case r.lo == math.MinInt64:
		b.w(expr, " <= ", ts(r.hi))
	case r.hi == math.MaxInt64:
		b.w(expr, " >= ", ts(r.lo))
	default:
		b.w(expr, " BETWEEN ", ts(r.lo), " AND ", ts(r.hi))
	}
}

func (b *sqlBuilder) floatRange(expr string, r fRange) {
	if r.any {
		b.w(expr, " IS NOT NULL")
		return
	}
	var conds []string
	if !math.IsInf(r.lo, -1) {
		op := " > "
		if r.loInc {
			op = " >= "
		}
		conds = append(conds, expr+op+b.arg(r.lo))
	}
	if !math.IsInf(r.hi, 1) {
		op := " < "
		if r.hiInc {
			op = " <= "
		}
		conds = append(conds, expr+op+b.arg(r.hi))
	}
	if len(conds) == 0 {
		b.w(expr, " IS NOT NULL")
		return
	}
	b.w(strings.Join(conds, " AND "))
}

// jsonArray: a term on a list matches when any element does.
func (b *sqlBuilder) jsonArray(ev, p string, t *Term) {
	if t.Op == OpExists {
		if b.d.Postgres {
			b.w("json_array_length(", ev, " #> ", p, ") > 0")
		} else {
			b.w("json_array_length(", ev, ", ", p, ") > 0")
		}
		return
	}
	elem := "value"
	if b.d.Postgres {
		b.w("EXISTS (SELECT 1 FROM json_array_elements_text(", ev, " #> ", p, ") AS el(v) WHERE ")
		elem = "el.v"
	} else {
		b.w("EXISTS (SELECT 1 FROM json_each(", ev, ", ", p, ") WHERE ")
	}
	if t.Field.Type == Strings {
		b.stringOp(elem, t)
	} else {
		if b.d.Postgres {
			elem += "::numeric"
		}
		b.intRange(elem, intervalOf(t))
	}
	b.w(")")
}

// jsonAny compiles a term on a details value, whose JSON type is known
// only per event: strings compare as strings, numbers as numbers, true and
// false as booleans (see matchJSON).
func (b *sqlBuilder) jsonAny(text, typ string, t *Term) {
	pg := b.d.Postgres
	isStr, isNum := "'text'", "IN ('integer', 'real')"
	if pg {
		isStr, isNum = "'string'", "= 'number'"
	}
	num := text
	if pg {
		num = "(CASE WHEN " + typ + " = 'number' THEN " + text + "::float8 END)"
	}
	switch t.Op {
	case OpExists:
		b.w(typ, " <> 'null'")
	case OpGlob:
		b.w(typ, " = ", isStr, " AND ")
		b.stringOp(text, t)
	case OpRange:
		b.w(typ, " ", isNum, " AND ")
		b.floatRange(num, floatRange(t))
	default:
		b.w("(", typ, " = ", isStr, " AND ", text, " = ", b.arg(t.Value.Str), ")")
		if t.Value.IsNum {
			b.w(" OR (", typ, " ", isNum, " AND ")
			switch {
			case pg && t.Value.IsInt:
				b.w("(CASE WHEN ", typ, " = 'number' THEN ", text, "::numeric END) = ", b.arg(valueText(&t.Value)), "::numeric")
			case t.Value.IsInt && !t.Value.Neg && t.Value.U <= math.MaxInt64 || t.Value.IsInt && t.Value.Neg && t.Value.U <= 1<<63:
				b.w(text, " = ", b.arg(t.Value.Int64()))
			default:
				b.w(num, " = ", b.arg(t.Value.F))
			}
			b.w(")")
		}
		if t.Value.IsBool {
			if pg {
				b.w(" OR (", typ, " = 'boolean' AND ", text, " = ", b.arg(strconv.FormatBool(t.Value.Bool)), ")")
			} else {
				b.w(" OR ", typ, " = ", b.arg(strconv.FormatBool(t.Value.Bool)))
			}
		}
	}
}

func valueText(v *Value) string {
	s := strconv.FormatUint(v.U, 10)
	if v.Neg {
		return "-" + s
	}
	return s
}

func timeFromMicros(x int64) time.Time { return time.UnixMicro(x).UTC() }
