package eve

import (
	"bytes"
	"math/bits"
	"time"

	"github.com/alertgw/alertgw/normalize"
)

// The partially mapped objects: alert{}, flow{}, netflow{}, drop{}, ether{}
// and verdict{}. Each maps the members that have a common field and keeps
// the others, in order, under Details with the object's name
// (details.alert.metadata, details.flow.bypass …).
//
// A mapped member whose value the native format leaves out when it is zero
// or empty (alert.category "", drop.tos 0, flow.age 0 …) is kept instead,
// so that nothing the sensor said is lost. A null member means absent.

// objectScan iterates the members of a mapped object and checks mapped
// keys for repeats.
//
// It holds no pointer to the decoder: escape analysis is not field
// sensitive, and a decoder reachable from here would be moved to the heap.
type objectScan struct {
	path string
	r    objectReader
	f    member
	seen uint32
	// first values of the mapped keys, by bit index: a repeat with the
	// same value is dropped, with another value refused (see topLevel).
	first [16]span
}

// scanObject starts reading the top-level member object at b[i] == '{'.
func scanObject(path string, b []byte, i int) objectScan {
	return objectScan{path: path, r: newObjectReader(b, i, 1)}
}

// end returns the offset just past the object, once next reported its end.
func (s *objectScan) end() int { return s.r.i }

// next returns the next member and its decoded name, or ok false at the end.
func (s *objectScan) next() (name []byte, ok bool, err error) {
	ok, err = s.r.next(&s.f)
	if !ok || err != nil {
		return nil, false, err
	}
	return keyName(&s.f), true, nil
}

// mapped checks a mapped key (bit) and reports whether its value is to be
// mapped: present (not null) and not a harmless repeat.
func (s *objectScan) mapped(bit uint32, name []byte) (bool, error) {
	idx := bits.TrailingZeros32(bit)
	if s.seen&bit != 0 {
		if sp := s.first[idx]; bytes.Equal(s.f.val, s.r.b[sp.start:sp.end]) {
			return false, nil
		}
		return false, fieldErr(s.at(name), "repeated with a different value")
	}
	s.seen |= bit
	s.first[idx] = spanOf(&s.f)
	return s.f.val[0] != 'n', nil
}

// keep keeps the current member in the object's Details entry.
func (s *objectScan) keep(d *decoder, name []byte) error { return d.partialAdd(s.path, &s.f, name) }

func (s *objectScan) at(name []byte) where { return where{obj: s.path, key: name} }

// uint maps an unsigned integer no larger than max; zero is kept when
// keepZero, since the native format leaves that field out when it is zero.
func (s *objectScan) uint(d *decoder, bit uint32, name []byte, max uint64, keepZero bool, dst func(uint64)) error {
	present, err := s.mapped(bit, name)
	if !present || err != nil {
		return err
	}
	n, err := uintValue(s.at(name), s.f.val, max)
	if err != nil {
		return err
	}
	if n == 0 && keepZero {
		return s.keep(d, name)
	}
	dst(n)
	return nil
}

// string maps a string; an empty one is kept.
func (s *objectScan) string(d *decoder, bit uint32, name []byte, dst *string) error {
	present, err := s.mapped(bit, name)
	if !present || err != nil {
		return err
	}
	v := s.f.val
	if v[0] != '"' {
		return fieldErr(s.at(name), "want a string, found %s", jsonType(v[0]))
	}
	if len(v) == 2 {
		return s.keep(d, name)
	}
	if c, ok := internValue(v[1 : len(v)-1]); ok {
		*dst = c
		return nil
	}
	d.pendString(dst, v[1:len(v)-1])
	return nil
}

// time maps a timestamp; Suricata's "ts-error" is kept.
func (s *objectScan) time(d *decoder, bit uint32, name []byte, dst *time.Time) error {
	present, err := s.mapped(bit, name)
	if !present || err != nil {
		return err
	}
	t, tsErr, err := timeValue(s.at(name), s.f.val)
	if err != nil {
		return err
	}
	if tsErr {
		return s.keep(d, name)
	}
	*dst = t
	return nil
}

