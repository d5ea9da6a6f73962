package eve

import (
	"bytes"
	"math/bits"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alertgw/alertgw/normalize"
)

// MaxMessageSize is the largest message Decode accepts. Inputs enforce
// their own (smaller) limits; this one only bounds the work a single call
// can be made to do.
const MaxMessageSize = 64 << 20

// SourceType is the sensor family EVE events are labelled with.
const SourceType = "suricata"

// Decoder maps one Suricata EVE JSON record to a normalize.Event. It is
// stateless and safe for concurrent use; it implements inputs.Decoder.
type Decoder struct{}

// Decode overwrites *ev with the event msg describes. msg is one EVE JSON
// object; trailing whitespace (Suricata's "\n") is allowed. ev keeps
// sub-slices of msg (Details values), so msg must not change while ev is
// used. Errors are *normalize.Error.
func (Decoder) Decode(msg []byte, ev *normalize.Event) error {
	var d decoder
	return d.decode(msg, ev)
}

// extras holds everything an event points to, in one allocation.
type extras struct {
	sig     normalize.Signature
	flow    normalize.Flow
	pkt     normalize.Packet
	alerted bool
	vlan    [3]uint16
	details [8]normalize.Field
	arena   [320]byte
}

// pendingString is a string field filled once decoding is done, so that
// every string of an event shares one allocation.
type pendingString struct {
	dst        *string // the field, or nil for a Details key
	detail     int     // index in details when dst is nil
	raw        []byte  // the JSON string's content, escapes not decoded
	esc        bool
	start, end int
}

// deferredMember is a mapped key whose fate is known only at the end of the
// record (alert.action may be overridden by a verdict that comes later).
type deferredMember struct {
	set  bool
	slot int // details index of the enclosing object's entry
	m    member
}

// decoder is the state of one Decode call; it lives on the stack.
type decoder struct {
	msg     []byte
	ev      *normalize.Event
	x       *extras
	details normalize.Details
	arena   []byte // re-encoded partial objects and compacted values

	// Pending strings: the first ones in an array, so that the decoder
	// (which must not point into itself, or it would leave the stack)
	// needs no slice for a usual record.
	strs     [20]pendingString
	nstrs    int
	moreStrs []pendingString

	keys   keySet // top-level keys kept in details
	nested keySet // keys kept from the object being mapped

	seen      uint32   // top-level mapped keys seen
	seenVal   [21]span // their values, by bit index, to tell a harmless repeat
	eventType bool
	netflow   bool

	ports    [2]deferredMember // src_port, dest_port
	portVals [2]uint16
	icmp     [2]deferredMember // icmp_type, icmp_code
	icmpVals [2]uint8

	alertAction   normalize.Action
	alertMember   deferredMember // alert.action, re-kept when it did not decide
	flowAction    normalize.Action
	flowMember    deferredMember // flow.action, likewise
	verdictAction normalize.Action
	hasAlert      bool

	pstart int // offset in arena of the partial object being built, -1 none
}

// Top-level keys mapped to common fields, one bit each for duplicate checks.
const (
	kTimestamp = 1 << iota
	kFlowID
	kEventType
	kSrcIP
	kDestIP
	kSrcPort
	kDestPort
	kProto
	kICMPType
	kICMPCode
	kVLAN
	kInIface
	kAppProto
	kDirection
	kCommunityID
	kEther
	kAlert
	kFlow
	kNetflow
	kDrop
	kVerdict
)

