package format

import (
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/alertgw/alertgw/internal/rawjson"
	"github.com/alertgw/alertgw/normalize"
)

// ECSFilebeat is the "ecs" format with `ecs_compat: filebeat`: Suricata EVE
// events shaped as Filebeat's Suricata module (x-pack/filebeat/module/
// suricata, the eve fileset's ingest pipeline) indexes them, so that Kibana
// dashboards, detection rules and saved searches written for Filebeat find
// their fields: suricata.eve.alert.signature, suricata.eve.alert.category,
// suricata.eve.in_iface, suricata.eve.event_type, the alert's metadata
// flattened into suricata.eve.alert.*, event.dataset suricata.eve,
// event.end and event.duration, message, url.*, http.*, tls.*, dns.*,
// related.*. Events of other sources are written as the plain profile
// writes them. docs/formats.md lists every difference from the plain
// profile and from Filebeat.
//
// Like the other encoders it appends to the caller's buffer: the record's
// objects kept under Details (alert metadata, http, tls, dns, fileinfo)
// are read in place with internal/rawjson and copied or rearranged, never
// decoded into maps: no allocation for the usual record (BenchmarkECSProfiles
// compares it with the plain profile); a URL that is not a plain path, a
// string with escapes or a very long list allocates.
type ECSFilebeat struct{}

// Name implements Encoder.
func (ECSFilebeat) Name() string { return "ecs-filebeat" }

// AppendEvent implements Encoder.
func (ECSFilebeat) AppendEvent(b []byte, e *normalize.Event) []byte {
	if e.Source.Type != "suricata" {
		return ECS{}.AppendEvent(b, e)
	}
	var d fbDoc
	d.read(e)
	return d.append(b)
}

// fbDoc is what one document needs from the event's Details, read before
// writing because a value lands in more than one place (the http hostname
// in destination.domain, url.domain and related.hosts; the status in
// event.outcome and http.response). Strings are views of the Details'
// bytes (see text), valid while the event is.
type fbDoc struct {
	e   *normalize.Event
	typ string // the record's event_type

	// The record's objects, nil when absent or not an object (so dropped).
	alert, http, tls, dns, fileinfo []byte

	alertOwn fbMembers // the alert object's members but metadata
	meta     fbMembers // its metadata's members

	// http
	host, method, userAgent, url      string
	status, length, httpPort          int64
	hasStatus, hasLength, hasHTTPPort bool
	// tls
	sni, version, issuer, subject    string
	notBefore, notAfter, fingerprint string
	ja3s                             string
	hasVersion                       bool

	// dns: the addresses the answers resolve to (dns.resolved_ip, related.ip)
	resolved  [8]string
	nResolved int
	more      []string
}

// fbMember is one member of a Details object: its name (escapes decoded,
// for comparing), its key as written and its value.
type fbMember struct {
	name     string
	key, val []byte
}

// fbMembers holds an object's members, the last of a repeated name
// winning, as decoding the object into a map would: an encoder that moves
// members around must not write a key twice. Rule metadata has a dozen
// keys or two; beyond 32 the rest go to the heap. seen is a one-word
// Bloom filter of the names, so that a new name is rarely compared.
type fbMembers struct {
	fixed [32]fbMember
	n     int
	seen  uint64
	more  []fbMember
}

func nameBit(name string) uint64 {
	if name == "" {
		return 1
	}
	return 1 << ((uint(len(name))*7 + uint(name[0])*3 + uint(name[len(name)-1])) & 63)
}

func (m *fbMembers) at(i int) *fbMember {
	if i < len(m.fixed) {
		return &m.fixed[i]
	}
	return &m.more[i-len(m.fixed)]
}

func (m *fbMembers) add(key, val []byte) {
	name := keyName(key)
	bit := nameBit(name)
	if m.seen&bit != 0 {
		for i := range m.n {
			if x := m.at(i); x.name == name {
				x.key, x.val = key, val
				return
			}
		}
	}
	m.seen |= bit
	if m.n < len(m.fixed) {
		m.fixed[m.n] = fbMember{name, key, val}
	} else {
		m.more = append(m.more, fbMember{name, key, val})
	}
	m.n++
}

func (m *fbMembers) has(name string) bool {
	if m.seen&nameBit(name) == 0 {
		return false
	}
	for i := range m.n {
		if m.at(i).name == name {
			return true
		}
	}
	return false
}

func (d *fbDoc) addResolved(s string) {
	if d.nResolved < len(d.resolved) {
		d.resolved[d.nResolved] = s
	} else {
		d.more = append(d.more, s)
	}
	d.nResolved++
}

func (d *fbDoc) resolvedAt(i int) string {
	if i < len(d.resolved) {
		return d.resolved[i]
	}
	return d.more[i-len(d.resolved)]
}