func (d *decoder) alert(b []byte, i int) (int, error) {
	s := scanObject("alert", b, i)
	d.hasAlert = true
	sig := &d.x.sig
	d.ev.Signature = sig
	slot := d.beginPartial("alert")
	for {
		name, ok, err := s.next()
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "action":
			err = s.alertAction(d, slot, name)
		case "gid":
			err = s.uint(d, 1<<1, name, 1<<32-1, false, func(n uint64) { sig.GID = uint32(n) })
		case "signature_id":
			err = s.uint(d, 1<<2, name, 1<<32-1, false, func(n uint64) { sig.ID = uint32(n) })
		case "rev":
			err = s.uint(d, 1<<3, name, 1<<32-1, false, func(n uint64) { sig.Rev = uint32(n) })
		case "signature":
			err = s.string(d, 1<<4, name, &sig.Name)
		case "category":
			err = s.string(d, 1<<5, name, &sig.Category)
		case "severity":
			err = s.uint(d, 1<<6, name, 1<<32-1, true, func(n uint64) { sig.Priority = uint32(n) })
		default:
			err = s.keep(d, name)
		}
		if err != nil {
			return 0, err
		}
	}
	d.endPartial(slot)
	return s.end(), nil
}

// alertAction notes alert.action; whether it decides the event's action
// is known only at the end of the record (a drop or a verdict overrides it).
func (s *objectScan) alertAction(d *decoder, slot int, name []byte) error {
	present, err := s.mapped(1<<0, name)
	if !present || err != nil {
		return err
	}
	v, err := stringContent(s.at(name), s.f.val)
	if err != nil {
		return err
	}
	switch string(v) {
	case "allowed":
		d.alertAction = normalize.ActionAllowed
	case "blocked":
		d.alertAction = normalize.ActionBlocked
	default: // not an action we know: keep it, decide nothing
		return s.keep(d, name)
	}
	d.alertMember = deferredMember{set: true, slot: slot, m: s.f}
	return nil
}

// flow maps flow{}: flow records, and the flow summary alerts carry.
func (d *decoder) flow(b []byte, i int) (int, error) {
	s := scanObject("flow", b, i)
	fl := &d.x.flow
	d.ev.Flow = fl
	slot := d.beginPartial("flow")
	var zeroAge deferredMember
	for {
		name, ok, err := s.next()
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "pkts_toserver":
			err = s.uint(d, 1<<0, name, 1<<64-1, false, func(n uint64) { fl.PktsToServer = n })
		case "pkts_toclient":
			err = s.uint(d, 1<<1, name, 1<<64-1, false, func(n uint64) { fl.PktsToClient = n })
		case "bytes_toserver":
			err = s.uint(d, 1<<2, name, 1<<64-1, false, func(n uint64) { fl.BytesToServer = n })
		case "bytes_toclient":
			err = s.uint(d, 1<<3, name, 1<<64-1, false, func(n uint64) { fl.BytesToClient = n })
		case "start":
			err = s.time(d, 1<<4, name, &fl.Start)
		case "end":
			err = s.time(d, 1<<5, name, &fl.End)
		case "age":
			err = s.age(d, 1<<6, name, fl, &zeroAge)
		case "state":
			err = s.string(d, 1<<7, name, &fl.State)
		case "reason":
			err = s.string(d, 1<<8, name, &fl.Reason)
		case "alerted":
			err = s.alerted(d, 1<<9, name, fl)
		case "action":
			err = s.flowAction(d, 1<<10, slot, name)
		default:
			err = s.keep(d, name)
		}
		if err != nil {
			return 0, err
		}
	}
	if err := s.keepZeroAge(d, fl, &zeroAge); err != nil {
		return 0, err
	}
	d.endPartial(slot)
	return s.end(), nil
}

// age maps flow.age / netflow.age. The native format writes age when it
// is not 0 or when the flow has an end; a zero age of a flow with no end is
// noted in zero and kept by keepZeroAge.
func (s *objectScan) age(d *decoder, bit uint32, name []byte, fl *normalize.Flow, zero *deferredMember) error {
	present, err := s.mapped(bit, name)
	if !present || err != nil {
		return err
	}
	n, err := intValue(s.at(name), s.f.val)
	if err != nil {
		return err
	}
	if n == 0 {
		*zero = deferredMember{set: true, m: s.f}
	}
	fl.Age = n
	return nil
}

