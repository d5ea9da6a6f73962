// Package native decodes alertgw's own JSON format (schema v1, what the
// `native` format writes: docs/schema.md) back into events, so that events
// one gateway wrote (to Kafka, over HTTP) can be taken in by another with
// their id, times and source intact.
//
// Decoding refuses what an Event cannot represent or the schema's structure
// forbids (types, integer ranges, enums, required fields, unknown members of
// the schema's objects) with a *normalize.Error naming the field; it does not
// re-check the schema's finer rules (string patterns, lengths). Top-level
// members this version does not know are kept under details rather than
// refused, so that events from a newer gateway are not lost in a mixed fleet.
package native

import (
	"bytes"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/segmentio/encoding/json"

	"github.com/alertgw/alertgw/normalize"
)

// MaxMessageSize bounds the work one Decode call can be made to do.
const MaxMessageSize = 16 << 20

// Decoder decodes one native JSON event. It is stateless and safe for
// concurrent use; it implements inputs.Decoder. Details values and strings
// may share msg's memory, which must not change while the event lives.
type Decoder struct{}

// Looks reports whether msg looks like a native event rather than another
// producer's JSON (an EVE record): its first member is "schema", as the
// native format always writes it.
func Looks(msg []byte) bool {
	msg = bytes.TrimLeft(msg, " \t\r\n")
	if len(msg) == 0 || msg[0] != '{' {
		return false
	}
	msg = bytes.TrimLeft(msg[1:], " \t\r\n")
	return bytes.HasPrefix(msg, []byte(`"schema"`))
}

// Decode overwrites *ev with the event msg describes.
func (Decoder) Decode(msg []byte, ev *normalize.Event) error {
	*ev = normalize.Event{}
	if len(msg) > MaxMessageSize {
		return normalize.Errorf(normalize.ReasonTooLarge, "message of %d bytes (at most %d)", len(msg), MaxMessageSize)
	}
	if !utf8.Valid(msg) {
		return normalize.Errorf(normalize.ReasonInvalidUTF8, "message is not valid UTF-8")
	}
	d := decoder{b: msg, s: string(msg), ev: ev}
	err := d.event()
	if err == nil {
		if d.ws(); d.i != len(d.b) {
			err = normalize.Errorf(normalize.ReasonInvalidJSON, "data after the event's closing brace")
		}
	}
	if err != nil {
		*ev = normalize.Event{}
		return err
	}
	return nil
}

// decoder is the state of one Decode call.
type decoder struct {
	b  []byte
	i  int    // the position in b: the start of the value a reader reads
	s  string // the message as one string: strings are cut from it, one allocation for all
	ev *normalize.Event
}

// topLevel numbers the schema's top-level members for the duplicate check
// (a switch: cheaper than hashing the key into a map).
func topLevel(key string) (uint, bool) {
	switch key {
	case "schema":
		return 0, true
	case "id":
		return 1, true
	case "timestamp":
		return 2, true
	case "received":
		return 3, true
	case "kind":
		return 4, true
	case "action":
		return 5, true
	case "source":
		return 6, true
	case "src_ip":
		return 7, true
	case "src_port":
		return 8, true
	case "dest_ip":
		return 9, true
	case "dest_port":
		return 10, true
	case "proto":
		return 11, true
	case "proto_name":
		return 12, true
	case "icmp_type":
		return 13, true
	case "icmp_code":
		return 14, true
	case "src_mac":
		return 15, true
	case "dest_mac":
		return 16, true
	case "community_id":
		return 17, true
	case "flow_id":
		return 18, true
	case "in_iface":
		return 19, true
	case "vlan":
		return 20, true
	case "app_proto":
		return 21, true
	case "direction":
		return 22, true
	case "signature":
		return 23, true
	case "flow":
		return 24, true
	case "packet":
		return 25, true
	case "firewall":
		return 26, true
	case "src_geo":
		return 27, true
	case "dest_geo":
		return 28, true
	case "src_labels":
		return 29, true
	case "dest_labels":
		return 30, true
	case "network_direction":
		return 31, true
	case "observer":
		return 32, true
	case "details":
		return 33, true
	case "aggregate":
		return 34, true
	case "transaction":
		return 35, true
	}
	return 0, false
}