// view is b as a string, without a copy.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// text returns the content of the JSON string v, or false when v is not a
// string: a view of v's bytes, or a decoded copy when v has escapes.
func text(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	in := v[1 : len(v)-1]
	for _, c := range in {
		if c == '\\' {
			return string(rawjson.Unquote(v, nil)), true
		}
	}
	return view(in), true
}

// keyName is a quoted key's name.
func keyName(key []byte) string {
	s, _ := text(key)
	return s
}

// integer reads the JSON number v as encoding/json's Number.Int64 does
// (0 for a fraction or exponent, the nearest bound when out of range).
func integer(v []byte) (int64, bool) {
	if rawjson.Kind(v) != '0' {
		return 0, false
	}
	n, _ := strconv.ParseInt(view(v), 10, 64)
	return n, true
}

// object returns the Details value under key when it is a JSON object.
func object(e *normalize.Event, key string) []byte {
	if v := e.Details.Get(key); rawjson.Kind(v) == '{' {
		return v
	}
	return nil
}

// fbEventType is the record's event_type.
func fbEventType(e *normalize.Event) string {
	switch e.Kind {
	case normalize.KindAlert:
		return "alert"
	case normalize.KindPacket:
		return "drop"
	case normalize.KindAnomaly:
		return "anomaly"
	case normalize.KindFlow:
		if v := e.Details.Get("event_type"); v != nil && rawjson.Kind(v) != 'n' {
			s, _ := text(v)
			return s
		}
		return "flow"
	}
	s, _ := text(e.Details.Get("event_type"))
	return s
}

func (d *fbDoc) read(e *normalize.Event) {
	d.e, d.typ = e, fbEventType(e)
	d.alert, d.http, d.tls = object(e, "alert"), object(e, "http"), object(e, "tls")
	d.dns, d.fileinfo = object(e, "dns"), object(e, "fileinfo")
	if e.Signature != nil && d.alert != nil {
		var metadata []byte
		for k, v := range rawjson.Members(d.alert).All() {
			if keyName(k) == "metadata" {
				metadata = v
				continue
			}
			d.alertOwn.add(k, v)
		}
		for k, v := range rawjson.Members(metadata).All() {
			d.meta.add(k, v)
		}
	}
	for k, v := range rawjson.Members(d.http).All() {
		switch keyName(k) {
		case "hostname":
			d.host, _ = text(v)
		case "url":
			d.url, _ = text(v)
		case "http_user_agent":
			d.userAgent, _ = text(v)
		case "http_method":
			d.method, _ = text(v)
		case "status":
			d.status, d.hasStatus = integer(v)
		case "length":
			d.length, d.hasLength = integer(v)
		case "http_port":
			d.httpPort, d.hasHTTPPort = integer(v)
		}
	}
	for k, v := range rawjson.Members(d.tls).All() {
		switch keyName(k) {
		case "sni":
			d.sni, _ = text(v)
			d.sni = strings.TrimSuffix(d.sni, ".")
		case "version":
			d.version, _ = text(v)
			d.version, d.hasVersion = strings.CutPrefix(d.version, "TLS ")
		case "issuerdn":
			d.issuer, _ = text(v)
		case "subject":
			d.subject, _ = text(v)
		case "notbefore":
			d.notBefore, _ = text(v)
		case "notafter":
			d.notAfter, _ = text(v)
		case "fingerprint":
			d.fingerprint, _ = text(v)
		case "ja3s":
			d.ja3s = ""
			for k, v := range rawjson.Members(v).All() {
				if keyName(k) == "hash" {
					d.ja3s, _ = text(v)
				}
			}
		}
	}
}

func (d *fbDoc) append(b []byte) []byte {
	e := d.e
	b = append(b, '{')
	b = AppendTime(AppendKey(b, "@timestamp"), e.Timestamp)
	b = append(AppendKey(b, "ecs"), `{"version":"`+ECSVersion+`"}`...)
	b = append(AppendKey(b, "tags"), `["suricata"]`...)
	b = d.appendEvent(b)
	if s := e.Signature; s != nil {
		b = AppendStringField(b, "message", s.Category)
		b = append(AppendKey(b, "rule"), `{"id":"`...)
		b = strconv.AppendUint(b, uint64(s.ID), 10)
		b = append(b, '"')
		b = AppendStringField(b, "name", s.Name)
		b = AppendStringField(b, "category", s.Category)
		b = append(AppendKey(b, "version"), '"')
		b = strconv.AppendUint(b, uint64(s.Rev), 10)
		b = append(b, '"', '}')
	}
	b = d.appendEndpoints(b)
	b = d.appendNetwork(b)
	b = d.appendObserver(b)
	b = d.appendHTTP(b)
	b = d.appendTLS(b)
	b = d.appendDNS(b)
	b = d.appendFile(b)
	b = d.appendThreat(b)
	b = append(AppendKey(b, "suricata"), '{')
	b = append(AppendKey(b, "eve"), '{')
	b = d.appendEve(b)
	b = append(b, '}', '}')
	b = d.appendRelated(b)
	return append(b, '}')
}

