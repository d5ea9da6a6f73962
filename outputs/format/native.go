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
		b = append(AppendKey(b, "signature"), '{')
		b = AppendUintField(b, "gid", uint64(s.GID))
		b = AppendUintField(b, "id", uint64(s.ID))
		b = AppendUintField(b, "rev", uint64(s.Rev))
		b = AppendStringField(b, "name", s.Name)
		b = AppendStringField(b, "category", s.Category)
		if s.Priority != 0 {
			b = AppendUintField(b, "priority", uint64(s.Priority))
		}
		b = append(b, '}')
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
		b = append(b, '}')
	}
	if f := e.Firewall; f != nil {
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
		b = append(b, '}')
	}
	if len(e.Details) > 0 {
		b = append(AppendKey(b, "details"), '{')
		for _, f := range e.Details {
			b = append(AppendEscapedKey(b, f.Key), f.Value...)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}
