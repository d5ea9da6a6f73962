package triage

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Key names an inbox group: the grouping fields in order and the group's
// value of each, e.g. signature.id=2001219, src_ip=10.0.0.5,
// dest_ip=192.0.2.10. Its text form (String) is what is stored and what
// travels in forms and links.
type Key struct {
	Fields []string
	Values []string
}

// Absent is the value of a field the group's events do not have (written
// as the bare field name in the text form).
const Absent = "\x00absent"

// MaxKeyLen bounds a key's text form (form values are checked against it).
const MaxKeyLen = 2048

// String is the canonical text form: field=value pairs, query-escaped,
// joined by '&', in grouping order.
func (k Key) String() string {
	var b strings.Builder
	for i, f := range k.Fields {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(f))
		if k.Values[i] == Absent {
			continue
		}
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(k.Values[i]))
	}
	return b.String()
}

// ParseKey reads the text form back.
func ParseKey(s string) (Key, error) {
	if s == "" {
		return Key{}, errors.New("empty group key")
	}
	if len(s) > MaxKeyLen {
		return Key{}, fmt.Errorf("group key longer than %d bytes", MaxKeyLen)
	}
	var k Key
	seen := map[string]bool{}
	for pair := range strings.SplitSeq(s, "&") {
		fe, ve, ok := strings.Cut(pair, "=")
		f, err1 := url.QueryUnescape(fe)
		v, err2 := url.QueryUnescape(ve)
		if !ok {
			v = Absent
		}
		if err1 != nil || err2 != nil || f == "" {
			return Key{}, fmt.Errorf("group key: bad pair %q", pair)
		}
		if seen[f] {
			return Key{}, fmt.Errorf("group key: field %q appears twice", f)
		}
		seen[f] = true
		k.Fields = append(k.Fields, f)
		k.Values = append(k.Values, v)
	}
	// The bound holds for the canonical form too, which is what is stored
	// and sent back: escaping can make a key longer than what was parsed.
	if n := len(k.String()); n > MaxKeyLen {
		return Key{}, fmt.Errorf("group key longer than %d bytes once escaped (%d)", MaxKeyLen, n)
	}
	return k, nil
}

// Value returns the key's value of field.
func (k Key) Value(field string) (string, bool) {
	for i, f := range k.Fields {
		if f == field {
			return k.Values[i], true
		}
	}
	return "", false
}

// Covers reports whether every field of k is in g with the same value: an
// action on k (archiving all of a signature) applies to g (one
// signature+source+destination of it).
func (k Key) Covers(g Key) bool {
	if len(k.Fields) == 0 {
		return false
	}
	for i, f := range k.Fields {
		if v, ok := g.Value(f); !ok || v != k.Values[i] {
			return false
		}
	}
	return true
}