func (d *fbDoc) appendEvent(b []byte) []byte {
	e := d.e
	b = append(AppendKey(b, "event"), `{"dataset":"suricata.eve","module":"suricata"`...)
	b = AppendStringField(b, "id", e.ID)
	b = AppendStringField(b, "provider", e.Source.Input)
	b = AppendTimeField(b, "created", e.Received)
	switch d.typ {
	case "alert", "drop":
		b = append(AppendKey(b, "kind"), `"alert"`...)
		b = append(AppendKey(b, "category"), `["network","intrusion_detection"]`...)
		switch e.Action {
		case normalize.ActionBlocked:
			b = append(AppendKey(b, "type"), `["denied"]`...)
		case normalize.ActionAllowed:
			b = append(AppendKey(b, "type"), `["allowed"]`...)
		}
		b = AppendStringField(b, "action", string(e.Action))
	case "stats":
		b = append(AppendKey(b, "kind"), `"metric"`...)
		b = append(AppendKey(b, "category"), `["network"]`...)
	default:
		b = append(AppendKey(b, "kind"), `"event"`...)
		switch d.typ {
		case "http":
			b = append(AppendKey(b, "category"), `["network","web"]`...)
			b = append(AppendKey(b, "type"), `["access","protocol"]`...)
		case "flow":
			b = append(AppendKey(b, "category"), `["network"]`...)
			b = append(AppendKey(b, "type"), `["connection"`...)
			if f := e.Flow; f != nil {
				switch f.State {
				case "new":
					b = append(b, `,"start"`...)
				case "closed":
					b = append(b, `,"end"`...)
				}
			}
			b = append(b, ']')
		case "fileinfo":
			b = append(AppendKey(b, "category"), `["network"]`...)
		default:
			b = append(AppendKey(b, "category"), `["network"]`...)
			b = append(AppendKey(b, "type"), `["protocol"]`...)
		}
	}
	if s := e.Signature; s != nil && s.Priority != 0 {
		b = AppendUintField(b, "severity", uint64(s.Priority))
	}
	if f := e.Flow; f != nil {
		b = AppendTimeField(b, "start", f.Start)
		if !f.End.IsZero() {
			b = AppendTime(AppendKey(b, "end"), f.End)
			if !f.Start.IsZero() && !f.End.Before(f.Start) {
				b = AppendIntField(b, "duration", f.End.Sub(f.Start).Nanoseconds())
			}
		}
	}
	if d.typ == "http" && d.hasStatus {
		if d.status < 400 {
			b = append(AppendKey(b, "outcome"), `"success"`...)
		} else {
			b = append(AppendKey(b, "outcome"), `"failure"`...)
		}
	}
	return append(b, '}')
}

func (d *fbDoc) appendEndpoints(b []byte) []byte {
	e := d.e
	var sb, sp, db, dp uint64
	if f := e.Flow; f != nil {
		sb, sp, db, dp = f.BytesToServer, f.PktsToServer, f.BytesToClient, f.PktsToClient
	}
	domain := d.host
	if d.sni != "" {
		domain = d.sni
	}
	b = d.appendEndpoint(b, "source", e.SrcIP, e.SrcPort, e.SrcMAC, sb, sp, "")
	return d.appendEndpoint(b, "destination", e.DestIP, e.DestPort, e.DestMAC, db, dp, domain)
}

func (d *fbDoc) appendEndpoint(b []byte, key string, ip netip.Addr, port uint16, mac string, bytes, pkts uint64, domain string) []byte {
	hasAddr := ip.IsValid() || mac != ""
	if !hasAddr && domain == "" {
		return b
	}
	b = append(AppendKey(b, key), '{')
	if hasAddr {
		if ip.IsValid() {
			b = appendAddr(AppendKey(b, "address"), ip)
			b = appendAddr(AppendKey(b, "ip"), ip)
		}
		if d.e.HasPorts {
			b = AppendUintField(b, "port", uint64(port))
		}
		b = AppendStringField(b, "mac", mac) // as Suricata wrote it, as Filebeat keeps it
		if d.e.Flow != nil {
			b = AppendUintField(b, "bytes", bytes)
			b = AppendUintField(b, "packets", pkts)
		}
	}
	b = AppendStringField(b, "domain", domain)
	return append(b, '}')
}

