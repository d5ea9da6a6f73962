package format

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/alertgw/alertgw/normalize"
)

// OCSFVersion is the Open Cybersecurity Schema Framework release the
// "ocsf" format follows (metadata.version; validated against it).
const OCSFVersion = "1.4.0"

// OCSF writes events in the Open Cybersecurity Schema Framework:
//
//   - alerts: Detection Finding (class 2004, category 2 Findings), activity
//     Create; the 5-tuple goes in evidences[0], the rule in finding_info.analytic.
//   - flows, firewall packets, anomalies and other protocol records: Network
//     Activity (class 4001, category 4 Network Activity); flows and packets
//     are activity Traffic (6), blocked packets Refuse (5), anomalies and
//     other records Other (99).
//   - audit: Base Event (class 0), or Network Activity, activity Other,
//     when the event has an address (a SOCKADDR record's peer, or the
//     remote addr= of a login or session record); the gateway's own
//     stats: Base Event.
//
// Every event carries the Security Control profile (action_id,
// disposition_id) and the Host profile (device: the sensor).
// What OCSF has no attribute for goes under unmapped. docs/formats.md maps
// every field.
type OCSF struct{}

// Name implements Encoder.
func (OCSF) Name() string { return "ocsf" }

// ocsfClass is one class and activity, with every name pre-rendered.
type ocsfClass struct {
	head string // `"activity_id":…,"type_name":"…"` ready to append
	uid  int
}

func newOCSFClass(classUID, categoryUID, activityID int, className, categoryName, activityName string) ocsfClass {
	typeUID := classUID*100 + activityID
	head := `"activity_id":` + strconv.Itoa(activityID) + `,"activity_name":"` + activityName +
		`","category_uid":` + strconv.Itoa(categoryUID) + `,"category_name":"` + categoryName +
		`","class_uid":` + strconv.Itoa(classUID) + `,"class_name":"` + className +
		`","type_uid":` + strconv.Itoa(typeUID) + `,"type_name":"` + className + `: ` + activityName + `"`
	return ocsfClass{head: head, uid: classUID}
}

var (
	ocsfFindingCreate  = newOCSFClass(2004, 2, 1, "Detection Finding", "Findings", "Create")
	ocsfNetTraffic     = newOCSFClass(4001, 4, 6, "Network Activity", "Network Activity", "Traffic")
	ocsfNetRefuse      = newOCSFClass(4001, 4, 5, "Network Activity", "Network Activity", "Refuse")
	ocsfNetOther       = newOCSFClass(4001, 4, 99, "Network Activity", "Network Activity", "Other")
	ocsfBaseEventOther = newOCSFClass(0, 0, 99, "Base Event", "Uncategorized", "Other")
)

func ocsfClassOf(e *normalize.Event) ocsfClass {
	switch e.Kind {
	case normalize.KindAlert:
		return ocsfFindingCreate
	case normalize.KindFlow:
		return ocsfNetTraffic
	case normalize.KindPacket, normalize.KindTransaction:
		if e.Action == normalize.ActionBlocked {
			return ocsfNetRefuse
		}
		return ocsfNetTraffic
	case normalize.KindAnomaly, normalize.KindEvent:
		return ocsfNetOther
	case normalize.KindAudit:
		if e.SrcIP.IsValid() || e.DestIP.IsValid() {
			return ocsfNetOther // a syscall on a socket (SOCKADDR) or a login from an address: the peer is network activity
		}
	}
	return ocsfBaseEventOther
}

