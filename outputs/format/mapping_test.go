package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

// fieldRow is one row of docs/formats.md: a native field and where the ecs
// and ocsf formats put it. TestFieldMapping checks every row against what
// the encoders write for the reference events, and every field they write
// against the rows, then (re)generates the tables of docs/formats.md.
//
// Paths are dotted; "[]" marks an array of objects; a trailing ".*" stands
// for everything below. In ECS paths ‹ns› is the source's namespace
// (suricata.eve, snort, unified2, nflog). An ECS or OCSF list holds
// alternatives: each event must have at least one (OCSF puts the tuple in
// evidences[] for findings, at the top for network activity). sameECS /
// sameOCSF: the first alternative present holds the native value unchanged.
type fieldRow struct {
	native   string
	ecs      []string
	ocsf     []string
	sameECS  bool
	sameOCSF bool
	note     string
}

const ns = "‹ns›"

var fieldRows = []fieldRow{
	{native: "schema", note: "ECS and OCSF carry their own version instead: ecs.version, metadata.version"},
	{native: "id", ecs: []string{"event.id"}, ocsf: []string{"metadata.uid"}, sameECS: true, sameOCSF: true, note: "findings also have it as finding_info.uid"},
	{native: "timestamp", ecs: []string{"@timestamp"}, ocsf: []string{"time"}, sameECS: true, note: "OCSF: epoch milliseconds"},
	{native: "received", ecs: []string{"event.created"}, ocsf: []string{"metadata.logged_time"}, sameECS: true, note: "OCSF: epoch milliseconds"},
	{native: "kind", ecs: []string{"event.kind"}, ocsf: []string{"class_uid"}, note: "with event.category/type and the OCSF class and activity: see the class table"},
	{native: "action", ecs: []string{"event.outcome"}, ocsf: []string{"action_id"}, note: "allowed/blocked → event.action, event.type allowed/denied; OCSF action_id 1 Allowed / 2 Denied, disposition_id 1 Allowed / 2 Blocked; unknown → 0"},
	{native: "source.type", ecs: []string{"event.module"}, ocsf: []string{"metadata.product.name"}, sameECS: true, note: "names observer.vendor/product/type and OCSF metadata.product, device.type_id"},
	{native: "source.input", ecs: []string{"event.provider"}, ocsf: []string{"metadata.log_name"}, sameECS: true, sameOCSF: true},
	{native: "source.sensor", ecs: []string{"observer.name"}, ocsf: []string{"device.name"}, sameECS: true, sameOCSF: true},
	{native: "src_ip", ecs: []string{"source.ip"}, ocsf: []string{"src_endpoint.ip", "evidences[].src_endpoint.ip"}, sameECS: true, sameOCSF: true, note: "ECS also source.address"},
	{native: "src_port", ecs: []string{"source.port"}, ocsf: []string{"src_endpoint.port", "evidences[].src_endpoint.port"}, sameECS: true, sameOCSF: true},
	{native: "dest_ip", ecs: []string{"destination.ip"}, ocsf: []string{"dst_endpoint.ip", "evidences[].dst_endpoint.ip"}, sameECS: true, sameOCSF: true, note: "ECS also destination.address"},
	{native: "dest_port", ecs: []string{"destination.port"}, ocsf: []string{"dst_endpoint.port", "evidences[].dst_endpoint.port"}, sameECS: true, sameOCSF: true},
	{native: "proto", ecs: []string{"network.iana_number"}, ocsf: []string{"connection_info.protocol_num", "evidences[].connection_info.protocol_num"}, sameECS: true, sameOCSF: true, note: "ECS: as a string (keyword)"},
	{native: "proto_name", ecs: []string{"network.transport"}, ocsf: []string{"connection_info.protocol_name", "evidences[].connection_info.protocol_name"}, sameECS: true, sameOCSF: true},
	{native: "icmp_type", ecs: []string{ns + ".icmp_type"}, ocsf: []string{"unmapped.icmp_type"}, sameECS: true, sameOCSF: true},
	{native: "icmp_code", ecs: []string{ns + ".icmp_code"}, ocsf: []string{"unmapped.icmp_code"}, sameECS: true, sameOCSF: true},
	{native: "src_mac", ecs: []string{"source.mac"}, ocsf: []string{"src_endpoint.mac", "evidences[].src_endpoint.mac"}, sameOCSF: true, note: "ECS form: upper case, hyphens"},
	{native: "dest_mac", ecs: []string{"destination.mac"}, ocsf: []string{"dst_endpoint.mac", "evidences[].dst_endpoint.mac"}, sameOCSF: true, note: "ECS form: upper case, hyphens"},
	{native: "community_id", ecs: []string{"network.community_id"}, ocsf: []string{"connection_info.community_uid", "evidences[].connection_info.community_uid"}, sameECS: true, sameOCSF: true},
	{native: "flow_id", ecs: []string{ns + ".flow_id"}, ocsf: []string{"connection_info.uid", "evidences[].connection_info.uid"}, sameECS: true, sameOCSF: true, note: "OCSF: as a string"},
	{native: "in_iface", ecs: []string{"observer.ingress.interface.name"}, ocsf: []string{"src_endpoint.interface_name", "evidences[].src_endpoint.interface_name"}, sameECS: true, sameOCSF: true},
	{native: "vlan", ecs: []string{"network.vlan.id"}, ocsf: []string{"src_endpoint.vlan_uid", "evidences[].src_endpoint.vlan_uid"}, note: "outer tag; ECS also observer.ingress.vlan.id and the inner tag as network.inner.vlan.id"},
	{native: "app_proto", ecs: []string{"network.protocol"}, ocsf: []string{"app_name", "unmapped.app_proto"}, sameECS: true, sameOCSF: true, note: "OCSF: app_name in Network Activity"},
	{native: "direction", ecs: []string{ns + ".direction"}, ocsf: []string{"unmapped.direction"}, sameECS: true, sameOCSF: true, note: "the sensor's to_server/to_client"},
	{native: "signature.gid", ecs: []string{ns + ".alert.gid"}, ocsf: []string{"finding_info.analytic.uid", "firewall_rule.uid"}, sameECS: true, note: "OCSF analytic uid is gid:sid"},
	{native: "signature.id", ecs: []string{"rule.id"}, ocsf: []string{"finding_info.analytic.uid", "firewall_rule.uid"}, sameECS: true, note: "ECS also ‹ns›.alert.signature_id"},
	{native: "signature.rev", ecs: []string{"rule.version"}, ocsf: []string{"finding_info.analytic.version", "firewall_rule.version"}, sameECS: true, sameOCSF: true},
	{native: "signature.name", ecs: []string{"rule.name"}, ocsf: []string{"finding_info.title", "firewall_rule.name"}, sameECS: true, sameOCSF: true, note: "OCSF also message and finding_info.analytic.name; outside findings (an IPS drop) the rule is firewall_rule"},
	{native: "signature.category", ecs: []string{"rule.category"}, ocsf: []string{"finding_info.analytic.category", "firewall_rule.category"}, sameECS: true, sameOCSF: true, note: "OCSF also finding_info.types[0]"},
	{native: "signature.priority", ecs: []string{"event.severity"}, ocsf: []string{"severity_id"}, sameECS: true, note: "OCSF: 1 → 4 High, 2 → 3 Medium, 3 → 2 Low, more → 1 Informational; ECS also ‹ns›.alert.priority"},
	{native: "flow.pkts_toserver", ecs: []string{"source.packets"}, ocsf: []string{"traffic.packets_out", "unmapped.flow.pkts_toserver"}, sameECS: true, sameOCSF: true, note: "OCSF: traffic in Network Activity, unmapped.flow in findings"},
	{native: "flow.pkts_toclient", ecs: []string{"destination.packets"}, ocsf: []string{"traffic.packets_in", "unmapped.flow.pkts_toclient"}, sameECS: true, sameOCSF: true},
	{native: "flow.bytes_toserver", ecs: []string{"source.bytes"}, ocsf: []string{"traffic.bytes_out", "unmapped.flow.bytes_toserver"}, sameECS: true, sameOCSF: true},
	{native: "flow.bytes_toclient", ecs: []string{"destination.bytes"}, ocsf: []string{"traffic.bytes_in", "unmapped.flow.bytes_toclient"}, sameECS: true, sameOCSF: true},
	{native: "flow.start", ecs: []string{"event.start"}, ocsf: []string{"start_time", "unmapped.flow.start"}, sameECS: true, note: "OCSF start_time: epoch ms"},
	{native: "flow.end", ecs: []string{"event.end"}, ocsf: []string{"end_time", "unmapped.flow.end"}, sameECS: true, note: "OCSF end_time: epoch ms"},
	{native: "flow.age", ecs: []string{ns + ".flow.age"}, ocsf: []string{"unmapped.flow.age"}, sameECS: true, sameOCSF: true},
	{native: "flow.state", ecs: []string{ns + ".flow.state"}, ocsf: []string{"unmapped.flow.state"}, sameECS: true, sameOCSF: true},
	{native: "flow.reason", ecs: []string{ns + ".flow.reason"}, ocsf: []string{"unmapped.flow.reason"}, sameECS: true, sameOCSF: true},
	{native: "flow.alerted", ecs: []string{ns + ".flow.alerted"}, ocsf: []string{"unmapped.flow.alerted"}, sameECS: true, sameOCSF: true},
	{native: "packet.len", ecs: []string{ns + ".packet_header.len"}, ocsf: []string{"unmapped.packet_header.len"}, sameECS: true, sameOCSF: true},
	{native: "packet.ttl", ecs: []string{ns + ".packet_header.ttl"}, ocsf: []string{"unmapped.packet_header.ttl"}, sameECS: true, sameOCSF: true},
	{native: "packet.tos", ecs: []string{ns + ".packet_header.tos"}, ocsf: []string{"unmapped.packet_header.tos"}, sameECS: true, sameOCSF: true},
	{native: "packet.ip_id", ecs: []string{ns + ".packet_header.ip_id"}, ocsf: []string{"unmapped.packet_header.ip_id"}, sameECS: true, sameOCSF: true},
	{native: "packet.tcp_flags", ecs: []string{ns + ".packet_header.tcp_flags"}, ocsf: []string{"connection_info.tcp_flags", "evidences[].connection_info.tcp_flags"}, sameECS: true, note: "OCSF: the flag bits as an integer; the letters also under unmapped.packet_header"},
	{native: "packet.tcp_window", ecs: []string{ns + ".packet_header.tcp_window"}, ocsf: []string{"unmapped.packet_header.tcp_window"}, sameECS: true, sameOCSF: true},
	{native: "packet.tcp_seq", ecs: []string{ns + ".packet_header.tcp_seq"}, ocsf: []string{"unmapped.packet_header.tcp_seq"}, sameECS: true, sameOCSF: true},
	{native: "packet.tcp_ack", ecs: []string{ns + ".packet_header.tcp_ack"}, ocsf: []string{"unmapped.packet_header.tcp_ack"}, sameECS: true, sameOCSF: true},
	{native: "firewall.group", ecs: []string{ns + ".group"}, ocsf: []string{"unmapped.group"}, sameECS: true, sameOCSF: true},
	{native: "firewall.prefix", ecs: []string{"rule.name"}, ocsf: []string{"firewall_rule.name"}, sameECS: true, sameOCSF: true, note: "when there is no signature: the log rule's name; also ‹ns›.prefix, unmapped.prefix"},
	{native: "firewall.mark", ecs: []string{ns + ".mark"}, ocsf: []string{"unmapped.mark"}, sameECS: true, sameOCSF: true},
	{native: "firewall.uid", ecs: []string{ns + ".uid"}, ocsf: []string{"unmapped.uid"}, sameECS: true, sameOCSF: true},
	{native: "firewall.gid", ecs: []string{ns + ".gid"}, ocsf: []string{"unmapped.gid"}, sameECS: true, sameOCSF: true},
	{native: "firewall.in_iface", ecs: []string{"observer.ingress.interface.name"}, ocsf: []string{"src_endpoint.interface_name"}, sameECS: true, sameOCSF: true},
	{native: "firewall.out_iface", ecs: []string{"observer.egress.interface.name"}, ocsf: []string{"dst_endpoint.interface_name"}, sameECS: true, sameOCSF: true},
	{native: "src_geo.country_iso", ecs: []string{"source.geo.country_iso_code"}, ocsf: []string{"src_endpoint.location.country", "evidences[].src_endpoint.location.country"}, sameECS: true, sameOCSF: true},
	{native: "src_geo.country_name", ecs: []string{"source.geo.country_name"}, sameECS: true, note: "OCSF location has the ISO code only"},
	{native: "src_geo.city_name", ecs: []string{"source.geo.city_name"}, ocsf: []string{"src_endpoint.location.city", "evidences[].src_endpoint.location.city"}, sameECS: true, sameOCSF: true},
	{native: "src_geo.lat", ecs: []string{"source.geo.location.lat"}, ocsf: []string{"src_endpoint.location.lat", "evidences[].src_endpoint.location.lat"}, sameECS: true, sameOCSF: true},
	{native: "src_geo.lon", ecs: []string{"source.geo.location.lon"}, ocsf: []string{"src_endpoint.location.long", "evidences[].src_endpoint.location.long"}, sameECS: true, sameOCSF: true},
	{native: "src_geo.asn", ecs: []string{"source.as.number"}, ocsf: []string{"src_endpoint.autonomous_system.number", "evidences[].src_endpoint.autonomous_system.number"}, sameECS: true, sameOCSF: true},
	{native: "src_geo.as_org", ecs: []string{"source.as.organization.name"}, ocsf: []string{"src_endpoint.autonomous_system.name", "evidences[].src_endpoint.autonomous_system.name"}, sameECS: true, sameOCSF: true},
	{native: "dest_geo.country_iso", ecs: []string{"destination.geo.country_iso_code"}, ocsf: []string{"dst_endpoint.location.country", "evidences[].dst_endpoint.location.country"}, sameECS: true, sameOCSF: true},
	{native: "dest_geo.country_name", ecs: []string{"destination.geo.country_name"}, sameECS: true, note: "OCSF location has the ISO code only"},
	{native: "dest_geo.city_name", ecs: []string{"destination.geo.city_name"}, ocsf: []string{"dst_endpoint.location.city", "evidences[].dst_endpoint.location.city"}, sameECS: true, sameOCSF: true},
	{native: "dest_geo.lat", ecs: []string{"destination.geo.location.lat"}, ocsf: []string{"dst_endpoint.location.lat", "evidences[].dst_endpoint.location.lat"}, sameECS: true, sameOCSF: true},
	{native: "dest_geo.lon", ecs: []string{"destination.geo.location.lon"}, ocsf: []string{"dst_endpoint.location.long", "evidences[].dst_endpoint.location.long"}, sameECS: true, sameOCSF: true},
	{native: "dest_geo.asn", ecs: []string{"destination.as.number"}, ocsf: []string{"dst_endpoint.autonomous_system.number", "evidences[].dst_endpoint.autonomous_system.number"}, sameECS: true, sameOCSF: true},
	{native: "dest_geo.as_org", ecs: []string{"destination.as.organization.name"}, ocsf: []string{"dst_endpoint.autonomous_system.name", "evidences[].dst_endpoint.autonomous_system.name"}, sameECS: true, sameOCSF: true},
	{native: "src_labels", ecs: []string{"alertgw.source.networks"}, ocsf: []string{"unmapped.src_networks"}, sameECS: true, sameOCSF: true, note: "OCSF also src_endpoint.zone (the most specific)"},
	{native: "dest_labels", ecs: []string{"alertgw.destination.networks"}, ocsf: []string{"unmapped.dst_networks"}, sameECS: true, sameOCSF: true, note: "OCSF also dst_endpoint.zone (the most specific)"},
	{native: "network_direction", ecs: []string{"network.direction"}, ocsf: []string{"connection_info.direction_id", "evidences[].connection_info.direction_id"}, sameECS: true, note: "OCSF: inbound 1, outbound 2, internal 3 Lateral, external 99 Other"},
	{native: "observer.site", ecs: []string{"labels.site"}, ocsf: []string{"metadata.labels"}, sameECS: true, note: `OCSF: "site:…"`},
	{native: "observer.environment", ecs: []string{"labels.environment"}, ocsf: []string{"metadata.labels"}, sameECS: true, note: `OCSF: "environment:…"`},
	{native: "observer.cluster", ecs: []string{"orchestrator.cluster.name"}, ocsf: []string{"metadata.labels"}, sameECS: true, note: `OCSF: "cluster:…"`},
	{native: "observer.namespace", ecs: []string{"orchestrator.namespace"}, ocsf: []string{"metadata.labels"}, sameECS: true, note: `OCSF: "namespace:…"`},
	{native: "observer.pod", ecs: []string{"orchestrator.resource.name"}, ocsf: []string{"metadata.labels"}, sameECS: true, note: `ECS orchestrator.resource.type "pod"; OCSF: "pod:…"`},
	{native: "observer.node", ecs: []string{"observer.hostname"}, ocsf: []string{"device.hostname"}, sameECS: true, sameOCSF: true, note: `OCSF also "node:…" in metadata.labels`},
	{native: "aggregate.count", ecs: []string{"alertgw.aggregate.count"}, ocsf: []string{"count"}, sameECS: true, sameOCSF: true, note: "OCSF also unmapped.aggregate.count"},
	{native: "aggregate.*", ecs: []string{"alertgw.aggregate.*"}, ocsf: []string{"unmapped.aggregate.*"}, note: "first_seen, last_seen, key, closed_by, first_sent, verbatim"},
	{native: "transaction.*", ecs: []string{"alertgw.transaction.*"}, ocsf: []string{"unmapped.transaction.*"}, note: "complete, closed_by, events, omitted, sources, alerts[], records[], verbatim"},
	{native: "details.*", ecs: []string{ns + ".*"}, ocsf: []string{"unmapped.*"}, note: "verbatim; EVE's alert and flow objects merge with the groups alertgw writes under those keys"},

	// Written by the formats without a native field of their own.
	{ecs: []string{"ecs.version"}, note: "constant " + ECSVersion},
	{ecs: []string{"event.category", "event.type", "event.dataset"}, note: "from kind and action (class table); dataset is ‹source›.‹kind›"},
	{ecs: []string{"event.action"}, note: "action when allowed or blocked"},
	{ecs: []string{"event.duration"}, note: "flow.end − flow.start in ns"},
	{ecs: []string{"source.address", "destination.address"}, note: "= source.ip, destination.ip"},
	{ecs: []string{"network.type"}, note: "ipv4 / ipv6"},
	{ecs: []string{"network.bytes", "network.packets"}, note: "sums of both directions"},
	{ecs: []string{"network.inner.vlan.id", "observer.ingress.vlan.id"}, note: "from vlan"},
	{ecs: []string{"observer.type", "observer.vendor", "observer.product"}, note: "from source.type: ids (Suricata/OISF, Snort/Cisco, unified2), firewall (netfilter NFLOG/Linux)"},
	{ecs: []string{"orchestrator.type", "orchestrator.resource.type"}, note: "kubernetes, pod"},
	{ecs: []string{ns + ".alert.signature_id", ns + ".alert.priority", ns + ".alert.severity", ns + ".alert.rev"}, note: "signature, as Filebeat keeps them (severity for Suricata, priority for the others)"},
	{ocsf: []string{"class_uid", "class_name", "category_uid", "category_name", "activity_id", "activity_name", "type_uid", "type_name"}, note: "from kind and action (class table); type_uid = class_uid × 100 + activity_id"},
	{ocsf: []string{"severity", "severity_id"}, note: "alerts: from priority; other events: 1 Informational"},
	{ocsf: []string{"action", "disposition", "disposition_id"}, note: "Security Control profile, from action"},
	{ocsf: []string{"is_alert"}, note: "true on Detection Findings"},
	{ocsf: []string{"message", "finding_info.analytic.name"}, note: "= signature.name"},
	{ocsf: []string{"finding_info.uid"}, note: "= id"},
	{ocsf: []string{"finding_info.types", "finding_info.analytic.type_id", "finding_info.analytic.type"}, note: "[signature.category]; analytic type 1 Rule"},
	{ocsf: []string{"metadata.version", "metadata.profiles", "metadata.log_provider"}, note: OCSFVersion + `; ["security_control","host"]; "alertgw"`},
	{ocsf: []string{"metadata.product.vendor_name"}, note: "from source.type"},
	{ocsf: []string{"device.type_id", "device.type"}, note: "from source.type: 13 IDS, 9 Firewall, 0 Unknown"},
	{ocsf: []string{"connection_info.protocol_ver_id", "evidences[].connection_info.protocol_ver_id"}, note: "4 / 6"},
	{ocsf: []string{"connection_info.direction", "evidences[].connection_info.direction"}, note: "name of direction_id"},
	{ocsf: []string{"src_endpoint.zone", "dst_endpoint.zone", "evidences[].src_endpoint.zone", "evidences[].dst_endpoint.zone"}, note: "first (most specific) network label"},
	{ocsf: []string{"traffic.bytes", "traffic.packets"}, note: "sums of both directions"},
	{ocsf: []string{"duration"}, note: "flow.end − flow.start in ms"},
	{ocsf: []string{"unmapped.packet_header.tcp_flags"}, note: "the flag letters"},
	{ocsf: []string{"unmapped.alert.signature_id", "unmapped.alert.priority", "unmapped.alert.severity", "unmapped.alert.rev"}, note: "signature, as in ECS"},
	{ecs: []string{ns + ".prefix"}, ocsf: []string{"unmapped.prefix"}, note: "firewall.prefix, always"},
}