// appendAddr writes an address as a JSON string as netip writes it (an
// IPv4-mapped address stays mapped, as Filebeat keeps it).
func appendAddr(b []byte, ip netip.Addr) []byte {
	if ip.Zone() != "" { // a zone may hold anything: escape it
		return AppendString(b, ip.String())
	}
	b = append(b, '"')
	b = ip.AppendTo(b)
	return append(b, '"')
}

func (d *fbDoc) appendNetwork(b []byte) []byte {
	e := d.e
	mark := len(b)
	b = append(AppendKey(b, "network"), '{')
	open := len(b)
	if e.HasProto {
		b = AppendString(AppendKey(b, "transport"), e.ProtoName)
		b = append(AppendKey(b, "iana_number"), '"')
		b = strconv.AppendUint(b, uint64(e.Proto), 10)
		b = append(b, '"')
	}
	if e.SrcIP.IsValid() {
		if e.SrcIP.Unmap().Is4() {
			b = append(AppendKey(b, "type"), `"ipv4"`...)
		} else {
			b = append(AppendKey(b, "type"), `"ipv6"`...)
		}
	}
	switch {
	case e.AppProto != "" && e.AppProto != "failed":
		b = AppendStringField(b, "protocol", e.AppProto)
	case e.AppProto == "":
		switch d.typ {
		case "alert", "drop", "anomaly", "flow", "netflow", "stats", "fileinfo", "":
		default: // an app-layer record (dns, tls, http, ssh …) names its protocol
			b = AppendStringField(b, "protocol", d.typ)
		}
	}
	b = AppendStringField(b, "community_id", e.CommunityID)
	b = AppendStringField(b, "direction", e.NetDirection)
	if f := e.Flow; f != nil {
		b = AppendUintField(b, "bytes", f.BytesToServer+f.BytesToClient)
		b = AppendUintField(b, "packets", f.PktsToServer+f.PktsToClient)
	}
	if len(b) == open {
		return b[:mark]
	}
	return append(b, '}')
}

// appendObserver writes what the plain profile says of the sensor.
func (d *fbDoc) appendObserver(b []byte) []byte {
	e, sn := d.e, sensorOf(d.e)
	b = append(AppendKey(b, "observer"), '{')
	b = AppendStringField(b, "name", e.Source.Sensor)
	b = AppendStringField(b, "type", sn.observerType)
	b = AppendStringField(b, "vendor", sn.vendor)
	b = AppendStringField(b, "product", sn.product)
	if e.InIface != "" {
		b = append(AppendKey(b, "ingress"), `{"interface":{`...)
		b = append(AppendStringField(b, "name", e.InIface), '}', '}')
	}
	return append(b, '}')
}

// appendHTTP writes http.*, user_agent.original and url.* from the
// record's http object.
func (d *fbDoc) appendHTTP(b []byte) []byte {
	if d.http == nil {
		return b
	}
	if d.method != "" || d.hasStatus || d.hasLength {
		b = append(AppendKey(b, "http"), '{')
		if d.method != "" {
			b = append(AppendKey(b, "request"), '{')
			b = append(AppendStringField(b, "method", d.method), '}')
		}
		if d.hasStatus || d.hasLength {
			b = append(AppendKey(b, "response"), '{')
			if d.hasStatus {
				b = AppendIntField(b, "status_code", d.status)
			}
			if d.hasLength {
				b = append(AppendKey(b, "body"), '{')
				b = append(AppendIntField(b, "bytes", d.length), '}')
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	if d.userAgent != "" {
		b = append(AppendKey(b, "user_agent"), '{')
		b = append(AppendStringField(b, "original", d.userAgent), '}')
	}
	return d.appendURL(b)
}

// appendURL fills url.* from the request's URL (a path, or an absolute
// URL as a proxy sees it).
func (d *fbDoc) appendURL(b []byte) []byte {
	if d.url == "" {
		return b
	}
	b = append(AppendKey(b, "url"), '{')
	b = AppendStringField(b, "original", d.url)
	u, ok := parseRequestURL(d.url)
	if !ok {
		return append(b, '}')
	}
	b = AppendStringField(b, "scheme", u.scheme)
	host := d.host
	if u.hasHost {
		host = u.host
	}
	b = AppendStringField(b, "domain", host)
	switch {
	case d.hasHTTPPort:
		b = AppendIntField(b, "port", d.httpPort)
	case u.hasPort:
		b = AppendIntField(b, "port", u.port)
	}
	b = AppendStringField(b, "path", u.path)
	b = AppendStringField(b, "query", u.query)
	if ext := pathExt(u.path); len(ext) > 1 {
		b = appendLower(AppendKey(b, "extension"), ext[1:])
	}
	return append(b, '}')
}

// requestURL is what url.* needs of a parsed URL.
type requestURL struct {
	scheme, host, path, query string
	port                      int64
	hasHost, hasPort          bool
}

// parseRequestURL splits a request URL as url.Parse does. The usual
// origin-form target ("/path?query": no escapes, fragment, authority or
// control characters) is split in place; anything else goes to url.Parse.
func parseRequestURL(raw string) (requestURL, bool) {
	if plainPath(raw) {
		p, q, _ := strings.Cut(raw, "?")
		return requestURL{path: p, query: q}, true
	}
	p, err := url.Parse(raw)
	if err != nil {
		return requestURL{}, false
	}
	u := requestURL{scheme: p.Scheme, path: p.Path, query: p.RawQuery}
	if p.Host != "" {
		u.host, u.hasHost = p.Hostname(), true
		if ps := p.Port(); ps != "" {
			n, _ := strconv.Atoi(ps)
			u.port, u.hasPort = int64(n), true
		}
	}
	return u, true
}

// plainPath reports whether url.Parse would take raw as a path and a
// query and nothing else, both as written.
func plainPath(raw string) bool {
	if len(raw) == 0 || raw[0] != '/' || len(raw) > 1 && raw[1] == '/' {
		return false
	}
	inQuery := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c < 0x20 || c == 0x7f || c == '#':
			return false
		case c == '%' && !inQuery: // the path is unescaped
			return false
		case c == '?':
			inQuery = true
		}
	}
	return true
}

// pathExt is path.Ext.
func pathExt(p string) string {
	for i := len(p) - 1; i >= 0 && p[i] != '/'; i-- {
		if p[i] == '.' {
			return p[i:]
		}
	}
	return ""
}

// appendLower writes strings.ToLower(s) as a JSON string, without a copy
// when s is ASCII.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c < 0x20 || c == '"' || c == '\\' {
			return AppendString(b, strings.ToLower(s))
		}
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return append(b, '"')
}

