package query

import (
	"net/netip"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/alertgw/alertgw/internal/rawjson"
	"github.com/alertgw/alertgw/normalize"
)

// Full-text search: an event's searchable values are cut into words (runs
// of letters and digits, lower-cased; everything else separates, as
// SQLite FTS5's unicode61 tokenizer does) and a bare word or "phrase" of a
// query matches when its words occur in sequence. The store indexes
// exactly the text AppendText writes, and the in-memory matcher searches
// the same text, so every backend agrees on what matches.

// Text limits keep an event's index entry small and bounded.
const (
	MaxTextBytes = 16 << 10 // of flattened text per event; the rest is not indexed
	MaxWordBytes = 128      // longer runs (base64, hashes of hashes) are not words
)

func isTokenRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

func isTokenRuneAtEnd(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return isTokenRune(r)
}

// Tokens returns the words of s, lower-cased, as the full-text index
// holds them.
func Tokens(s string) []string {
	var out []string
	var buf []byte
	forTokens(s, &buf, func(w []byte) { out = append(out, string(w)) })
	return out
}

// forTokens calls fn with each word of s, lower-cased in *buf.
func forTokens(s string, buf *[]byte, fn func([]byte)) {
	i := 0
	for i < len(s) {
		// skip separators
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				if isASCIIWord(c) {
					break
				}
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if isTokenRune(r) {
				break
			}
			i += n
		}
		b := (*buf)[:0]
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				if !isASCIIWord(c) {
					break
				}
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				b = append(b, c)
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if !isTokenRune(r) {
				break
			}
			b = utf8.AppendRune(b, unicode.ToLower(r))
			i += n
		}
		*buf = b
		if len(b) > 0 && len(b) <= MaxWordBytes {
			fn(b)
		}
	}
}

func isASCIIWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// textWriter accumulates words separated by single spaces, up to the limit.
type textWriter struct {
	b    []byte
	word []byte
	full bool
}

func (w *textWriter) add(s string) {
	if w.full || s == "" {
		return
	}
	forTokens(s, &w.word, w.put)
}

func (w *textWriter) addBytes(s []byte) {
	if w.full || len(s) == 0 {
		return
	}
	// The conversion does not allocate: forTokens does not keep s.
	forTokens(unsafeString(s), &w.word, w.put)
}

func (w *textWriter) put(word []byte) {
	if w.full {
		return
	}
	if len(w.b)+len(word)+1 > MaxTextBytes {
		w.full = true
		return
	}
	if len(w.b) > 0 {
		w.b = append(w.b, ' ')
	}
	w.b = append(w.b, word...)
}

func (w *textWriter) num(u uint64) {
	var a [20]byte
	w.addBytes(strconv.AppendUint(a[:0], u, 10))
}

func (w *textWriter) addr(a netip.Addr) {
	if !a.IsValid() {
		return
	}
	var buf [64]byte
	w.addBytes(a.Unmap().AppendTo(buf[:0]))
}

// AppendText appends the searchable words of e to b: lower-case words
// separated by one space, at most MaxTextBytes. What is searchable: the
// values that name things (kind, action, source, addresses, ports,
// protocol, ids, interfaces, signature, flow state, firewall prefix, geo,
// labels, observer) and every string and number under details except the
// base64 payload and packet; not the times, the event id or counters.
func AppendText(b []byte, e *normalize.Event) []byte {
	w := textWriter{b: b}
	w.appendEvent(e)
	return w.b
}

func (w *textWriter) appendEvent(e *normalize.Event) {
	w.add(string(e.Kind))
	w.add(string(e.Action))
	w.add(e.Source.Type)
	w.add(e.Source.Input)
	w.add(e.Source.Sensor)
	w.addr(e.SrcIP)
	if e.HasPorts {
		w.num(uint64(e.SrcPort))
	}
	w.addr(e.DestIP)
	if e.HasPorts {
		w.num(uint64(e.DestPort))
	}
	w.add(e.ProtoName)
	w.add(e.SrcMAC)
	w.add(e.DestMAC)
	w.add(e.CommunityID)
	if e.FlowID != 0 {
		w.num(e.FlowID)
	}
	w.add(e.InIface)
	for _, v := range e.VLAN {
		w.num(uint64(v))
	}
	w.add(e.AppProto)
	w.add(e.Direction)
	if s := e.Signature; s != nil {
		w.num(uint64(s.GID))
		w.num(uint64(s.ID))
		w.num(uint64(s.Rev))
		w.add(s.Name)
		w.add(s.Category)
	}
	if f := e.Flow; f != nil {
		w.add(f.State)
		w.add(f.Reason)
	}
	if f := e.Firewall; f != nil {
		w.add(f.Prefix)
		w.add(f.InIface)
		w.add(f.OutIface)
	}
	for _, g := range [2]*normalize.Geo{e.SrcGeo, e.DestGeo} {
		if g != nil {
			w.add(g.CountryISO)
			w.add(g.CountryName)
			w.add(g.CityName)
			if g.ASN != 0 {
				w.num(uint64(g.ASN))
			}
			w.add(g.ASOrg)
		}
	}
	for _, l := range e.SrcLabels {
		w.add(l)
	}
	for _, l := range e.DestLabels {
		w.add(l)
	}
	w.add(e.NetDirection)
	if o := e.Observer; o != nil {
		w.add(o.Site)
		w.add(o.Environment)
		w.add(o.Cluster)
		w.add(o.Namespace)
		w.add(o.Pod)
		w.add(o.Node)
	}
	for _, f := range e.Details {
		if f.Key == "payload" || f.Key == "packet" {
			continue // base64
		}
		w.jsonValues(f.Value)
	}
}

// jsonValues adds the strings and numbers of a JSON value, not its keys.
func (w *textWriter) jsonValues(raw []byte) {
	var sbuf [256]byte
	rawjson.Walk(raw, func(kind byte, v []byte) {
		switch kind {
		case '"':
			w.addBytes(rawjson.Unquote(v, sbuf[:0]))
		case '0':
			w.addBytes(v)
		}
	})
}