// object walks the members of the object at the position, calling member
// with the key and the position at the member's value, which member must
// consume.
func (d *decoder) object(path string, member func(key string) error) error {
	if d.peek() != '{' {
		if d.i >= len(d.b) {
			return errTruncated()
		}
		return normalize.Errorf(normalize.ReasonInvalidField, "%s: not an object", orTop(path))
	}
	d.i++
	d.ws()
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.syntaxErr(orTop(path) + ": expected a key")
		}
		start, end, esc, err := d.scanString()
		if err != nil {
			return err
		}
		key := d.text(start, end, esc)
		d.ws()
		if d.peek() != ':' {
			return d.syntaxErr(orTop(path) + ": expected : after " + strconv.Quote(key))
		}
		d.i++
		d.ws()
		if d.i >= len(d.b) {
			return errTruncated()
		}
		if err := member(key); err != nil {
			return err
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.i++
			d.ws()
		case '}':
			d.i++
			return nil
		default:
			return d.syntaxErr(orTop(path) + ": expected , or }")
		}
	}
}

func orTop(path string) string {
	if path == "" {
		return "event"
	}
	return path
}

// raw consumes the value at the position (validating it) and returns its
// bytes, compacted when the producer did not write it compact.
func (d *decoder) raw() (normalize.RawJSON, error) {
	start := d.i
	if err := d.skipValue(0); err != nil {
		return nil, err
	}
	v := d.b[start:d.i]
	if !compact(v) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return nil, &normalize.Error{Reason: normalize.ReasonInvalidJSON, Err: err}
		}
		v = buf.Bytes()
	}
	return v, nil
}

// compact reports whether a valid JSON value has no whitespace outside its
// strings (what the native encoder writes; strings may hold spaces).
func compact(v []byte) bool {
	in := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\r' || c == '\n'):
			return false
		}
	}
	return true
}

func (d *decoder) fieldErr(path, what string) error {
	return normalize.Errorf(normalize.ReasonInvalidField, "%s: %s", path, what)
}

func (d *decoder) str(path string) (string, error) {
	if d.peek() != '"' {
		return "", d.typeErr(path, "not a string")
	}
	start, end, esc, err := d.scanString()
	if err != nil {
		return "", err
	}
	return d.text(start, end, esc), nil
}

// typeErr reports a value of the wrong type, or the message's end.
func (d *decoder) typeErr(path, what string) error {
	if d.i >= len(d.b) {
		return errTruncated()
	}
	return d.fieldErr(path, what)
}

// number reads a number at the position: its text and whether it is an
// integer.
func (d *decoder) number(path, what string) ([]byte, bool, error) {
	if c := d.peek(); c != '-' && !isDigit(c) {
		return nil, false, d.typeErr(path, what)
	}
	start, end, integer, err := d.scanNumber()
	if err != nil {
		return nil, false, err
	}
	return d.b[start:end], integer, nil
}

// uint reads an unsigned integer no greater than max.
func (d *decoder) uint(path string, max uint64) (uint64, error) {
	v, integer, err := d.number(path, "not an unsigned integer")
	if err != nil {
		return 0, err
	}
	if !integer || v[0] == '-' || len(v) > 20 {
		return 0, d.fieldErr(path, "not an unsigned integer")
	}
	var n uint64
	for _, c := range v {
		if n > (max-uint64(c-'0'))/10 {
			return 0, d.fieldErr(path, "out of range (at most "+strconv.FormatUint(max, 10)+")")
		}
		n = n*10 + uint64(c-'0')
	}
	return n, nil
}

