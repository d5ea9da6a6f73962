package console

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// field is one leaf of an event's JSON: its dotted path (array elements
// that are objects get [i]), its value as text, and whether a search on
// path:value makes sense (Pivot).
type field struct {
	Path  string
	Value string
	Pivot bool
}

// maxFlatFields bounds what one event page lists (an EVE record with a
// huge details tree is shown whole in the raw view).
const maxFlatFields = 2000

// flatten lists the leaves of a JSON object in document order. Arrays of
// scalars become one comma-separated value; arrays of objects are indexed.
func flatten(doc []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var out []field
	var walk func(path string, indexed bool) error
	walk = func(path string, indexed bool) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				for dec.More() {
					kt, err := dec.Token()
					if err != nil {
						return err
					}
					k, _ := kt.(string)
					p := k
					if path != "" {
						p = path + "." + k
					}
					if err := walk(p, indexed); err != nil {
						return err
					}
				}
				_, err := dec.Token() // '}'
				return err
			case '[':
				var scalars []string
				objects := 0
				for i := 0; dec.More(); i++ {
					var raw json.RawMessage
					if err := dec.Decode(&raw); err != nil {
						return err
					}
					raw = bytes.TrimSpace(raw)
					if len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
						sub, err := flatten(wrapIndexed(raw))
						if err != nil {
							return err
						}
						for _, f := range sub {
							p := fmt.Sprintf("%s[%d]", path, objects)
							if f.Path != "v" {
								p += strings.TrimPrefix(f.Path, "v")
							}
							out = append(out, field{Path: p, Value: f.Value})
						}
						objects++
						continue
					}
					scalars = append(scalars, scalarText(raw))
				}
				if len(scalars) > 0 || objects == 0 {
					out = append(out, field{Path: path, Value: strings.Join(scalars, ", ")})
				}
				_, err := dec.Token() // ']'
				return err
			}
		case string:
			out = append(out, field{Path: path, Value: t, Pivot: !indexed})
		case json.Number:
			out = append(out, field{Path: path, Value: t.String(), Pivot: !indexed})
		case bool:
			out = append(out, field{Path: path, Value: strconv.FormatBool(t), Pivot: !indexed})
		case nil:
			out = append(out, field{Path: path, Value: "null"})
		}
		if len(out) > maxFlatFields {
			return errTooManyFields
		}
		return nil
	}
	if err := walk("", false); err != nil && err != errTooManyFields {
		return out, err
	}
	return out, nil
}

var errTooManyFields = fmt.Errorf("more than %d fields", maxFlatFields)

func wrapIndexed(raw []byte) []byte {
	b := make([]byte, 0, len(raw)+6)
	b = append(b, `{"v":`...)
	b = append(b, raw...)
	return append(b, '}')
}

func scalarText(raw []byte) string {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// lookupPath returns the value at a dotted path of a decoded JSON object
// (as text), and whether it is there.
func lookupPath(doc map[string]any, path string) (string, bool) {
	var cur any = doc
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		if cur, ok = m[part]; !ok {
			return "", false
		}
	}
	return valueText(cur), true
}

func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = valueText(e)
		}
		return strings.Join(parts, ", ")
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func decodeObject(doc []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// binaryField is a payload or packet a sensor sent in base64, decoded for
// the event page.
type binaryField struct {
	Path  string
	Len   int
	Dump  string // hex and printable, 16 bytes a line
	Cut   bool   // longer than what is shown
	Error string
}

// maxDump bounds the bytes dumped on a page (64 KiB: a jumbo frame, or a
// stream payload's start).
const maxDump = 64 << 10

// binaryFields finds base64 payloads and packets among an event's fields:
// Suricata's payload and packet (under details), Snort's packet, and any
// field ending in .payload or .packet holding base64.
func binaryFields(fields []field) []binaryField {
	var out []binaryField
	for _, f := range fields {
		last := f.Path[strings.LastIndexByte(f.Path, '.')+1:]
		if last != "payload" && last != "packet" && last != "raw" {
			continue
		}
		if len(f.Value) < 4 {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(f.Value)
		if err != nil {
			continue // not base64: the field is shown as text with the others
		}
		bf := binaryField{Path: f.Path, Len: len(b)}
		if len(b) > maxDump {
			b, bf.Cut = b[:maxDump], true
		}
		bf.Dump = hexDump(b)
		out = append(out, bf)
	}
	return out
}

// hexDump writes offset, 16 bytes in hex and their printable ASCII (others
// as '.'), like hexdump -C. The page escapes it like any text.
func hexDump(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b)/16*78 + 78)
	for off := 0; off < len(b); off += 16 {
		line := b[off:min(off+16, len(b))]
		fmt.Fprintf(&sb, "%08x  ", off)
		for i := range 16 {
			if i < len(line) {
				fmt.Fprintf(&sb, "%02x ", line[i])
			} else {
				sb.WriteString("   ")
			}
			if i == 7 {
				sb.WriteByte(' ')
			}
		}
		sb.WriteString(" |")
		for _, c := range line {
			if c >= 0x20 && c < 0x7f {
				sb.WriteByte(c)
			} else {
				sb.WriteByte('.')
			}
		}
		sb.WriteString("|\n")
	}
	return sb.String()
}

// keyText is a group key value from the store as text: strings as they
// are, numbers in decimal, details values as their JSON (strings
// unquoted). ok is false for an absent value.
func keyText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case json.RawMessage:
		return scalarText(x), true
	case []byte:
		return scalarText(x), true
	}
	return fmt.Sprint(v), true
}