func (d *decoder) decode(msg []byte, ev *normalize.Event) error {
	*ev = normalize.Event{}
	if len(msg) > MaxMessageSize {
		return normalize.Errorf(normalize.ReasonTooLarge, "message of %d bytes exceeds %d", len(msg), MaxMessageSize)
	}
	if !utf8.Valid(msg) {
		if endsInsideRune(msg) {
			return normalize.Errorf(normalize.ReasonTruncated, "message ends inside a UTF-8 sequence")
		}
		return normalize.Errorf(normalize.ReasonInvalidUTF8, "message is not valid UTF-8")
	}
	i := skipSpace(msg, 0)
	if i >= len(msg) {
		return normalize.Errorf(normalize.ReasonInvalidJSON, "empty message")
	}
	if msg[i] != '{' {
		end, _, err := skipValue(msg, i, 0)
		if err != nil {
			return err
		}
		if skipSpace(msg, end) != len(msg) {
			return errSyntax(msg, skipSpace(msg, end), "data after the JSON value")
		}
		return normalize.Errorf(normalize.ReasonNotObject, "EVE record is a JSON %s, not an object", jsonType(msg[i]))
	}

	d.msg, d.ev = msg, ev
	d.x = new(extras)
	d.details = d.x.details[:0]
	d.arena = d.x.arena[:0]
	d.pstart = -1
	ev.Source.Type = SourceType

	r := newObjectReader(msg, i, 0)
	var m member
	for {
		ok, err := r.nextKey(&m)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := d.topLevel(&r, &m); err != nil {
			return err
		}
	}
	if end := skipSpace(msg, r.i); end != len(msg) {
		return errSyntax(msg, end, "data after the EVE object")
	}
	return d.finish()
}

// topLevel maps one member of the record; r is at its value.
func (d *decoder) topLevel(r *objectReader, m *member) error {
	name := keyName(m)
	var bit uint32
	switch string(name) {
	case "timestamp":
		bit = kTimestamp
	case "flow_id":
		bit = kFlowID
	case "event_type":
		bit = kEventType
	case "src_ip":
		bit = kSrcIP
	case "dest_ip":
		bit = kDestIP
	case "src_port":
		bit = kSrcPort
	case "dest_port":
		bit = kDestPort
	case "proto":
		bit = kProto
	case "icmp_type":
		bit = kICMPType
	case "icmp_code":
		bit = kICMPCode
	case "vlan":
		bit = kVLAN
	case "in_iface":
		bit = kInIface
	case "app_proto":
		bit = kAppProto
	case "direction":
		bit = kDirection
	case "community_id":
		bit = kCommunityID
	case "ether":
		bit = kEther
	case "alert":
		bit = kAlert
	case "flow":
		bit = kFlow
	case "netflow":
		bit = kNetflow
	case "drop":
		bit = kDrop
	case "verdict":
		bit = kVerdict
	default:
		if err := r.skip(m); err != nil {
			return err
		}
		return d.keep(m, name)
	}
	// A mapped key. A repeat with the same value is dropped (Suricata 6
	// wrote some keys twice, its bug #4106); with another value it is
	// ambiguous and refused. Null means absent.
	idx := bits.TrailingZeros32(bit)
	if d.seen&bit != 0 {
		if err := r.skip(m); err != nil {
			return err
		}
		if sp := d.seenVal[idx]; bytes.Equal(m.val, d.msg[sp.start:sp.end]) {
			return nil
		}
		return fieldErr(where{obj: string(name)}, "repeated with a different value")
	}
	d.seen |= bit
	start := r.i

	// The partially mapped objects are parsed in place, in one pass.
	if bit&(kAlert|kFlow|kNetflow|kDrop|kEther) != 0 && r.i < len(r.b) && r.b[r.i] == '{' &&
		(bit&(kFlow|kNetflow) == 0 || d.ev.Flow == nil) {
		var end int
		var err error
		switch bit {
		case kAlert:
			end, err = d.alert(r.b, r.i)
		case kFlow:
			end, err = d.flow(r.b, r.i)
		case kNetflow:
			end, err = d.netflowField(r.b, r.i)
		case kDrop:
			end, err = d.drop(r.b, r.i)
		default:
			end, err = d.ether(r.b, r.i)
		}
		if err != nil {
			return err
		}
		r.i = end
		d.seenVal[idx] = span{int32(start), int32(end)}
		return nil
	}

	if err := r.skip(m); err != nil {
		return err
	}
	d.seenVal[idx] = spanOf(m)
	if m.val[0] == 'n' {
		return nil
	}
	switch bit {
	case kTimestamp:
		return d.timestamp(m)
	case kFlowID:
		return d.flowID(m)
	case kEventType:
		return d.eventTypeField(m)
	case kSrcIP:
		return d.addr("src_ip", m, &d.ev.SrcIP)
	case kDestIP:
		return d.addr("dest_ip", m, &d.ev.DestIP)
	case kSrcPort:
		return d.port(0, "src_port", m)
	case kDestPort:
		return d.port(1, "dest_port", m)
	case kProto:
		return d.proto(m)
	case kICMPType:
		return d.icmpField(0, "icmp_type", m)
	case kICMPCode:
		return d.icmpField(1, "icmp_code", m)
	case kVLAN:
		return d.vlan(m)
	case kInIface:
		return d.stringField("in_iface", m, &d.ev.InIface)
	case kAppProto:
		return d.stringField("app_proto", m, &d.ev.AppProto)
	case kDirection:
		return d.stringField("direction", m, &d.ev.Direction)
	case kCommunityID:
		return d.stringField("community_id", m, &d.ev.CommunityID)
	case kFlow, kNetflow: // the other one came first and filled Flow: keep this one whole
		if m.val[0] == '{' {
			return d.keep(m, name)
		}
		return fieldErr(where{obj: string(name)}, "want an object, found %s", jsonType(m.val[0]))
	case kVerdict:
		return d.verdict(m)
	default: // an object key whose value is not an object
		return fieldErr(where{obj: string(name)}, "want an object, found %s", jsonType(m.val[0]))
	}
}

