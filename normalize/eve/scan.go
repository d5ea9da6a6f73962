package eve

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/alertgw/alertgw/normalize"
)

// This file is a small validating JSON scanner. It does not build values:
// it finds where each value starts and ends, so the mapper can parse the few
// keys it knows into typed fields and keep every other value as a sub-slice
// of the message. It never recurses (nesting is tracked in a bit stack and
// capped at maxDepth), so hostile input costs time linear in its size and no
// stack.

// maxDepth caps JSON nesting. Suricata's deepest records (dns answers,
// http2 frames) nest well under 16 levels.
const maxDepth = 128

// stringSpecial marks the bytes that end the fast path inside a string:
// the closing quote, a backslash, and control characters (never allowed raw).
var stringSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// isSpace reports JSON whitespace. Suricata writes none, so the first
// comparison settles nearly every call.
func isSpace(c byte) bool { return c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r') }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func errTruncated() error {
	return normalize.Errorf(normalize.ReasonTruncated, "message ends inside a JSON value")
}

func errSyntax(b []byte, i int, what string) error {
	if i >= len(b) {
		return errTruncated()
	}
	return normalize.Errorf(normalize.ReasonInvalidJSON, "offset %d: %s, found %q", i, what, b[i])
}

// scanString validates the string starting at b[i] == '"' and returns the
// offset just past its closing quote and whether it holds escapes.
func scanString(b []byte, i int) (end int, escaped bool, err error) {
	j := i + 1
	for {
		j = skipPlain(b, j)
		if j >= len(b) {
			return 0, false, errTruncated()
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped, nil
		case c == '\\':
			escaped = true
			if j+1 >= len(b) {
				return 0, false, errTruncated()
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				for k := j + 2; k < j+6; k++ {
					if k >= len(b) {
						return 0, false, errTruncated()
					}
					if !isHex(b[k]) {
						return 0, false, errSyntax(b, k, "invalid \\u escape")
					}
				}
				j += 6
			default:
				return 0, false, errSyntax(b, j+1, "invalid escape")
			}
		default:
			return 0, false, errSyntax(b, j, "control character in string")
		}
	}
}

// skipPlain returns the offset of the first byte at or after j that ends a
// string's plain run (see stringSpecial). Strings are most of an EVE
// record's bytes, so it looks at eight bytes at a time.
func skipPlain(b []byte, j int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; j+8 <= len(b); j += 8 {
		x := binary.LittleEndian.Uint64(b[j:])
		// A byte's high bit is set in m where the byte is < 0x20, '"' or
		// '\\' (the classic has-zero-byte trick: exact for the lowest
		// such byte, which is the one wanted).
		m := (x - ones*0x20) &^ x
		q := x ^ (ones * '"')
		m |= (q - ones) &^ q
		e := x ^ (ones * '\\')
		m |= (e - ones) &^ e
		if m &= highs; m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
	}
	for j < len(b) && !stringSpecial[b[j]] {
		j++
	}
	return j
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber validates the number starting at b[i] and returns its end.
func scanNumber(b []byte, i int) (int, error) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j >= len(b):
		return 0, errTruncated()
	case b[j] == '0':
		j++
	case '1' <= b[j] && b[j] <= '9':
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	default:
		return 0, errSyntax(b, j, "invalid number")
	}
	if j < len(b) && b[j] == '.' {
		j++
		if j >= len(b) {
			return 0, errTruncated()
		}
		if !isDigit(b[j]) {
			return 0, errSyntax(b, j, "invalid number fraction")
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) {
			return 0, errTruncated()
		}
		if !isDigit(b[j]) {
			return 0, errSyntax(b, j, "invalid number exponent")
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	return j, nil
}

// scanLiteral validates true, false or null at b[i].
func scanLiteral(b []byte, i int, lit string) (int, error) {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) {
			return 0, errTruncated()
		}
		if b[i+k] != lit[k] {
			return 0, errSyntax(b, i+k, "invalid literal")
		}
	}
	return i + len(lit), nil
}

