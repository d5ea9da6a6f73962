package query

import (
	"github.com/alertgw/alertgw/normalize"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// A minimal reader of the raw JSON values an event keeps under details:
// find a member by path and visit leaves, without allocating. The values
// are valid JSON (the decoders checked them), but nothing here trusts it:
// malformed input ends the walk, it never panics or loops.

func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

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

// skipValue returns the index after the value at s[i], or -1.
func skipValue(s []byte, i int) int {
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

// member finds key in the object raw and returns its value.
func member(raw []byte, key string) ([]byte, bool) {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	i++
	var kbuf [128]byte
	for {
		i = skipWS(raw, i)
		if i >= len(raw) || raw[i] != '"' {
			return nil, false
		}
		kend := skipString(raw, i)
		if kend < 0 {
			return nil, false
		}
		k := unquote(raw[i:kend], kbuf[:0])
		i = skipWS(raw, kend)
		if i >= len(raw) || raw[i] != ':' {
			return nil, false
		}
		vstart := skipWS(raw, i+1)
		vend := skipValue(raw, vstart)
		if vend < 0 {
			return nil, false
		}
		if unsafeString(k) == key {
			return raw[vstart:vend], true
		}
		i = skipWS(raw, vend)
		if i >= len(raw) || raw[i] != ',' {
			return nil, false
		}
		i++
	}
}

// lookupPath returns the value at path (the keys after "details.") in
// details, or false.
func lookupPath(d normalize.Details, path []string) ([]byte, bool) {
	if len(path) == 0 {
		return nil, false
	}
	v := []byte(d.Get(path[0]))
	if v == nil {
		return nil, false
	}
	for _, k := range path[1:] {
		var ok bool
		if v, ok = member(v, k); !ok {
			return nil, false
		}
	}
	return v, true
}

// kindOf classifies a raw value: '"' string, '0' number, 't'/'f' boolean,
// 'n' null, '{' object, '[' array; 0 for anything else.
func kindOf(v []byte) byte {
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

// walkLeaves calls fn with each scalar of raw (strings still quoted), in
// order, descending into objects (values only) and arrays.
func walkLeaves(raw []byte, fn func(kind byte, v []byte)) {
	walk(raw, 0, fn)
}

func walk(s []byte, depth int, fn func(byte, []byte)) {
	if depth > 128 {
		return
	}
	i := skipWS(s, 0)
	if i >= len(s) {
		return
	}
	switch s[i] {
	case '{', '[':
		obj := s[i] == '{'
		i++
		for {
			i = skipWS(s, i)
			if i >= len(s) || s[i] == '}' || s[i] == ']' {
				return
			}
			if obj {
				k := skipString(s, i)
				if k < 0 {
					return
				}
				i = skipWS(s, k)
				if i >= len(s) || s[i] != ':' {
					return
				}
				i++
			}
			i = skipWS(s, i)
			end := skipValue(s, i)
			if end < 0 {
				return
			}
			walk(s[i:end], depth+1, fn)
			i = skipWS(s, end)
			if i >= len(s) || s[i] != ',' {
				return
			}
			i++
		}
	default:
		end := skipValue(s, i)
		if end < 0 {
			return
		}
		fn(kindOf(s[i:end]), s[i:end])
	}
}

// unquote appends the contents of the JSON string q (with its quotes) to
// buf, decoding escapes. Without escapes it returns q's inside, no copy.
func unquote(q []byte, buf []byte) []byte {
	if len(q) < 2 {
		return nil
	}
	in := q[1 : len(q)-1]
	esc := false
	for _, c := range in {
		if c == '\\' {
			esc = true
			break
		}
	}
	if !esc {
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
