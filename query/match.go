package query

import (
	"bytes"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alertgw/alertgw/internal/rawjson"
	"github.com/alertgw/alertgw/normalize"
)

// Matcher tests events against a query in memory: per-output routing
// filters and mute rules. Match does not allocate and is safe for
// concurrent use. Field terms cost a few nanoseconds each; a full-text
// term flattens the event's text first (about a microsecond, once per
// Match however many text terms there are).
type Matcher struct {
	root matcher // nil: everything matches
	text bool    // some term searches the text
}

type matcher interface {
	match(e *normalize.Event, s *scratch) bool
}

// scratch holds what one Match call computes lazily for its terms.
type scratch struct {
	e    *normalize.Event
	text []byte
	done bool
	w    textWriter
}

var scratchPool = sync.Pool{New: func() any { return &scratch{} }}

// text returns e's flattened text with a space on each side.
func (s *scratch) eventText() []byte {
	if !s.done {
		s.w = textWriter{b: append(s.text[:0], ' '), word: s.w.word}
		s.w.appendEvent(s.e)
		s.text = append(s.w.b, ' ')
		s.done = true
	}
	return s.text
}

// Matcher compiles the query for in-memory matching.
func (q *Query) Matcher() *Matcher {
	m := &Matcher{}
	if q.Root != nil {
		m.root = compile(q.Root, &m.text)
	}
	return m
}

// Match reports whether e matches.
func (m *Matcher) Match(e *normalize.Event) bool {
	if m.root == nil {
		return true
	}
	if !m.text {
		return m.root.match(e, nil)
	}
	s := scratchPool.Get().(*scratch)
	s.e, s.done = e, false
	ok := m.root.match(e, s)
	s.e = nil
	if cap(s.text) > 4*MaxTextBytes {
		s.text = nil
	}
	scratchPool.Put(s)
	return ok
}

type andM []matcher
type orM []matcher
type notM struct{ x matcher }

func (a andM) match(e *normalize.Event, s *scratch) bool {
	for _, x := range a {
		if !x.match(e, s) {
			return false
		}
	}
	return true
}

func (o orM) match(e *normalize.Event, s *scratch) bool {
	for _, x := range o {
		if x.match(e, s) {
			return true
		}
	}
	return false
}

func (n notM) match(e *normalize.Event, s *scratch) bool { return !n.x.match(e, s) }

func compile(n Node, text *bool) matcher {
	switch n := n.(type) {
	case *And:
		a := make(andM, len(n.X))
		for i, x := range n.X {
			a[i] = compile(x, text)
		}
		return a
	case *Or:
		o := make(orM, len(n.X))
		for i, x := range n.X {
			o[i] = compile(x, text)
		}
		return o
	case *Not:
		return notM{compile(n.X, text)}
	case *Term:
		if n.Op == OpText {
			*text = true
			return newTextM(n)
		}
		return compileTerm(n)
	}
	panic("query: unknown node")
}

func compileTerm(t *Term) matcher {
	f := t.Field
	switch f.Type {
	case String, Enum:
		return strM{get: f.str, t: t}
	case Strings:
		return strsM{get: f.strs, t: t}
	case Uint, ID:
		return uintM{get: f.uint, r: uintRange(t)}
	case Uints:
		return uintsM{get: f.uints, r: uintRange(t)}
	case Int:
		return intM{get: f.int, r: intRange(t)}
	case Float:
		return floatM{get: f.float, r: floatRange(t)}
	case IP:
		return ipM{get: f.ip, r: ipRange(t)}
	case Time:
		r := intRange(t)
		return timeM{get: f.time, r: r}
	case Bool:
		return boolM{get: f.bool, t: t}
	case JSON:
		return newJSONM(t)
	}
	panic("query: unknown field type")
}

// --- strings

type strM struct {
	get func(*normalize.Event) string
	t   *Term
}

func (m strM) match(e *normalize.Event, _ *scratch) bool {
	v := m.get(e)
	return v != "" && matchString(m.t, v)
}

type strsM struct {
	get func(*normalize.Event) []string
	t   *Term
}

func (m strsM) match(e *normalize.Event, _ *scratch) bool {
	for _, v := range m.get(e) {
		if matchString(m.t, v) {
			return true
		}
	}
	return false
}

func matchString(t *Term, v string) bool {
	switch t.Op {
	case OpExists:
		return true
	case OpGlob:
		return glob(t.Glob, v)
	}
	return v == t.Value.Str
}

// glob matches v against the literal parts between '*'s.
func glob(parts []string, v string) bool {
	if len(parts) == 0 {
		return v == ""
	}
	first, last := parts[0], parts[len(parts)-1]
	if !strings.HasPrefix(v, first) {
		return false
	}
	v = v[len(first):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(v, p)
		if i < 0 {
			return false
		}
		v = v[i+len(p):]
	}
	return strings.HasSuffix(v, last)
}

// --- integers, as closed intervals

