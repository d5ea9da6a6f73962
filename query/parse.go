package query

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Limits keep a hostile query from costing more than a fair one.
const (
	MaxQueryLen = 16 << 10 // bytes
	MaxDepth    = 32       // nested parentheses and negations
	MaxTerms    = 256      // terms in one query
)

// Error is a query the parser refused: Pos is the 0-based byte offset of
// the problem in the query text.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("query error at position %d: %s", e.Pos, e.Msg) }

// Pointer returns the query and, under it, a caret at the error's
// position, for a terminal.
func (e *Error) Pointer(q string) string {
	pos := min(max(e.Pos, 0), len(q))
	pad := strings.Map(func(r rune) rune {
		if r == '\t' {
			return '\t'
		}
		return ' '
	}, q[:pos])
	return q + "\n" + pad + "^"
}

// Query is a parsed query. Root is nil for the empty query, which matches
// every event.
type Query struct {
	Text string
	Root Node
}

// String returns the query in canonical form.
func (q *Query) String() string {
	if q.Root == nil {
		return ""
	}
	return q.Root.String()
}

// Parse parses a query. The grammar, loosest binding first:
//
//	query   = or
//	or      = and { "OR" and }
//	and     = unary { ["AND"] unary }        whitespace between terms is AND
//	unary   = "-" unary | "NOT" unary | primary
//	primary = "(" or ")" | term
//	term    = field ":" value | field ":" "(" values ")" | word | "phrase"
//	value   = word | "quoted" | ("<"|"<="|">"|">=") word | ("["|"{") bound "TO" bound ("]"|"}")
//
// An empty query (or "*") matches everything. Errors are *Error.
func Parse(q string) (*Query, error) {
	if len(q) > MaxQueryLen {
		return nil, &Error{Pos: MaxQueryLen, Msg: fmt.Sprintf("query longer than %d bytes", MaxQueryLen)}
	}
	if t := strings.TrimSpace(q); t == "" || t == "*" {
		return &Query{Text: q}, nil
	}
	p := &parser{s: q}
	root, err := p.or(nil)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.s) {
		if p.s[p.pos] == ')' {
			return nil, p.errf(p.pos, "unbalanced ')'")
		}
		return nil, p.errf(p.pos, "unexpected %q", p.s[p.pos:p.pos+1])
	}
	return &Query{Text: q, Root: root}, nil
}

// MustParse is Parse for queries known to be valid; it panics otherwise.
func MustParse(q string) *Query {
	x, err := Parse(q)
	if err != nil {
		panic(err)
	}
	return x
}

type parser struct {
	s     string
	pos   int
	depth int
	terms int
}

func (p *parser) errf(pos int, format string, args ...any) error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

// keyword reports whether the upper-case keyword kw stands at pos as a
// word of its own.
func (p *parser) keyword(kw string) bool {
	if !strings.HasPrefix(p.s[p.pos:], kw) {
		return false
	}
	end := p.pos + len(kw)
	return end == len(p.s) || isSpace(p.s[end]) || p.s[end] == '('
}

// atEnd reports whether the current expression ends here: end of input,
// a closing parenthesis or OR.
func (p *parser) atEnd() bool {
	p.skipSpace()
	return p.pos >= len(p.s) || p.s[p.pos] == ')' || p.keyword("OR")
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errf(pos, "nested deeper than %d levels", MaxDepth)
	}
	return nil
}