// keep puts a top-level member, unchanged, under Details.
func (d *decoder) keep(m *member, name []byte) error {
	if dup, same := d.keys.add(name, spanOf(m), d.msg); dup {
		if same { // a harmless repeat, see topLevel
			return nil
		}
		return fieldErr(where{obj: string(name)}, "repeated with a different value")
	}
	key, known := internKey(name)
	d.details = append(d.details, normalize.Field{Key: key, Value: d.value(m)})
	if !known {
		d.pendDetailKey(len(d.details)-1, m)
	}
	return nil
}

// keepMapped puts a mapped top-level key whose value the native format
// cannot carry (zero, empty, "ts-error") under Details, so nothing is lost.
func (d *decoder) keepMapped(key string, m *member) {
	d.details = append(d.details, normalize.Field{Key: key, Value: d.value(m)})
}

// value returns m's value as compact JSON: the message's own bytes when
// they are compact already.
func (d *decoder) value(m *member) normalize.RawJSON {
	if !m.valSpace {
		return m.val
	}
	start := len(d.arena)
	d.arena = appendCompact(d.arena, m.val)
	return d.arena[start:len(d.arena):len(d.arena)]
}

// keyName returns m's key with escapes decoded (escaped keys are rare:
// they get their own copy).
func keyName(m *member) []byte {
	if !m.keyEsc {
		return m.key
	}
	return appendUnescaped(nil, m.key)
}

func (d *decoder) pendString(dst *string, content []byte) {
	d.pend(pendingString{dst: dst, raw: content, esc: hasBackslash(content)})
}

func (d *decoder) pendDetailKey(idx int, m *member) {
	d.pend(pendingString{detail: idx, raw: m.key, esc: m.keyEsc})
}

func (d *decoder) pend(p pendingString) {
	if d.nstrs < len(d.strs) {
		d.strs[d.nstrs] = p
		d.nstrs++
		return
	}
	d.moreStrs = append(d.moreStrs, p)
}

// pending returns the i-th pending string.
func (d *decoder) pending(i int) *pendingString {
	if i < d.nstrs {
		return &d.strs[i]
	}
	return &d.moreStrs[i-d.nstrs]
}

// Partial objects: a mapped object's unmapped members, re-encoded in
// source order under Details with the object's name.

// beginPartial reserves the object's Details entry and returns its index.
func (d *decoder) beginPartial(key string) int {
	d.pstart = -1
	d.nested.reset()
	d.details = append(d.details, normalize.Field{Key: key})
	return len(d.details) - 1
}