// keepZeroAge keeps a zero age the native format would leave out.
func (s *objectScan) keepZeroAge(d *decoder, fl *normalize.Flow, zero *deferredMember) error {
	if !zero.set || !fl.End.IsZero() {
		return nil
	}
	return d.partialAdd(s.path, &zero.m, keyName(&zero.m))
}

func (s *objectScan) alerted(d *decoder, bit uint32, name []byte, fl *normalize.Flow) error {
	present, err := s.mapped(bit, name)
	if !present || err != nil {
		return err
	}
	b, err := boolValue(s.at(name), s.f.val)
	if err != nil {
		return err
	}
	d.x.alerted = b
	fl.Alerted = &d.x.alerted
	return nil
}

// flowAction notes flow.action (pass / drop), which decides the action of
// flow records only.
func (s *objectScan) flowAction(d *decoder, bit uint32, slot int, name []byte) error {
	present, err := s.mapped(bit, name)
	if !present || err != nil {
		return err
	}
	v, err := stringContent(s.at(name), s.f.val)
	if err != nil {
		return err
	}
	switch string(v) {
	case "pass":
		d.flowAction = normalize.ActionAllowed
	case "drop":
		d.flowAction = normalize.ActionBlocked
	default:
		return s.keep(d, name)
	}
	d.flowMember = deferredMember{set: true, slot: slot, m: s.f}
	return nil
}

// netflowField maps netflow{}. A netflow record counts one direction only:
// its pkts and bytes went from src to dest, and land in the *_toserver
// counters (which the schema defines as src → dest); *_toclient stay 0.
// The other direction is a separate record with src and dest swapped.
func (d *decoder) netflowField(b []byte, i int) (int, error) {
	s := scanObject("netflow", b, i)
	fl := &d.x.flow
	d.ev.Flow = fl
	slot := d.beginPartial("netflow")
	var zeroAge deferredMember
	for {
		name, ok, err := s.next()
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "pkts":
			err = s.uint(d, 1<<0, name, 1<<64-1, false, func(n uint64) { fl.PktsToServer = n })
		case "bytes":
			err = s.uint(d, 1<<1, name, 1<<64-1, false, func(n uint64) { fl.BytesToServer = n })
		case "start":
			err = s.time(d, 1<<2, name, &fl.Start)
		case "end":
			err = s.time(d, 1<<3, name, &fl.End)
		case "age":
			err = s.age(d, 1<<4, name, fl, &zeroAge)
		default:
			err = s.keep(d, name)
		}
		if err != nil {
			return 0, err
		}
	}
	if err := s.keepZeroAge(d, fl, &zeroAge); err != nil {
		return 0, err
	}
	d.endPartial(slot)
	return s.end(), nil
}

// tcpFlagBits are drop{}'s flag keys in the schema's FSRPAUEC order.
var tcpFlagBits = [...]struct {
	key    string
	letter byte
}{{"fin", 'F'}, {"syn", 'S'}, {"rst", 'R'}, {"psh", 'P'}, {"ack", 'A'}, {"urg", 'U'}}

// tcpFlagStrings[bits] is the flag string of a set of tcpFlagBits.
var tcpFlagStrings = func() (t [1 << len(tcpFlagBits)]string) {
	for bits := range t {
		var s []byte
		for i, f := range tcpFlagBits {
			if bits&(1<<i) != 0 {
				s = append(s, f.letter)
			}
		}
		t[bits] = string(s)
	}
	return t
}()

