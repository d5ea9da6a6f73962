package query

import (
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/alertgw/alertgw/normalize"
)

// Type is what kind of values a field holds; it decides which operators a
// term on the field may use and how values are compared.
type Type int

// Field types.
const (
	String  Type = iota // exact or wildcard match
	Enum                // String with a closed set of values (kind, action …)
	Uint                // integer ≥ 0: equality, comparisons, ranges
	Int                 // signed integer (flow.age)
	Float               // floating point (geo lat/lon)
	IP                  // address: equality, CIDR, ranges
	Time                // instant: equality, comparisons, ranges (RFC 3339 or a date)
	Bool                // true | false
	ID                  // an exact 64-bit identifier (flow_id): equality only
	Strings             // array of strings: a term matches when any element does
	Uints               // array of integers (vlan)
	JSON                // a value under details, of whatever JSON type the source sent
)

var typeNames = [...]string{String: "string", Enum: "string", Uint: "number", Int: "number", Float: "number",
	IP: "ip", Time: "time", Bool: "boolean", ID: "id", Strings: "string list", Uints: "number list", JSON: "any"}

func (t Type) String() string { return typeNames[t] }

// Field is one searchable field of the native schema.
type Field struct {
	Name   string   // dotted path as in the native JSON: "signature.id"
	Type   Type     //
	Values []string // Enum: the allowed values
	Doc    string   // one line for docs and the console

	// Accessors for the in-memory matcher, one per Type family. Each
	// reports absence exactly as the native encoder leaves a field out.
	str   func(*normalize.Event) string // String, Enum: "" is absent
	uint  func(*normalize.Event) (uint64, bool)
	int   func(*normalize.Event) (int64, bool)
	float func(*normalize.Event) (float64, bool)
	ip    func(*normalize.Event) netip.Addr
	time  func(*normalize.Event) time.Time
	bool  func(*normalize.Event) (bool, bool)
	strs  func(*normalize.Event) []string
	uints func(*normalize.Event) []uint16
}

// Path returns the field's JSON path: "signature.id" → ["signature","id"].
func (f *Field) Path() []string { return strings.Split(f.Name, ".") }

// DetailsPrefix starts every field under details: any path below it is
// accepted, and its values are typed by what the source sent.
const DetailsPrefix = "details."

func sig(e *normalize.Event) *normalize.Signature { return e.Signature }