type uRange struct {
	lo, hi uint64
	any    bool // OpExists
	empty  bool
}

func uintRange(t *Term) uRange {
	switch t.Op {
	case OpExists:
		return uRange{any: true}
	case OpEq:
		return uRange{lo: t.Value.U, hi: t.Value.U}
	}
	r := uRange{lo: 0, hi: math.MaxUint64}
	if t.Lo != nil {
		r.lo = t.Lo.U
		if t.Lo.Neg { // below every unsigned value
			r.lo = 0
		} else if !t.LoInc {
			if r.lo == math.MaxUint64 {
				r.empty = true
			}
			r.lo++
		}
	}
	if t.Hi != nil {
		if t.Hi.Neg {
			r.empty = true
		}
		r.hi = t.Hi.U
		if !t.HiInc {
			if r.hi == 0 {
				r.empty = true
			}
			r.hi--
		}
	}
	if r.lo > r.hi {
		r.empty = true
	}
	return r
}

func (r uRange) has(u uint64) bool { return r.any || !r.empty && u >= r.lo && u <= r.hi }

type uintM struct {
	get func(*normalize.Event) (uint64, bool)
	r   uRange
}

func (m uintM) match(e *normalize.Event, _ *scratch) bool {
	u, ok := m.get(e)
	return ok && m.r.has(u)
}

type uintsM struct {
	get func(*normalize.Event) []uint16
	r   uRange
}

func (m uintsM) match(e *normalize.Event, _ *scratch) bool {
	for _, v := range m.get(e) {
		if m.r.has(uint64(v)) {
			return true
		}
	}
	return false
}

type iRange struct {
	lo, hi int64
	any    bool
	empty  bool
}

// intRange makes a closed int64 interval; for Time fields the values are
// Unix microseconds.
func intRange(t *Term) iRange {
	val := func(v *Value) int64 {
		if t.Field.Type == Time {
			return v.Time.UnixMicro()
		}
		return v.Int64()
	}
	switch t.Op {
	case OpExists:
		return iRange{any: true}
	case OpEq:
		x := val(&t.Value)
		return iRange{lo: x, hi: x}
	}
	r := iRange{lo: math.MinInt64, hi: math.MaxInt64}
	if t.Lo != nil {
		r.lo = val(t.Lo)
		if !t.LoInc {
			if r.lo == math.MaxInt64 {
				r.empty = true
			}
			r.lo++
		}
	}
	if t.Hi != nil {
		r.hi = val(t.Hi)
		if !t.HiInc {
			if r.hi == math.MinInt64 {
				r.empty = true
			}
			r.hi--
		}
	}
	if r.lo > r.hi {
		r.empty = true
	}
	return r
}

func (r iRange) has(x int64) bool { return r.any || !r.empty && x >= r.lo && x <= r.hi }

type intM struct {
	get func(*normalize.Event) (int64, bool)
	r   iRange
}

func (m intM) match(e *normalize.Event, _ *scratch) bool {
	x, ok := m.get(e)
	return ok && m.r.has(x)
}

type timeM struct {
	get func(*normalize.Event) time.Time
	r   iRange
}

func (m timeM) match(e *normalize.Event, _ *scratch) bool {
	t := m.get(e)
	return !t.IsZero() && m.r.has(t.UnixMicro())
}

// --- floats

type fRange struct {
	lo, hi       float64
	loInc, hiInc bool
	any          bool
}

func floatRange(t *Term) fRange {
	switch t.Op {
	case OpExists:
		return fRange{any: true}
	case OpEq:
		return fRange{lo: t.Value.F, hi: t.Value.F, loInc: true, hiInc: true}
	}
	r := fRange{lo: math.Inf(-1), hi: math.Inf(1), loInc: true, hiInc: true}
	if t.Lo != nil {
		r.lo, r.loInc = t.Lo.F, t.LoInc
	}
	if t.Hi != nil {
		r.hi, r.hiInc = t.Hi.F, t.HiInc
	}
	return r
}

func (r fRange) has(x float64) bool {
	if r.any {
		return true
	}
	if x < r.lo || x == r.lo && !r.loInc {
		return false
	}
	return x < r.hi || x == r.hi && r.hiInc
}

type floatM struct {
	get func(*normalize.Event) (float64, bool)
	r   fRange
}

func (m floatM) match(e *normalize.Event, _ *scratch) bool {
	x, ok := m.get(e)
	return ok && m.r.has(x)
}

// --- addresses

// aRange is a closed interval of addresses of one family.
type aRange struct {
	lo, hi netip.Addr
	any    bool
	empty  bool
}