// drop maps drop{} (IPv4: len, tos, ttl, ipid; IPv6: len, tc, hoplimit,
// flowlbl; TCP: tcpseq, tcpack, tcpwin and flag booleans; udplen, icmp_id,
// icmp_seq, reason …) into Packet.
func (d *decoder) drop(b []byte, i int) (int, error) {
	s := scanObject("drop", b, i)
	p := &d.x.pkt
	d.ev.Packet = p
	slot := d.beginPartial("drop")
	var (
		flags    uint
		flagSeen [len(tcpFlagBits)]bool
		flagMbr  [len(tcpFlagBits)]member
		hasTOS   bool
	)
	for {
		name, ok, err := s.next()
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "len":
			err = s.uint(d, 1<<0, name, 1<<32-1, false, func(n uint64) { p.Len = uint32(n) })
		case "ttl", "hoplimit":
			bit := uint32(1 << 1)
			if name[0] == 'h' {
				bit = 1 << 2
			}
			if p.HasTTL && s.seen&bit == 0 { // both spellings: keep the second
				err = s.keep(d, name)
				break
			}
			err = s.uint(d, bit, name, 255, false, func(n uint64) { p.TTL, p.HasTTL = uint8(n), true })
		case "tos", "tc":
			bit := uint32(1 << 3)
			if name[1] == 'c' {
				bit = 1 << 4
			}
			if hasTOS && s.seen&bit == 0 {
				err = s.keep(d, name)
				break
			}
			err = s.uint(d, bit, name, 255, true, func(n uint64) { p.TOS, hasTOS = uint8(n), true })
		case "ipid":
			err = s.uint(d, 1<<5, name, 1<<32-1, true, func(n uint64) { p.IPID = uint32(n) })
		case "tcpseq":
			err = s.uint(d, 1<<6, name, 1<<32-1, true, func(n uint64) { p.TCPSeq = uint32(n) })
		case "tcpack":
			err = s.uint(d, 1<<7, name, 1<<32-1, true, func(n uint64) { p.TCPAck = uint32(n) })
		case "tcpwin":
			err = s.uint(d, 1<<8, name, 1<<32-1, true, func(n uint64) { p.TCPWindow = uint32(n) })
		case "fin", "syn", "rst", "psh", "ack", "urg":
			i := 0
			for tcpFlagBits[i].key != string(name) {
				i++
			}
			var present bool
			if present, err = s.mapped(1<<(9+i), name); err != nil || !present {
				break
			}
			var set bool
			if set, err = boolValue(s.at(name), s.f.val); err != nil {
				break
			}
			if set {
				flags |= 1 << i
			}
			flagSeen[i], flagMbr[i] = true, s.f
		default:
			err = s.keep(d, name)
		}
		if err != nil {
			return 0, err
		}
	}
	p.TCPFlags = tcpFlagStrings[flags]
	if flags == 0 { // "no flag set" would read as "no flags known": keep them
		for i := range flagSeen {
			if flagSeen[i] {
				if err := d.partialAdd("drop", &flagMbr[i], keyName(&flagMbr[i])); err != nil {
					return 0, err
				}
			}
		}
	}
	d.endPartial(slot)
	return s.end(), nil
}

// ether maps ether{src_mac, dest_mac}; other members (src_macs … in flow
// records) are kept.
func (d *decoder) ether(b []byte, i int) (int, error) {
	s := scanObject("ether", b, i)
	slot := d.beginPartial("ether")
	for {
		name, ok, err := s.next()
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "src_mac":
			err = s.string(d, 1<<0, name, &d.ev.SrcMAC)
		case "dest_mac":
			err = s.string(d, 1<<1, name, &d.ev.DestMAC)
		default:
			err = s.keep(d, name)
		}
		if err != nil {
			return 0, err
		}
	}
	d.endPartial(slot)
	return s.end(), nil
}

// verdict is kept whole (its alert/pass/accept distinction and reject
// details have no common field); its action decides the event's action.
func (d *decoder) verdict(m *member) error {
	if m.val[0] != '{' {
		return fieldErr(at("verdict"), "want an object, found %s", jsonType(m.val[0]))
	}
	s := scanObject("verdict", m.val, 0)
	if err := d.keep(m, keyName(m)); err != nil {
		return err
	}
	for {
		name, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if string(name) != "action" || s.f.val[0] != '"' {
			continue
		}
		v, err := stringContent(at("verdict.action"), s.f.val)
		if err != nil {
			return err
		}
		switch string(v) {
		case "drop":
			d.verdictAction = normalize.ActionBlocked
		case "alert", "pass", "accept":
			d.verdictAction = normalize.ActionAllowed
		}
	}
}