var fields = []*Field{
	{Name: "id", Type: String, Doc: "the event id (32 hex digits)", str: func(e *normalize.Event) string { return e.ID }},
	{Name: "timestamp", Type: Time, Doc: "when it happened (sensor clock)", time: func(e *normalize.Event) time.Time { return e.Timestamp }},
	{Name: "received", Type: Time, Doc: "when the gateway received it", time: func(e *normalize.Event) time.Time { return e.Received }},
	{Name: "kind", Type: Enum, Values: []string{"alert", "flow", "packet", "anomaly", "event", "audit", "stats", "transaction"},
		Doc: "what the event describes", str: func(e *normalize.Event) string { return string(e.Kind) }},
	{Name: "action", Type: Enum, Values: []string{"allowed", "blocked", "unknown"},
		Doc: "what happened to the traffic", str: func(e *normalize.Event) string { return string(e.Action) }},
	{Name: "source.type", Type: String, Doc: "sensor family", str: func(e *normalize.Event) string { return e.Source.Type }},
	{Name: "source.input", Type: String, Doc: "configured input name", str: func(e *normalize.Event) string { return e.Source.Input }},
	{Name: "source.sensor", Type: String, Doc: "gateway sensor name", str: func(e *normalize.Event) string { return e.Source.Sensor }},
	{Name: "src_ip", Type: IP, Doc: "source address; takes CIDR", ip: func(e *normalize.Event) netip.Addr { return e.SrcIP }},
	{Name: "src_port", Type: Uint, Doc: "source port", uint: func(e *normalize.Event) (uint64, bool) { return uint64(e.SrcPort), e.HasPorts }},
	{Name: "dest_ip", Type: IP, Doc: "destination address; takes CIDR", ip: func(e *normalize.Event) netip.Addr { return e.DestIP }},
	{Name: "dest_port", Type: Uint, Doc: "destination port", uint: func(e *normalize.Event) (uint64, bool) { return uint64(e.DestPort), e.HasPorts }},
	{Name: "proto", Type: Uint, Doc: "IANA protocol number", uint: func(e *normalize.Event) (uint64, bool) { return uint64(e.Proto), e.HasProto }},
	{Name: "proto_name", Type: String, Doc: "protocol keyword (tcp, udp …)", str: func(e *normalize.Event) string { return e.ProtoName }},
	{Name: "icmp_type", Type: Uint, Doc: "ICMP type", uint: func(e *normalize.Event) (uint64, bool) { return uint64(e.ICMPType), e.HasICMP }},
	{Name: "icmp_code", Type: Uint, Doc: "ICMP code", uint: func(e *normalize.Event) (uint64, bool) { return uint64(e.ICMPCode), e.HasICMP }},
	{Name: "src_mac", Type: String, Doc: "source MAC", str: func(e *normalize.Event) string { return e.SrcMAC }},
	{Name: "dest_mac", Type: String, Doc: "destination MAC", str: func(e *normalize.Event) string { return e.DestMAC }},
	{Name: "community_id", Type: String, Doc: "Community ID of the 5-tuple", str: func(e *normalize.Event) string { return e.CommunityID }},
	{Name: "flow_id", Type: ID, Doc: "the sensor's flow id (exact)", uint: func(e *normalize.Event) (uint64, bool) { return e.FlowID, e.FlowID != 0 }},
	{Name: "in_iface", Type: String, Doc: "capture interface", str: func(e *normalize.Event) string { return e.InIface }},
	{Name: "vlan", Type: Uints, Doc: "VLAN ids (any)", uints: func(e *normalize.Event) []uint16 { return e.VLAN }},
	{Name: "app_proto", Type: String, Doc: "application protocol", str: func(e *normalize.Event) string { return e.AppProto }},
	{Name: "direction", Type: String, Doc: "to_server / to_client", str: func(e *normalize.Event) string { return e.Direction }},

	{Name: "signature.gid", Type: Uint, Doc: "generator id", uint: func(e *normalize.Event) (uint64, bool) {
		if s := sig(e); s != nil {
			return uint64(s.GID), true
		}
		return 0, false
	}},
	{Name: "signature.id", Type: Uint, Doc: "signature id (sid)", uint: func(e *normalize.Event) (uint64, bool) {
		if s := sig(e); s != nil {
			return uint64(s.ID), true
		}
		return 0, false
	}},
	{Name: "signature.rev", Type: Uint, Doc: "signature revision", uint: func(e *normalize.Event) (uint64, bool) {
		if s := sig(e); s != nil {
			return uint64(s.Rev), true
		}
		return 0, false
	}},
	{Name: "signature.name", Type: String, Doc: "the rule's message", str: func(e *normalize.Event) string {
		if s := sig(e); s != nil {
			return s.Name
		}
		return ""
	}},
	{Name: "signature.category", Type: String, Doc: "classification", str: func(e *normalize.Event) string {
		if s := sig(e); s != nil {
			return s.Category
		}
		return ""
	}},
	{Name: "signature.priority", Type: Uint, Doc: "1 is highest", uint: func(e *normalize.Event) (uint64, bool) {
		if s := sig(e); s != nil && s.Priority != 0 {
			return uint64(s.Priority), true
		}
		return 0, false
	}},

	flowUint("flow.pkts_toserver", "packets src → dest", func(f *normalize.Flow) uint64 { return f.PktsToServer }),
	flowUint("flow.pkts_toclient", "packets dest → src", func(f *normalize.Flow) uint64 { return f.PktsToClient }),
	flowUint("flow.bytes_toserver", "bytes src → dest", func(f *normalize.Flow) uint64 { return f.BytesToServer }),
	flowUint("flow.bytes_toclient", "bytes dest → src", func(f *normalize.Flow) uint64 { return f.BytesToClient }),
	{Name: "flow.start", Type: Time, Doc: "first packet", time: func(e *normalize.Event) time.Time {
		if e.Flow != nil {
			return e.Flow.Start
		}
		return time.Time{}
	}},
	{Name: "flow.end", Type: Time, Doc: "last packet", time: func(e *normalize.Event) time.Time {
		if e.Flow != nil {
			return e.Flow.End
		}
		return time.Time{}
	}},
	{Name: "flow.age", Type: Int, Doc: "seconds from start to end", int: func(e *normalize.Event) (int64, bool) {
		if f := e.Flow; f != nil && (f.Age != 0 || !f.End.IsZero()) {
			return f.Age, true
		}
		return 0, false
	}},
	flowString("flow.state", "new, established, closed …", func(f *normalize.Flow) string { return f.State }),
	flowString("flow.reason", "timeout, forced, shutdown", func(f *normalize.Flow) string { return f.Reason }),
	{Name: "flow.alerted", Type: Bool, Doc: "the flow raised an alert", bool: func(e *normalize.Event) (bool, bool) {
		if f := e.Flow; f != nil && f.Alerted != nil {
			return *f.Alerted, true
		}
		return false, false
	}},

	packetUint("packet.len", "IP datagram length", func(p *normalize.Packet) (uint64, bool) { return uint64(p.Len), true }),
	packetUint("packet.ttl", "TTL / hop limit", func(p *normalize.Packet) (uint64, bool) { return uint64(p.TTL), p.HasTTL }),
	packetUint("packet.tos", "TOS / traffic class", func(p *normalize.Packet) (uint64, bool) { return uint64(p.TOS), p.TOS != 0 }),
	packetUint("packet.ip_id", "IPv4 identification", func(p *normalize.Packet) (uint64, bool) { return uint64(p.IPID), p.IPID != 0 }),
	{Name: "packet.tcp_flags", Type: String, Doc: "TCP flags set, e.g. SA", str: func(e *normalize.Event) string {
		if e.Packet != nil {
			return e.Packet.TCPFlags
		}
		return ""
	}},
	packetUint("packet.tcp_window", "TCP window", func(p *normalize.Packet) (uint64, bool) { return uint64(p.TCPWindow), p.TCPWindow != 0 }),
	packetUint("packet.tcp_seq", "TCP sequence number", func(p *normalize.Packet) (uint64, bool) { return uint64(p.TCPSeq), p.TCPSeq != 0 }),
	packetUint("packet.tcp_ack", "TCP acknowledgement", func(p *normalize.Packet) (uint64, bool) { return uint64(p.TCPAck), p.TCPAck != 0 }),

	firewallUint("firewall.group", "NFLOG group", func(f *normalize.Firewall) (uint64, bool) { return uint64(f.Group), true }),
	firewallString("firewall.prefix", "log rule prefix", func(f *normalize.Firewall) string { return f.Prefix }),
	firewallUint("firewall.mark", "packet mark", func(f *normalize.Firewall) (uint64, bool) { return uint64(f.Mark), f.Mark != 0 }),
	firewallString("firewall.in_iface", "input interface", func(f *normalize.Firewall) string { return f.InIface }),
	firewallString("firewall.out_iface", "output interface", func(f *normalize.Firewall) string { return f.OutIface }),
	firewallUint("firewall.uid", "socket owner uid", func(f *normalize.Firewall) (uint64, bool) {
		if f.UID != nil {
			return uint64(*f.UID), true
		}
		return 0, false
	}),
	firewallUint("firewall.gid", "socket owner gid", func(f *normalize.Firewall) (uint64, bool) {
		if f.GID != nil {
			return uint64(*f.GID), true
		}
		return 0, false
	}),

	{Name: "src_labels", Type: Strings, Doc: "configured networks of src_ip", strs: func(e *normalize.Event) []string { return e.SrcLabels }},
	{Name: "dest_labels", Type: Strings, Doc: "configured networks of dest_ip", strs: func(e *normalize.Event) []string { return e.DestLabels }},
	{Name: "network_direction", Type: Enum, Values: []string{"inbound", "outbound", "internal", "external"},
		Doc: "from the configured networks", str: func(e *normalize.Event) string { return e.NetDirection }},

	observer("site", func(o *normalize.Observer) string { return o.Site }),
	observer("environment", func(o *normalize.Observer) string { return o.Environment }),
	observer("cluster", func(o *normalize.Observer) string { return o.Cluster }),
	observer("namespace", func(o *normalize.Observer) string { return o.Namespace }),
	observer("pod", func(o *normalize.Observer) string { return o.Pod }),
	observer("node", func(o *normalize.Observer) string { return o.Node }),
}