// or parses alternatives. field is set inside field:( … ).
func (p *parser) or(field *Field) (Node, error) {
	start := p.pos
	first, err := p.and(field)
	if err != nil {
		return nil, err
	}
	xs := []Node{first}
	for {
		p.skipSpace()
		if !p.keyword("OR") {
			break
		}
		at := p.pos
		p.pos += 2
		if p.atEnd() {
			return nil, p.errf(at, "OR needs a term on each side")
		}
		x, err := p.and(field)
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	if len(xs) == 1 {
		return first, nil
	}
	return &Or{X: xs, Start: start, End: p.pos}, nil
}

func (p *parser) and(field *Field) (Node, error) {
	p.skipSpace()
	start := p.pos
	if p.atEnd() {
		if p.pos < len(p.s) && p.s[p.pos] == ')' {
			return nil, p.errf(p.pos, "expected a term before ')'")
		}
		if p.keyword("OR") {
			return nil, p.errf(p.pos, "OR needs a term on each side")
		}
		return nil, p.errf(p.pos, "expected a term")
	}
	var xs []Node
	for !p.atEnd() {
		if p.keyword("AND") {
			at := p.pos
			p.pos += 3
			if len(xs) == 0 || p.atEnd() {
				return nil, p.errf(at, "AND needs a term on each side")
			}
		}
		x, err := p.unary(field)
		if err != nil {
			return nil, err
		}
		if p.pos < len(p.s) && !isSpace(p.s[p.pos]) && p.s[p.pos] != ')' && p.s[p.pos] != '(' {
			return nil, p.errf(p.pos, "unexpected %q: terms are separated by spaces", p.s[p.pos:p.pos+1])
		}
		xs = append(xs, x)
	}
	if len(xs) == 1 {
		return xs[0], nil
	}
	return &And{X: xs, Start: start, End: p.pos}, nil
}

func (p *parser) unary(field *Field) (Node, error) {
	p.skipSpace()
	start := p.pos
	neg := false
	switch {
	case p.pos < len(p.s) && p.s[p.pos] == '-':
		p.pos++
		if p.pos >= len(p.s) || isSpace(p.s[p.pos]) || p.s[p.pos] == ')' {
			return nil, p.errf(start, "'-' must stand right before the term it negates")
		}
		neg = true
	case p.keyword("NOT"):
		p.pos += 3
		if p.atEnd() {
			return nil, p.errf(start, "NOT needs a term")
		}
		neg = true
	}
	if !neg {
		return p.primary(field)
	}
	if err := p.enter(start); err != nil {
		return nil, err
	}
	x, err := p.unary(field)
	p.depth--
	if err != nil {
		return nil, err
	}
	return &Not{X: x, Start: start, End: p.pos}, nil
}

func (p *parser) primary(field *Field) (Node, error) {
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == '(' {
		open := p.pos
		if err := p.enter(open); err != nil {
			return nil, err
		}
		p.pos++
		x, err := p.or(field)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != ')' {
			return nil, p.errf(open, "unbalanced '(': no matching ')'")
		}
		p.pos++
		p.depth--
		return x, nil
	}
	p.terms++
	if p.terms > MaxTerms {
		return nil, p.errf(p.pos, "more than %d terms", MaxTerms)
	}
	if field != nil {
		return p.value(field, p.pos)
	}
	return p.term()
}

// isNameByte reports whether c may appear in a field name.
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

func (p *parser) term() (Node, error) {
	start := p.pos
	if p.s[p.pos] == '"' {
		return p.text(start)
	}
	// field:value, when a name followed by ':' stands here.
	if c := p.s[p.pos]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' {
		end := p.pos
		for end < len(p.s) && isNameByte(p.s[end]) {
			end++
		}
		if end < len(p.s) && p.s[end] == ':' {
			name := p.s[p.pos:end]
			f := Lookup(name)
			if f == nil {
				return nil, p.errf(start, "unknown field %q%s; known fields: %s (to search text containing ':', quote it)",
					name, suggest(name), knownList)
			}
			p.pos = end + 1
			return p.value(f, start)
		}
	}
	return p.text(start)
}

// text parses a bare word or a quoted phrase: a full-text term.
func (p *parser) text(start int) (Node, error) {
	var (
		s    string
		star bool
		err  error
	)
	if p.s[p.pos] == '"' {
		if s, err = p.quoted(); err != nil {
			return nil, err
		}
		if p.pos < len(p.s) && p.s[p.pos] == '*' {
			star = true
			p.pos++
		}
	} else {
		w, err := p.word()
		if err != nil {
			return nil, err
		}
		if w.text == "" && len(w.parts) == 0 {
			return nil, p.errf(start, "expected a term")
		}
		switch {
		case len(w.parts) == 2 && w.parts[1] == "" && w.parts[0] != "":
			s, star = w.parts[0], true
		case len(w.parts) > 0:
			return nil, p.errf(start, "in a full-text word '*' may only end it (use field:val*ue to match a field by pattern)")
		default:
			s = w.text
		}
	}
	words := Tokens(s)
	if len(words) == 0 {
		return nil, p.errf(start, "nothing to search for: full-text terms need letters or digits")
	}
	if len(words) > 64 {
		return nil, p.errf(start, "a phrase may have at most 64 words")
	}
	// "10.0.*" ends in a separator: the phrase just ends there.
	if star && len(s) > 0 && !isTokenRuneAtEnd(s) {
		star = false
	}
	return &Term{Op: OpText, Words: words, PrefixWord: star, Start: start, End: p.pos}, nil
}