// scanKey validates `"key" :` at b[i] (leading space already skipped) and
// returns the offset of the value that follows, past any space. sawSpace is
// set when whitespace separates the tokens.
func scanKey(b []byte, i int, sawSpace *bool) (int, error) {
	if i >= len(b) {
		return 0, errTruncated()
	}
	if b[i] != '"' {
		return 0, errSyntax(b, i, "expected an object key")
	}
	end, _, err := scanString(b, i)
	if err != nil {
		return 0, err
	}
	j := skipSpace(b, end)
	if j != end {
		*sawSpace = true
	}
	if j >= len(b) {
		return 0, errTruncated()
	}
	if b[j] != ':' {
		return 0, errSyntax(b, j, "expected ':' after object key")
	}
	j++
	k := skipSpace(b, j)
	if k != j {
		*sawSpace = true
	}
	return k, nil
}

// skipValue validates the JSON value starting at b[i] (no leading space)
// and returns its end. depth is the nesting the value already sits at;
// sawSpace reports insignificant whitespace inside the value, which must be
// compacted before the value is kept.
func skipValue(b []byte, i, depth int) (end int, sawSpace bool, err error) {
	// stack holds one bit per open container: 1 for an object, 0 for an array.
	var stack [maxDepth/64 + 1]uint64
	open := 0 // containers opened by this call
	for {
		// A value starts at i.
		if i >= len(b) {
			return 0, false, errTruncated()
		}
		switch c := b[i]; c {
		case '{', '[':
			if depth+open >= maxDepth {
				return 0, false, normalize.Errorf(normalize.ReasonTooLarge, "offset %d: JSON nested deeper than %d levels", i, maxDepth)
			}
			if c == '{' {
				stack[open/64] |= 1 << (open % 64)
			} else {
				stack[open/64] &^= 1 << (open % 64)
			}
			open++
			i++
			j := skipSpace(b, i)
			if j != i {
				sawSpace = true
			}
			i = j
			if i >= len(b) {
				return 0, false, errTruncated()
			}
			if c == '{' && b[i] == '}' || c == '[' && b[i] == ']' {
				i++
				open--
				break // the container is a complete (empty) value
			}
			if c == '{' {
				if i, err = scanKey(b, i, &sawSpace); err != nil {
					return 0, false, err
				}
			}
			continue // the container's first value starts at i
		case '"':
			i, _, err = scanString(b, i)
		case 't':
			i, err = scanLiteral(b, i, "true")
		case 'f':
			i, err = scanLiteral(b, i, "false")
		case 'n':
			i, err = scanLiteral(b, i, "null")
		default:
			if c != '-' && !isDigit(c) {
				return 0, false, errSyntax(b, i, "expected a JSON value")
			}
			i, err = scanNumber(b, i)
		}
		if err != nil {
			return 0, false, err
		}

		// A value ended at i: close containers until one goes on.
		for {
			if open == 0 {
				return i, sawSpace, nil
			}
			j := skipSpace(b, i)
			if j != i {
				sawSpace = true
			}
			i = j
			if i >= len(b) {
				return 0, false, errTruncated()
			}
			isObject := stack[(open-1)/64]&(1<<((open-1)%64)) != 0
			c := b[i]
			if c == ',' {
				i++
				j := skipSpace(b, i)
				if j != i {
					sawSpace = true
				}
				i = j
				if isObject {
					if i, err = scanKey(b, i, &sawSpace); err != nil {
						return 0, false, err
					}
				}
				break // the next value starts at i
			}
			if isObject && c == '}' || !isObject && c == ']' {
				i++
				open--
				continue
			}
			if isObject {
				return 0, false, errSyntax(b, i, "expected ',' or '}' in object")
			}
			return 0, false, errSyntax(b, i, "expected ',' or ']' in array")
		}
	}
}

