// Package eventcodec is the binary encoding of a normalize.Event that the
// disk buffer (pipeline/diskbuf) stores and that gateways forward to each
// other: every field, id included, so that an event read back is the event
// that went in.
package eventcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/alertgw/alertgw/normalize"
)

// The event codec is a compact binary encoding of every field of
// normalize.Event, so that an event read back from the disk buffer is the
// event that went in, id included (consumers dedupe on it). JSON would lose
// nothing either but costs three times the bytes and ten times the CPU on
// replay; a buffer that must absorb an outage at sensor rate cannot afford
// that.
//
// Layout: a version byte, a flags word, then the fields in struct order.
// Strings and byte slices are a uvarint length and the bytes; times are a
// presence byte, varint seconds and uvarint nanoseconds; addresses a length
// byte (0, 4 or 16), the bytes and, for IPv6, the zone.

// codecVersion 2 added the enrichment fields (geo, labels, direction,
// observer) after the firewall part; 3 the reduction stages' aggregate and
// transaction parts after the details. Older records still decode.
const codecVersion = 3

// Presence flags of optional parts.
const (
	flagPorts = 1 << iota
	flagProto
	flagICMP
	flagSignature
	flagFlow
	flagPacket
	flagFirewall
	flagAlerted
	flagAlertedTrue
	flagHasTTL
	flagUID
	flagGID
	flagSrcGeo
	flagDestGeo
	flagObserver
	flagAggregate
	flagAggregateFirstSent
	flagTransaction
	flagTransactionComplete
)

