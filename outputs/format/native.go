package format

import (
	"strconv"

	"github.com/alertgw/alertgw/normalize"
)

// Native is alertgw's own format, schema v1: see docs/schema.md and
// docs/schema/event-v1.json. Field order is fixed and documented.
type Native struct{}

// Name implements Encoder.
func (Native) Name() string { return "native" }

// AppendEvent implements Encoder.
func (Native) AppendEvent(b []byte, e *normalize.Event) []byte {
	b = append(b, `{"schema":`...)
	b = strconv.AppendInt(b, normalize.SchemaVersion, 10)
	b = AppendStringField(b, "id", e.ID)
	b = AppendTimeField(b, "timestamp", e.Timestamp)
	b = AppendTimeField(b, "received", e.Received)
	b = AppendStringField(b, "kind", string(e.Kind))
	b = AppendStringField(b, "action", string(e.Action))

	b = append(AppendKey(b, "source"), '{')
	b = AppendStringField(b, "type", e.Source.Type)
	b = AppendStringField(b, "input", e.Source.Input)
	b = AppendStringField(b, "sensor", e.Source.Sensor)
	b = append(b, '}')

	b = AppendAddrField(b, "src_ip", e.SrcIP)
	if e.HasPorts {
		b = AppendUintField(b, "src_port", uint64(e.SrcPort))
	}
	b = AppendAddrField(b, "dest_ip", e.DestIP)
	if e.HasPorts {
		b = AppendUintField(b, "dest_port", uint64(e.DestPort))
	}
	if e.HasProto {
		b = AppendUintField(b, "proto", uint64(e.Proto))
	}
	b = AppendStringField(b, "proto_name", e.ProtoName)
	if e.HasICMP {
		b = AppendUintField(b, "icmp_type", uint64(e.ICMPType))
		b = AppendUintField(b, "icmp_code", uint64(e.ICMPCode))
	}
	b = AppendStringField(b, "src_mac", e.SrcMAC)
	b = AppendStringField(b, "dest_mac", e.DestMAC)
	b = AppendStringField(b, "community_id", e.CommunityID)
	if e.FlowID != 0 {
		b = AppendUintField(b, "flow_id", e.FlowID)
	}
	b = AppendStringField(b, "in_iface", e.InIface)
	if len(e.VLAN) > 0 {
		b = append(AppendKey(b, "vlan"), '[')
		for i, v := range e.VLAN {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(v), 10)
		}
		b = append(b, ']')
	}
	b = AppendStringField(b, "app_proto", e.AppProto)
	b = AppendStringField(b, "direction", e.Direction)

	if s := e.Signature; s != nil {
		b = appendNativeSignature(b, s)
	}
	if f := e.Flow; f != nil {
		b = append(AppendKey(b, "flow"), '{')
		b = AppendUintField(b, "pkts_toserver", f.PktsToServer)
		b = AppendUintField(b, "pkts_toclient", f.PktsToClient)
		b = AppendUintField(b, "bytes_toserver", f.BytesToServer)
		b = AppendUintField(b, "bytes_toclient", f.BytesToClient)
		b = AppendTimeField(b, "start", f.Start)
		b = AppendTimeField(b, "end", f.End)
		// A finished flow has an age even when it is 0 (under a second).
		if f.Age != 0 || !f.End.IsZero() {
			b = AppendIntField(b, "age", f.Age)
		}
		b = AppendStringField(b, "state", f.State)
		b = AppendStringField(b, "reason", f.Reason)
		if f.Alerted != nil {
			b = AppendBoolField(b, "alerted", *f.Alerted)
		}
		b = append(b, '}')
	}
	if p := e.Packet; p != nil {
		b = append(AppendKey(b, "packet"), '{')
		b = appendPacketMembers(b, p)
		b = append(b, '}')
	}
	b = appendNativeFirewall(b, e.Firewall)
	b = appendNativeGeo(b, "src_geo", e.SrcGeo)
	b = appendNativeGeo(b, "dest_geo", e.DestGeo)
	b = AppendStringsField(b, "src_labels", e.SrcLabels)
	b = AppendStringsField(b, "dest_labels", e.DestLabels)
	b = AppendStringField(b, "network_direction", e.NetDirection)
	if o := e.Observer; o != nil {
		b = append(AppendKey(b, "observer"), '{')
		b = AppendStringField(b, "site", o.Site)
		b = AppendStringField(b, "environment", o.Environment)
		b = AppendStringField(b, "cluster", o.Cluster)
		b = AppendStringField(b, "namespace", o.Namespace)
		b = AppendStringField(b, "pod", o.Pod)
		b = AppendStringField(b, "node", o.Node)
		b = append(b, '}')
	}
	b = appendReduction(b, e)
	b = appendNativeDetails(b, "details", e.Details)
	return append(b, '}')
}

func appendNativeDetails(b []byte, key string, ds normalize.Details) []byte {
	if len(ds) == 0 {
		return b
	}
	b = append(AppendKey(b, key), '{')
	for _, f := range ds {
		b = append(AppendEscapedKey(b, f.Key), f.Value...)
	}
	return append(b, '}')
}