// appendFingerprint writes a certificate fingerprint as Filebeat does:
// upper case, without the colons.
func appendFingerprint(b []byte, fp string) []byte {
	for i := 0; i < len(fp); i++ {
		if c := fp[i]; c >= 0x80 || c < 0x20 || c == '"' || c == '\\' {
			return AppendString(b, strings.ToUpper(strings.ReplaceAll(fp, ":", "")))
		}
	}
	b = append(b, '"')
	for i := 0; i < len(fp); i++ {
		switch c := fp[i]; {
		case c == ':':
		case 'a' <= c && c <= 'z':
			b = append(b, c-('a'-'A'))
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// certTimeLayout is how Suricata writes a certificate's validity.
const certTimeLayout = "2006-01-02T15:04:05"

// appendCertTime writes a certificate time, when it parses, as Filebeat's
// date processor does (UTC, milliseconds).
func appendCertTime(b []byte, key, s string) []byte {
	ts, err := time.Parse(certTimeLayout, s)
	if err != nil {
		return b
	}
	b = append(AppendKey(b, key), '"')
	b = ts.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, '"')
}

// appendTLS writes tls.* from the record's tls object.
func (d *fbDoc) appendTLS(b []byte) []byte {
	if d.tls == nil {
		return b
	}
	b = append(AppendKey(b, "tls"), '{')
	if d.hasVersion {
		b = AppendString(AppendKey(b, "version"), d.version)
		b = append(AppendKey(b, "version_protocol"), `"tls"`...)
	}
	if d.sni != "" {
		b = append(AppendKey(b, "client"), '{')
		b = append(AppendStringField(b, "server_name", d.sni), '}')
	}
	mark := len(b)
	b = append(AppendKey(b, "server"), '{')
	open := len(b)
	b = AppendStringField(b, "issuer", d.issuer)
	b = AppendStringField(b, "subject", d.subject)
	b = appendCertTime(b, "not_before", d.notBefore)
	b = appendCertTime(b, "not_after", d.notAfter)
	if d.fingerprint != "" {
		b = append(AppendKey(b, "hash"), '{')
		b = append(appendFingerprint(AppendKey(b, "sha1"), d.fingerprint), '}')
	}
	b = AppendStringField(b, "ja3s", d.ja3s)
	if len(b) == open {
		b = b[:mark]
	} else {
		b = append(b, '}')
	}
	return append(b, '}')
}

// dnsAnswer is what dns.answers needs of one answer.
type dnsAnswer struct {
	name, typ, data string
	ttl             int64
	hasTTL          bool
}

// read takes an answer's fields from the object raw, and reports whether
// raw has a non-null rdata (a grouped answer record has its first answer
// at its top level).
func (a *dnsAnswer) read(raw []byte) (hasRdata bool) {
	for it := rawjson.Members(raw); ; {
		k, v, ok := it.Next()
		if !ok {
			return hasRdata
		}
		switch keyName(k) {
		case "rrname":
			a.name, _ = text(v)
		case "rrtype":
			a.typ, _ = text(v)
		case "rdata":
			a.data, _ = text(v)
			hasRdata = rawjson.Kind(v) != 'n'
		case "ttl":
			a.ttl, a.hasTTL = integer(v)
		}
	}
}

func (d *fbDoc) appendAnswer(b []byte, a *dnsAnswer) []byte {
	if b[len(b)-1] != '[' {
		b = append(b, ',')
	}
	b = append(b, '{')
	b = AppendStringField(b, "name", a.name)
	b = AppendStringField(b, "type", a.typ)
	if a.hasTTL {
		b = AppendIntField(b, "ttl", a.ttl)
	}
	b = AppendStringField(b, "data", a.data)
	if a.typ == "A" || a.typ == "AAAA" {
		d.addResolved(a.data)
	}
	return append(b, '}')
}

// appendDNS writes dns.* from the record's dns object (the one-record-per-
// answer form and the grouped one) and keeps the resolved addresses for
// related.ip.
func (d *fbDoc) appendDNS(b []byte) []byte {
	if d.dns == nil {
		return b
	}
	var typ, rcode string
	var id, answers []byte
	var top dnsAnswer
	hasRdata := false
	for k, v := range rawjson.Members(d.dns).All() {
		switch keyName(k) {
		case "type":
			typ, _ = text(v)
		case "rcode":
			rcode, _ = text(v)
		case "id":
			id = v
		case "answers":
			answers = v
		}
	}
	if typ == "answer" || typ == "query" {
		hasRdata = top.read(d.dns)
	}
	b = append(AppendKey(b, "dns"), '{')
	b = AppendStringField(b, "type", typ)
	if rawjson.Kind(id) == '0' {
		b = append(AppendKey(b, "id"), '"')
		b = append(append(b, id...), '"')
	}
	b = AppendStringField(b, "response_code", rcode)
	switch typ {
	case "answer":
		mark := len(b)
		b = append(AppendKey(b, "answers"), '[')
		open := len(b)
		if hasRdata {
			b = d.appendAnswer(b, &top)
		}
		for v := range rawjson.Elements(answers).All() {
			if rawjson.Kind(v) == '{' {
				var a dnsAnswer
				a.read(v)
				b = d.appendAnswer(b, &a)
			}
		}
		if len(b) == open {
			b = b[:mark]
		} else {
			b = append(b, ']')
		}
	case "query":
		b = append(AppendKey(b, "question"), '{')
		b = AppendStringField(b, "name", top.name)
		b = append(AppendStringField(b, "type", top.typ), '}')
	}
	if d.nResolved > 0 {
		b = append(AppendKey(b, "resolved_ip"), '[')
		for i := range d.nResolved {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, d.resolvedAt(i))
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// metaList returns the strings of a metadata list, sorted (other elements
// are dropped), in buf when they fit; ok is false when v is not a list.
func metaList(v []byte, buf []string) (list []string, ok bool) {
	if rawjson.Kind(v) != '[' {
		return nil, false
	}
	list = buf[:0]
	for x := range rawjson.Elements(v).All() {
		if s, ok := text(x); ok {
			list = append(list, s)
		}
	}
	slices.Sort(list)
	return list, true
}

func appendStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, s)
	}
	return append(b, ']')
}

// metaFilename is the rule metadata's filename list (file.name).
func (d *fbDoc) metaFilename(buf []string) []string {
	for i := range d.meta.n {
		if m := d.meta.at(i); m.name == "filename" {
			list, _ := metaList(m.val, buf)
			return list
		}
	}
	return nil
}

// appendFile writes file.* from the record's fileinfo and the rule's
// filename metadata.
func (d *fbDoc) appendFile(b []byte) []byte {
	var buf [8]string
	names := d.metaFilename(buf[:0])
	if d.fileinfo == nil && len(names) == 0 {
		return b
	}
	b = append(AppendKey(b, "file"), '{')
	switch len(names) {
	case 0:
	case 1:
		// Filebeat writes the list; ECS's file.name is one keyword
		// (Elasticsearch indexes ["x"] and "x" alike).
		b = AppendString(AppendKey(b, "name"), names[0])
	default:
		b = appendStrings(AppendKey(b, "name"), names)
	}
	var path string
	var size int64
	hasSize := false
	for k, v := range rawjson.Members(d.fileinfo).All() {
		switch keyName(k) {
		case "filename":
			path, _ = text(v)
		case "size":
			size, hasSize = integer(v)
		}
	}
	b = AppendStringField(b, "path", path)
	if hasSize {
		b = AppendIntField(b, "size", size)
	}
	return append(b, '}')
}

// appendThreat moves the rule's mitre_attack metadata to threat.tactic.id,
// as Filebeat does.
func (d *fbDoc) appendThreat(b []byte) []byte {
	for i := range d.meta.n {
		m := d.meta.at(i)
		if m.name != "mitre_attack" {
			continue
		}
		var buf [8]string
		if list, ok := metaList(m.val, buf[:0]); ok {
			b = append(AppendKey(b, "threat"), `{"tactic":{`...)
			b = append(appendStrings(AppendKey(b, "id"), list), '}', '}')
		}
	}
	return b
}

// appendRawKey writes a key as the record wrote it (quoted, escaped).
func appendRawKey(b, key []byte) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' && b[n-1] != '[' {
		b = append(b, ',')
	}
	return append(append(b, key...), ':')
}