// AppendEvent appends e's binary encoding to dst.
func AppendEvent(dst []byte, e *normalize.Event) []byte {
	var flags uint64
	if e.HasPorts {
		flags |= flagPorts
	}
	if e.HasProto {
		flags |= flagProto
	}
	if e.HasICMP {
		flags |= flagICMP
	}
	if e.Signature != nil {
		flags |= flagSignature
	}
	if e.Flow != nil {
		flags |= flagFlow
		if e.Flow.Alerted != nil {
			flags |= flagAlerted
			if *e.Flow.Alerted {
				flags |= flagAlertedTrue
			}
		}
	}
	if e.Packet != nil {
		flags |= flagPacket
		if e.Packet.HasTTL {
			flags |= flagHasTTL
		}
	}
	if e.Firewall != nil {
		flags |= flagFirewall
		if e.Firewall.UID != nil {
			flags |= flagUID
		}
		if e.Firewall.GID != nil {
			flags |= flagGID
		}
	}
	if e.SrcGeo != nil {
		flags |= flagSrcGeo
	}
	if e.DestGeo != nil {
		flags |= flagDestGeo
	}
	if e.Observer != nil {
		flags |= flagObserver
	}
	if a := e.Aggregate; a != nil {
		flags |= flagAggregate
		if a.FirstSent {
			flags |= flagAggregateFirstSent
		}
	}
	if t := e.Transaction; t != nil {
		flags |= flagTransaction
		if t.Complete {
			flags |= flagTransactionComplete
		}
	}
	dst = append(dst, codecVersion)
	dst = binary.AppendUvarint(dst, flags)
	dst = appendString(dst, e.ID)
	dst = appendTime(dst, e.Timestamp)
	dst = appendTime(dst, e.Received)
	dst = appendString(dst, string(e.Kind))
	dst = appendString(dst, string(e.Action))
	dst = appendString(dst, e.Source.Type)
	dst = appendString(dst, e.Source.Input)
	dst = appendString(dst, e.Source.Sensor)
	dst = appendAddr(dst, e.SrcIP)
	dst = appendAddr(dst, e.DestIP)
	dst = binary.AppendUvarint(dst, uint64(e.SrcPort))
	dst = binary.AppendUvarint(dst, uint64(e.DestPort))
	dst = append(dst, e.Proto, e.ICMPType, e.ICMPCode)
	dst = appendString(dst, e.ProtoName)
	dst = appendString(dst, e.SrcMAC)
	dst = appendString(dst, e.DestMAC)
	dst = appendString(dst, e.CommunityID)
	dst = binary.AppendUvarint(dst, e.FlowID)
	dst = appendString(dst, e.InIface)
	dst = binary.AppendUvarint(dst, uint64(len(e.VLAN)))
	for _, v := range e.VLAN {
		dst = binary.AppendUvarint(dst, uint64(v))
	}
	dst = appendString(dst, e.AppProto)
	dst = appendString(dst, e.Direction)
	if s := e.Signature; s != nil {
		dst = binary.AppendUvarint(dst, uint64(s.GID))
		dst = binary.AppendUvarint(dst, uint64(s.ID))
		dst = binary.AppendUvarint(dst, uint64(s.Rev))
		dst = appendString(dst, s.Name)
		dst = appendString(dst, s.Category)
		dst = binary.AppendUvarint(dst, uint64(s.Priority))
	}
	if f := e.Flow; f != nil {
		dst = binary.AppendUvarint(dst, f.PktsToServer)
		dst = binary.AppendUvarint(dst, f.PktsToClient)
		dst = binary.AppendUvarint(dst, f.BytesToServer)
		dst = binary.AppendUvarint(dst, f.BytesToClient)
		dst = appendTime(dst, f.Start)
		dst = appendTime(dst, f.End)
		dst = binary.AppendVarint(dst, f.Age)
		dst = appendString(dst, f.State)
		dst = appendString(dst, f.Reason)
	}
	if p := e.Packet; p != nil {
		dst = binary.AppendUvarint(dst, uint64(p.Len))
		dst = append(dst, p.TTL, p.TOS)
		dst = binary.AppendUvarint(dst, uint64(p.IPID))
		dst = appendString(dst, p.TCPFlags)
		dst = binary.AppendUvarint(dst, uint64(p.TCPWindow))
		dst = binary.AppendUvarint(dst, uint64(p.TCPSeq))
		dst = binary.AppendUvarint(dst, uint64(p.TCPAck))
	}
	if f := e.Firewall; f != nil {
		dst = binary.AppendUvarint(dst, uint64(f.Group))
		dst = appendString(dst, f.Prefix)
		dst = binary.AppendUvarint(dst, uint64(f.Mark))
		dst = appendString(dst, f.InIface)
		dst = appendString(dst, f.OutIface)
		if f.UID != nil {
			dst = binary.AppendUvarint(dst, uint64(*f.UID))
		}
		if f.GID != nil {
			dst = binary.AppendUvarint(dst, uint64(*f.GID))
		}
	}
	if e.SrcGeo != nil {
		dst = appendGeo(dst, e.SrcGeo)
	}
	if e.DestGeo != nil {
		dst = appendGeo(dst, e.DestGeo)
	}
	dst = appendStrings(dst, e.SrcLabels)
	dst = appendStrings(dst, e.DestLabels)
	dst = appendString(dst, e.NetDirection)
	if o := e.Observer; o != nil {
		for _, s := range [...]string{o.Site, o.Environment, o.Cluster, o.Namespace, o.Pod, o.Node} {
			dst = appendString(dst, s)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Details)))
	for _, f := range e.Details {
		dst = appendString(dst, f.Key)
		dst = binary.AppendUvarint(dst, uint64(len(f.Value)))
		dst = append(dst, f.Value...)
	}
	if a := e.Aggregate; a != nil {
		dst = binary.AppendUvarint(dst, a.Count)
		dst = appendTime(dst, a.FirstSeen)
		dst = appendTime(dst, a.LastSeen)
		dst = appendStrings(dst, a.Key)
		dst = appendString(dst, a.ClosedBy)
	}
	if t := e.Transaction; t != nil {
		dst = appendTransaction(dst, t)
	}
	return dst
}

