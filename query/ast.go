package query

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Node is a node of a parsed query. Every node knows the byte span of the
// query text it came from, so that compilers and the console can point at it.
type Node interface {
	Span() (start, end int)
	String() string // canonical query text; parsing it again yields the same tree
}

// And matches when every one of X matches.
type And struct {
	X          []Node
	Start, End int
}

// Or matches when any of X matches.
type Or struct {
	X          []Node
	Start, End int
}

// Not matches when X does not. A field that is absent does not match, so
// -src_port:80 matches events without ports.
type Not struct {
	X          Node
	Start, End int
}

// Op is a term's operator.
type Op int

// Term operators.
const (
	OpEq     Op = iota // field:value
	OpGlob             // field:val*ue (strings; '*' is any run of characters)
	OpExists           // field:*
	OpCIDR             // ip:10.0.0.0/8
	OpRange            // field:[lo TO hi], field:>x …; a nil bound is open
	OpText             // a bare word or "phrase": full-text search
)

// Term is one condition on one field, or a full-text search (Field nil).
type Term struct {
	Field *Field
	Op    Op

	Value  Value    // OpEq: the value; OpGlob: Value.Str is the pattern as written
	Glob   []string // OpGlob: the literal parts between '*'s (first and last may be "")
	Prefix netip.Prefix
	Lo, Hi *Value // OpRange: bounds, nil when open
	LoInc  bool   // OpRange: Lo is included
	HiInc  bool   // OpRange: Hi is included

	// OpText: the words as the full-text index tokenizes them, matched in
	// sequence; the last one as a prefix when Prefix is set.
	Words      []string
	PrefixWord bool

	Start, End int
}

// Value is a typed term value; which members are set depends on the
// field's Type (JSON fields set every interpretation the text allows).
type Value struct {
	Str string // the text, unescaped (String, Enum, Strings, JSON)

	// Numbers. Integers are exact (sign and magnitude); IsInt is false
	// for a value with a fraction or exponent, which only Float and JSON
	// fields accept.
	IsNum bool
	IsInt bool
	Neg   bool
	U     uint64  // magnitude of an integer
	F     float64 // every number, as a float

	Addr   netip.Addr // IP
	Time   time.Time  // Time, UTC, microsecond precision
	Bool   bool       // Bool, and JSON when IsBool
	IsBool bool
}

// Int64 returns an integer value as an int64 (saturating).
func (v *Value) Int64() int64 {
	if v.Neg {
		if v.U > 1<<63 {
			return -1 << 63
		}
		return -int64(v.U)
	}
	if v.U > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(v.U)
}

// Span implements Node: the node's start and end byte offsets in the query.
func (n *And) Span() (int, int) { return n.Start, n.End }

// Span implements Node.
func (n *Or) Span() (int, int) { return n.Start, n.End }

// Span implements Node.
func (n *Not) Span() (int, int) { return n.Start, n.End }

// Span implements Node.
func (n *Term) Span() (int, int) { return n.Start, n.End }

func (n *And) String() string { return join(n.X, " ") }
func (n *Or) String() string  { return join(n.X, " OR ") }
func (n *Not) String() string {
	switch n.X.(type) {
	case *And, *Or:
		return "-(" + n.X.String() + ")"
	}
	return "-" + n.X.String()
}

func join(xs []Node, sep string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		s := x.String()
		switch x.(type) {
		case *And, *Or:
			s = "(" + s + ")"
		}
		parts[i] = s
	}
	return strings.Join(parts, sep)
}

func (n *Term) String() string {
	if n.Op == OpText {
		s := quote(strings.Join(n.Words, " "))
		if n.PrefixWord {
			s += "*"
		}
		return s
	}
	name := n.Field.Name + ":"
	switch n.Op {
	case OpExists:
		return name + "*"
	case OpCIDR:
		return name + n.Prefix.String()
	case OpGlob:
		parts := make([]string, len(n.Glob))
		for i, p := range n.Glob {
			parts[i] = escapeWord(p)
		}
		return name + strings.Join(parts, "*")
	case OpRange:
		lo, hi := "*", "*"
		if n.Lo != nil {
			lo = n.valueText(n.Lo)
		}
		if n.Hi != nil {
			hi = n.valueText(n.Hi)
		}
		open, close := "{", "}"
		if n.LoInc {
			open = "["
		}
		if n.HiInc {
			close = "]"
		}
		return name + open + lo + " TO " + hi + close
	}
	return name + n.valueText(&n.Value)
}

func (n *Term) valueText(v *Value) string {
	switch n.Field.Type {
	case IP:
		return v.Addr.String()
	case Time:
		return v.Time.Format("2006-01-02T15:04:05.999999Z07:00")
	case Uint, Int, ID, Uints:
		s := strconv.FormatUint(v.U, 10)
		if v.Neg {
			s = "-" + s
		}
		return s
	case Float:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case Bool:
		return strconv.FormatBool(v.Bool)
	case JSON:
		if v.IsNum && n.Op == OpRange {
			return v.Str
		}
	}
	return quote(v.Str)
}

// quote writes s as a quoted query string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// escapeWord escapes the characters an unquoted value cannot hold as such.
func escapeWord(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isSpace(c) || strings.IndexByte(`()"\*[]{}<>`, c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}
