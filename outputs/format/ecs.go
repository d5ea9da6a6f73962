package format

import (
	"net/netip"
	"strconv"

	"github.com/alertgw/alertgw/normalize"
)

// ECSVersion is the Elastic Common Schema release the "ecs" format follows
// (written as ecs.version; validated against that release's ecs_flat.yml).
const ECSVersion = "8.17.0"

// ECS writes events in the Elastic Common Schema, the way Filebeat's
// Suricata, Snort and iptables modules do, plus what they leave out
// (network.iana_number, observer.*). docs/formats.md maps every field.
type ECS struct{}

// Name implements Encoder.
func (ECS) Name() string { return "ecs" }

// AppendEvent implements Encoder.
func (ECS) AppendEvent(b []byte, e *normalize.Event) []byte {
	sn := sensorOf(e)
	b = append(b, '{')
	b = AppendTimeField(b, "@timestamp", e.Timestamp)
	b = append(AppendKey(b, "ecs"), `{"version":"`+ECSVersion+`"}`...)
	b = appendECSEvent(b, e)

	if s := e.Signature; s != nil {
		b = append(AppendKey(b, "rule"), '{')
		b = append(AppendKey(b, "id"), '"')
		b = strconv.AppendUint(b, uint64(s.ID), 10)
		b = append(b, '"')
		b = AppendStringField(b, "name", s.Name)
		b = AppendStringField(b, "category", s.Category)
		b = append(AppendKey(b, "version"), '"')
		b = strconv.AppendUint(b, uint64(s.Rev), 10)
		b = append(b, '"', '}')
	} else if f := e.Firewall; f != nil && f.Prefix != "" {
		// A packet-logging firewall names the rule that logged by its
		// prefix (as Filebeat does for firewall logs).
		b = append(AppendKey(b, "rule"), '{')
		b = append(AppendStringField(b, "name", f.Prefix), '}')
	}

	var srcBytes, srcPkts, dstBytes, dstPkts uint64
	if f := e.Flow; f != nil {
		// EVE's to_server is the flow's source-to-destination direction.
		srcBytes, srcPkts, dstBytes, dstPkts = f.BytesToServer, f.PktsToServer, f.BytesToClient, f.PktsToClient
	}
	b = appendECSEndpoint(b, "source", e.SrcIP, e.SrcPort, e.HasPorts, e.SrcMAC, e.SrcGeo, srcBytes, srcPkts, e.Flow != nil)
	b = appendECSEndpoint(b, "destination", e.DestIP, e.DestPort, e.HasPorts, e.DestMAC, e.DestGeo, dstBytes, dstPkts, e.Flow != nil)
	b = appendECSNetwork(b, e)
	b = appendECSObserver(b, e, sn)
	if o := e.Observer; o != nil {
		b = appendECSDeployment(b, o)
	}
	if len(e.SrcLabels) > 0 || len(e.DestLabels) > 0 || hasReduction(e) {
		// ECS has no field for "this address is in our DMZ", nor for a
		// summary's count or a transaction's records: they go under
		// alertgw's own namespace, as custom fields should.
		b = append(AppendKey(b, "alertgw"), '{')
		if len(e.SrcLabels) > 0 {
			b = append(AppendKey(b, "source"), '{')
			b = append(AppendStringsField(b, "networks", e.SrcLabels), '}')
		}
		if len(e.DestLabels) > 0 {
			b = append(AppendKey(b, "destination"), '{')
			b = append(AppendStringsField(b, "networks", e.DestLabels), '}')
		}
		b = appendReduction(b, e)
		b = append(b, '}')
	}
	if hasSensorFields(e) {
		for _, k := range sn.namespace {
			b = append(AppendKey(b, k), '{')
		}
		b = appendSensorFields(b, e, false)
		for range sn.namespace {
			b = append(b, '}')
		}
	}
	return append(b, '}')
}

// ecsClass returns event.kind and the JSON arrays of event.category and
// event.type for the event's kind and action (ECS allowed values only).
func ecsClass(e *normalize.Event) (kind, category, typ string) {
	switch e.Kind {
	case normalize.KindAlert:
		switch e.Action {
		case normalize.ActionAllowed:
			return "alert", `["network","intrusion_detection"]`, `["allowed"]`
		case normalize.ActionBlocked:
			return "alert", `["network","intrusion_detection"]`, `["denied"]`
		}
		return "alert", `["network","intrusion_detection"]`, `["info"]`
	case normalize.KindFlow, normalize.KindPacket, normalize.KindTransaction:
		switch e.Action {
		case normalize.ActionAllowed:
			return "event", `["network"]`, `["connection","allowed"]`
		case normalize.ActionBlocked:
			return "event", `["network"]`, `["connection","denied"]`
		}
		return "event", `["network"]`, `["connection"]`
	case normalize.KindAnomaly:
		return "event", `["network"]`, `["info"]`
	case normalize.KindEvent:
		return "event", `["network"]`, `["protocol"]`
	case normalize.KindAudit:
		return "event", `["host"]`, `["info"]`
	case normalize.KindStats:
		return "metric", "", ""
	}
	return "event", "", ""
}

