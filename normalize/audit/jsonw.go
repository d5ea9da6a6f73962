package audit

import (
	"encoding/binary"
	"slices"
	"strconv"
	"unsafe"

	"github.com/segmentio/encoding/json"
)

// jw appends compact JSON to a reused buffer. Commas are put in front of a
// key or array element unless it follows an opening brace or bracket, so
// callers never track "first".
type jw struct {
	b     []byte
	fresh bool // the next value starts a new top-level value: no comma
}

// reserve extends the buffer by n bytes and returns them to fill. It
// stores only the slice's length unless the buffer must grow: storing its
// pointer into the (heap) writer would go through the GC write barrier
// while the collector marks, hundreds of times per event.
func (w *jw) reserve(n int) []byte {
	l := len(w.b)
	if cap(w.b)-l < n {
		w.b = slices.Grow(w.b, n)
	}
	w.b = w.b[:l+n] // same array: the compiler writes the length only
	return w.b[l : l+n]
}

func (w *jw) byte(c byte) { w.reserve(1)[0] = c }

// raw writes s as it is: JSON punctuation and keys the caller knows.
func (w *jw) raw(s string) { copy(w.reserve(len(s)), s) }

// quoted writes "s", and a colon after it when colon is set; s needs no
// escaping.
func (w *jw) quoted(s string, colon bool) {
	n := len(s) + 2
	if colon {
		n++
	}
	d := w.reserve(n)
	d[0] = '"'
	copy(d[1:], s)
	d[len(s)+1] = '"'
	if colon {
		d[len(s)+2] = ':'
	}
}

func (w *jw) sep() {
	if w.fresh {
		w.fresh = false
		return
	}
	if n := len(w.b); n > 0 {
		if c := w.b[n-1]; c != '{' && c != '[' && c != ':' {
			w.byte(',')
		}
	}
}

func (w *jw) key(k string) {
	w.sep()
	if plainKey(k) {
		w.quoted(k, true)
		return
	}
	w.b = json.AppendEscape(w.b, k, 0)
	w.byte(':')
}

// plainKey: printable ASCII without quote or backslash needs no escaping
// (every key of the record types parsed here, and most values). Eight
// bytes at a time: this runs over every key and value written.
func plainKey(k string) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(k); i += 8 {
		x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(k[i:]), 8))
		if x&hi != 0 {
			return false // a byte >= 0x80
		}
		// With every byte < 0x80 these are exact: a byte < 0x20, a byte
		// 0x7f, a '"', a '\\'.
		q, bs := x^(0x22*lo), x^(0x5c*lo)
		if (x-0x20*lo)&^x&hi|(x+lo)&hi|(q-lo)&^q&hi|(bs-lo)&^bs&hi != 0 {
			return false
		}
	}
	for ; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func (w *jw) open(c byte)  { w.sep(); w.byte(c) }
func (w *jw) close(c byte) { w.byte(c) }

func (w *jw) str(s string) {
	w.sep()
	if plainKey(s) {
		w.quoted(s, false)
		return
	}
	w.b = json.AppendEscape(w.b, s, 0)
}

func (w *jw) uint(n uint64) {
	w.sep()
	var tmp [20]byte
	d := strconv.AppendUint(tmp[:0], n, 10)
	copy(w.reserve(len(d)), d)
}

func (w *jw) int(n int64) {
	w.sep()
	var tmp [20]byte
	d := strconv.AppendInt(tmp[:0], n, 10)
	copy(w.reserve(len(d)), d)
}

func (w *jw) strField(k, v string) {
	if v != "" {
		w.key(k)
		w.str(v)
	}
}

func (w *jw) strs(ss []string) {
	w.open('[')
	for _, s := range ss {
		w.str(s)
	}
	w.close(']')
}

// num writes v as a JSON number when it is a decimal integer, else as a
// string: audit ids and pids are numbers, but a record may say "unset" or
// "?".
func (w *jw) num(v string) {
	if canonicalUint(v, 19) {
		// What ParseUint and AppendUint would give back.
		w.sep()
		w.raw(v)
		return
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		w.uint(n)
		return
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		w.int(n)
		return
	}
	w.str(v)
}

// canonicalUint reports whether v is a decimal number as strconv writes
// it (digits, no sign, no leading zero) of at most maxDigits digits.
func canonicalUint(v string, maxDigits int) bool {
	if len(v) == 0 || len(v) > maxDigits || v[0] == '0' && len(v) > 1 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}