// quoted reads a "…" string with \" and \\ escapes.
func (p *parser) quoted() (string, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch c {
		case '"':
			p.pos++
			return b.String(), nil
		case '\\':
			if p.pos+1 >= len(p.s) {
				return "", p.errf(p.pos, "a '\\' at the end of the query escapes nothing")
			}
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
			continue
		}
		b.WriteByte(c)
		p.pos++
	}
	return "", p.errf(start, "unterminated quoted string")
}

// word is an unquoted value: its unescaped text and, when it has
// unescaped '*'s, the literal parts between them.
type word struct {
	text  string
	parts []string
	start int
}

// word reads an unquoted word up to whitespace, '(' , ')' or '"'; stop
// lists further bytes that end it (range bounds end at ']' and '}').
func (p *parser) word(stop ...byte) (word, error) {
	w := word{start: p.pos}
	var b strings.Builder
	star := false
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if isSpace(c) || c == '(' || c == ')' || c == '"' || strings.IndexByte(string(stop), c) >= 0 {
			break
		}
		switch c {
		case '\\':
			if p.pos+1 >= len(p.s) {
				return w, p.errf(p.pos, "a '\\' at the end of the query escapes nothing")
			}
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
			continue
		case '*':
			star = true
			w.parts = append(w.parts, b.String())
			b.Reset()
			p.pos++
			continue
		}
		b.WriteByte(c)
		p.pos++
	}
	if star {
		w.parts = append(w.parts, b.String())
	} else {
		w.text = b.String()
	}
	return w, nil
}

// value parses what follows "field:".
func (p *parser) value(f *Field, start int) (Node, error) {
	if p.pos >= len(p.s) || isSpace(p.s[p.pos]) || p.s[p.pos] == ')' {
		return nil, p.errf(p.pos, "%s: expected a value after ':'", f.Name)
	}
	t := &Term{Field: f, Start: start}
	switch c := p.s[p.pos]; {
	case c == '(':
		open := p.pos
		if err := p.enter(open); err != nil {
			return nil, err
		}
		p.pos++
		x, err := p.or(f)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != ')' {
			return nil, p.errf(open, "unbalanced '(': no matching ')'")
		}
		p.pos++
		p.depth--
		return x, nil
	case c == '"':
		at := p.pos
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		if err := p.setEq(t, s, at); err != nil {
			return nil, err
		}
	case c == '[' || c == '{':
		if err := p.rangeValue(t); err != nil {
			return nil, err
		}
	case c == '<' || c == '>':
		if err := p.compare(t); err != nil {
			return nil, err
		}
	default:
		w, err := p.word()
		if err != nil {
			return nil, err
		}
		switch {
		case len(w.parts) == 2 && w.parts[0] == "" && w.parts[1] == "":
			t.Op = OpExists
		case len(w.parts) > 0:
			if err := p.setGlob(t, w); err != nil {
				return nil, err
			}
		default:
			if w.text == "" {
				return nil, p.errf(p.pos, "%s: expected a value after ':'", f.Name)
			}
			if err := p.setEq(t, w.text, w.start); err != nil {
				return nil, err
			}
		}
	}
	t.End = p.pos
	return t, nil
}

func (p *parser) setGlob(t *Term, w word) error {
	switch t.Field.Type {
	case String, Enum, Strings, JSON:
	case IP:
		return p.errf(w.start, "%s: IP fields take an address or a CIDR (10.0.0.0/8), not '*' wildcards", t.Field.Name)
	default:
		return p.errf(w.start, "%s: '*' wildcards are for text fields; %s fields take values, comparisons or ranges", t.Field.Name, t.Field.Type)
	}
	t.Op, t.Glob = OpGlob, w.parts
	t.Value.Str = strings.Join(w.parts, "*")
	return nil
}