// AppendEvent implements Encoder.
func (OCSF) AppendEvent(b []byte, e *normalize.Event) []byte {
	cls := ocsfClassOf(e)
	sn := sensorOf(e)
	b = append(b, '{')
	b = append(b, cls.head...)
	b = appendMillisField(b, "time", e.Timestamp)
	b = appendOCSFSeverity(b, e)
	b = appendOCSFDisposition(b, e.Action)
	if e.Signature != nil && e.Signature.Name != "" {
		b = AppendStringField(b, "message", e.Signature.Name)
	}
	if a := e.Aggregate; a != nil {
		// The base event's count: "the number of times that events in the
		// same logical group occurred".
		b = AppendUintField(b, "count", a.Count)
	}
	b = appendOCSFMetadata(b, e, sn)
	b = appendOCSFDevice(b, e, sn)

	switch cls.uid {
	case 2004:
		b = AppendBoolField(b, "is_alert", true)
		b = appendOCSFFindingInfo(b, e)
		if e.SrcIP.IsValid() || e.DestIP.IsValid() || e.HasProto {
			b = append(AppendKey(b, "evidences"), '[', '{')
			b = appendOCSFNetwork(b, e)
			b = append(b, '}', ']')
		}
	case 4001:
		if e.Signature != nil {
			// A rule that acted on traffic outside a finding (an IPS drop):
			// the Security Control profile's firewall_rule.
			b = appendOCSFRule(b, "firewall_rule", e.Signature)
		} else if f := e.Firewall; f != nil && f.Prefix != "" {
			b = append(AppendKey(b, "firewall_rule"), '{') // the log rule, named by its prefix
			b = append(AppendStringField(b, "name", f.Prefix), '}')
		}
		b = appendOCSFNetwork(b, e)
		b = AppendStringField(b, "app_name", e.AppProto)
		if f := e.Flow; f != nil {
			b = append(AppendKey(b, "traffic"), '{')
			// OCSF counts from the source's side: out is source → destination.
			b = AppendUintField(b, "bytes_out", f.BytesToServer)
			b = AppendUintField(b, "bytes_in", f.BytesToClient)
			b = AppendUintField(b, "bytes", f.BytesToServer+f.BytesToClient)
			b = AppendUintField(b, "packets_out", f.PktsToServer)
			b = AppendUintField(b, "packets_in", f.PktsToClient)
			b = AppendUintField(b, "packets", f.PktsToServer+f.PktsToClient)
			b = append(b, '}')
			b = appendMillisField(b, "start_time", f.Start)
			b = appendMillisField(b, "end_time", f.End)
			if !f.Start.IsZero() && !f.End.IsZero() && !f.End.Before(f.Start) {
				b = AppendIntField(b, "duration", f.End.Sub(f.Start).Milliseconds())
			}
		}
	}
	// Only Network Activity has app_name and traffic: other classes keep
	// them under unmapped.
	network := cls.uid == 4001
	if hasSensorFields(e) || len(e.SrcLabels) > 0 || len(e.DestLabels) > 0 || hasReduction(e) || (!network && (e.AppProto != "" || e.Flow != nil)) {
		b = append(AppendKey(b, "unmapped"), '{')
		b = AppendStringsField(b, "src_networks", e.SrcLabels)
		b = AppendStringsField(b, "dst_networks", e.DestLabels)
		if !network {
			b = AppendStringField(b, "app_proto", e.AppProto)
		}
		b = appendSensorFields(b, e, !network)
		b = appendReduction(b, e)
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendMillisField(b []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	return AppendIntField(b, key, t.UnixMilli())
}

// appendOCSFSeverity maps the rule priority (1 is the most urgent, as in
// Snort and Suricata) to severity_id: 1 High, 2 Medium, 3 Low, 4 and beyond
// Informational; no priority is Unknown. Events that are not alerts are
// Informational.
func appendOCSFSeverity(b []byte, e *normalize.Event) []byte {
	if e.Kind != normalize.KindAlert {
		return append(b, `,"severity_id":1,"severity":"Informational"`...)
	}
	var prio uint32
	if e.Signature != nil {
		prio = e.Signature.Priority
	}
	switch {
	case prio == 0:
		return append(b, `,"severity_id":0,"severity":"Unknown"`...)
	case prio == 1:
		return append(b, `,"severity_id":4,"severity":"High"`...)
	case prio == 2:
		return append(b, `,"severity_id":3,"severity":"Medium"`...)
	case prio == 3:
		return append(b, `,"severity_id":2,"severity":"Low"`...)
	}
	return append(b, `,"severity_id":1,"severity":"Informational"`...)
}

// appendOCSFDisposition writes the Security Control profile's verdict.
func appendOCSFDisposition(b []byte, a normalize.Action) []byte {
	switch a {
	case normalize.ActionAllowed:
		return append(b, `,"action_id":1,"action":"Allowed","disposition_id":1,"disposition":"Allowed"`...)
	case normalize.ActionBlocked:
		return append(b, `,"action_id":2,"action":"Denied","disposition_id":2,"disposition":"Blocked"`...)
	}
	return append(b, `,"action_id":0,"action":"Unknown","disposition_id":0,"disposition":"Unknown"`...)
}

func appendOCSFMetadata(b []byte, e *normalize.Event, sn sensor) []byte {
	b = append(AppendKey(b, "metadata"), `{"version":"`+OCSFVersion+`","profiles":["security_control","host"]`...)
	b = append(AppendKey(b, "product"), '{')
	b = AppendStringField(b, "name", sn.product)
	b = AppendStringField(b, "vendor_name", sn.vendor)
	b = append(b, '}')
	b = AppendStringField(b, "uid", e.ID)
	b = appendMillisField(b, "logged_time", e.Received)
	b = AppendStringField(b, "log_name", e.Source.Input)
	b = AppendStringField(b, "log_provider", "alertgw")
	if o := e.Observer; o != nil {
		// OCSF has no deployment attributes: they go in metadata.labels as
		// "key:value" strings.
		n := len(b)
		b = append(AppendKey(b, "labels"), '[')
		start := len(b)
		b = appendLabel(b, start, "site:", o.Site)
		b = appendLabel(b, start, "environment:", o.Environment)
		b = appendLabel(b, start, "cluster:", o.Cluster)
		b = appendLabel(b, start, "namespace:", o.Namespace)
		b = appendLabel(b, start, "pod:", o.Pod)
		b = appendLabel(b, start, "node:", o.Node)
		if len(b) == start {
			b = b[:n]
		} else {
			b = append(b, ']')
		}
	}
	return append(b, '}')
}

func appendLabel(b []byte, start int, prefix, v string) []byte {
	if v == "" {
		return b
	}
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(append(b, '"'), prefix...) // prefixes are plain ASCII
	q := len(b)
	b = AppendString(b, v)
	copy(b[q:], b[q+1:]) // drop the value's own opening quote
	return b[:len(b)-1]
}

func appendOCSFDevice(b []byte, e *normalize.Event, sn sensor) []byte {
	b = append(AppendKey(b, "device"), '{')
	b = AppendIntField(b, "type_id", int64(sn.ocsfDeviceType))
	b = AppendStringField(b, "type", sn.ocsfDeviceName)
	b = AppendStringField(b, "name", e.Source.Sensor)
	if e.Observer != nil {
		b = AppendStringField(b, "hostname", e.Observer.Node)
	}
	return append(b, '}')
}

func appendOCSFFindingInfo(b []byte, e *normalize.Event) []byte {
	b = append(AppendKey(b, "finding_info"), '{')
	b = AppendStringField(b, "uid", e.ID)
	s := e.Signature
	if s == nil {
		return append(b, '}')
	}
	b = AppendStringField(b, "title", s.Name)
	if s.Category != "" {
		b = append(AppendKey(b, "types"), '[')
		b = append(AppendString(b, s.Category), ']')
	}
	b = appendOCSFRule(b, "analytic", s)
	return append(b, '}')
}

// appendOCSFRule writes a signature as an OCSF analytic (findings, with
// type 1 Rule) or firewall_rule (network activity); both take uid, name,
// category and version, and uid is gid:sid, the pair that names a rule in
// Snort and Suricata.
func appendOCSFRule(b []byte, key string, s *normalize.Signature) []byte {
	b = append(AppendKey(b, key), '{')
	if key == "analytic" {
		b = append(b, `"type_id":1,"type":"Rule"`...)
	}
	b = append(AppendKey(b, "uid"), '"')
	b = strconv.AppendUint(b, uint64(s.GID), 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(s.ID), 10)
	b = append(b, '"')
	b = AppendStringField(b, "name", s.Name)
	b = AppendStringField(b, "category", s.Category)
	b = append(AppendKey(b, "version"), '"')
	b = strconv.AppendUint(b, uint64(s.Rev), 10)
	return append(b, '"', '}')
}

// appendOCSFNetwork writes src_endpoint, dst_endpoint and connection_info.
func appendOCSFNetwork(b []byte, e *normalize.Event) []byte {
	in, out := e.InIface, ""
	if f := e.Firewall; f != nil {
		if f.InIface != "" {
			in = f.InIface
		}
		out = f.OutIface // the interface towards the destination
	}
	b = appendOCSFEndpoint(b, "src_endpoint", e.SrcIP, e.SrcPort, e.HasPorts, e.SrcMAC, e.SrcGeo, e.SrcLabels, in, e.VLAN)
	b = appendOCSFEndpoint(b, "dst_endpoint", e.DestIP, e.DestPort, e.HasPorts, e.DestMAC, e.DestGeo, e.DestLabels, out, nil)
	if !e.HasProto && e.CommunityID == "" && e.FlowID == 0 && !e.SrcIP.IsValid() && !e.DestIP.IsValid() {
		return b // nothing to say about a connection (a record without a tuple)
	}
	b = append(AppendKey(b, "connection_info"), '{')
	if e.HasProto {
		b = AppendUintField(b, "protocol_num", uint64(e.Proto))
		b = AppendStringField(b, "protocol_name", e.ProtoName)
	}
	if e.SrcIP.IsValid() {
		if e.SrcIP.Unmap().Is4() {
			b = AppendIntField(b, "protocol_ver_id", 4)
		} else {
			b = AppendIntField(b, "protocol_ver_id", 6)
		}
	}
	b = AppendStringField(b, "community_uid", e.CommunityID)
	if e.FlowID != 0 {
		b = append(AppendKey(b, "uid"), '"')
		b = strconv.AppendUint(b, e.FlowID, 10)
		b = append(b, '"')
	}
	// direction_id is required in network_connection_info: 0 when unknown.
	dirID, dirName := 0, "Unknown"
	switch e.NetDirection {
	case normalize.DirectionInbound:
		dirID, dirName = 1, "Inbound"
	case normalize.DirectionOutbound:
		dirID, dirName = 2, "Outbound"
	case normalize.DirectionInternal:
		dirID, dirName = 3, "Lateral"
	case normalize.DirectionExternal:
		dirID, dirName = 99, "External"
	}
	b = AppendIntField(b, "direction_id", int64(dirID))
	b = AppendStringField(b, "direction", dirName)
	if e.Packet != nil && e.Packet.TCPFlags != "" {
		b = AppendUintField(b, "tcp_flags", uint64(tcpFlagBits(e.Packet.TCPFlags)))
	}
	return append(b, '}')
}

// tcpFlagBits turns flag letters (FSRPAUEC) into the TCP header's flag bits.
func tcpFlagBits(s string) uint8 {
	var bits uint8
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'F':
			bits |= 0x01
		case 'S':
			bits |= 0x02
		case 'R':
			bits |= 0x04
		case 'P':
			bits |= 0x08
		case 'A':
			bits |= 0x10
		case 'U':
			bits |= 0x20
		case 'E':
			bits |= 0x40
		case 'C':
			bits |= 0x80
		}
	}
	return bits
}