func appendECSEvent(b []byte, e *normalize.Event) []byte {
	kind, category, typ := ecsClass(e)
	b = append(AppendKey(b, "event"), '{')
	b = AppendStringField(b, "kind", kind)
	if category != "" {
		b = append(AppendKey(b, "category"), category...)
		b = append(AppendKey(b, "type"), typ...)
	}
	switch e.Action {
	case normalize.ActionAllowed, normalize.ActionBlocked:
		// The sensor enforced its verdict: from its point of view that
		// succeeded, whichever way it went (event.type says which).
		b = AppendStringField(b, "action", string(e.Action))
		b = AppendStringField(b, "outcome", "success")
	default:
		b = AppendStringField(b, "outcome", "unknown")
	}
	b = AppendStringField(b, "module", e.Source.Type)
	b = AppendStringField(b, "provider", e.Source.Input)
	if e.Source.Type != "" && e.Kind != "" {
		b = append(AppendKey(b, "dataset"), '"')
		b = append(b, e.Source.Type...)
		b = append(b, '.')
		b = append(b, e.Kind...)
		b = append(b, '"')
	}
	if e.Signature != nil && e.Signature.Priority != 0 {
		b = AppendUintField(b, "severity", uint64(e.Signature.Priority))
	}
	b = AppendStringField(b, "id", e.ID)
	b = AppendTimeField(b, "created", e.Received)
	if f := e.Flow; f != nil {
		b = AppendTimeField(b, "start", f.Start)
		b = AppendTimeField(b, "end", f.End)
		if !f.Start.IsZero() && !f.End.IsZero() && !f.End.Before(f.Start) {
			b = AppendIntField(b, "duration", f.End.Sub(f.Start).Nanoseconds())
		}
	}
	return append(b, '}')
}

func appendECSEndpoint(b []byte, key string, ip netip.Addr, port uint16, hasPort bool, mac string, g *normalize.Geo, bytes, pkts uint64, hasCounters bool) []byte {
	if !ip.IsValid() && mac == "" && !hasPort {
		return b
	}
	b = append(AppendKey(b, key), '{')
	if ip.IsValid() {
		b = AppendAddrField(b, "address", ip)
		b = AppendAddrField(b, "ip", ip)
	}
	if hasPort {
		b = AppendUintField(b, "port", uint64(port))
	}
	if mac != "" {
		b = append(AppendKey(b, "mac"), '"')
		b = appendECSMAC(b, mac)
		b = append(b, '"')
	}
	if hasCounters {
		b = AppendUintField(b, "bytes", bytes)
		b = AppendUintField(b, "packets", pkts)
	}
	if g != nil {
		if g.CountryISO != "" || g.CountryName != "" || g.CityName != "" || g.HasLocation {
			b = append(AppendKey(b, "geo"), '{')
			b = AppendStringField(b, "country_iso_code", g.CountryISO)
			b = AppendStringField(b, "country_name", g.CountryName)
			b = AppendStringField(b, "city_name", g.CityName)
			if g.HasLocation {
				b = append(AppendKey(b, "location"), '{')
				b = AppendFloatField(b, "lat", g.Lat)
				b = AppendFloatField(b, "lon", g.Lon)
				b = append(b, '}')
			}
			b = append(b, '}')
		}
		if g.ASN != 0 || g.ASOrg != "" {
			b = append(AppendKey(b, "as"), '{')
			if g.ASN != 0 {
				b = AppendUintField(b, "number", uint64(g.ASN))
			}
			if g.ASOrg != "" {
				b = append(AppendKey(b, "organization"), '{')
				b = append(AppendStringField(b, "name", g.ASOrg), '}')
			}
			b = append(b, '}')
		}
	}
	return append(b, '}')
}

// appendECSMAC writes a MAC address in ECS's form: upper case, hyphens
// ("00-00-5E-00-53-23"). A value with anything but hex digits and
// separators is written as it came, escaped: a malformed value stays
// visible rather than vanishing.
func appendECSMAC(b []byte, mac string) []byte {
	for i := 0; i < len(mac); i++ {
		switch c := mac[i]; {
		case c == ':' || c == '-' || c == '.', '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			s := AppendString(nil, mac)
			return append(b, s[1:len(s)-1]...)
		}
	}
	for i := 0; i < len(mac); i++ {
		switch c := mac[i]; {
		case c == ':' || c == '.':
			b = append(b, '-')
		case 'a' <= c && c <= 'f':
			b = append(b, c-'a'+'A')
		default:
			b = append(b, c)
		}
	}
	return b
}

