package http

import (
	"net/netip"
	"os"
	"strconv"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
)

// MozDef encodes events in MozDef's event shape, as audisp-json sends it:
//
//	{"timestamp":"…","hostname":"sensor-1","processid":1234,"processname":"alertgw",
//	 "severity":"WARNING","category":"alert","source":"suricata","summary":"ET POLICY … 10.0.0.1:1234 -> 192.0.2.1:80",
//	 "tags":["alertgw","suricata","alert"],"details":{"id":"…","src_ip":"10.0.0.1",…}}
//
// Every value under details is a string, as MozDef asks (its index maps
// them as strings; a field that is a number in one event and a string in
// another would be refused). Source details that are not strings are kept
// as their JSON text.
type MozDef struct{}

// Name implements format.Encoder.
func (MozDef) Name() string { return "mozdef" }

var pid = os.Getpid()

// AppendEvent implements format.Encoder.
func (MozDef) AppendEvent(b []byte, e *normalize.Event) []byte {
	b = append(b, '{')
	b = format.AppendTimeField(b, "timestamp", e.Timestamp)
	b = format.AppendTimeField(b, "utctimestamp", e.Timestamp)
	b = format.AppendStringField(b, "hostname", e.Source.Sensor)
	b = format.AppendIntField(b, "processid", int64(pid))
	b = format.AppendStringField(b, "processname", "alertgw")
	b = format.AppendStringField(b, "severity", severity(e))
	b = format.AppendStringField(b, "category", string(e.Kind))
	b = format.AppendStringField(b, "source", e.Source.Type)
	b = format.AppendString(format.AppendKey(b, "summary"), string(summary(nil, e)))
	b = append(format.AppendKey(b, "tags"), '[')
	b = format.AppendString(b, "alertgw")
	if e.Source.Type != "" {
		b = format.AppendString(append(b, ','), e.Source.Type)
	}
	b = format.AppendString(append(b, ','), string(e.Kind))
	b = append(b, ']')

	b = append(format.AppendKey(b, "details"), '{')
	str := func(k, v string) {
		b = format.AppendStringField(b, k, v)
	}
	num := func(k string, v uint64) {
		b = format.AppendString(format.AppendKey(b, k), strconv.FormatUint(v, 10))
	}
	str("id", e.ID)
	str("action", string(e.Action))
	str("input", e.Source.Input)
	if e.SrcIP.IsValid() {
		str("sourceipaddress", e.SrcIP.String())
	}
	if e.DestIP.IsValid() {
		str("destinationipaddress", e.DestIP.String())
	}
	if e.HasPorts {
		num("sourceport", uint64(e.SrcPort))
		num("destinationport", uint64(e.DestPort))
	}
	if e.HasProto {
		str("protocol", e.ProtoName)
	}
	str("community_id", e.CommunityID)
	if e.FlowID != 0 {
		num("flow_id", e.FlowID)
	}
	str("app_proto", e.AppProto)
	str("in_iface", e.InIface)
	if s := e.Signature; s != nil {
		num("signature_gid", uint64(s.GID))
		num("signature_id", uint64(s.ID))
		num("signature_rev", uint64(s.Rev))
		str("signature", s.Name)
		str("signature_category", s.Category)
		if s.Priority != 0 {
			num("priority", uint64(s.Priority))
		}
	}
	if f := e.Firewall; f != nil {
		str("prefix", f.Prefix)
		str("out_iface", f.OutIface)
	}
	for _, f := range e.Details {
		v := f.Value
		b = format.AppendEscapedKey(b, f.Key)
		if len(v) > 0 && v[0] == '"' {
			b = append(b, v...)
		} else {
			b = format.AppendString(b, string(v))
		}
	}
	b = append(b, '}')
	return append(b, '}')
}

// severity maps what the event says to a syslog-style level, as MozDef
// expects: the signature's priority for alerts (1 is the highest).
func severity(e *normalize.Event) string {
	if e.Kind == normalize.KindAlert && e.Signature != nil {
		switch e.Signature.Priority {
		case 1:
			return "CRITICAL"
		case 2:
			return "ERROR"
		case 3:
			return "WARNING"
		}
		return "NOTICE"
	}
	if e.Action == normalize.ActionBlocked {
		return "NOTICE"
	}
	return "INFO"
}

// summary is the one human line MozDef shows.
func summary(b []byte, e *normalize.Event) []byte {
	if e.Signature != nil && e.Signature.Name != "" {
		b = append(b, e.Signature.Name...)
	} else {
		b = append(b, e.Source.Type...)
		b = append(b, ' ')
		b = append(b, e.Kind...)
	}
	if e.SrcIP.IsValid() {
		b = append(b, ' ')
		b = appendEndpoint(b, e.SrcIP, e.SrcPort, e.HasPorts)
		b = append(b, " -> "...)
		b = appendEndpoint(b, e.DestIP, e.DestPort, e.HasPorts)
	}
	if e.Action == normalize.ActionBlocked {
		b = append(b, " (blocked)"...)
	}
	return b
}

func appendEndpoint(b []byte, ip netip.Addr, port uint16, has bool) []byte {
	if has {
		return netip.AddrPortFrom(ip, port).AppendTo(b) // [v6]:port
	}
	return ip.AppendTo(b)
}
