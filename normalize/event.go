// Package normalize defines alertgw's one event schema (schema v1) and the
// pure mappers that turn each sensor's records into it. Nothing in this
// package or its sub-packages does I/O: inputs read bytes, mappers here turn
// them into Events, outputs encode and deliver them.
package normalize

import (
	"net/netip"
	"time"
)

// SchemaVersion is written as "schema" in every native event.
const SchemaVersion = 1

// Kind says what an event describes.
type Kind string

// Kinds of event.
const (
	KindAlert   Kind = "alert"   // an IDS signature hit
	KindFlow    Kind = "flow"    // a flow or netflow record
	KindPacket  Kind = "packet"  // a firewall packet log (NFLOG)
	KindAnomaly Kind = "anomaly" // a decoder, stream or app-layer anomaly
	KindEvent   Kind = "event"   // any other sensor record, kept whole under Details
	KindAudit   Kind = "audit"   // a host audit event (auditd)
	KindStats   Kind = "stats"   // the gateway's own counters
	// KindTransaction is every record of one flow joined into one event by
	// the pipeline's transactions stage (pipeline/transaction).
	KindTransaction Kind = "transaction"
)

// Action is what happened to the traffic, as far as the source says.
// Each source documents how it decides; it is never guessed.
type Action string

// Actions: what became of the traffic an event is about.
const (
	ActionAllowed Action = "allowed"
	ActionBlocked Action = "blocked"
	ActionUnknown Action = "unknown"
)

// Event is one normalized record. Mappers fill it; after the pipeline hands
// it to the outputs it is read-only and may be shared by several outputs.
//
// Zero values mean "absent" and are left out of the native encoding, except
// where a Has* flag says otherwise (port 0 and protocol 0 are legal values).
type Event struct {
	// ID is unique per event and stable across redeliveries of the same
	// event (the delivery layer persists it), so consumers can deduplicate.
	ID        string
	Timestamp time.Time // the source's clock, UTC
	Received  time.Time // the gateway's clock, UTC
	Kind      Kind
	Action    Action
	Source    Source

	SrcIP, DestIP     netip.Addr
	SrcPort, DestPort uint16
	HasPorts          bool // the protocol has ports and they were present
	Proto             uint8
	HasProto          bool
	ProtoName         string // lower-case IANA keyword, or the source's spelling when unknown
	ICMPType          uint8
	ICMPCode          uint8
	HasICMP           bool
	SrcMAC, DestMAC   string
	CommunityID       string
	FlowID            uint64 // EVE flow_id exceeds 2^53: never pass it through float64
	InIface           string
	VLAN              []uint16
	AppProto          string
	Direction         string // "to_server" / "to_client" where the sensor says

	Signature *Signature
	Flow      *Flow
	Packet    *Packet
	Firewall  *Firewall

	// Enrichment, filled by the optional enrich stage after normalization
	// (package enrich); all zero when it is not configured. The pointers and
	// slices are shared, read-only values (the enricher hands the same cached
	// *Geo or label list to many events): never modify them through an event.
	SrcGeo, DestGeo       *Geo      // GeoIP/ASN of public addresses
	SrcLabels, DestLabels []string  // names of the configured networks the address is in (home_net, dmz …)
	NetDirection          string    // inbound|outbound|internal|external, from the network labels
	Observer              *Observer // where the gateway runs: site, environment, Kubernetes pod/node

	// Set by the pipeline's reduction stages, never by a source.
	Aggregate   *Aggregate   // this event is a summary standing for Aggregate.Count events (pipeline/aggregate)
	Transaction *Transaction // kind transaction: the records joined (pipeline/transaction)

	// Details keeps, in source order, everything the source said that has
	// no common field above, so nothing is thrown away.
	Details Details
}

// Source names where an event came from.
type Source struct {
	Type   string // sensor family: suricata, snort, barnyard2, unified2, nflog, auditd
	Input  string // the configured input's name
	Sensor string // the gateway's sensor name (config "sensor", default hostname)
}

// Signature identifies the rule that fired.
type Signature struct {
	GID      uint32
	ID       uint32
	Rev      uint32
	Name     string
	Category string
	Priority uint32 // 1 is highest; 0 means unknown
}