// appendEve writes the members of suricata.eve: the record's own fields
// as Filebeat keeps them.
func (d *fbDoc) appendEve(b []byte) []byte {
	e := d.e
	b = AppendStringField(b, "event_type", d.typ)
	// A Details key of the same name (mappers do not make one) wins, as it
	// did when the document was a map.
	if e.Details.Get("in_iface") == nil {
		b = AppendStringField(b, "in_iface", e.InIface)
	}
	if e.FlowID != 0 && e.Details.Get("flow_id") == nil {
		b = append(AppendKey(b, "flow_id"), '"') // a string: it exceeds 2^53
		b = strconv.AppendUint(b, e.FlowID, 10)
		b = append(b, '"')
	}
	if e.Signature != nil {
		b = d.appendAlert(b)
	}
	if f := e.Flow; f != nil {
		mark := len(b)
		b = append(AppendKey(b, "flow"), '{')
		open := len(b)
		b = AppendStringField(b, "state", f.State)
		b = AppendStringField(b, "reason", f.Reason)
		if f.Age != 0 || !f.End.IsZero() {
			b = AppendIntField(b, "age", f.Age)
		}
		if f.Alerted != nil {
			b = AppendBoolField(b, "alerted", *f.Alerted)
		}
		if len(b) == open {
			b = b[:mark]
		} else {
			b = append(b, '}')
		}
	}
	if d.http != nil {
		mark := len(b)
		b = append(AppendKey(b, "http"), '{')
		open := len(b)
		for k, v := range rawjson.Members(d.http).All() {
			switch keyName(k) {
			case "hostname", "url", "http_user_agent", "http_method", "status", "length", "http_port":
			default:
				b = append(appendRawKey(b, k), v...)
			}
		}
		if len(b) == open {
			b = b[:mark]
		} else {
			b = append(b, '}')
		}
	}
	if d.tls != nil {
		b = append(AppendKey(b, "tls"), '{')
		for k, v := range rawjson.Members(d.tls).All() {
			if rawjson.Kind(v) == '{' {
				if inner := rawjson.Members(v); !hasMember(&inner) {
					continue // an empty ja3 {} says nothing
				}
			}
			if d.sni != "" && keyName(k) == "sni" {
				b = AppendString(appendRawKey(b, k), d.sni)
				continue
			}
			b = append(appendRawKey(b, k), v...)
		}
		b = append(b, '}')
	}
	if d.dns != nil {
		b = append(AppendKey(b, "dns"), d.dns...)
	}
	if d.fileinfo != nil {
		b = append(AppendKey(b, "fileinfo"), '{')
		for k, v := range rawjson.Members(d.fileinfo).All() {
			if n := keyName(k); n != "filename" && n != "size" {
				b = append(appendRawKey(b, k), v...)
			}
		}
		b = append(b, '}')
	}
	// Everything else the record said, as it said it (stats, ssh, smb …),
	// but what the common fields hold already.
	for _, f := range e.Details {
		switch f.Key {
		case "alert", "http", "tls", "dns", "fileinfo", "flow", "event_type", "ether":
			continue
		}
		b = append(AppendEscapedKey(b, f.Key), f.Value...)
	}
	return b
}