func (p *parser) setEq(t *Term, s string, at int) error {
	f := t.Field
	if f.Type == IP && strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return p.errf(at, "%s: %q is not a CIDR prefix (10.0.0.0/8, 2001:db8::/32)", f.Name, s)
		}
		if pfx.Addr().Is4In6() && pfx.Bits() >= 96 {
			pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
		}
		t.Op, t.Prefix = OpCIDR, pfx.Masked()
		return nil
	}
	if s == "" {
		return p.errf(at, "%s: empty value (an absent field is -%s:*)", f.Name, f.Name)
	}
	v, err := p.parseValue(f, s, at)
	if err != nil {
		return err
	}
	t.Op, t.Value = OpEq, v
	return nil
}

// parseValue converts the text of a value to the field's type.
func (p *parser) parseValue(f *Field, s string, at int) (Value, error) {
	v := Value{Str: s}
	switch f.Type {
	case String, Strings:
	case Enum:
		for _, ok := range f.Values {
			if s == ok {
				return v, nil
			}
		}
		return v, p.errf(at, "%s: %q is not one of %s", f.Name, s, strings.Join(f.Values, ", "))
	case Uint, ID, Uints:
		if !parseInt(s, &v) || v.Neg {
			return v, p.errf(at, "%s: %q is not a whole number ≥ 0", f.Name, s)
		}
	case Int:
		if !parseInt(s, &v) {
			return v, p.errf(at, "%s: %q is not a whole number", f.Name, s)
		}
	case Float:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return v, p.errf(at, "%s: %q is not a number", f.Name, s)
		}
		v.IsNum, v.F = true, x
	case IP:
		a, err := netip.ParseAddr(s)
		if err != nil {
			return v, p.errf(at, "%s: %q is not an IP address", f.Name, s)
		}
		v.Addr = a.Unmap().WithZone("")
	case Time:
		tm, ok := parseTime(s)
		if !ok {
			return v, p.errf(at, "%s: %q is not a time (RFC 3339 like 2026-11-22T14:11:12Z, or a date 2026-11-22)", f.Name, s)
		}
		v.Time = tm
	case Bool:
		switch s {
		case "true":
			v.Bool = true
		case "false":
		default:
			return v, p.errf(at, "%s: %q is not true or false", f.Name, s)
		}
	case JSON:
		if parseInt(s, &v) {
			break
		}
		if x, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) && looksNumeric(s) {
			v.IsNum, v.F = true, x
		}
		if s == "true" || s == "false" {
			v.IsBool, v.Bool = true, s == "true"
		}
	}
	return v, nil
}

// looksNumeric refuses what ParseFloat accepts but JSON does not ("inf",
// "0x10", "1_000").
func looksNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return false
		}
	}
	return true
}

// parseInt parses a decimal integer with an optional '-' into v.
func parseInt(s string, v *Value) bool {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	if s == "" || s[0] == '+' {
		return false
	}
	u, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return false
	}
	v.IsNum, v.IsInt, v.Neg, v.U = true, true, neg && u != 0, u
	v.F = float64(u)
	if v.Neg {
		v.F = -v.F
	}
	return true
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}

// parseTime accepts RFC 3339, the same without a zone (UTC) and a date.
func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Truncate(time.Microsecond), true
		}
	}
	return time.Time{}, false
}

func (p *parser) checkOrdered(t *Term, at int) error {
	switch t.Field.Type {
	case Uint, Int, Float, IP, Time, Uints, JSON:
		return nil
	case ID:
		return p.errf(at, "%s is an identifier: it takes exact values only", t.Field.Name)
	}
	return p.errf(at, "%s: comparisons and ranges are for numbers, addresses and times; %s fields take values or '*' wildcards",
		t.Field.Name, t.Field.Type)
}

// bound parses a range bound or comparison operand.
func (p *parser) bound(t *Term, s string, at int) (*Value, error) {
	v, err := p.parseValue(t.Field, s, at)
	if err != nil {
		return nil, err
	}
	if t.Field.Type == JSON && !v.IsNum {
		return nil, p.errf(at, "%s: ranges under details take numbers; %q is not one", t.Field.Name, s)
	}
	return &v, nil
}