// Flow carries flow counters (EVE flow/netflow, alert flow summaries).
type Flow struct {
	PktsToServer  uint64
	PktsToClient  uint64
	BytesToServer uint64
	BytesToClient uint64
	Start         time.Time
	End           time.Time
	Age           int64 // seconds
	State         string
	Reason        string
	Alerted       *bool
}

// Packet carries header fields of the packet that caused the event.
type Packet struct {
	Len       uint32 // IP datagram length (or captured frame length where that is all there is)
	TTL       uint8  // TTL or hop limit
	HasTTL    bool
	TOS       uint8
	IPID      uint32
	TCPFlags  string // e.g. "S", "SA", "FPA": one letter per flag, in FSRPAUEC order
	TCPWindow uint32
	TCPSeq    uint32
	TCPAck    uint32
}

// Firewall carries what a packet-logging firewall (NFLOG) said.
type Firewall struct {
	Group    uint16
	Prefix   string
	Mark     uint32
	InIface  string
	OutIface string
	UID      *uint32
	GID      *uint32
}

// Geo is what a GeoIP/ASN database says of one address. Zero fields are absent.
type Geo struct {
	CountryISO  string // ISO 3166-1 alpha-2
	CountryName string // English name
	CityName    string
	Lat, Lon    float64
	HasLocation bool // Lat/Lon are set (0,0 is a real place)
	ASN         uint32
	ASOrg       string
}

// Observer is static metadata about the sensor and the gateway's place in the
// deployment, from configuration and (in Kubernetes) the pod's environment.
type Observer struct {
	Site        string
	Environment string
	Cluster     string
	Namespace   string // Kubernetes namespace of the gateway's pod
	Pod         string // Kubernetes pod name
	Node        string // Kubernetes node (the host the sensor runs on)
}

// Aggregate says what an aggregation summary stands for: Count events with
// the same values of the Key fields within one window. The summary carries
// the first event's fields.
type Aggregate struct {
	Count     uint64    // events of the window, the first included
	FirstSeen time.Time // earliest and latest source timestamp among them
	LastSeen  time.Time
	Key       []string // names of the fields the events share (a shared, read-only list)
	ClosedBy  string   // window, max_count, max_groups, max_bytes or flush
	FirstSent bool     // the first event was also sent on its own (emit: first_and_summary)
}

// Transaction is what a transactions stage joined for one flow: the alerts,
// the application-layer and other records, and (on the event itself) the
// flow record's counters. It is complete when the flow record closed it;
// a timeout, a cap or a flush closes it partial.
type Transaction struct {
	Complete bool
	ClosedBy string   // flow, idle, max_age, max_open, max_bytes or flush
	Events   uint64   // records joined, including any left out past max_records
	Omitted  uint64   // records counted but not kept (past max_records)
	Sources  []string // source types, in order of first appearance
	Alerts   []TxAlert
	Records  []TxRecord // every other record but the flow record, in arrival order
}

// TxAlert is one alert of a transaction.
type TxAlert struct {
	ID        string
	Timestamp time.Time
	Action    Action
	Signature Signature
}

// TxRecord is one non-alert record of a transaction: an application-layer
// record (type http, dns, tls, fileinfo …), a netflow record, a firewall
// packet or an audit event.
type TxRecord struct {
	ID         string
	Timestamp  time.Time
	Kind       Kind
	Type       string // EVE event_type where there is one, otherwise the kind
	SourceType string
	Action     Action
	Firewall   *Firewall // packets: the firewall's verdict and rule
	Details    Details
}

// Network directions, as the enrich stage derives them from the configured
// internal networks. The words are ECS's network.direction values.
const (
	DirectionInbound  = "inbound"  // external source → internal destination
	DirectionOutbound = "outbound" // internal source → external destination
	DirectionInternal = "internal" // both internal
	DirectionExternal = "external" // both external
)

// SetAddrs fills the 5-tuple's addresses and, when hasPorts, the ports.
func (e *Event) SetAddrs(src, dst netip.Addr, sport, dport uint16, hasPorts bool) {
	e.SrcIP, e.DestIP = src, dst
	if hasPorts {
		e.SrcPort, e.DestPort, e.HasPorts = sport, dport, true
	}
}

// SetProto sets the IANA protocol number and its canonical name.
func (e *Event) SetProto(p uint8) {
	e.Proto, e.HasProto = p, true
	e.ProtoName = ProtoName(p)
}