func appendTransaction(dst []byte, t *normalize.Transaction) []byte {
	dst = appendString(dst, t.ClosedBy)
	dst = binary.AppendUvarint(dst, t.Events)
	dst = binary.AppendUvarint(dst, t.Omitted)
	dst = appendStrings(dst, t.Sources)
	dst = binary.AppendUvarint(dst, uint64(len(t.Alerts)))
	for _, a := range t.Alerts {
		dst = appendString(dst, a.ID)
		dst = appendTime(dst, a.Timestamp)
		dst = appendString(dst, string(a.Action))
		s := &a.Signature
		dst = binary.AppendUvarint(dst, uint64(s.GID))
		dst = binary.AppendUvarint(dst, uint64(s.ID))
		dst = binary.AppendUvarint(dst, uint64(s.Rev))
		dst = appendString(dst, s.Name)
		dst = appendString(dst, s.Category)
		dst = binary.AppendUvarint(dst, uint64(s.Priority))
	}
	dst = binary.AppendUvarint(dst, uint64(len(t.Records)))
	for _, r := range t.Records {
		dst = appendString(dst, r.ID)
		dst = appendTime(dst, r.Timestamp)
		dst = appendString(dst, string(r.Kind))
		dst = appendString(dst, r.Type)
		dst = appendString(dst, r.SourceType)
		dst = appendString(dst, string(r.Action))
		if f := r.Firewall; f != nil {
			dst = append(dst, 1)
			dst = appendFirewall(dst, f)
		} else {
			dst = append(dst, 0)
		}
		dst = appendDetails(dst, r.Details)
	}
	return dst
}

// appendFirewall writes a firewall part with its own presence byte for
// uid and gid (records in a transaction have no flags word of their own).
func appendFirewall(dst []byte, f *normalize.Firewall) []byte {
	dst = binary.AppendUvarint(dst, uint64(f.Group))
	dst = appendString(dst, f.Prefix)
	dst = binary.AppendUvarint(dst, uint64(f.Mark))
	dst = appendString(dst, f.InIface)
	dst = appendString(dst, f.OutIface)
	for _, id := range [...]*uint32{f.UID, f.GID} {
		if id == nil {
			dst = append(dst, 0)
			continue
		}
		dst = append(dst, 1)
		dst = binary.AppendUvarint(dst, uint64(*id))
	}
	return dst
}

func appendDetails(dst []byte, ds normalize.Details) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ds)))
	for _, f := range ds {
		dst = appendString(dst, f.Key)
		dst = binary.AppendUvarint(dst, uint64(len(f.Value)))
		dst = append(dst, f.Value...)
	}
	return dst
}

func appendGeo(dst []byte, g *normalize.Geo) []byte {
	dst = appendString(dst, g.CountryISO)
	dst = appendString(dst, g.CountryName)
	dst = appendString(dst, g.CityName)
	if g.HasLocation {
		dst = append(dst, 1)
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(g.Lat))
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(g.Lon))
	} else {
		dst = append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(g.ASN))
	return appendString(dst, g.ASOrg)
}

func appendStrings(dst []byte, list []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(list)))
	for _, s := range list {
		dst = appendString(dst, s)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

func appendAddr(dst []byte, a netip.Addr) []byte {
	switch {
	case !a.IsValid():
		return append(dst, 0)
	case a.Is4():
		b := a.As4()
		return append(append(dst, 4), b[:]...)
	default:
		b := a.As16()
		dst = append(append(dst, 16), b[:]...)
		return appendString(dst, a.Zone())
	}
}

// ErrCorrupt is wrapped by every decode error.
var ErrCorrupt = errors.New("corrupt event record")

// decoder reads fields off a record, remembering the first error so the
// field list reads straight.
type decoder struct {
	b   []byte
	s   string // the record as one string: strings are cut from it, one allocation for all
	n   int    // len(record)
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s at byte %d", ErrCorrupt, what, len(d.b))
	}
	d.b = nil
}

func (d *decoder) uvarint(what string) uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(what string) int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uint(what string, max uint64) uint64 {
	v := d.uvarint(what)
	if v > max {
		d.fail(what)
		return 0
	}
	return v
}

