package format

import (
	"github.com/alertgw/alertgw/normalize"
)

// sensor describes a source type for the formats that name the producing
// product: ECS observer.* and the sensor-specific namespace, OCSF
// metadata.product and device.
type sensor struct {
	vendor, product string
	observerType    string   // ECS observer.type: ids, firewall, or "" when none fits
	ocsfDeviceType  int      // OCSF device.type_id: 13 IDS, 9 Firewall, 0 Unknown
	ocsfDeviceName  string   // OCSF device.type for that id
	namespace       []string // ECS path of the sensor-specific fields, as Filebeat's modules name them
}

var (
	sensorSuricata = sensor{"OISF", "Suricata", "ids", 13, "IDS", []string{"suricata", "eve"}}
	sensorSnort    = sensor{"Cisco", "Snort", "ids", 13, "IDS", []string{"snort"}}
	sensorUnified2 = sensor{"", "unified2", "ids", 13, "IDS", []string{"unified2"}}
	sensorNFLOG    = sensor{"Linux", "netfilter NFLOG", "firewall", 9, "Firewall", []string{"nflog"}}
	sensorAuditd   = sensor{"Linux", "auditd", "", 0, "Unknown", []string{"auditd"}}
	sensorAlertgw  = sensor{"alertgw", "alertgw", "", 0, "Unknown", []string{"alertgw"}}
)

// sensorOf returns what is known of the event's source type. Barnyard2
// relays Snort's alerts, so it is Snort's product and namespace. Unknown
// types name themselves and use their own namespace.
func sensorOf(e *normalize.Event) sensor {
	switch e.Source.Type {
	case "suricata":
		return sensorSuricata
	case "snort", "barnyard2":
		return sensorSnort
	case "unified2":
		return sensorUnified2
	case "nflog":
		return sensorNFLOG
	case "auditd":
		return sensorAuditd
	case "", "alertgw":
		return sensorAlertgw
	}
	return sensor{"", e.Source.Type, "", 0, "Unknown", []string{e.Source.Type}}
}

// appendSensorFields appends, inside an object that dst has just opened,
// what the event says that the format has no field for: the
// source-specific counters and header fields, then Details, verbatim.
// withFlow adds the flow's counters and times to the "flow" group, for
// formats (OCSF findings) that have nowhere else to put them. When
// Details has an object under "alert" or "flow" (EVE does), its members are
// merged into the group alertgw writes under that key so the output has one
// key each, as in the sensor's own record.
func appendSensorFields(b []byte, e *normalize.Event, withFlow bool) []byte {
	if e.FlowID != 0 {
		b = AppendUintField(b, "flow_id", e.FlowID)
	}
	b = AppendStringField(b, "direction", e.Direction)
	if e.HasICMP {
		b = AppendUintField(b, "icmp_type", uint64(e.ICMPType))
		b = AppendUintField(b, "icmp_code", uint64(e.ICMPCode))
	}
	var mergedAlert, mergedFlow, wroteFlow bool
	if s := e.Signature; s != nil {
		b = append(AppendKey(b, "alert"), '{')
		b = AppendUintField(b, "gid", uint64(s.GID))
		b = AppendUintField(b, "signature_id", uint64(s.ID))
		b = AppendUintField(b, "rev", uint64(s.Rev))
		if s.Priority != 0 {
			// under the sensor's own name for it: EVE says severity
			key := "priority"
			if e.Source.Type == "suricata" {
				key = "severity"
			}
			b = AppendUintField(b, key, uint64(s.Priority))
		}
		b, mergedAlert = spliceObject(b, e.Details.Get("alert"))
		b = append(b, '}')
	}
	if f := e.Flow; f != nil && (withFlow || hasFlowExtras(f)) {
		wroteFlow = true
		b = append(AppendKey(b, "flow"), '{')
		if withFlow {
			b = AppendUintField(b, "pkts_toserver", f.PktsToServer)
			b = AppendUintField(b, "pkts_toclient", f.PktsToClient)
			b = AppendUintField(b, "bytes_toserver", f.BytesToServer)
			b = AppendUintField(b, "bytes_toclient", f.BytesToClient)
			b = AppendTimeField(b, "start", f.Start)
			b = AppendTimeField(b, "end", f.End)
		}
		b = AppendStringField(b, "state", f.State)
		b = AppendStringField(b, "reason", f.Reason)
		if f.Age != 0 || !f.End.IsZero() { // a finished flow has an age, even 0 (as native writes it)
			b = AppendIntField(b, "age", f.Age)
		}
		if f.Alerted != nil {
			b = AppendBoolField(b, "alerted", *f.Alerted)
		}
		b, mergedFlow = spliceObject(b, e.Details.Get("flow"))
		b = append(b, '}')
	}
	if p := e.Packet; p != nil {
		b = append(AppendKey(b, "packet_header"), '{')
		b = appendPacketMembers(b, p)
		b = append(b, '}')
	}
	if f := e.Firewall; f != nil {
		b = AppendUintField(b, "group", uint64(f.Group))
		b = AppendStringField(b, "prefix", f.Prefix)
		if f.Mark != 0 {
			b = AppendUintField(b, "mark", uint64(f.Mark))
		}
		if f.UID != nil {
			b = AppendUintField(b, "uid", uint64(*f.UID))
		}
		if f.GID != nil {
			b = AppendUintField(b, "gid", uint64(*f.GID))
		}
	}
	for _, f := range e.Details {
		switch {
		case f.Key == "alert" && e.Signature != nil:
			if mergedAlert {
				continue
			}
			b = AppendRawField(b, "alert_details", f.Value) // not an object: keep it, under a key that cannot clash
		case f.Key == "flow" && wroteFlow:
			if mergedFlow {
				continue
			}
			b = AppendRawField(b, "flow_details", f.Value)
		case isSensorFixedKey(f.Key):
			b = append(AppendEscapedKey(b, "details_"+f.Key), f.Value...)
		default:
			b = append(AppendEscapedKey(b, f.Key), f.Value...)
		}
	}
	return b
}

// isSensorFixedKey reports the keys appendSensorFields (and, around it,
// OCSF's unmapped) writes itself, other than the merged groups, so that a
// Details key of the same name (mappers should not produce one) cannot make
// a duplicate key.
func isSensorFixedKey(k string) bool {
	switch k {
	case "flow_id", "direction", "icmp_type", "icmp_code", "packet_header", "group", "prefix", "mark", "uid", "gid",
		"src_networks", "dst_networks", "app_proto":
		return true
	}
	return false
}

// spliceObject appends the members of raw, a compact JSON object, to the
// object b is writing. It reports false (and appends nothing) when raw is
// not a non-empty object.
func spliceObject(b []byte, raw normalize.RawJSON) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return b, false
	}
	inner := raw[1 : len(raw)-1]
	if len(inner) == 0 {
		return b, true
	}
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	return append(b, inner...), true
}

// hasSensorFields reports whether appendSensorFields would write anything.
func hasSensorFields(e *normalize.Event) bool {
	return e.FlowID != 0 || e.Direction != "" || e.HasICMP || e.Signature != nil || e.Packet != nil ||
		e.Firewall != nil || len(e.Details) > 0 ||
		(e.Flow != nil && hasFlowExtras(e.Flow))
}

// hasFlowExtras reports whether a flow has more than counters and times.
func hasFlowExtras(f *normalize.Flow) bool {
	return f.State != "" || f.Reason != "" || f.Age != 0 || !f.End.IsZero() || f.Alerted != nil
}