func appendECSNetwork(b []byte, e *normalize.Event) []byte {
	hasFlow := e.Flow != nil
	if !e.HasProto && e.CommunityID == "" && e.NetDirection == "" && e.AppProto == "" && len(e.VLAN) == 0 && !hasFlow {
		return b
	}
	b = append(AppendKey(b, "network"), '{')
	if e.HasProto {
		b = AppendStringField(b, "transport", e.ProtoName)
		b = append(AppendKey(b, "iana_number"), '"')
		b = strconv.AppendUint(b, uint64(e.Proto), 10)
		b = append(b, '"')
	}
	if e.SrcIP.IsValid() {
		if e.SrcIP.Unmap().Is4() {
			b = AppendStringField(b, "type", "ipv4")
		} else {
			b = AppendStringField(b, "type", "ipv6")
		}
	}
	b = AppendStringField(b, "community_id", e.CommunityID)
	b = AppendStringField(b, "direction", e.NetDirection)
	b = AppendStringField(b, "protocol", e.AppProto)
	if hasFlow {
		b = AppendUintField(b, "bytes", e.Flow.BytesToServer+e.Flow.BytesToClient)
		b = AppendUintField(b, "packets", e.Flow.PktsToServer+e.Flow.PktsToClient)
	}
	if len(e.VLAN) > 0 {
		b = append(AppendKey(b, "vlan"), `{"id":"`...)
		b = strconv.AppendUint(b, uint64(e.VLAN[0]), 10)
		b = append(b, '"', '}')
		if len(e.VLAN) > 1 {
			b = append(AppendKey(b, "inner"), `{"vlan":{"id":"`...)
			b = strconv.AppendUint(b, uint64(e.VLAN[1]), 10)
			b = append(b, '"', '}', '}')
		}
	}
	return append(b, '}')
}

func appendECSObserver(b []byte, e *normalize.Event, sn sensor) []byte {
	b = append(AppendKey(b, "observer"), '{')
	b = AppendStringField(b, "name", e.Source.Sensor)
	if e.Observer != nil {
		b = AppendStringField(b, "hostname", e.Observer.Node)
	}
	b = AppendStringField(b, "type", sn.observerType)
	b = AppendStringField(b, "vendor", sn.vendor)
	b = AppendStringField(b, "product", sn.product)
	in := e.InIface
	var out string
	if f := e.Firewall; f != nil {
		if f.InIface != "" {
			in = f.InIface
		}
		out = f.OutIface
	}
	if in != "" || len(e.VLAN) > 0 {
		b = append(AppendKey(b, "ingress"), '{')
		if in != "" {
			b = append(AppendKey(b, "interface"), '{')
			b = append(AppendStringField(b, "name", in), '}')
		}
		if len(e.VLAN) > 0 {
			b = append(AppendKey(b, "vlan"), `{"id":"`...)
			b = strconv.AppendUint(b, uint64(e.VLAN[0]), 10)
			b = append(b, '"', '}')
		}
		b = append(b, '}')
	}
	if out != "" {
		b = append(AppendKey(b, "egress"), `{"interface":{`...)
		b = append(AppendStringField(b, "name", out), '}', '}')
	}
	return append(b, '}')
}

// appendECSDeployment writes the sensor metadata: site and environment as
// labels, Kubernetes placement as orchestrator.*.
func appendECSDeployment(b []byte, o *normalize.Observer) []byte {
	if o.Site != "" || o.Environment != "" {
		b = append(AppendKey(b, "labels"), '{')
		b = AppendStringField(b, "site", o.Site)
		b = AppendStringField(b, "environment", o.Environment)
		b = append(b, '}')
	}
	if o.Cluster != "" || o.Pod != "" || o.Namespace != "" {
		b = append(AppendKey(b, "orchestrator"), '{')
		b = AppendStringField(b, "type", "kubernetes")
		if o.Cluster != "" {
			b = append(AppendKey(b, "cluster"), '{')
			b = append(AppendStringField(b, "name", o.Cluster), '}')
		}
		b = AppendStringField(b, "namespace", o.Namespace)
		if o.Pod != "" {
			b = append(AppendKey(b, "resource"), `{"type":"pod"`...)
			b = append(AppendStringField(b, "name", o.Pod), '}')
		}
		b = append(b, '}')
	}
	return b
}