func init() {
	for _, side := range []string{"src_geo", "dest_geo"} {
		geo := func(e *normalize.Event) *normalize.Geo { return e.SrcGeo }
		if side == "dest_geo" {
			geo = func(e *normalize.Event) *normalize.Geo { return e.DestGeo }
		}
		geoStr := func(name, doc string, get func(*normalize.Geo) string) *Field {
			return &Field{Name: side + "." + name, Type: String, Doc: doc, str: func(e *normalize.Event) string {
				if g := geo(e); g != nil {
					return get(g)
				}
				return ""
			}}
		}
		geoFloat := func(name, doc string, get func(*normalize.Geo) float64) *Field {
			return &Field{Name: side + "." + name, Type: Float, Doc: doc, float: func(e *normalize.Event) (float64, bool) {
				if g := geo(e); g != nil && g.HasLocation {
					return get(g), true
				}
				return 0, false
			}}
		}
		fields = append(fields,
			geoStr("country_iso", "ISO 3166-1 alpha-2", func(g *normalize.Geo) string { return g.CountryISO }),
			geoStr("country_name", "country", func(g *normalize.Geo) string { return g.CountryName }),
			geoStr("city_name", "city", func(g *normalize.Geo) string { return g.CityName }),
			geoFloat("lat", "latitude", func(g *normalize.Geo) float64 { return g.Lat }),
			geoFloat("lon", "longitude", func(g *normalize.Geo) float64 { return g.Lon }),
			&Field{Name: side + ".asn", Type: Uint, Doc: "autonomous system number", uint: func(e *normalize.Event) (uint64, bool) {
				if g := geo(e); g != nil && g.ASN != 0 {
					return uint64(g.ASN), true
				}
				return 0, false
			}},
			geoStr("as_org", "AS organisation", func(g *normalize.Geo) string { return g.ASOrg }),
		)
	}
	fields = append(fields, reductionFields...)
	for _, f := range fields {
		byName[f.Name] = f
	}
	names := make([]string, 0, len(fields)+1)
	for _, f := range fields {
		names = append(names, f.Name)
	}
	names = append(names, DetailsPrefix+"*")
	sort.Strings(names)
	knownList = strings.Join(names, ", ")
}