// ipRange turns equality, CIDR and ranges into one closed interval within
// one address family: a range's open end takes its other end's family.
func ipRange(t *Term) aRange {
	switch t.Op {
	case OpExists:
		return aRange{any: true}
	case OpEq:
		return aRange{lo: t.Value.Addr, hi: t.Value.Addr}
	case OpCIDR:
		return aRange{lo: t.Prefix.Masked().Addr(), hi: lastAddr(t.Prefix)}
	}
	var r aRange
	switch {
	case t.Lo != nil:
		r.lo = t.Lo.Addr
	case t.Hi.Addr.Is4():
		r.lo = netip.IPv4Unspecified()
	default:
		r.lo = netip.IPv6Unspecified()
	}
	switch {
	case t.Hi != nil:
		r.hi = t.Hi.Addr
	case r.lo.Is4():
		r.hi = netip.AddrFrom4([4]byte{255, 255, 255, 255})
	default:
		r.hi = netip.AddrFrom16([16]byte{255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255})
	}
	if t.Lo != nil && !t.LoInc {
		if n := r.lo.Next(); n.IsValid() {
			r.lo = n
		} else {
			r.empty = true
		}
	}
	if t.Hi != nil && !t.HiInc {
		if p := r.hi.Prev(); p.IsValid() {
			r.hi = p
		} else {
			r.empty = true
		}
	}
	if r.lo.Is4() != r.hi.Is4() || r.lo.Compare(r.hi) > 0 {
		r.empty = true
	}
	return r
}

// IPRange returns the closed interval of addresses (one family) that an
// IP term matches, for backends that store addresses as sortable bytes.
// ok is false for OpExists and for empty ranges (nothing matches).
func (n *Term) IPRange() (lo, hi netip.Addr, ok bool) {
	r := ipRange(n)
	if r.any || r.empty {
		return lo, hi, false
	}
	return r.lo, r.hi, true
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	b := a.As16()
	bits := p.Bits()
	if a.Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	out := netip.AddrFrom16(b)
	if a.Is4() {
		out = out.Unmap()
	}
	return out
}

func (r aRange) has(a netip.Addr) bool {
	if r.any {
		return true
	}
	if r.empty {
		return false
	}
	a = a.Unmap()
	if a.Zone() != "" {
		a = a.WithZone("")
	}
	return a.Is4() == r.lo.Is4() && a.Compare(r.lo) >= 0 && a.Compare(r.hi) <= 0
}

type ipM struct {
	get func(*normalize.Event) netip.Addr
	r   aRange
}

func (m ipM) match(e *normalize.Event, _ *scratch) bool {
	a := m.get(e)
	return a.IsValid() && m.r.has(a)
}

// --- booleans

type boolM struct {
	get func(*normalize.Event) (bool, bool)
	t   *Term
}

func (m boolM) match(e *normalize.Event, _ *scratch) bool {
	v, ok := m.get(e)
	return ok && (m.t.Op == OpExists || v == m.t.Value.Bool)
}

// --- details

type jsonM struct {
	path []string // after "details."
	t    *Term
	f    fRange
}

func newJSONM(t *Term) jsonM {
	m := jsonM{path: strings.Split(strings.TrimPrefix(t.Field.Name, DetailsPrefix), "."), t: t}
	if t.Op == OpRange {
		m.f = floatRange(t)
	}
	return m
}

func (m jsonM) match(e *normalize.Event, _ *scratch) bool {
	v, ok := lookupPath(e.Details, m.path)
	if !ok {
		return false
	}
	return matchJSON(m.t, &m.f, v)
}

// matchJSON applies a term to one raw JSON value: strings match as
// strings, numbers as numbers, booleans as true/false; null, objects and
// arrays match only "exists" (null not even that).
func matchJSON(t *Term, f *fRange, v []byte) bool {
	k := rawjson.Kind(v)
	switch t.Op {
	case OpExists:
		return k != 'n' && k != 0
	case OpGlob:
		if k != '"' {
			return false
		}
		var buf [256]byte
		return glob(t.Glob, unsafeString(rawjson.Unquote(v, buf[:0])))
	case OpRange:
		if k != '0' {
			return false
		}
		x, err := strconv.ParseFloat(unsafeString(v), 64)
		return err == nil && f.has(x)
	}
	switch k {
	case '"':
		var buf [256]byte
		return unsafeString(rawjson.Unquote(v, buf[:0])) == t.Value.Str
	case '0':
		if !t.Value.IsNum {
			return false
		}
		if t.Value.IsInt && !bytes.ContainsAny(v, ".eE") {
			var x Value
			return parseInt(unsafeString(v), &x) && x.Neg == t.Value.Neg && x.U == t.Value.U
		}
		x, err := strconv.ParseFloat(unsafeString(v), 64)
		return err == nil && x == t.Value.F
	case 't', 'f':
		return t.Value.IsBool && (k == 't') == t.Value.Bool
	}
	return false
}

// --- full text

type textM struct {
	needle []byte // " w1 w2" (+" " unless prefix)
}

func newTextM(t *Term) textM {
	n := []byte{' '}
	n = append(n, strings.Join(t.Words, " ")...)
	if !t.PrefixWord {
		n = append(n, ' ')
	}
	return textM{needle: n}
}

func (m textM) match(e *normalize.Event, s *scratch) bool {
	return bytes.Contains(s.eventText(), m.needle)
}