func hasMember(it *rawjson.Object) bool {
	_, _, ok := it.Next()
	return ok
}

// appendAlert writes suricata.eve.alert: the signature, the rule's
// metadata flattened (lists of strings, sorted; created_at and updated_at
// as dates; mitre_attack and filename moved to threat.* and file.*), then
// the alert's other members. A later source of a key replaces an earlier
// one.
func (d *fbDoc) appendAlert(b []byte) []byte {
	s := d.e.Signature
	b = append(AppendKey(b, "alert"), '{')
	if d.free("gid") {
		b = AppendUintField(b, "gid", uint64(s.GID))
	}
	if d.free("signature_id") {
		b = AppendUintField(b, "signature_id", uint64(s.ID))
	}
	if d.free("rev") {
		b = AppendUintField(b, "rev", uint64(s.Rev))
	}
	if d.free("signature") {
		b = AppendStringField(b, "signature", s.Name)
	}
	if d.free("category") {
		b = AppendStringField(b, "category", s.Category)
	}
	for i := range d.meta.n {
		m := d.meta.at(i)
		if d.alertOwn.has(m.name) {
			continue
		}
		var buf [16]string
		list, isList := metaList(m.val, buf[:0])
		if !isList {
			b = append(appendRawKey(b, m.key), m.val...)
			continue
		}
		switch m.name {
		case "created_at", "updated_at":
			if len(list) > 0 && appendMetaDate(&b, m.key, list[0]) {
				continue
			}
		case "mitre_attack", "filename":
			continue // appendThreat, appendFile
		}
		b = appendStrings(appendRawKey(b, m.key), list)
	}
	for i := range d.alertOwn.n {
		m := d.alertOwn.at(i)
		b = append(appendRawKey(b, m.key), m.val...)
	}
	return append(b, '}')
}