// leaves flattens a JSON document into path → value (scalars and arrays of
// scalars); arrays of objects add "[]" to the path and merge their items.
func leaves(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	var walk func(string, any)
	walk = func(p string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, sub := range x {
				walk(joinDot(p, k), sub)
			}
		case []any:
			if len(x) > 0 {
				if _, ok := x[0].(map[string]any); ok {
					for _, sub := range x {
						walk(p+"[]", sub)
					}
					return
				}
			}
			out[p] = v
		default:
			out[p] = v
		}
	}
	walk("", root)
	return out
}

func nsOf(e referenceEvent) string {
	return strings.Join(sensorOf(e.ev).namespace, ".")
}

// matches reports whether pattern (with ‹ns› replaced) names path.
func matches(pattern, path, namespace string) bool {
	pattern = strings.ReplaceAll(pattern, ns, namespace)
	if prefix, ok := strings.CutSuffix(pattern, ".*"); ok {
		return strings.HasPrefix(path, prefix+".")
	}
	return pattern == path
}

func present(l map[string]any, pattern, namespace string) (any, bool) {
	for p, v := range l {
		if matches(pattern, p, namespace) {
			return v, true
		}
	}
	return nil, false
}

func scalar(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

type encoded struct{ native, ecs, ocsf map[string]any }

func encodeAll(t *testing.T, e *normalize.Event) encoded {
	return encoded{
		native: leaves(t, Native{}.AppendEvent(nil, e)),
		ecs:    leaves(t, ECS{}.AppendEvent(nil, e)),
		ocsf:   leaves(t, OCSF{}.AppendEvent(nil, e)),
	}
}

// mappingProblems checks one event against the table: every native field
// it has must appear where the table says (holding the same value where
// the row says so), and every field any format writes must be in the
// table. used marks the rows the event exercised.
func mappingProblems(name, namespace string, enc encoded, used []bool) []string {
	var probs []string
	for ri, row := range fieldRows {
		if row.native == "" {
			continue
		}
		v, ok := present(enc.native, row.native, "")
		if !ok {
			continue
		}
		if used != nil {
			used[ri] = true
		}
		check := func(format string, out map[string]any, alts []string, same bool) {
			if len(alts) == 0 {
				return
			}
			for _, a := range alts {
				if got, ok := present(out, a, namespace); ok {
					if same && !strings.HasSuffix(row.native, ".*") && scalar(got) != scalar(v) {
						probs = append(probs, fmt.Sprintf("%s: %s %s = %s, native %s = %s", name, format, a, scalar(got), row.native, scalar(v)))
					}
					return
				}
			}
			probs = append(probs, fmt.Sprintf("%s: native %s is set but %s has none of %v", name, row.native, format, alts))
		}
		check("ecs", enc.ecs, row.ecs, row.sameECS)
		check("ocsf", enc.ocsf, row.ocsf, row.sameOCSF)
	}
	for format, out := range map[string]map[string]any{"native": enc.native, "ecs": enc.ecs, "ocsf": enc.ocsf} {
		for path := range out {
			if !documented(format, path, namespace) {
				probs = append(probs, fmt.Sprintf("%s: %s field %s is not in the mapping table", name, format, path))
			}
		}
	}
	slices.Sort(probs)
	return probs
}

func TestFieldMapping(t *testing.T) {
	refs := referenceEvents()
	enc := make([]encoded, len(refs))
	used := make([]bool, len(fieldRows))
	for i, r := range refs {
		enc[i] = encodeAll(t, r.ev)
		for _, p := range mappingProblems(r.name, nsOf(r), enc[i], used) {
			t.Error(p)
		}
	}
	for ri, row := range fieldRows {
		if row.native != "" && !used[ri] {
			t.Errorf("row %s: no reference event has this native field (add one, or drop the row)", row.native)
		}
	}
	writeOrCheckDoc(t, refs, enc)
}

func documented(format, path, namespace string) bool {
	for _, row := range fieldRows {
		var pats []string
		switch format {
		case "native":
			pats = []string{row.native}
		case "ecs":
			pats = row.ecs
		case "ocsf":
			pats = row.ocsf
		}
		for _, p := range pats {
			if p != "" && matches(p, path, namespace) {
				return true
			}
		}
	}
	return false
}

const docPath = "../../docs/formats.md"

// writeOrCheckDoc renders the two generated tables and compares them with
// docs/formats.md (or rewrites them there with -update).
func writeOrCheckDoc(t *testing.T, refs []referenceEvent, enc []encoded) {
	var fields strings.Builder
	fields.WriteString("| native | set for | ECS | OCSF | notes |\n|---|---|---|---|---|\n")
	cell := func(alts []string) string {
		if len(alts) == 0 {
			return "—"
		}
		return "`" + strings.Join(alts, "` / `") + "`"
	}
	for _, row := range fieldRows {
		native, setFor := "—", ""
		if row.native != "" {
			native = "`" + row.native + "`"
			var names []string
			for i := range refs {
				if _, ok := present(enc[i].native, row.native, ""); ok {
					names = append(names, refs[i].name)
				}
			}
			setFor = strings.Join(names, ", ")
			if len(names) == len(refs) {
				setFor = "all"
			}
		}
		fmt.Fprintf(&fields, "| %s | %s | %s | %s | %s |\n", native, setFor, cell(row.ecs), cell(row.ocsf), row.note)
	}
	var classes strings.Builder
	classes.WriteString("| reference event | kind, action | ECS event.kind / category / type | OCSF class / activity (type_uid) | OCSF action / disposition |\n|---|---|---|---|---|\n")
	for i, r := range refs {
		e, o := enc[i].ecs, enc[i].ocsf
		fmt.Fprintf(&classes, "| %s | %s, %s | %s / %s / %s | %s %s / %s %s (%s) | %s / %s |\n", r.name, r.ev.Kind, r.ev.Action,
			scalar(e["event.kind"]), scalar(e["event.category"]), scalar(e["event.type"]),
			scalar(o["class_uid"]), scalar(o["class_name"]), scalar(o["activity_id"]), scalar(o["activity_name"]), scalar(o["type_uid"]),
			scalar(o["action"]), scalar(o["disposition"]))
	}
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	want := replaceBetween(t, doc, "fields", fields.String())
	want = replaceBetween(t, want, "classes", classes.String())
	if *update {
		if err := os.WriteFile(docPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(doc, want) {
		t.Errorf("%s is out of date with the mapping table and encoders: run go test ./outputs/format -run TestFieldMapping -update", filepath.Clean(docPath))
	}
}

func replaceBetween(t *testing.T, doc []byte, name, body string) []byte {
	begin, end := []byte("<!-- generated:"+name+" -->\n"), []byte("<!-- /generated:"+name+" -->")
	i, j := bytes.Index(doc, begin), bytes.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("docs/formats.md lacks the %s markers", name)
	}
	return slices.Concat(doc[:i+len(begin)], []byte(body), doc[j:])
}