// partialAdd keeps member f of the object being mapped.
func (d *decoder) partialAdd(path string, f *member, name []byte) error {
	if dup, same := d.nested.add(name, spanOf(f), d.msg); dup {
		if same { // a harmless repeat, see topLevel
			return nil
		}
		return fieldErr(where{obj: path, key: name}, "repeated with a different value")
	}
	if d.pstart < 0 {
		d.pstart = len(d.arena)
		d.arena = append(d.arena, '{')
	} else {
		d.arena = append(d.arena, ',')
	}
	d.arena = append(d.arena, f.rawKey...)
	d.arena = append(d.arena, ':')
	if f.valSpace {
		d.arena = appendCompact(d.arena, f.val)
	} else {
		d.arena = append(d.arena, f.val...)
	}
	return nil
}

// endPartial closes the object being mapped into its Details entry, which
// stays empty (and is removed at the end) when every member was mapped.
func (d *decoder) endPartial(slot int) {
	if d.pstart < 0 {
		return
	}
	d.arena = append(d.arena, '}')
	d.details[slot].Value = d.arena[d.pstart:len(d.arena):len(d.arena)]
	d.pstart = -1
}

// prependMember puts a deferred member back in front of its object's kept
// members.
func (d *decoder) prependMember(dm *deferredMember) {
	old := d.details[dm.slot].Value
	start := len(d.arena)
	d.arena = append(d.arena, '{')
	d.arena = append(d.arena, dm.m.rawKey...)
	d.arena = append(d.arena, ':')
	d.arena = append(d.arena, dm.m.val...) // action values are strings: compact
	if len(old) > 0 {
		d.arena = append(d.arena, ',')
		d.arena = append(d.arena, old[1:]...)
	} else {
		d.arena = append(d.arena, '}')
	}
	d.details[dm.slot].Value = d.arena[start:len(d.arena):len(d.arena)]
}

// finish checks what needs the whole record, decides the action, and
// resolves the strings.
func (d *decoder) finish() error {
	ev := d.ev
	if !d.eventType {
		return normalize.Errorf(normalize.ReasonMissingField, "event_type: missing")
	}
	if ev.Kind == normalize.KindAlert && !d.hasAlert {
		return normalize.Errorf(normalize.ReasonMissingField, "alert: missing in an alert record")
	}

	// Ports and ICMP type/code come in pairs; a lone one is kept as is.
	if d.ports[0].set && d.ports[1].set {
		ev.SrcPort, ev.DestPort, ev.HasPorts = d.portVals[0], d.portVals[1], true
	} else {
		for i, name := range [2]string{"src_port", "dest_port"} {
			if d.ports[i].set {
				d.keepMapped(name, &d.ports[i].m)
			}
		}
	}
	if d.icmp[0].set && d.icmp[1].set {
		ev.ICMPType, ev.ICMPCode, ev.HasICMP = d.icmpVals[0], d.icmpVals[1], true
	} else {
		for i, name := range [2]string{"icmp_type", "icmp_code"} {
			if d.icmp[i].set {
				d.keepMapped(name, &d.icmp[i].m)
			}
		}
	}

	d.decideAction()

	if d.nstrs > 0 {
		d.resolveStrings()
	}
	// Drop the entries of objects whose members were all mapped.
	n := 0
	for _, f := range d.details {
		if f.Value != nil {
			d.details[n] = f
			n++
		}
	}
	if n > 0 {
		ev.Details = d.details[:n:n]
	}
	return nil
}

// decideAction sets Action; see docs/schema.md "How action is decided".
//
//  1. drop records: blocked (Suricata logs drops only for dropped packets).
//  2. verdict.action, when present: the engine's final decision for the
//     packet (drop → blocked; alert, pass, accept → allowed).
//  3. alert.action: allowed / blocked.
//  4. flow records: flow.action (drop → blocked, pass → allowed).
//  5. otherwise unknown.
//
// A mapped action key that did not decide goes back under Details.
func (d *decoder) decideAction() {
	ev := d.ev
	alertDecides, flowDecides := false, false
	switch {
	case ev.Kind == normalize.KindPacket:
		ev.Action = normalize.ActionBlocked
	case d.verdictAction != "":
		ev.Action = d.verdictAction
	case d.alertAction != "":
		ev.Action, alertDecides = d.alertAction, true
	case ev.Kind == normalize.KindFlow && d.flowAction != "":
		ev.Action, flowDecides = d.flowAction, true
	default:
		ev.Action = normalize.ActionUnknown
	}
	if d.alertMember.set && !alertDecides {
		d.prependMember(&d.alertMember)
	}
	if d.flowMember.set && !flowDecides {
		d.prependMember(&d.flowMember)
	}
}

