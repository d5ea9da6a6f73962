package audit

import (
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"unsafe"
)

// scratch holds the strings the mapper derives while it maps one event
// (hex-decoded values, split argument vectors, formatted addresses), so
// that a typical event costs no allocation for them. They are valid until
// the next Map call resets it, and nothing keeps them longer: the details
// JSON is copied out of the mapper, and the process table clones what it
// stores.
//
// Bytes are only ever appended: a string handed out is never overwritten
// before the reset, even when append moves to a larger array (the old one
// stays alive as long as a string refers to it).
type scratch struct {
	b    []byte
	strs []string
}

func (a *scratch) reset() {
	a.b = a.b[:0]
	a.strs = a.strs[:0]
}

// since returns the bytes appended since start as a string.
func (a *scratch) since(start int) string {
	if len(a.b) == start {
		return ""
	}
	return unsafe.String(&a.b[start], len(a.b)-start)
}

// hex decodes s (upper or lower case, as encoding/hex) when it is valid
// hex of even length.
func (a *scratch) hex(s string) (string, bool) {
	if len(s) == 0 || len(s)%2 != 0 {
		return "", false
	}
	start := len(a.b)
	var err error
	a.b, err = hex.AppendDecode(a.b, unsafe.Slice(unsafe.StringData(s), len(s)))
	if err != nil {
		a.b = a.b[:start]
		return "", false
	}
	return a.since(start), true
}

// upperHex decodes s when it is upper-case hex of even length, the way the
// kernel encodes values (auparse accepts no lower case).
func (a *scratch) upperHex(s string) (string, bool) {
	if !isUpperHex(s) {
		return "", false
	}
	return a.hex(s)
}

// replaceNUL returns s with every NUL byte replaced by c; s itself when
// it has none.
func (a *scratch) replaceNUL(s string, c byte) string {
	i := strings.IndexByte(s, 0)
	if i < 0 {
		return s
	}
	start := len(a.b)
	a.b = append(a.b, s...)
	for j := start + i; j < len(a.b); j++ {
		if a.b[j] == 0 {
			a.b[j] = c
		}
	}
	return a.since(start)
}

// split returns the parts of s between sep bytes (strings.Split) in a
// slice taken from the scratch space.
func (a *scratch) split(s string, sep byte) []string {
	start := len(a.strs)
	for {
		i := strings.IndexByte(s, sep)
		if i < 0 {
			break
		}
		a.strs = append(a.strs, s[:i])
		s = s[i+1:]
	}
	a.strs = append(a.strs, s)
	return a.strs[start:len(a.strs):len(a.strs)]
}

// strSlice returns n empty strings from the scratch space; never nil
// (an empty argv is not a missing one).
func (a *scratch) strSlice(n int) []string {
	if n == 0 {
		return []string{}
	}
	start := len(a.strs)
	a.strs = append(a.strs, make([]string, n)...)
	return a.strs[start:len(a.strs):len(a.strs)]
}

func (a *scratch) addr(ip netip.Addr) string {
	start := len(a.b)
	a.b = ip.AppendTo(a.b)
	return a.since(start)
}

func (a *scratch) uint(n uint64) string {
	start := len(a.b)
	a.b = strconv.AppendUint(a.b, n, 10)
	return a.since(start)
}

func (a *scratch) int(n int64) string {
	start := len(a.b)
	a.b = strconv.AppendInt(a.b, n, 10)
	return a.since(start)
}
