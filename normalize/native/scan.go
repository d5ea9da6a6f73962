package native

import (
	"unicode/utf16"
	"unicode/utf8"

	"github.com/alertgw/alertgw/normalize"
)

// A small JSON scanner over the message: the native format is regular
// (objects of known members), so the decoder reads each value with the
// reader its member expects, validating as it goes, and skips (validating
// too) only what it keeps raw. One pass, no tokens, no allocation but the
// strings that hold escapes.

// maxDepth bounds the nesting skipValue follows (a hostile message must
// not exhaust the stack).
const maxDepth = 512

func errTruncated() error {
	return normalize.Errorf(normalize.ReasonTruncated, "the event ends early")
}

func (d *decoder) syntaxErr(what string) error {
	if d.i >= len(d.b) {
		return errTruncated()
	}
	return normalize.Errorf(normalize.ReasonInvalidJSON, "%s at byte %d", what, d.i)
}

// ws skips whitespace.
func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the byte at the position, 0 at the end.
func (d *decoder) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// scanString reads the string starting at the position ('"') and returns
// its content as a span of the message and whether it holds escapes.
func (d *decoder) scanString() (start, end int, escaped bool, err error) {
	if d.peek() != '"' {
		return 0, 0, false, d.syntaxErr("expected a string")
	}
	d.i++
	start = d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			end = d.i
			d.i++
			return start, end, escaped, nil
		case c == '\\':
			escaped = true
			d.i++
			if d.i >= len(d.b) {
				return 0, 0, false, errTruncated()
			}
			switch d.b[d.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i++
			case 'u':
				if d.i+5 > len(d.b) {
					return 0, 0, false, errTruncated()
				}
				for _, h := range d.b[d.i+1 : d.i+5] {
					if !isHex(h) {
						return 0, 0, false, d.syntaxErr("bad \\u escape")
					}
				}
				d.i += 5
			default:
				return 0, 0, false, d.syntaxErr("bad escape")
			}
		case c < 0x20:
			return 0, 0, false, d.syntaxErr("control character in a string")
		default:
			d.i++
		}
	}
	return 0, 0, false, errTruncated()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// text returns a string's content: a substring of the message when it has
// no escapes (the usual case: one allocation for every string of an
// event), an unescaped copy otherwise.
func (d *decoder) text(start, end int, escaped bool) string {
	if !escaped {
		return d.s[start:end]
	}
	return string(unescape(nil, d.b[start:end]))
}

// unescape decodes a valid string body's escapes (scanString checked
// them); lone surrogates become U+FFFD, as encoding/json does.
func unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		switch s[i] {
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
			r := hex4(s[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(s[i+3:i+7])); r2 != utf8.RuneError {
						r = r2
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // " \ /
			dst = append(dst, s[i])
		}
	}
	return dst
}

func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		r <<= 4
		switch {
		case c <= '9':
			r |= rune(c - '0')
		case c >= 'a':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// scanNumber reads a JSON number at the position and returns its span and
// whether it is an integer (no fraction, no exponent).
func (d *decoder) scanNumber() (start, end int, integer bool, err error) {
	start, integer = d.i, true
	if d.peek() == '-' {
		d.i++
	}
	switch c := d.peek(); {
	case c == '0':
		d.i++
	case '1' <= c && c <= '9':
		for d.i < len(d.b) && isDigit(d.b[d.i]) {
			d.i++
		}
	default:
		return 0, 0, false, d.syntaxErr("bad number")
	}
	if d.peek() == '.' {
		integer = false
		d.i++
		if !isDigit(d.peek()) {
			return 0, 0, false, d.syntaxErr("bad number")
		}
		for d.i < len(d.b) && isDigit(d.b[d.i]) {
			d.i++
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		integer = false
		d.i++
		if c := d.peek(); c == '+' || c == '-' {
			d.i++
		}
		if !isDigit(d.peek()) {
			return 0, 0, false, d.syntaxErr("bad number")
		}
		for d.i < len(d.b) && isDigit(d.b[d.i]) {
			d.i++
		}
	}
	return start, d.i, integer, nil
}

// literal reads true, false or null at the position.
func (d *decoder) literal(lit string) bool {
	if len(d.b)-d.i >= len(lit) && string(d.b[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return true
	}
	return false
}

// skipValue reads any JSON value at the position, validating it.
func (d *decoder) skipValue(depth int) error {
	if depth > maxDepth {
		return normalize.Errorf(normalize.ReasonInvalidJSON, "nested deeper than %d", maxDepth)
	}
	switch c := d.peek(); {
	case c == '{':
		d.i++
		d.ws()
		if d.peek() == '}' {
			d.i++
			return nil
		}
		for {
			if _, _, _, err := d.scanString(); err != nil {
				return err
			}
			d.ws()
			if d.peek() != ':' {
				return d.syntaxErr("expected :")
			}
			d.i++
			d.ws()
			if err := d.skipValue(depth + 1); err != nil {
				return err
			}
			d.ws()
			switch d.peek() {
			case ',':
				d.i++
				d.ws()
			case '}':
				d.i++
				return nil
			default:
				return d.syntaxErr("expected , or }")
			}
		}
	case c == '[':
		d.i++
		d.ws()
		if d.peek() == ']' {
			d.i++
			return nil
		}
		for {
			if err := d.skipValue(depth + 1); err != nil {
				return err
			}
			d.ws()
			switch d.peek() {
			case ',':
				d.i++
				d.ws()
			case ']':
				d.i++
				return nil
			default:
				return d.syntaxErr("expected , or ]")
			}
		}
	case c == '"':
		_, _, _, err := d.scanString()
		return err
	case c == '-' || isDigit(c):
		_, _, _, err := d.scanNumber()
		return err
	case d.literal("true"), d.literal("false"), d.literal("null"):
		return nil
	}
	return d.syntaxErr("expected a value")
}
