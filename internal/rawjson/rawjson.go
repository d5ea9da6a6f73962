// Package rawjson reads the raw JSON values an event keeps under details
// (normalize.RawJSON) where they lie: find a member, step through an
// object's members or an array's elements, classify a value, unquote a
// string, visit leaves, without allocating. The query language matches and
// indexes details with it; the ECS filebeat profile rearranges them.
//
// The values are valid compact JSON (every decoder checks them), but
// nothing here trusts it: malformed input ends a walk or an iteration
// early, it never panics or loops.
package rawjson

import (
	"iter"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds Walk's descent into nested values.
const MaxDepth = 128

func skipWS(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at s[i] == '"',
// or -1.
func skipString(s []byte, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// SkipValue returns the index after the value that starts at s[i] (after
// optional white space), or -1 when there is none.
func SkipValue(s []byte, i int) int {
	i = skipWS(s, i)
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for ; i < len(s); i++ {
			switch s[i] {
			case '"':
				j := skipString(s, i)
				if j < 0 {
					return -1
				}
				i = j - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(s) && s[j] != ',' && s[j] != '}' && s[j] != ']' && s[j] != ' ' && s[j] != '\n' && s[j] != '\t' && s[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// Object steps through the members of a JSON object:
//
//	for it := rawjson.Members(raw); ; {
//		key, val, ok := it.Next()
//		if !ok {
//			break
//		}
//		…
//	}
type Object struct {
	s    []byte
	i    int // next member, or -1 once done
	more bool
}

// Members returns an iterator over the members of the object raw (none
// when raw is not an object).
func Members(raw []byte) Object {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return Object{i: -1}
	}
	return Object{s: raw, i: i + 1}
}

// Next returns the next member: its key as written (quoted, escapes
// undecoded: see KeyIs and Unquote) and its value. ok is false at the end
// of the object, or at the first malformed byte.
func (o *Object) Next() (key, val []byte, ok bool) {
	if o.i < 0 {
		return nil, nil, false
	}
	s, i := o.s, skipWS(o.s, o.i)
	o.i = -1
	if o.more { // after the first member, a comma
		if i >= len(s) || s[i] != ',' {
			return nil, nil, false
		}
		i = skipWS(s, i+1)
	}
	if i >= len(s) || s[i] != '"' {
		return nil, nil, false
	}
	kend := skipString(s, i)
	if kend < 0 {
		return nil, nil, false
	}
	j := skipWS(s, kend)
	if j >= len(s) || s[j] != ':' {
		return nil, nil, false
	}
	vstart := skipWS(s, j+1)
	vend := SkipValue(s, vstart)
	if vend < 0 {
		return nil, nil, false
	}
	o.i, o.more = vend, true
	return s[i:kend], s[vstart:vend], true
}

// Array steps through the elements of a JSON array (see Object).
type Array struct {
	s    []byte
	i    int // next element, or -1 once done
	more bool
}

// Elements returns an iterator over the elements of the array raw (none
// when raw is not an array).
func Elements(raw []byte) Array {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return Array{i: -1}
	}
	return Array{s: raw, i: i + 1}
}

// Next returns the next element; ok is false at the end of the array, or
// at the first malformed byte.
func (a *Array) Next() (val []byte, ok bool) {
	if a.i < 0 {
		return nil, false
	}
	s, i := a.s, skipWS(a.s, a.i)
	a.i = -1
	if a.more { // after the first element, a comma
		if i >= len(s) || s[i] != ',' {
			return nil, false
		}
		i = skipWS(s, i+1)
	}
	if i >= len(s) || s[i] == ']' {
		return nil, false
	}
	end := SkipValue(s, i)
	if end < 0 {
		return nil, false
	}
	a.i, a.more = end, true
	return s[i:end], true
}

// KeyIs reports whether the quoted key (as Object.Next returns it) is
// name once its escapes are decoded.
func KeyIs(key []byte, name string) bool {
	if len(key) < 2 {
		return false
	}
	in := key[1 : len(key)-1]
	if !hasEscape(in) {
		return string(in) == name
	}
	var buf [64]byte
	return string(Unquote(key, buf[:0])) == name
}

// SameKey reports whether two quoted keys name the same member.
func SameKey(a, b []byte) bool {
	if !hasEscape(a) && !hasEscape(b) {
		return string(a) == string(b)
	}
	var ba, bb [64]byte
	return string(Unquote(a, ba[:0])) == string(Unquote(b, bb[:0]))
}

func hasEscape(s []byte) bool {
	for _, c := range s {
		if c == '\\' {
			return true
		}
	}
	return false
}

// Member finds key in the object raw and returns its value (the first, if
// the object repeats the key).
func Member(raw []byte, key string) ([]byte, bool) {
	for it := Members(raw); ; {
		k, v, ok := it.Next()
		if !ok {
			return nil, false
		}
		if KeyIs(k, key) {
			return v, true
		}
	}
}

// Kind classifies a raw value: '"' string, '0' number, 't'/'f' boolean,
// 'n' null, '{' object, '[' array; 0 for anything else.
func Kind(v []byte) byte {
	if len(v) == 0 {
		return 0
	}
	switch c := v[0]; {
	case c == '"' || c == '{' || c == '[' || c == 'n' || c == 't' || c == 'f':
		return c
	case c == '-' || c >= '0' && c <= '9':
		return '0'
	}
	return 0
}

// Walk calls fn with each scalar of raw (strings still quoted), in order,
// descending into objects (values only) and arrays, at most MaxDepth deep.
func Walk(raw []byte, fn func(kind byte, v []byte)) {
	walk(raw, 0, fn)
}

func walk(s []byte, depth int, fn func(byte, []byte)) {
	if depth > MaxDepth {
		return
	}
	i := skipWS(s, 0)
	if i >= len(s) {
		return
	}
	switch s[i] {
	case '{':
		for it := Members(s[i:]); ; {
			_, v, ok := it.Next()
			if !ok {
				return
			}
			walk(v, depth+1, fn)
		}
	case '[':
		for it := Elements(s[i:]); ; {
			v, ok := it.Next()
			if !ok {
				return
			}
			walk(v, depth+1, fn)
		}
	default:
		end := SkipValue(s, i)
		if end < 0 {
			return
		}
		fn(Kind(s[i:end]), s[i:end])
	}
}

// Unquote appends the contents of the JSON string q (with its quotes) to
// buf, decoding escapes. Without escapes it returns q's inside, no copy.
// A lone surrogate decodes to U+FFFD, as encoding/json decodes it.
func Unquote(q []byte, buf []byte) []byte {
	if len(q) < 2 {
		return nil
	}
	in := q[1 : len(q)-1]
	if !hasEscape(in) {
		return in
	}
	b := buf[:0]
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '\\' || i+1 >= len(in) {
			b = append(b, c)
			continue
		}
		i++
		switch in[i] {
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case 'r':
			b = append(b, '\r')
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'u':
			r, n := hex4(in[i+1:])
			if n == 0 {
				b = append(b, '\\', 'u')
				continue
			}
			i += n
			if utf16.IsSurrogate(r) && i+2 < len(in) && in[i+1] == '\\' && in[i+2] == 'u' {
				if r2, n2 := hex4(in[i+3:]); n2 > 0 {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 2 + n2
					}
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			b = append(b, in[i])
		}
	}
	return b
}

func hex4(s []byte) (rune, int) {
	if len(s) < 4 {
		return 0, 0
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, 0
		}
	}
	return r, 4
}

// All ranges over the object's members, key and value as Next returns them;
// it stops at the end of the object or at the first malformed member.
func (o Object) All() iter.Seq2[[]byte, []byte] {
	return func(yield func(key, val []byte) bool) {
		for {
			k, v, ok := o.Next()
			if !ok || !yield(k, v) {
				return
			}
		}
	}
}

// All ranges over the array's elements as Next returns them; it stops at the
// end of the array or at the first malformed element.
func (a Array) All() iter.Seq[[]byte] {
	return func(yield func(val []byte) bool) {
		for {
			v, ok := a.Next()
			if !ok || !yield(v) {
				return
			}
		}
	}
}