var (
	byName    = map[string]*Field{}
	knownList string
)

// Fields returns every searchable field in schema order; any path under
// "details." is searchable too (see Lookup).
func Fields() []*Field { return fields }

// Lookup returns the named field. A path under "details." yields a JSON
// field made for it (Type JSON); anything else unknown yields nil.
func Lookup(name string) *Field {
	if f := byName[name]; f != nil {
		return f
	}
	if rest, ok := strings.CutPrefix(name, DetailsPrefix); ok && rest != "" && validPath(rest) {
		return &Field{Name: name, Type: JSON}
	}
	return nil
}

// validPath refuses empty segments ("details.a..b", "details.a.").
func validPath(p string) bool {
	for _, s := range strings.Split(p, ".") {
		if s == "" {
			return false
		}
	}
	return true
}

func flowUint(name, doc string, get func(*normalize.Flow) uint64) *Field {
	return &Field{Name: name, Type: Uint, Doc: doc, uint: func(e *normalize.Event) (uint64, bool) {
		if e.Flow != nil {
			return get(e.Flow), true
		}
		return 0, false
	}}
}

func flowString(name, doc string, get func(*normalize.Flow) string) *Field {
	return &Field{Name: name, Type: String, Doc: doc, str: func(e *normalize.Event) string {
		if e.Flow != nil {
			return get(e.Flow)
		}
		return ""
	}}
}

func packetUint(name, doc string, get func(*normalize.Packet) (uint64, bool)) *Field {
	return &Field{Name: name, Type: Uint, Doc: doc, uint: func(e *normalize.Event) (uint64, bool) {
		if e.Packet != nil {
			return get(e.Packet)
		}
		return 0, false
	}}
}

func firewallUint(name, doc string, get func(*normalize.Firewall) (uint64, bool)) *Field {
	return &Field{Name: name, Type: Uint, Doc: doc, uint: func(e *normalize.Event) (uint64, bool) {
		if e.Firewall != nil {
			return get(e.Firewall)
		}
		return 0, false
	}}
}

func firewallString(name, doc string, get func(*normalize.Firewall) string) *Field {
	return &Field{Name: name, Type: String, Doc: doc, str: func(e *normalize.Event) string {
		if e.Firewall != nil {
			return get(e.Firewall)
		}
		return ""
	}}
}

func observer(name string, get func(*normalize.Observer) string) *Field {
	return &Field{Name: "observer." + name, Type: String, Doc: "observer " + name, str: func(e *normalize.Event) string {
		if e.Observer != nil {
			return get(e.Observer)
		}
		return ""
	}}
}

// Value returns the field's value in e, nil when absent: string (String,
// Enum, and IP in its canonical text form), uint64 (Uint, ID), int64
// (Int), float64, bool, time.Time, []string (Strings), []uint16 (Uints),
// or the raw JSON bytes ([]byte, shared with e) of a details value. It
// serves grouping and deduplication keys; terms use the matcher.
func (f *Field) Value(e *normalize.Event) any {
	switch f.Type {
	case String, Enum:
		if s := f.str(e); s != "" {
			return s
		}
	case Uint, ID:
		if u, ok := f.uint(e); ok {
			return u
		}
	case Int:
		if i, ok := f.int(e); ok {
			return i
		}
	case Float:
		if x, ok := f.float(e); ok {
			return x
		}
	case IP:
		if a := f.ip(e); a.IsValid() {
			return a.Unmap().String()
		}
	case Time:
		if t := f.time(e); !t.IsZero() {
			return t
		}
	case Bool:
		if b, ok := f.bool(e); ok {
			return b
		}
	case Strings:
		if l := f.strs(e); len(l) > 0 {
			return l
		}
	case Uints:
		if l := f.uints(e); len(l) > 0 {
			return l
		}
	case JSON:
		if v, ok := lookupPath(e.Details, strings.Split(strings.TrimPrefix(f.Name, DetailsPrefix), ".")); ok {
			return v
		}
	}
	return nil
}