// resolveStrings copies every pending string into one allocation.
func (d *decoder) resolveStrings() {
	n := d.nstrs + len(d.moreStrs)
	total := 0
	for i := range n {
		total += len(d.pending(i).raw) // decoding escapes only shortens
	}
	var sb strings.Builder
	sb.Grow(total)
	var tmp []byte
	for i := range n {
		p := d.pending(i)
		p.start = sb.Len()
		if p.esc {
			tmp = appendUnescaped(tmp[:0], p.raw)
			sb.Write(tmp)
		} else {
			sb.Write(p.raw)
		}
		p.end = sb.Len()
	}
	s := sb.String()
	for i := range n {
		p := d.pending(i)
		v := s[p.start:p.end]
		if p.dst != nil {
			*p.dst = v
		} else {
			d.details[p.detail].Key = v
		}
	}
}

// Top-level fields.

func (d *decoder) timestamp(m *member) error {
	s, err := stringContent(at("timestamp"), m.val)
	if err != nil {
		return err
	}
	t, ok := parseTime(s)
	if !ok {
		if string(s) == tsError {
			// Suricata could not format the time. Keep what it said; the
			// pipeline stamps the event with the time it was received.
			d.keepMapped("timestamp", m)
			return nil
		}
		return fieldErr(at("timestamp"), "unsupported time %q", s)
	}
	d.ev.Timestamp = t
	return nil
}

func (d *decoder) flowID(m *member) error {
	n, err := uintValue(at("flow_id"), m.val, 1<<64-1)
	if err != nil {
		return err
	}
	if n == 0 {
		d.keepMapped("flow_id", m)
		return nil
	}
	d.ev.FlowID = n
	return nil
}

func (d *decoder) eventTypeField(m *member) error {
	s, err := stringContent(at("event_type"), m.val)
	if err != nil {
		return err
	}
	d.eventType = true
	switch string(s) {
	case "alert":
		d.ev.Kind = normalize.KindAlert
	case "drop":
		d.ev.Kind = normalize.KindPacket
	case "flow":
		d.ev.Kind = normalize.KindFlow
	case "netflow":
		d.ev.Kind = normalize.KindFlow
		d.netflow = true
	case "anomaly":
		d.ev.Kind = normalize.KindAnomaly
	case "":
		return fieldErr(at("event_type"), "empty")
	default:
		d.ev.Kind = normalize.KindEvent
	}
	// The kind says alert, drop, flow and anomaly; netflow and every other
	// type keep their name so consumers can tell them apart.
	if d.netflow || d.ev.Kind == normalize.KindEvent {
		d.keepMapped("event_type", m)
	}
	return nil
}

func (d *decoder) addr(path string, m *member, dst *netip.Addr) error {
	s, err := stringContent(at(path), m.val)
	if err != nil {
		return err
	}
	a, ok := parseAddr(s)
	if !ok {
		return fieldErr(at(path), "not an IP address: %q", s)
	}
	*dst = a
	return nil
}

func (d *decoder) port(i int, path string, m *member) error {
	n, err := uintValue(at(path), m.val, 65535)
	if err != nil {
		return err
	}
	d.ports[i] = deferredMember{set: true, m: *m}
	d.portVals[i] = uint16(n)
	return nil
}

func (d *decoder) icmpField(i int, path string, m *member) error {
	n, err := uintValue(at(path), m.val, 255)
	if err != nil {
		return err
	}
	d.icmp[i] = deferredMember{set: true, m: *m}
	d.icmpVals[i] = uint8(n)
	return nil
}

