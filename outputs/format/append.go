package format

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/segmentio/encoding/json"
)

// Small appenders shared by every encoder. Keys are trusted constants; values
// are escaped. Invalid UTF-8 in a value becomes U+FFFD, as encoding/json does.

// AppendKey appends `"key":`, preceded by a comma unless dst ends an opening brace.
func AppendKey(dst []byte, key string) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' && dst[n-1] != '[' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// AppendString appends s as a JSON string.
func AppendString(dst []byte, s string) []byte {
	return json.AppendEscape(dst, s, 0)
}

// AppendStringField appends "key":"s" when s is not empty.
func AppendStringField(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	return AppendString(AppendKey(dst, key), s)
}

// AppendUintField appends "key":n.
func AppendUintField(dst []byte, key string, n uint64) []byte {
	return strconv.AppendUint(AppendKey(dst, key), n, 10)
}

// AppendIntField appends "key":n.
func AppendIntField(dst []byte, key string, n int64) []byte {
	return strconv.AppendInt(AppendKey(dst, key), n, 10)
}

// AppendBoolField appends "key":true|false.
func AppendBoolField(dst []byte, key string, b bool) []byte {
	return strconv.AppendBool(AppendKey(dst, key), b)
}

// TimeLayout is RFC 3339 in UTC with microseconds, the schema's timestamp form.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// AppendTime appends t in UTC with microseconds, as a JSON string. Every
// event has two or three times, and time.Time.AppendFormat's general layout
// interpreter was half the cost of encoding one, so the fixed layout is
// written digit by digit (identical output, checked in append_test.go).
func AppendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		dst = append(dst, '"')
		dst = t.AppendFormat(dst, TimeLayout)
		return append(dst, '"')
	}
	hour, minute, sec := t.Clock()
	var b [len(TimeLayout) + 2]byte
	b[0] = '"'
	put4(b[1:], year)
	b[5] = '-'
	put2(b[6:], int(month))
	b[8] = '-'
	put2(b[9:], day)
	b[11] = 'T'
	put2(b[12:], hour)
	b[14] = ':'
	put2(b[15:], minute)
	b[17] = ':'
	put2(b[18:], sec)
	b[20] = '.'
	us := t.Nanosecond() / 1000
	put2(b[21:], us/10000)
	put2(b[23:], us/100%100)
	put2(b[25:], us%100)
	b[27] = 'Z'
	b[28] = '"'
	return append(dst, b[:]...)
}

func put2(b []byte, n int) { b[0], b[1] = byte('0'+n/10), byte('0'+n%10) }
func put4(b []byte, n int) { put2(b, n/100); put2(b[2:], n%100) }

// AppendTimeField appends "key":"time" when t is set.
func AppendTimeField(dst []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	return AppendTime(AppendKey(dst, key), t)
}

// AppendAddrField appends "key":"addr" when a is valid. IPv4-mapped IPv6
// addresses are written as IPv4.
func AppendAddrField(dst []byte, key string, a netip.Addr) []byte {
	if !a.IsValid() {
		return dst
	}
	dst = append(AppendKey(dst, key), '"')
	dst = a.Unmap().AppendTo(dst)
	return append(dst, '"')
}

// AppendRawField appends "key":raw; raw must be valid compact JSON.
func AppendRawField(dst []byte, key string, raw []byte) []byte {
	return append(AppendKey(dst, key), raw...)
}

// AppendEscapedKey is AppendKey for keys that come from the source and may
// need escaping (Details keys).
func AppendEscapedKey(dst []byte, key string) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' && dst[n-1] != '[' {
		dst = append(dst, ',')
	}
	return append(AppendString(dst, key), ':')
}