func (d *decoder) int64(path string) (int64, error) {
	v, integer, err := d.number(path, "not an integer")
	if err != nil {
		return 0, err
	}
	if !integer {
		return 0, d.fieldErr(path, "not an integer")
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, d.fieldErr(path, "not a 64-bit integer")
	}
	return n, nil
}

func (d *decoder) float(path string) (float64, error) {
	v, _, err := d.number(path, "not a number")
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return 0, d.fieldErr(path, "not a number")
	}
	return f, nil
}

func (d *decoder) bool(path string) (bool, error) {
	switch {
	case d.literal("true"):
		return true, nil
	case d.literal("false"):
		return false, nil
	}
	return false, d.typeErr(path, "not a boolean")
}

func (d *decoder) time(path string) (time.Time, error) {
	s, err := d.str(path)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, d.fieldErr(path, "not an RFC 3339 time")
	}
	// An offset can carry year 0000 or 9999 out of the four-digit years
	// RFC 3339 has; the event is kept in UTC, so such a time could not be
	// written again.
	if t = t.UTC(); t.Year() < 0 || t.Year() > 9999 {
		return time.Time{}, d.fieldErr(path, "outside the years 0000-9999 in UTC")
	}
	return t, nil
}

func (d *decoder) addr(path string) (netip.Addr, error) {
	s, err := d.str(path)
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, d.fieldErr(path, "not an IP address")
	}
	return a, nil
}

// array walks the elements of the array at the position, calling elem at
// each element, which elem must consume.
func (d *decoder) array(path string, elem func() error) error {
	if d.peek() != '[' {
		return d.typeErr(path, "not an array")
	}
	d.i++
	d.ws()
	if d.peek() == ']' {
		d.i++
		return nil
	}
	for {
		if d.i >= len(d.b) {
			return errTruncated()
		}
		if err := elem(); err != nil {
			return err
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.i++
			d.ws()
		case ']':
			d.i++
			return nil
		default:
			return d.syntaxErr(path + ": expected , or ]")
		}
	}
}

func (d *decoder) strings(path string) ([]string, error) {
	var out []string
	err := d.array(path, func() error {
		s, err := d.str(path + "[]")
		out = append(out, s)
		return err
	})
	return out, err
}

func (d *decoder) vlan() ([]uint16, error) {
	var out []uint16
	err := d.array("vlan", func() error {
		n, err := d.uint("vlan[]", 4095)
		out = append(out, uint16(n))
		return err
	})
	return out, err
}

// Top-level members, for the required and duplicate checks.
const (
	hasSchema = 1 << iota
	hasID
	hasTimestamp
	hasReceived
	hasKind
	hasAction
	hasSource
)