// free reports whether no metadata or alert member replaces one of the
// alert's fixed keys.
func (d *fbDoc) free(name string) bool { return !d.meta.has(name) && !d.alertOwn.has(name) }

// appendMetaDate writes a rule's created_at or updated_at ("2019_06_01" or
// "2019-06-01") as a date, and reports false when it is not one.
func appendMetaDate(b *[]byte, key []byte, s string) bool {
	var date [10]byte
	if !metaDate(s, &date) {
		return false
	}
	*b = append(appendRawKey(*b, key), '"')
	*b = append(*b, date[:]...)
	*b = append(*b, "T00:00:00.000Z\""...)
	return true
}

// metaDate writes s, a date with - or _ between its parts, as
// YYYY-MM-DD into date, and reports whether it is one: exactly what
// time.Parse("2006-01-02", s with _ read as -) accepts.
func metaDate(s string, date *[10]byte) bool {
	if len(s) != len(date) {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 4, 7:
			if c != '-' && c != '_' {
				return false
			}
			c = '-'
		default:
			if c < '0' || c > '9' {
				return false
			}
		}
		date[i] = c
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range date[i : i+n] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	// The month's last day: the day before the first of the next month.
	last := time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return day <= last
}

// addrText is ip.String() written into buf.
func addrText(buf []byte, ip netip.Addr) string {
	if ip.Zone() != "" {
		return ip.String()
	}
	return view(ip.AppendTo(buf))
}

// appendRelated writes related.ip (both addresses and the DNS answers,
// sorted, once each), related.hosts and related.hash.
func (d *fbDoc) appendRelated(b []byte) []byte {
	e := d.e
	if 2+d.nResolved > 12 { // many answers
		var ips []string
		for _, ip := range [2]netip.Addr{e.SrcIP, e.DestIP} {
			if ip.IsValid() {
				ips = append(ips, ip.String())
			}
		}
		for i := range d.nResolved {
			ips = append(ips, d.resolvedAt(i))
		}
		return d.appendRelatedLists(b, ips)
	}
	// The addresses' text is written on the stack, and stored by index
	// only, into a fixed array, so that it stays there.
	var texts [2][48]byte
	var fixed [12]string
	n := 0
	for i, ip := range [2]netip.Addr{e.SrcIP, e.DestIP} {
		if ip.IsValid() {
			fixed[n] = addrText(texts[i][:0], ip)
			n++
		}
	}
	for i := range d.nResolved {
		fixed[n] = d.resolvedAt(i)
		n++
	}
	return d.appendRelatedLists(b, fixed[:n])
}

func (d *fbDoc) appendRelatedLists(b []byte, ips []string) []byte {
	slices.Sort(ips) // slices.Compact would move the addresses' text to the heap: skipped below
	if len(ips) == 0 && d.host == "" && d.fingerprint == "" {
		return b
	}
	b = append(AppendKey(b, "related"), '{')
	if len(ips) > 0 {
		b = append(AppendKey(b, "ip"), '[')
		for i, ip := range ips {
			if i > 0 && ip == ips[i-1] {
				continue
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, ip)
		}
		b = append(b, ']')
	}
	if d.host != "" {
		b = append(AppendKey(b, "hosts"), '[')
		b = append(AppendString(b, d.host), ']')
	}
	if d.fingerprint != "" {
		b = append(AppendKey(b, "hash"), '[')
		b = append(appendFingerprint(b, d.fingerprint), ']')
	}
	return append(b, '}')
}