// proto accepts any spelling ProtoNumber knows, in any case, or a number
// (as a string, as Suricata writes unnamed protocols, or as a JSON number).
// An unknown name is kept as the event's proto_name, with no number.
func (d *decoder) proto(m *member) error {
	if v := m.val; v[0] == '-' || isDigit(v[0]) {
		n, err := uintValue(at("proto"), v, 255)
		if err != nil {
			return err
		}
		d.ev.SetProto(uint8(n))
		return nil
	}
	s, err := stringContent(at("proto"), m.val)
	if err != nil {
		return err
	}
	if len(s) == 0 {
		d.keepMapped("proto", m)
		return nil
	}
	if n, ok := normalize.ProtoNumber(string(s)); ok {
		d.ev.SetProto(n)
		return nil
	}
	if t := bytes.TrimPrefix(s, []byte("-")); len(t) > 0 && bytes.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		return fieldErr(at("proto"), "protocol number %q out of range", s) // a number, not a name ("3pc" is a name)
	}
	d.pendString(&d.ev.ProtoName, m.val[1:len(m.val)-1])
	return nil
}

// vlan accepts Suricata ≥ 5's array and the plain integer of ≤ 4.1.
func (d *decoder) vlan(m *member) error {
	v := m.val
	if v[0] != '[' {
		n, err := uintValue(at("vlan"), v, 4095)
		if err != nil {
			return err
		}
		d.x.vlan[0] = uint16(n)
		d.ev.VLAN = d.x.vlan[:1:1]
		return nil
	}
	ids := d.x.vlan[:0]
	i := skipSpace(v, 1)
	for v[i] != ']' {
		end, _, err := skipValue(v, i, 2)
		if err != nil {
			return err
		}
		n, err := uintValue(at("vlan"), v[i:end], 4095)
		if err != nil {
			return err
		}
		ids = append(ids, uint16(n))
		i = skipSpace(v, end)
		if v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	if len(ids) == 0 {
		d.keepMapped("vlan", m)
		return nil
	}
	d.ev.VLAN = ids
	return nil
}

// stringField maps a string; an empty one stays under Details.
func (d *decoder) stringField(path string, m *member, dst *string) error {
	if m.val[0] != '"' {
		return fieldErr(at(path), "want a string, found %s", jsonType(m.val[0]))
	}
	if len(m.val) == 2 {
		d.keepMapped(path, m)
		return nil
	}
	content := m.val[1 : len(m.val)-1]
	if s, ok := internValue(content); ok {
		*dst = s
		return nil
	}
	d.pendString(dst, content)
	return nil
}

// Value helpers.

// stringContent returns the content of a string value with escapes decoded.
func stringContent(path where, v []byte) ([]byte, error) {
	if v[0] != '"' {
		return nil, fieldErr(path, "want a string, found %s", jsonType(v[0]))
	}
	s := v[1 : len(v)-1]
	if !hasBackslash(s) {
		return s, nil
	}
	return appendUnescaped(nil, s), nil // rare: escapes in a mapped value
}

// uintValue parses an unsigned integer no larger than max, exactly (never
// through float64: flow_id exceeds 2^53).
func uintValue(path where, v []byte, max uint64) (uint64, error) {
	if !isDigit(v[0]) {
		if v[0] == '-' {
			return 0, fieldErr(path, "want an unsigned integer, found %.32s", v)
		}
		return 0, fieldErr(path, "want an unsigned integer, found %s", jsonType(v[0]))
	}
	if len(v) > 20 {
		return 0, fieldErr(path, "integer %.32s… out of range", v)
	}
	var n uint64
	for _, c := range v {
		if !isDigit(c) {
			return 0, fieldErr(path, "want an unsigned integer, found %.32s", v)
		}
		dgt := uint64(c - '0')
		if n > (max-dgt)/10 {
			return 0, fieldErr(path, "integer %.32s out of range (max %d)", v, max)
		}
		n = n*10 + dgt
	}
	return n, nil
}

// intValue parses a signed 64-bit integer.
func intValue(path where, v []byte) (int64, error) {
	if v[0] != '-' {
		n, err := uintValue(path, v, 1<<63-1)
		return int64(n), err
	}
	n, err := uintValue(path, v[1:], 1<<63)
	if err != nil {
		return 0, err
	}
	return int64(-n), nil // -(1<<63) wraps to MinInt64, as intended
}

func boolValue(path where, v []byte) (bool, error) {
	switch v[0] {
	case 't':
		return true, nil
	case 'f':
		return false, nil
	}
	return false, fieldErr(path, "want a boolean, found %s", jsonType(v[0]))
}

// timeValue parses a time; tsErr reports Suricata's "ts-error".
func timeValue(path where, v []byte) (t time.Time, tsErr bool, err error) {
	s, err := stringContent(path, v)
	if err != nil {
		return t, false, err
	}
	if t, ok := parseTime(s); ok {
		return t, false, nil
	}
	if string(s) == tsError {
		return t, true, nil
	}
	return t, false, fieldErr(path, "unsupported time %q", s)
}

// parseAddr parses an IPv4 or IPv6 address in any textual form (IPv6
// expanded or compressed), with no zone.
func parseAddr(s []byte) (netip.Addr, bool) {
	if a, ok := parseIPv4(s); ok {
		return a, true
	}
	if bytes.IndexByte(s, ':') < 0 || bytes.IndexByte(s, '%') >= 0 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(string(s))
	return a, err == nil
}

// parseIPv4 parses dotted-quad IPv4 without allocating. Leading zeros are
// refused, as netip does (they read as octal to some tools).
func parseIPv4(s []byte) (netip.Addr, bool) {
	var ip [4]byte
	field, n, digitsInField := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digitsInField == 0 || field > 3 {
				return netip.Addr{}, false
			}
			ip[field] = byte(n)
			field++
			n, digitsInField = 0, 0
			continue
		}
		c := s[i]
		if !isDigit(c) || (digitsInField > 0 && n == 0) {
			return netip.Addr{}, false
		}
		n = n*10 + int(c-'0')
		digitsInField++
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if field != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

func jsonType(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func fieldErr(path where, format string, args ...any) error {
	return normalize.Errorf(normalize.ReasonInvalidField, path.String()+": "+format, args...)
}

// where names a field in error messages: obj, or obj.key. The dotted path
// is built only when an error needs it.
type where struct {
	obj string
	key []byte
}

func at(path string) where { return where{obj: path} }

func (w where) String() string {
	if w.key == nil {
		return w.obj
	}
	return w.obj + "." + string(w.key)
}

// endsInsideRune reports whether msg is valid UTF-8 except for a multi-byte
// sequence cut short at its very end: the sign of a truncated message.
func endsInsideRune(msg []byte) bool {
	j := len(msg) - 1
	for j > 0 && j > len(msg)-utf8.UTFMax && !utf8.RuneStart(msg[j]) {
		j--
	}
	return j >= 0 && utf8.Valid(msg[:j]) && !utf8.FullRune(msg[j:])
}

// keySet detects repeated keys and remembers their first values. Records
// have a few dozen keys at most, so a linear scan wins; a hostile record
// with many keys switches to a map so the work stays linear.
type keySet struct {
	small [16]keyVal
	n     int
	big   map[string]span
}

type keyVal struct {
	key []byte
	val span
}

func (s *keySet) reset() { s.n, s.big = 0, nil }

// add records key with its value (a span of msg). dup reports a repeated
// key, same whether its value is byte for byte the first one's.
func (s *keySet) add(key []byte, val span, msg []byte) (dup, same bool) {
	equal := func(a, b span) bool { return bytes.Equal(msg[a.start:a.end], msg[b.start:b.end]) }
	if s.big != nil {
		if first, ok := s.big[string(key)]; ok {
			return true, equal(first, val)
		}
		s.big[string(key)] = val
		return false, false
	}
	for _, kv := range s.small[:s.n] {
		if bytes.Equal(kv.key, key) {
			return true, equal(kv.val, val)
		}
	}
	if s.n < len(s.small) {
		s.small[s.n] = keyVal{key, val}
		s.n++
		return false, false
	}
	s.big = make(map[string]span, 2*len(s.small))
	for _, kv := range s.small[:s.n] {
		s.big[string(kv.key)] = kv.val
	}
	s.big[string(key)] = val
	return false, false
}