// appendReduction writes what the reduction stages added (aggregate,
// transaction) as native objects; ECS and OCSF carry the same objects under
// their custom namespaces (alertgw.*, unmapped.*).
func appendReduction(b []byte, e *normalize.Event) []byte {
	if a := e.Aggregate; a != nil {
		b = append(AppendKey(b, "aggregate"), '{')
		b = AppendUintField(b, "count", a.Count)
		b = AppendTimeField(b, "first_seen", a.FirstSeen)
		b = AppendTimeField(b, "last_seen", a.LastSeen)
		b = AppendStringsField(b, "key", a.Key)
		b = AppendStringField(b, "closed_by", a.ClosedBy)
		b = AppendBoolField(b, "first_sent", a.FirstSent)
		b = append(b, '}')
	}
	if t := e.Transaction; t != nil {
		b = appendNativeTransaction(b, t)
	}
	return b
}

func hasReduction(e *normalize.Event) bool { return e.Aggregate != nil || e.Transaction != nil }

func appendNativeTransaction(b []byte, t *normalize.Transaction) []byte {
	b = append(AppendKey(b, "transaction"), '{')
	b = AppendBoolField(b, "complete", t.Complete)
	b = AppendStringField(b, "closed_by", t.ClosedBy)
	b = AppendUintField(b, "events", t.Events)
	if t.Omitted != 0 {
		b = AppendUintField(b, "omitted", t.Omitted)
	}
	b = AppendStringsField(b, "sources", t.Sources)
	if len(t.Alerts) > 0 {
		b = append(AppendKey(b, "alerts"), '[')
		for i := range t.Alerts {
			a := &t.Alerts[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			b = AppendStringField(b, "id", a.ID)
			b = AppendTimeField(b, "timestamp", a.Timestamp)
			b = AppendStringField(b, "action", string(a.Action))
			b = appendNativeSignature(b, &a.Signature)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(t.Records) > 0 {
		b = append(AppendKey(b, "records"), '[')
		for i := range t.Records {
			r := &t.Records[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			b = AppendStringField(b, "id", r.ID)
			b = AppendTimeField(b, "timestamp", r.Timestamp)
			b = AppendStringField(b, "kind", string(r.Kind))
			b = AppendStringField(b, "type", r.Type)
			b = AppendStringField(b, "source_type", r.SourceType)
			b = AppendStringField(b, "action", string(r.Action))
			b = appendNativeFirewall(b, r.Firewall)
			b = appendNativeDetails(b, "details", r.Details)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendNativeSignature(b []byte, s *normalize.Signature) []byte {
	b = append(AppendKey(b, "signature"), '{')
	b = AppendUintField(b, "gid", uint64(s.GID))
	b = AppendUintField(b, "id", uint64(s.ID))
	b = AppendUintField(b, "rev", uint64(s.Rev))
	b = AppendStringField(b, "name", s.Name)
	b = AppendStringField(b, "category", s.Category)
	if s.Priority != 0 {
		b = AppendUintField(b, "priority", uint64(s.Priority))
	}
	return append(b, '}')
}

func appendNativeFirewall(b []byte, f *normalize.Firewall) []byte {
	if f == nil {
		return b
	}
	b = append(AppendKey(b, "firewall"), '{')
	b = AppendUintField(b, "group", uint64(f.Group))
	b = AppendStringField(b, "prefix", f.Prefix)
	if f.Mark != 0 {
		b = AppendUintField(b, "mark", uint64(f.Mark))
	}
	b = AppendStringField(b, "in_iface", f.InIface)
	b = AppendStringField(b, "out_iface", f.OutIface)
	if f.UID != nil {
		b = AppendUintField(b, "uid", uint64(*f.UID))
	}
	if f.GID != nil {
		b = AppendUintField(b, "gid", uint64(*f.GID))
	}
	return append(b, '}')
}

func appendNativeGeo(b []byte, key string, g *normalize.Geo) []byte {
	if g == nil {
		return b
	}
	b = append(AppendKey(b, key), '{')
	b = AppendStringField(b, "country_iso", g.CountryISO)
	b = AppendStringField(b, "country_name", g.CountryName)
	b = AppendStringField(b, "city_name", g.CityName)
	if g.HasLocation {
		b = AppendFloatField(b, "lat", g.Lat)
		b = AppendFloatField(b, "lon", g.Lon)
	}
	if g.ASN != 0 {
		b = AppendUintField(b, "asn", uint64(g.ASN))
	}
	b = AppendStringField(b, "as_org", g.ASOrg)
	return append(b, '}')
}

// appendPacketMembers writes the members of a packet object: the native
// "packet" and the sensor namespaces' "packet_header" share them.
func appendPacketMembers(b []byte, p *normalize.Packet) []byte {
	b = AppendUintField(b, "len", uint64(p.Len))
	if p.HasTTL {
		b = AppendUintField(b, "ttl", uint64(p.TTL))
	}
	if p.TOS != 0 {
		b = AppendUintField(b, "tos", uint64(p.TOS))
	}
	if p.IPID != 0 {
		b = AppendUintField(b, "ip_id", uint64(p.IPID))
	}
	b = AppendStringField(b, "tcp_flags", p.TCPFlags)
	if p.TCPWindow != 0 {
		b = AppendUintField(b, "tcp_window", uint64(p.TCPWindow))
	}
	if p.TCPSeq != 0 {
		b = AppendUintField(b, "tcp_seq", uint64(p.TCPSeq))
	}
	if p.TCPAck != 0 {
		b = AppendUintField(b, "tcp_ack", uint64(p.TCPAck))
	}
	return b
}