func (d *decoder) byte1(what string) byte {
	if len(d.b) < 1 {
		d.fail(what)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// bytes returns n bytes aliasing the record.
func (d *decoder) bytes(what string) []byte {
	n := d.uvarint(what)
	if n > uint64(len(d.b)) {
		d.fail(what)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string(what string) string {
	b := d.bytes(what)
	if len(b) == 0 {
		return ""
	}
	end := d.n - len(d.b)
	return d.s[end-len(b) : end]
}

func (d *decoder) time(what string) time.Time {
	switch d.byte1(what) {
	case 0:
		return time.Time{}
	case 1:
		sec := d.varint(what)
		nsec := d.uint(what, 999_999_999)
		return time.Unix(sec, int64(nsec)).UTC()
	default:
		d.fail(what)
		return time.Time{}
	}
}

func (d *decoder) addr(what string) netip.Addr {
	switch n := d.byte1(what); n {
	case 0:
		return netip.Addr{}
	case 4:
		if len(d.b) < 4 {
			d.fail(what)
			return netip.Addr{}
		}
		a := netip.AddrFrom4([4]byte(d.b[:4]))
		d.b = d.b[4:]
		return a
	case 16:
		if len(d.b) < 16 {
			d.fail(what)
			return netip.Addr{}
		}
		a := netip.AddrFrom16([16]byte(d.b[:16]))
		d.b = d.b[16:]
		if zone := d.string(what); zone != "" {
			a = a.WithZone(zone)
		}
		return a
	default:
		d.fail(what)
		return netip.Addr{}
	}
}

func (d *decoder) geo(what string) *normalize.Geo {
	g := &normalize.Geo{
		CountryISO:  d.string(what + ".country_iso"),
		CountryName: d.string(what + ".country_name"),
		CityName:    d.string(what + ".city_name"),
	}
	switch d.byte1(what + ".location") {
	case 0:
	case 1:
		g.HasLocation = true
		g.Lat = math.Float64frombits(d.uint64be(what + ".lat"))
		g.Lon = math.Float64frombits(d.uint64be(what + ".lon"))
	default:
		d.fail(what + ".location")
	}
	g.ASN = uint32(d.uint(what+".asn", 0xffffffff))
	g.ASOrg = d.string(what + ".as_org")
	return g
}

func (d *decoder) uint64be(what string) uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

// strings reads a list; each string takes at least a byte, which bounds
// the count by what is left.
func (d *decoder) strings(what string) []string {
	n := d.uint(what+" count", uint64(len(d.b)))
	if n == 0 {
		return nil
	}
	list := make([]string, n)
	for i := range list {
		list[i] = d.string(what)
	}
	return list
}

// details reads a details list. Each detail takes at least two bytes:
// the count is bounded by what is left so a hostile count cannot make us
// allocate gigabytes.
func (d *decoder) details(what string) normalize.Details {
	n := d.uint(what+" count", uint64(len(d.b)/2))
	if n == 0 {
		return nil
	}
	ds := make(normalize.Details, n)
	for i := range ds {
		ds[i].Key = d.string(what + " key")
		if v := d.bytes(what + " value"); len(v) > 0 {
			ds[i].Value = normalize.RawJSON(v)
		}
	}
	return ds
}

func (d *decoder) transaction(complete bool) *normalize.Transaction {
	t := &normalize.Transaction{Complete: complete,
		ClosedBy: d.string("transaction.closed_by"),
		Events:   d.uvarint("transaction.events"),
		Omitted:  d.uvarint("transaction.omitted"),
		Sources:  d.strings("transaction.sources"),
	}
	// An alert takes at least 9 bytes and a record 10: bound the counts
	// by what is left, as for details.
	if n := d.uint("transaction.alerts count", uint64(len(d.b)/9)); n > 0 {
		t.Alerts = make([]normalize.TxAlert, n)
		for i := range t.Alerts {
			a := &t.Alerts[i]
			a.ID = d.string("transaction.alerts.id")
			a.Timestamp = d.time("transaction.alerts.timestamp")
			a.Action = normalize.Action(d.string("transaction.alerts.action"))
			a.Signature = normalize.Signature{
				GID:      uint32(d.uint("transaction.alerts.signature.gid", 0xffffffff)),
				ID:       uint32(d.uint("transaction.alerts.signature.id", 0xffffffff)),
				Rev:      uint32(d.uint("transaction.alerts.signature.rev", 0xffffffff)),
				Name:     d.string("transaction.alerts.signature.name"),
				Category: d.string("transaction.alerts.signature.category"),
				Priority: uint32(d.uint("transaction.alerts.signature.priority", 0xffffffff)),
			}
		}
	}
	if n := d.uint("transaction.records count", uint64(len(d.b)/10)); n > 0 {
		t.Records = make([]normalize.TxRecord, n)
		for i := range t.Records {
			r := &t.Records[i]
			r.ID = d.string("transaction.records.id")
			r.Timestamp = d.time("transaction.records.timestamp")
			r.Kind = normalize.Kind(d.string("transaction.records.kind"))
			r.Type = d.string("transaction.records.type")
			r.SourceType = d.string("transaction.records.source_type")
			r.Action = normalize.Action(d.string("transaction.records.action"))
			if d.byte1("transaction.records.firewall") == 1 {
				r.Firewall = d.firewall("transaction.records.firewall")
			}
			r.Details = d.details("transaction.records.details")
		}
	}
	return t
}

func (d *decoder) firewall(what string) *normalize.Firewall {
	f := &normalize.Firewall{
		Group:    uint16(d.uint(what+".group", 0xffff)),
		Prefix:   d.string(what + ".prefix"),
		Mark:     uint32(d.uint(what+".mark", 0xffffffff)),
		InIface:  d.string(what + ".in_iface"),
		OutIface: d.string(what + ".out_iface"),
	}
	for _, id := range [...]**uint32{&f.UID, &f.GID} {
		if d.byte1(what+".id") == 1 {
			v := uint32(d.uint(what+".id", 0xffffffff))
			*id = &v
		}
	}
	return f
}

// DecodeEvent decodes rec into e (which should be zero). Details values
// alias rec: the caller must not reuse rec while e lives. The strings share
// one copy of rec.
func DecodeEvent(rec []byte, e *normalize.Event) error {
	d := decoder{b: rec, s: string(rec), n: len(rec)}
	version := d.byte1("version")
	if version != 1 && version != codecVersion {
		if d.err != nil {
			return d.err
		}
		return fmt.Errorf("%w: unknown version %d", ErrCorrupt, version)
	}
	flags := d.uvarint("flags")
	e.ID = d.string("id")
	e.Timestamp = d.time("timestamp")
	e.Received = d.time("received")
	e.Kind = normalize.Kind(d.string("kind"))
	e.Action = normalize.Action(d.string("action"))
	e.Source.Type = d.string("source.type")
	e.Source.Input = d.string("source.input")
	e.Source.Sensor = d.string("source.sensor")
	e.SrcIP = d.addr("src_ip")
	e.DestIP = d.addr("dest_ip")
	e.SrcPort = uint16(d.uint("src_port", 0xffff))
	e.DestPort = uint16(d.uint("dest_port", 0xffff))
	e.HasPorts = flags&flagPorts != 0
	e.Proto = d.byte1("proto")
	e.ICMPType = d.byte1("icmp_type")
	e.ICMPCode = d.byte1("icmp_code")
	e.HasProto = flags&flagProto != 0
	e.HasICMP = flags&flagICMP != 0
	e.ProtoName = d.string("proto_name")
	e.SrcMAC = d.string("src_mac")
	e.DestMAC = d.string("dest_mac")
	e.CommunityID = d.string("community_id")
	e.FlowID = d.uvarint("flow_id")
	e.InIface = d.string("in_iface")
	if n := d.uint("vlan count", 16); n > 0 {
		e.VLAN = make([]uint16, n)
		for i := range e.VLAN {
			e.VLAN[i] = uint16(d.uint("vlan", 0xffff))
		}
	}
	e.AppProto = d.string("app_proto")
	e.Direction = d.string("direction")
	if flags&flagSignature != 0 {
		e.Signature = &normalize.Signature{
			GID:      uint32(d.uint("signature.gid", 0xffffffff)),
			ID:       uint32(d.uint("signature.id", 0xffffffff)),
			Rev:      uint32(d.uint("signature.rev", 0xffffffff)),
			Name:     d.string("signature.name"),
			Category: d.string("signature.category"),
			Priority: uint32(d.uint("signature.priority", 0xffffffff)),
		}
	}
	if flags&flagFlow != 0 {
		f := &normalize.Flow{
			PktsToServer:  d.uvarint("flow.pkts_toserver"),
			PktsToClient:  d.uvarint("flow.pkts_toclient"),
			BytesToServer: d.uvarint("flow.bytes_toserver"),
			BytesToClient: d.uvarint("flow.bytes_toclient"),
			Start:         d.time("flow.start"),
			End:           d.time("flow.end"),
			Age:           d.varint("flow.age"),
			State:         d.string("flow.state"),
			Reason:        d.string("flow.reason"),
		}
		if flags&flagAlerted != 0 {
			v := flags&flagAlertedTrue != 0
			f.Alerted = &v
		}
		e.Flow = f
	}
	if flags&flagPacket != 0 {
		e.Packet = &normalize.Packet{
			Len:       uint32(d.uint("packet.len", 0xffffffff)),
			TTL:       d.byte1("packet.ttl"),
			TOS:       d.byte1("packet.tos"),
			IPID:      uint32(d.uint("packet.ip_id", 0xffffffff)),
			TCPFlags:  d.string("packet.tcp_flags"),
			TCPWindow: uint32(d.uint("packet.tcp_window", 0xffffffff)),
			TCPSeq:    uint32(d.uint("packet.tcp_seq", 0xffffffff)),
			TCPAck:    uint32(d.uint("packet.tcp_ack", 0xffffffff)),
			HasTTL:    flags&flagHasTTL != 0,
		}
	}
	if flags&flagFirewall != 0 {
		f := &normalize.Firewall{
			Group:    uint16(d.uint("firewall.group", 0xffff)),
			Prefix:   d.string("firewall.prefix"),
			Mark:     uint32(d.uint("firewall.mark", 0xffffffff)),
			InIface:  d.string("firewall.in_iface"),
			OutIface: d.string("firewall.out_iface"),
		}
		if flags&flagUID != 0 {
			v := uint32(d.uint("firewall.uid", 0xffffffff))
			f.UID = &v
		}
		if flags&flagGID != 0 {
			v := uint32(d.uint("firewall.gid", 0xffffffff))
			f.GID = &v
		}
		e.Firewall = f
	}
	if version >= 2 {
		if flags&flagSrcGeo != 0 {
			e.SrcGeo = d.geo("src_geo")
		}
		if flags&flagDestGeo != 0 {
			e.DestGeo = d.geo("dest_geo")
		}
		e.SrcLabels = d.strings("src_labels")
		e.DestLabels = d.strings("dest_labels")
		e.NetDirection = d.string("network_direction")
		if flags&flagObserver != 0 {
			e.Observer = &normalize.Observer{
				Site: d.string("observer.site"), Environment: d.string("observer.environment"),
				Cluster: d.string("observer.cluster"), Namespace: d.string("observer.namespace"),
				Pod: d.string("observer.pod"), Node: d.string("observer.node"),
			}
		}
	}
	e.Details = d.details("details")
	if version >= 3 {
		if flags&flagAggregate != 0 {
			e.Aggregate = &normalize.Aggregate{
				Count:     d.uvarint("aggregate.count"),
				FirstSeen: d.time("aggregate.first_seen"),
				LastSeen:  d.time("aggregate.last_seen"),
				Key:       d.strings("aggregate.key"),
				ClosedBy:  d.string("aggregate.closed_by"),
				FirstSent: flags&flagAggregateFirstSent != 0,
			}
		}
		if flags&flagTransaction != 0 {
			e.Transaction = d.transaction(flags&flagTransactionComplete != 0)
		}
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.b))
	}
	return nil
}
