package query

import (
	"encoding/binary"
	"math"

	"github.com/alertgw/alertgw/normalize"
)

// Keyer returns a function that appends the field's value in an event to
// dst in a binary form that tells every value, and absence, apart: a
// presence byte, then a fixed-width or length-prefixed value. Events with
// equal keys over the same fields have equal values: the aggregation stage
// groups by it.
func (f *Field) Keyer() func(dst []byte, e *normalize.Event) []byte {
	if f.Type != JSON {
		return f.appendKey
	}
	path := f.Path()[1:] // under details
	return func(dst []byte, e *normalize.Event) []byte {
		v, ok := lookupPath(e.Details, path)
		if !ok {
			return append(dst, 0)
		}
		return appendLenBytes(append(dst, 1), unsafeString(v))
	}
}

func (f *Field) appendKey(dst []byte, e *normalize.Event) []byte {
	const absent, present = 0, 1
	switch {
	case f.str != nil:
		s := f.str(e)
		if s == "" {
			return append(dst, absent)
		}
		return appendLenBytes(append(dst, present), s)
	case f.uint != nil:
		u, ok := f.uint(e)
		if !ok {
			return append(dst, absent)
		}
		return binary.LittleEndian.AppendUint64(append(dst, present), u)
	case f.int != nil:
		n, ok := f.int(e)
		if !ok {
			return append(dst, absent)
		}
		return binary.LittleEndian.AppendUint64(append(dst, present), uint64(n))
	case f.float != nil:
		x, ok := f.float(e)
		if !ok {
			return append(dst, absent)
		}
		return binary.LittleEndian.AppendUint64(append(dst, present), math.Float64bits(x))
	case f.ip != nil:
		a := f.ip(e)
		if !a.IsValid() {
			return append(dst, absent)
		}
		b := a.As16()
		return append(append(dst, present), b[:]...)
	case f.time != nil:
		t := f.time(e)
		if t.IsZero() {
			return append(dst, absent)
		}
		return binary.LittleEndian.AppendUint64(append(dst, present), uint64(t.UnixNano()))
	case f.bool != nil:
		b, ok := f.bool(e)
		switch {
		case !ok:
			return append(dst, absent)
		case b:
			return append(dst, present, 1)
		}
		return append(dst, present, 0)
	case f.strs != nil:
		list := f.strs(e)
		dst = binary.AppendUvarint(dst, uint64(len(list)))
		for _, s := range list {
			dst = appendLenBytes(dst, s)
		}
		return dst
	case f.uints != nil:
		list := f.uints(e)
		dst = binary.AppendUvarint(dst, uint64(len(list)))
		for _, v := range list {
			dst = binary.LittleEndian.AppendUint16(dst, v)
		}
		return dst
	}
	return append(dst, absent)
}

func appendLenBytes(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}