func (p *parser) compare(t *Term) error {
	at := p.pos
	op := p.s[p.pos : p.pos+1]
	p.pos++
	if p.pos < len(p.s) && p.s[p.pos] == '=' {
		op += "="
		p.pos++
	}
	if err := p.checkOrdered(t, at); err != nil {
		return err
	}
	var s string
	vat := p.pos
	if p.pos < len(p.s) && p.s[p.pos] == '"' {
		q, err := p.quoted()
		if err != nil {
			return err
		}
		s = q
	} else {
		w, err := p.word()
		if err != nil {
			return err
		}
		if len(w.parts) > 0 || w.text == "" {
			return p.errf(vat, "%s: expected a value after %q", t.Field.Name, op)
		}
		s = w.text
	}
	v, err := p.bound(t, s, vat)
	if err != nil {
		return err
	}
	t.Op = OpRange
	switch op {
	case ">":
		t.Lo = v
	case ">=":
		t.Lo, t.LoInc = v, true
	case "<":
		t.Hi = v
	case "<=":
		t.Hi, t.HiInc = v, true
	}
	return nil
}

// rangeValue parses [lo TO hi] with [ ] inclusive and { } exclusive ends.
func (p *parser) rangeValue(t *Term) error {
	open := p.pos
	if err := p.checkOrdered(t, open); err != nil {
		return err
	}
	t.LoInc = p.s[p.pos] == '['
	p.pos++
	readBound := func() (*Value, error) {
		p.skipSpace()
		at := p.pos
		var s string
		if p.pos < len(p.s) && p.s[p.pos] == '"' {
			q, err := p.quoted()
			if err != nil {
				return nil, err
			}
			s = q
		} else {
			w, err := p.word(']', '}')
			if err != nil {
				return nil, err
			}
			if len(w.parts) == 2 && w.parts[0] == "" && w.parts[1] == "" {
				return nil, nil // '*': open
			}
			if len(w.parts) > 0 || w.text == "" {
				return nil, p.errf(at, "%s: expected a range bound or '*'", t.Field.Name)
			}
			s = w.text
		}
		return p.bound(t, s, at)
	}
	lo, err := readBound()
	if err != nil {
		return err
	}
	p.skipSpace()
	if p.pos >= len(p.s) || strings.TrimSpace(p.s[p.pos:]) == "TO" {
		return p.errf(open, "%s: unterminated range: expected ']' or '}'", t.Field.Name)
	}
	if !strings.HasPrefix(p.s[p.pos:], "TO") || p.pos+2 >= len(p.s) || !isSpace(p.s[p.pos+2]) {
		return p.errf(p.pos, "%s: a range is [low TO high]", t.Field.Name)
	}
	p.pos += 2
	hi, err := readBound()
	if err != nil {
		return err
	}
	p.skipSpace()
	if p.pos >= len(p.s) || (p.s[p.pos] != ']' && p.s[p.pos] != '}') {
		return p.errf(open, "%s: unterminated range: expected ']' or '}'", t.Field.Name)
	}
	t.HiInc = p.s[p.pos] == ']'
	p.pos++
	if lo == nil {
		t.LoInc = false
	}
	if hi == nil {
		t.HiInc = false
	}
	t.Op, t.Lo, t.Hi = OpRange, lo, hi
	return nil
}

// suggest names the known field closest to name, when one is close.
func suggest(name string) string {
	best, bestD := "", 4
	for _, f := range fields {
		if abbreviates(name, f.Name) {
			return fmt.Sprintf(" (did you mean %s?)", f.Name)
		}
		if d := distance(name, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// abbreviates reports whether each dotted segment of name begins the
// same segment of field: "sig.id" abbreviates "signature.id".
func abbreviates(name, field string) bool {
	a, b := strings.Split(name, "."), strings.Split(field, ".")
	if len(a) != len(b) || len(a) < 2 {
		return false
	}
	for i := range a {
		if a[i] == "" || !strings.HasPrefix(b[i], a[i]) {
			return false
		}
	}
	return true
}

// distance is the Levenshtein distance, capped for long inputs.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