func (d *decoder) event() error {
	d.ws()
	switch d.peek() {
	case '{':
	case 0:
		if d.i >= len(d.b) {
			return normalize.Errorf(normalize.ReasonInvalidJSON, "empty message")
		}
		fallthrough
	default:
		if err := d.skipValue(0); err != nil {
			return err
		}
		return normalize.Errorf(normalize.ReasonNotObject, "a native event is a JSON object")
	}
	var has uint
	var seen uint64
	e := d.ev
	err := d.object("", func(key string) error {
		if bit, ok := topLevel(key); ok {
			if seen&(1<<bit) != 0 {
				return normalize.Errorf(normalize.ReasonInvalidField, "%s: repeated", key)
			}
			seen |= 1 << bit
		}
		var err error
		switch key {
		case "schema":
			has |= hasSchema
			var v uint64
			if v, err = d.uint(key, 1<<16); err == nil && v != normalize.SchemaVersion {
				return normalize.Errorf(normalize.ReasonUnsupported, "schema %d (this gateway reads schema %d)", v, normalize.SchemaVersion)
			}
		case "id":
			has |= hasID
			if e.ID, err = d.str(key); err == nil && e.ID == "" {
				err = d.fieldErr(key, "empty")
			}
		case "timestamp":
			has |= hasTimestamp
			e.Timestamp, err = d.time(key)
		case "received":
			has |= hasReceived
			e.Received, err = d.time(key)
		case "kind":
			has |= hasKind
			var s string
			if s, err = d.str(key); err == nil {
				e.Kind, err = kind(s)
			}
		case "action":
			has |= hasAction
			var s string
			if s, err = d.str(key); err == nil {
				e.Action, err = action(s)
			}
		case "source":
			has |= hasSource
			err = d.source()
		case "src_ip":
			e.SrcIP, err = d.addr(key)
		case "dest_ip":
			e.DestIP, err = d.addr(key)
		case "src_port", "dest_port":
			var n uint64
			if n, err = d.uint(key, 65535); err == nil {
				e.HasPorts = true
				if key == "src_port" {
					e.SrcPort = uint16(n)
				} else {
					e.DestPort = uint16(n)
				}
			}
		case "proto":
			var n uint64
			if n, err = d.uint(key, 255); err == nil {
				e.Proto, e.HasProto = uint8(n), true
			}
		case "proto_name":
			e.ProtoName, err = d.str(key)
		case "icmp_type", "icmp_code":
			var n uint64
			if n, err = d.uint(key, 255); err == nil {
				e.HasICMP = true
				if key == "icmp_type" {
					e.ICMPType = uint8(n)
				} else {
					e.ICMPCode = uint8(n)
				}
			}
		case "src_mac":
			e.SrcMAC, err = d.str(key)
		case "dest_mac":
			e.DestMAC, err = d.str(key)
		case "community_id":
			e.CommunityID, err = d.str(key)
		case "flow_id":
			e.FlowID, err = d.uint(key, 1<<64-1)
		case "in_iface":
			e.InIface, err = d.str(key)
		case "vlan":
			e.VLAN, err = d.vlan()
		case "app_proto":
			e.AppProto, err = d.str(key)
		case "direction":
			e.Direction, err = d.str(key)
		case "signature":
			err = d.signature()
		case "flow":
			err = d.flow()
		case "packet":
			err = d.packet()
		case "firewall":
			err = d.firewall()
		case "src_geo":
			e.SrcGeo, err = d.geo(key)
		case "dest_geo":
			e.DestGeo, err = d.geo(key)
		case "src_labels":
			e.SrcLabels, err = d.strings(key)
		case "dest_labels":
			e.DestLabels, err = d.strings(key)
		case "network_direction":
			e.NetDirection, err = d.str(key)
		case "observer":
			err = d.observer()
		case "aggregate":
			e.Aggregate, err = d.aggregate()
		case "transaction":
			e.Transaction, err = d.transaction()
		case "details":
			err = d.detailsInto("details", &e.Details)
		default:
			// A member of a newer schema revision: kept, not refused.
			var v normalize.RawJSON
			if v, err = d.raw(); err == nil {
				if e.Details.Get(key) != nil {
					return normalize.Errorf(normalize.ReasonInvalidField, "%s: repeated, or both a member and a details key", key)
				}
				e.Details = append(e.Details, normalize.Field{Key: key, Value: v})
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range []struct {
		bit  uint
		name string
	}{{hasSchema, "schema"}, {hasID, "id"}, {hasTimestamp, "timestamp"}, {hasReceived, "received"},
		{hasKind, "kind"}, {hasAction, "action"}, {hasSource, "source"}} {
		if has&r.bit == 0 {
			return normalize.Errorf(normalize.ReasonMissingField, "%s is required", r.name)
		}
	}
	if e.HasProto && e.ProtoName == "" {
		e.ProtoName = normalize.ProtoName(e.Proto)
	}
	return nil
}

func kind(s string) (normalize.Kind, error) {
	switch k := normalize.Kind(s); k {
	case normalize.KindAlert, normalize.KindFlow, normalize.KindPacket, normalize.KindAnomaly,
		normalize.KindEvent, normalize.KindAudit, normalize.KindStats, normalize.KindTransaction:
		return k, nil
	}
	return "", normalize.Errorf(normalize.ReasonInvalidField, "kind: unknown kind %q", s)
}

func action(s string) (normalize.Action, error) {
	switch a := normalize.Action(s); a {
	case normalize.ActionAllowed, normalize.ActionBlocked, normalize.ActionUnknown:
		return a, nil
	}
	return "", normalize.Errorf(normalize.ReasonInvalidField, "action: unknown action %q", s)
}

// strictObject walks an object whose members are all known: an unknown or
// repeated key is an error.
func (d *decoder) strictObject(path string, member func(key string) (bool, error)) error {
	var seen [16]string
	n := 0
	return d.object(path, func(key string) error {
		for _, k := range seen[:n] {
			if k == key {
				return d.fieldErr(path+"."+key, "repeated")
			}
		}
		if n < len(seen) {
			seen[n] = key
			n++
		}
		known, err := member(key)
		if err == nil && !known {
			err = d.fieldErr(path+"."+key, "unknown member")
		}
		return err
	})
}

func (d *decoder) source() error {
	s := &d.ev.Source
	err := d.strictObject("source", func(key string) (bool, error) {
		var err error
		switch key {
		case "type":
			s.Type, err = d.str("source.type")
		case "input":
			s.Input, err = d.str("source.input")
		case "sensor":
			s.Sensor, err = d.str("source.sensor")
		default:
			return false, nil
		}
		return true, err
	})
	if err == nil && s.Type == "" {
		err = normalize.Errorf(normalize.ReasonMissingField, "source.type is required")
	}
	return err
}

func (d *decoder) signature() error {
	d.ev.Signature = &normalize.Signature{}
	return d.signatureInto("signature", d.ev.Signature)
}

func (d *decoder) signatureInto(path string, s *normalize.Signature) error {
	u32 := func(dst *uint32, key string) error {
		n, err := d.uint(path+"."+key, 1<<32-1)
		*dst = uint32(n)
		return err
	}
	return d.strictObject(path, func(key string) (bool, error) {
		var err error
		switch key {
		case "gid":
			err = u32(&s.GID, key)
		case "id":
			err = u32(&s.ID, key)
		case "rev":
			err = u32(&s.Rev, key)
		case "priority":
			err = u32(&s.Priority, key)
		case "name":
			s.Name, err = d.str(path + ".name")
		case "category":
			s.Category, err = d.str(path + ".category")
		default:
			return false, nil
		}
		return true, err
	})
}

func (d *decoder) flow() error {
	f := &normalize.Flow{}
	d.ev.Flow = f
	u64 := func(dst *uint64, path string) error {
		n, err := d.uint(path, 1<<64-1)
		*dst = n
		return err
	}
	return d.strictObject("flow", func(key string) (bool, error) {
		var err error
		switch key {
		case "pkts_toserver":
			err = u64(&f.PktsToServer, "flow.pkts_toserver")
		case "pkts_toclient":
			err = u64(&f.PktsToClient, "flow.pkts_toclient")
		case "bytes_toserver":
			err = u64(&f.BytesToServer, "flow.bytes_toserver")
		case "bytes_toclient":
			err = u64(&f.BytesToClient, "flow.bytes_toclient")
		case "start":
			f.Start, err = d.time("flow.start")
		case "end":
			f.End, err = d.time("flow.end")
		case "age":
			f.Age, err = d.int64("flow.age")
		case "state":
			f.State, err = d.str("flow.state")
		case "reason":
			f.Reason, err = d.str("flow.reason")
		case "alerted":
			var b bool
			if b, err = d.bool("flow.alerted"); err == nil {
				f.Alerted = &b
			}
		default:
			return false, nil
		}
		return true, err
	})
}

func (d *decoder) packet() error {
	p := &normalize.Packet{}
	d.ev.Packet = p
	u32 := func(dst *uint32, path string) error {
		n, err := d.uint(path, 1<<32-1)
		*dst = uint32(n)
		return err
	}
	return d.strictObject("packet", func(key string) (bool, error) {
		var err error
		var n uint64
		switch key {
		case "len":
			err = u32(&p.Len, "packet.len")
		case "ttl":
			if n, err = d.uint("packet.ttl", 255); err == nil {
				p.TTL, p.HasTTL = uint8(n), true
			}
		case "tos":
			n, err = d.uint("packet.tos", 255)
			p.TOS = uint8(n)
		case "ip_id":
			err = u32(&p.IPID, "packet.ip_id")
		case "tcp_flags":
			p.TCPFlags, err = d.str("packet.tcp_flags")
		case "tcp_window":
			err = u32(&p.TCPWindow, "packet.tcp_window")
		case "tcp_seq":
			err = u32(&p.TCPSeq, "packet.tcp_seq")
		case "tcp_ack":
			err = u32(&p.TCPAck, "packet.tcp_ack")
		default:
			return false, nil
		}
		return true, err
	})
}

func (d *decoder) firewall() error {
	var err error
	d.ev.Firewall, err = d.firewallAt("firewall")
	return err
}

func (d *decoder) firewallAt(path string) (*normalize.Firewall, error) {
	f := &normalize.Firewall{}
	return f, d.strictObject(path, func(key string) (bool, error) {
		var err error
		var n uint64
		switch key {
		case "group":
			n, err = d.uint(path+".group", 65535)
			f.Group = uint16(n)
		case "prefix":
			f.Prefix, err = d.str(path + ".prefix")
		case "mark":
			n, err = d.uint(path+".mark", 1<<32-1)
			f.Mark = uint32(n)
		case "in_iface":
			f.InIface, err = d.str(path + ".in_iface")
		case "out_iface":
			f.OutIface, err = d.str(path + ".out_iface")
		case "uid", "gid":
			if n, err = d.uint(path+"."+key, 1<<32-1); err == nil {
				v := uint32(n)
				if key == "uid" {
					f.UID = &v
				} else {
					f.GID = &v
				}
			}
		default:
			return false, nil
		}
		return true, err
	})
}

func (d *decoder) geo(path string) (*normalize.Geo, error) {
	g := &normalize.Geo{}
	var hasLat, hasLon bool
	err := d.strictObject(path, func(key string) (bool, error) {
		var err error
		switch key {
		case "country_iso":
			g.CountryISO, err = d.str(path + ".country_iso")
		case "country_name":
			g.CountryName, err = d.str(path + ".country_name")
		case "city_name":
			g.CityName, err = d.str(path + ".city_name")
		case "lat":
			g.Lat, err = d.float(path + ".lat")
			hasLat = true
		case "lon":
			g.Lon, err = d.float(path + ".lon")
			hasLon = true
		case "asn":
			var n uint64
			n, err = d.uint(path+".asn", 1<<32-1)
			g.ASN = uint32(n)
		case "as_org":
			g.ASOrg, err = d.str(path + ".as_org")
		default:
			return false, nil
		}
		return true, err
	})
	if err != nil {
		return nil, err
	}
	if hasLat != hasLon {
		return nil, d.fieldErr(path, "lat and lon go together")
	}
	g.HasLocation = hasLat
	return g, nil
}

func (d *decoder) observer() error {
	o := &normalize.Observer{}
	d.ev.Observer = o
	return d.strictObject("observer", func(key string) (bool, error) {
		var err error
		switch key {
		case "site":
			o.Site, err = d.str("observer.site")
		case "environment":
			o.Environment, err = d.str("observer.environment")
		case "cluster":
			o.Cluster, err = d.str("observer.cluster")
		case "namespace":
			o.Namespace, err = d.str("observer.namespace")
		case "pod":
			o.Pod, err = d.str("observer.pod")
		case "node":
			o.Node, err = d.str("observer.node")
		default:
			return false, nil
		}
		return true, err
	})
}

// detailsInto reads a details object: every member in order, keys unique
// (also against the unknown top-level members already kept there).
func (d *decoder) detailsInto(path string, ds *normalize.Details) error {
	return d.object(path, func(key string) error {
		if ds.Get(key) != nil {
			return d.fieldErr(path+"."+key, "repeated (or also an unknown top-level member)")
		}
		v, err := d.raw()
		if err != nil {
			return err
		}
		*ds = append(*ds, normalize.Field{Key: key, Value: v})
		return nil
	})
}

func (d *decoder) aggregate() (*normalize.Aggregate, error) {
	a := &normalize.Aggregate{}
	return a, d.strictObject("aggregate", func(key string) (bool, error) {
		var err error
		switch key {
		case "count":
			a.Count, err = d.uint("aggregate.count", 1<<64-1)
		case "first_seen":
			a.FirstSeen, err = d.time("aggregate.first_seen")
		case "last_seen":
			a.LastSeen, err = d.time("aggregate.last_seen")
		case "key":
			a.Key, err = d.strings("aggregate.key")
		case "closed_by":
			a.ClosedBy, err = d.str("aggregate.closed_by")
		case "first_sent":
			a.FirstSent, err = d.bool("aggregate.first_sent")
		default:
			return false, nil
		}
		return true, err
	})
}

func (d *decoder) transaction() (*normalize.Transaction, error) {
	t := &normalize.Transaction{}
	return t, d.strictObject("transaction", func(key string) (bool, error) {
		var err error
		switch key {
		case "complete":
			t.Complete, err = d.bool("transaction.complete")
		case "closed_by":
			t.ClosedBy, err = d.str("transaction.closed_by")
		case "events":
			t.Events, err = d.uint("transaction.events", 1<<64-1)
		case "omitted":
			t.Omitted, err = d.uint("transaction.omitted", 1<<64-1)
		case "sources":
			t.Sources, err = d.strings("transaction.sources")
		case "alerts":
			err = d.array("transaction.alerts", func() error {
				t.Alerts = append(t.Alerts, normalize.TxAlert{})
				return d.txAlert(&t.Alerts[len(t.Alerts)-1])
			})
		case "records":
			err = d.array("transaction.records", func() error {
				t.Records = append(t.Records, normalize.TxRecord{})
				return d.txRecord(&t.Records[len(t.Records)-1])
			})
		default:
			return false, nil
		}
		return true, err
	})
}

func (d *decoder) txAlert(a *normalize.TxAlert) error {
	const path = "transaction.alerts[]"
	return d.strictObject(path, func(key string) (bool, error) {
		var err error
		switch key {
		case "id":
			a.ID, err = d.str(path + ".id")
		case "timestamp":
			a.Timestamp, err = d.time(path + ".timestamp")
		case "action":
			var s string
			if s, err = d.str(path + ".action"); err == nil {
				a.Action, err = action(s)
			}
		case "signature":
			err = d.signatureInto(path+".signature", &a.Signature)
		default:
			return false, nil
		}
		return true, err
	})
}

func (d *decoder) txRecord(r *normalize.TxRecord) error {
	const path = "transaction.records[]"
	return d.strictObject(path, func(key string) (bool, error) {
		var err error
		switch key {
		case "id":
			r.ID, err = d.str(path + ".id")
		case "timestamp":
			r.Timestamp, err = d.time(path + ".timestamp")
		case "kind":
			var s string
			if s, err = d.str(path + ".kind"); err == nil {
				r.Kind, err = kind(s)
			}
		case "type":
			r.Type, err = d.str(path + ".type")
		case "source_type":
			r.SourceType, err = d.str(path + ".source_type")
		case "action":
			var s string
			if s, err = d.str(path + ".action"); err == nil {
				r.Action, err = action(s)
			}
		case "firewall":
			r.Firewall, err = d.firewallAt(path + ".firewall")
		case "details":
			err = d.detailsInto(path+".details", &r.Details)
		default:
			return false, nil
		}
		return true, err
	})
}
