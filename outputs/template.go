package outputs

import (
	"fmt"
	"strings"

	"github.com/alertgw/alertgw/normalize"
)

// Template is a name built from an event's fields: a Kafka topic, an
// Elasticsearch index. Placeholders:
//
//	{kind}    alert, flow, packet, …
//	{source}  the sensor family (suricata, snort, nflog, auditd, …)
//	{input}   the configured input's name
//	{sensor}  the gateway's sensor name
//	{action}  allowed, blocked, unknown
//	{date:LAYOUT}  the event's timestamp (UTC) in a Go time layout, e.g. {date:2006.01.02}
//
// "alertgw-{kind}" gives alertgw-alert, alertgw-flow, …
type Template struct {
	parts []tmplPart
	fixed bool // no placeholders
	raw   string
}

type tmplPart struct {
	lit    string
	field  string // "" for a literal
	layout string
}

// ParseTemplate parses s.
func ParseTemplate(s string) (*Template, error) {
	t := &Template{raw: s, fixed: true}
	rest := s
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			t.parts = append(t.parts, tmplPart{lit: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{lit: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("template %q: unclosed {", s)
		}
		name := rest[i+1 : i+j]
		p := tmplPart{field: name}
		if layout, ok := strings.CutPrefix(name, "date:"); ok && layout != "" {
			p.field, p.layout = "date", layout
		}
		switch p.field {
		case "kind", "source", "input", "sensor", "action", "date":
		default:
			return nil, fmt.Errorf("template %q: unknown placeholder {%s} (known: kind, source, input, sensor, action, date:LAYOUT)", s, name)
		}
		if p.field == "date" && p.layout == "" {
			return nil, fmt.Errorf("template %q: {date:LAYOUT} needs a layout, e.g. {date:2006.01.02}", s)
		}
		t.parts = append(t.parts, p)
		t.fixed = false
		rest = rest[i+j+1:]
	}
	return t, nil
}

// Fixed reports whether the template has no placeholders.
func (t *Template) Fixed() bool { return t.fixed }

func (t *Template) String() string { return t.raw }

// Append renders the template for e onto dst.
func (t *Template) Append(dst []byte, e *normalize.Event) []byte {
	for _, p := range t.parts {
		switch p.field {
		case "":
			dst = append(dst, p.lit...)
		case "kind":
			dst = append(dst, orUnknown(string(e.Kind))...)
		case "source":
			dst = append(dst, orUnknown(e.Source.Type)...)
		case "input":
			dst = append(dst, orUnknown(e.Source.Input)...)
		case "sensor":
			dst = append(dst, orUnknown(e.Source.Sensor)...)
		case "action":
			dst = append(dst, orUnknown(string(e.Action))...)
		case "date":
			dst = e.Timestamp.UTC().AppendFormat(dst, p.layout)
		}
	}
	return dst
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Names caches rendered names: a batch has few distinct ones, and Kafka
// and Elasticsearch want strings.
type Names struct {
	t     *Template
	cache map[string]string
	buf   []byte
}

// NewNames renders t with a cache.
func NewNames(t *Template) *Names { return &Names{t: t, cache: map[string]string{}} }

// For returns the name for e.
func (n *Names) For(e *normalize.Event) string {
	if n.t.fixed {
		return n.t.raw
	}
	n.buf = n.t.Append(n.buf[:0], e)
	if s, ok := n.cache[string(n.buf)]; ok { // no allocation: the compiler's map lookup by []byte
		return s
	}
	if len(n.cache) > 10_000 { // a placeholder with many values (dates over years): start over
		clear(n.cache)
	}
	s := string(n.buf)
	n.cache[s] = s
	return s
}