// member is one key/value pair of an object.
type member struct {
	rawKey   []byte // the key as written, quotes included
	key      []byte // the key between its quotes, escapes not decoded
	keyEsc   bool   // key holds escapes: decode before comparing
	val      []byte // the value as written
	off      int    // where val starts in the buffer being read
	valSpace bool   // val holds whitespace: compact before keeping
}

// objectReader iterates the members of one object.
type objectReader struct {
	b     []byte
	i     int // next byte to read
	depth int // nesting of the object's members
	n     int // members read so far
	done  bool
}

// newObjectReader starts reading the object at b[i] == '{', which sits at
// nesting depth (0 for the message itself).
func newObjectReader(b []byte, i, depth int) objectReader {
	return objectReader{b: b, i: i + 1, depth: depth + 1}
}

// next reads the next member into m. It returns false at the object's end
// (r.i is then just past its closing brace).
func (r *objectReader) next(m *member) (bool, error) {
	ok, err := r.nextKey(m)
	if !ok || err != nil {
		return false, err
	}
	return true, r.skip(m)
}

// nextKey reads the next member's key into m and leaves r.i at its value,
// which the caller then reads, with skip or by parsing it in place.
func (r *objectReader) nextKey(m *member) (bool, error) {
	if r.done {
		return false, nil
	}
	b := r.b
	i := skipSpace(b, r.i)
	if i >= len(b) {
		return false, errTruncated()
	}
	if b[i] == '}' {
		r.i, r.done = i+1, true
		return false, nil
	}
	if r.n > 0 {
		if b[i] != ',' {
			return false, errSyntax(b, i, "expected ',' or '}' in object")
		}
		i = skipSpace(b, i+1)
	}
	if i >= len(b) {
		return false, errTruncated()
	}
	if b[i] != '"' {
		return false, errSyntax(b, i, "expected an object key")
	}
	kend, esc, err := scanString(b, i)
	if err != nil {
		return false, err
	}
	m.rawKey, m.key, m.keyEsc = b[i:kend], b[i+1:kend-1], esc
	i = skipSpace(b, kend)
	if i >= len(b) {
		return false, errTruncated()
	}
	if b[i] != ':' {
		return false, errSyntax(b, i, "expected ':' after object key")
	}
	r.i = skipSpace(b, i+1)
	r.n++
	return true, nil
}

// skip reads the value at r.i into m.
func (r *objectReader) skip(m *member) error {
	end, space, err := skipValue(r.b, r.i, r.depth)
	if err != nil {
		return err
	}
	m.val, m.valSpace, m.off = r.b[r.i:end], space, r.i
	r.i = end
	return nil
}

// span is where a value lies in the message: remembered by offsets rather
// than slices, so the tables of first values stay small to clear.
type span struct{ start, end int32 }

func spanOf(m *member) span { return span{int32(m.off), int32(m.off + len(m.val))} }

// appendCompact appends the validated JSON value v without its
// insignificant whitespace.
func appendCompact(dst, v []byte) []byte {
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == '"':
			end, _, _ := scanString(v, i) // v is validated: cannot fail
			dst = append(dst, v[i:end]...)
			i = end
		case isSpace(c):
			i++
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}

// hasBackslash reports whether a string's content holds an escape.
func hasBackslash(s []byte) bool { return bytes.IndexByte(s, '\\') >= 0 }

// appendUnescaped appends the decoded content of a validated JSON string
// (the bytes between its quotes) to dst. Lone surrogates become U+FFFD, as
// in encoding/json.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] != '\\' {
			j++
		}
		dst = append(dst, s[i:j]...)
		if j >= len(s) {
			return dst
		}
		switch c := s[j+1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[j+2 : j+6])
			if utf16.IsSurrogate(r) {
				if j+12 <= len(s) && s[j+6] == '\\' && s[j+7] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(s[j+8:j+12])); r2 != utf8.RuneError {
						dst = utf8.AppendRune(dst, r2)
						i = j + 12
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			i = j + 6
			continue
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		i = j + 2
	}
	return dst
}

func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