func appendOCSFEndpoint(b []byte, key string, ip netip.Addr, port uint16, hasPort bool, mac string, g *normalize.Geo, labels []string, iface string, vlan []uint16) []byte {
	if !ip.IsValid() && mac == "" && iface == "" && !hasPort {
		return b
	}
	b = append(AppendKey(b, key), '{')
	b = AppendAddrField(b, "ip", ip)
	if hasPort {
		b = AppendUintField(b, "port", uint64(port))
	}
	b = AppendStringField(b, "mac", mac)
	b = AppendStringField(b, "interface_name", iface)
	if len(vlan) > 0 {
		b = append(AppendKey(b, "vlan_uid"), '"')
		b = strconv.AppendUint(b, uint64(vlan[0]), 10)
		b = append(b, '"')
	}
	if len(labels) > 0 {
		// zone is one string: the first (most specific as configured) label;
		// unmapped.src_networks/dst_networks keep them all.
		b = AppendStringField(b, "zone", labels[0])
	}
	if g != nil {
		if g.CountryISO != "" || g.CityName != "" || g.HasLocation {
			b = append(AppendKey(b, "location"), '{')
			b = AppendStringField(b, "country", g.CountryISO)
			b = AppendStringField(b, "city", g.CityName)
			if g.HasLocation {
				b = AppendFloatField(b, "lat", g.Lat)
				b = AppendFloatField(b, "long", g.Lon)
			}
			b = append(b, '}')
		}
		if g.ASN != 0 || g.ASOrg != "" {
			b = append(AppendKey(b, "autonomous_system"), '{')
			if g.ASN != 0 {
				b = AppendUintField(b, "number", uint64(g.ASN))
			}
			b = AppendStringField(b, "name", g.ASOrg)
			b = append(b, '}')
		}
	}
	return append(b, '}')
}
