package loadgen

import (
	"encoding/base64"
	"math/rand/v2"
	"strconv"
	"time"
)

func init() { Register("suricata", newSuricata) }

// suricata generates EVE records: a mix of alert (40%), flow (35%) and dns
// (25%) records of about 1 KB, shaped like Suricata 7's output (header in
// CreateEveHeader order, community_id, flow sub-object on alerts), plus an
// optional large alert carrying payload and packet in base64.
type suricata struct {
	o       Options
	rng     *rand.Rand
	n       uint64
	payload []byte // base64 text of the large variant

	// recent are the flows of the last alerts: a later flow record of the
	// same flow (same flow_id, 5-tuple and community_id, alerted: true)
	// follows an alert as Suricata writes one when the flow ends.
	recent [8]endpoint
	nrec   int
}

// endpoint is what the EVE header says about a flow.
type endpoint struct {
	flowID    uint64
	src       [3]byte // 10.a.b.c
	sport     int
	dst       byte // 192.0.2.d
	community [20]byte
	proto     string
	dport     int
}

// newEndpoint draws a flow. Alerts come from a few hosts, as they do on a
// real network: most from a handful of noisy sources towards a few
// servers, so that an inbox grouped by signature, source and destination
// has rows of many alerts. Other flows are spread over the address space.
func (g *suricata) newEndpoint(proto string, dport int, alert bool) endpoint {
	e := endpoint{flowID: 1<<60 | g.rng.Uint64()>>4, sport: 32768 + g.rng.IntN(28000), proto: proto, dport: dport}
	if alert {
		h := g.skew(40)
		e.src = [3]byte{byte(h * 37 % 256), byte(h * 11 % 256), byte(1 + h*7%254)}
		e.dst = byte(1 + (h*7+g.skew(3))%24*5) // each source hits a few servers
	} else {
		e.src = [3]byte{byte(g.rng.IntN(256)), byte(g.rng.IntN(256)), byte(1 + g.rng.IntN(254))}
		e.dst = byte(1 + g.rng.IntN(254))
	}
	for i := range e.community {
		e.community[i] = byte(g.rng.Uint32())
	}
	return e
}

// skew returns an index below n, small ones far more often (a few noisy
// hosts make most alerts).
func (g *suricata) skew(n int) int { return g.rng.IntN(g.rng.IntN(n) + 1) }

func newSuricata(o Options) (Generator, error) {
	if o.LargeSize <= 0 {
		o.LargeSize = 64 << 10
	}
	g := &suricata{o: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))}
	raw := make([]byte, o.LargeSize*3/4) // base64 grows it by 4/3; split between payload and packet
	for i := range raw {
		raw[i] = byte(g.rng.Uint32())
	}
	g.payload = base64.StdEncoding.AppendEncode(nil, raw)
	return g, nil
}

var signatures = []struct {
	sid            int
	rev            int
	msg, category  string
	severity       int
	proto          string
	dport          int
	action         string
	metadataFields string
}{
	{2001219, 20, "ET SCAN Potential SSH Scan", "Attempted Information Leak", 2, "TCP", 22, "allowed", `"created_at":["2010_07_30"],"updated_at":["2019_07_26"]`},
	{2024897, 4, "ET USER_AGENTS Go HTTP Client User-Agent", "Unknown Traffic", 3, "TCP", 80, "allowed", `"created_at":["2017_10_23"],"former_category":["USER_AGENTS"],"updated_at":["2020_08_13"]`},
	{2027865, 3, "ET INFO Observed DNS Query to .cloud TLD", "Potentially Bad Traffic", 2, "UDP", 53, "allowed", `"affected_product":["Any"],"attack_target":["Client_Endpoint"],"deployment":["Perimeter"],"signature_severity":["Major"]`},
	{2210045, 2, "SURICATA STREAM Packet with invalid ack", "Generic Protocol Command Decode", 3, "TCP", 443, "blocked", `"created_at":["2012_03_05"]`},
	{2100498, 7, "GPL ATTACK_RESPONSE id check returned root", "Potentially Bad Traffic", 2, "TCP", 8080, "blocked", `"created_at":["2010_09_23"],"updated_at":["2019_07_26"]`},
	{2019401, 5, "ET POLICY Vulnerable Java Version 1.8.x Detected", "Potential Corporate Privacy Violation", 1, "TCP", 80, "allowed", `"created_at":["2014_10_10"],"updated_at":["2024_03_06"]`},
}

var hostnames = []string{"updates.example.com", "cdn.example.net", "mail.example.org", "login.example.cloud", "api.internal.example"}

func (g *suricata) Next(dst []byte) []byte {
	g.n++
	if g.o.LargeEvery > 0 && g.n%uint64(g.o.LargeEvery) == 0 {
		return g.alert(dst, true)
	}
	switch r := g.rng.IntN(100); {
	case r < 40:
		return g.alert(dst, false)
	case r < 75:
		return g.flow(dst)
	default:
		return g.dns(dst)
	}
}

// header writes the common EVE header up to and including event_type's
// 5-tuple and community_id.
func (g *suricata) header(b []byte, now time.Time, eventType string, e endpoint) []byte {
	b = append(b, `{"timestamp":"`...)
	b = now.AppendFormat(b, "2006-01-02T15:04:05.000000-0700")
	b = append(b, `","flow_id":`...)
	b = strconv.AppendUint(b, e.flowID, 10) // above 2^53, as real flow ids are
	b = append(b, `,"in_iface":"enp1s0","event_type":"`...)
	b = append(b, eventType...)
	b = append(b, `","vlan":[`...)
	b = strconv.AppendInt(b, int64(100+g.rng.IntN(4)), 10)
	b = append(b, `],"src_ip":"10.`...)
	b = strconv.AppendInt(b, int64(e.src[0]), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(e.src[1]), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(e.src[2]), 10)
	b = append(b, `","src_port":`...)
	b = strconv.AppendInt(b, int64(e.sport), 10)
	b = append(b, `,"dest_ip":"192.0.2.`...)
	b = strconv.AppendInt(b, int64(e.dst), 10)
	b = append(b, `","dest_port":`...)
	b = strconv.AppendInt(b, int64(e.dport), 10)
	b = append(b, `,"proto":"`...)
	b = append(b, e.proto...)
	b = append(b, `","ip_v":4,"pkt_src":"wire/pcap","community_id":"1:`...)
	b = base64.StdEncoding.AppendEncode(b, e.community[:])
	return append(b, '"')
}

func (g *suricata) alert(b []byte, large bool) []byte {
	now := time.Now()
	s := signatures[g.rng.IntN(len(signatures))]
	e := g.newEndpoint(s.proto, s.dport, true)
	g.recent[g.nrec%len(g.recent)] = e
	g.nrec++
	b = g.header(b, now, "alert", e)
	b = append(b, `,"tx_id":0,"alert":{"action":"`...)
	b = append(b, s.action...)
	b = append(b, `","gid":1,"signature_id":`...)
	b = strconv.AppendInt(b, int64(s.sid), 10)
	b = append(b, `,"rev":`...)
	b = strconv.AppendInt(b, int64(s.rev), 10)
	b = append(b, `,"signature":"`...)
	b = append(b, s.msg...)
	b = append(b, `","category":"`...)
	b = append(b, s.category...)
	b = append(b, `","severity":`...)
	b = strconv.AppendInt(b, int64(s.severity), 10)
	b = append(b, `,"metadata":{`...)
	b = append(b, s.metadataFields...)
	b = append(b, `}},"app_proto":"http","direction":"to_server","http":{"hostname":"`...)
	b = append(b, hostnames[g.rng.IntN(len(hostnames))]...)
	b = append(b, `","url":"/api/v2/items?id=`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(1000000)), 10)
	b = append(b, `&session=`...)
	b = strconv.AppendUint(b, g.rng.Uint64(), 36)
	b = append(b, `","http_user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36","http_content_type":"application/json","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(50000)), 10)
	b = append(b, `},"flow":{"pkts_toserver":`...)
	b = strconv.AppendInt(b, int64(1+g.rng.IntN(40)), 10)
	b = append(b, `,"pkts_toclient":`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(40)), 10)
	b = append(b, `,"bytes_toserver":`...)
	b = strconv.AppendInt(b, int64(60+g.rng.IntN(40000)), 10)
	b = append(b, `,"bytes_toclient":`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(90000)), 10)
	b = append(b, `,"start":"`...)
	b = now.Add(-time.Duration(g.rng.IntN(5000))*time.Millisecond).AppendFormat(b, "2006-01-02T15:04:05.000000-0700")
	b = append(b, `","src_ip":"10.0.0.5","dest_ip":"192.0.2.10","src_port":51514,"dest_port":80}`...)
	if large {
		half := len(g.payload) / 2
		b = append(b, `,"payload":"`...)
		b = append(b, g.payload[:half&^3]...)
		b = append(b, `","payload_printable":"GET /api/v2/items HTTP/1.1\r\nHost: updates.example.com\r\n","stream":1,"packet":"`...)
		b = append(b, g.payload[half&^3:]...)
		b = append(b, `","packet_info":{"linktype":1}`...)
	}
	return append(b, "}\n"...)
}

func (g *suricata) flow(b []byte) []byte {
	now := time.Now()
	tcp := g.rng.IntN(3) > 0
	proto, dport := "UDP", 123
	if tcp {
		proto, dport = "TCP", 443
	}
	e := g.newEndpoint(proto, dport, false)
	alerted := false
	// One flow record in four ends a flow an alert was raised on.
	if g.nrec > 0 && g.rng.IntN(4) == 0 {
		e, alerted = g.recent[(g.nrec-1)%len(g.recent)], true
		tcp = e.proto == "TCP"
		g.nrec-- // each alert's flow ends once
	}
	b = g.header(b, now, "flow", e)
	b = append(b, `,"app_proto":"`...)
	switch {
	case alerted && tcp:
		b = append(b, "http"...)
	case alerted:
		b = append(b, "dns"...)
	case tcp:
		b = append(b, "tls"...)
	default:
		b = append(b, "ntp"...)
	}
	b = append(b, `","flow":{"pkts_toserver":`...)
	b = strconv.AppendInt(b, int64(1+g.rng.IntN(900)), 10)
	b = append(b, `,"pkts_toclient":`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(900)), 10)
	b = append(b, `,"bytes_toserver":`...)
	b = strconv.AppendInt(b, int64(60+g.rng.IntN(900000)), 10)
	b = append(b, `,"bytes_toclient":`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(9000000)), 10)
	start := now.Add(-time.Duration(1+g.rng.IntN(120000)) * time.Millisecond)
	b = append(b, `,"start":"`...)
	b = start.AppendFormat(b, "2006-01-02T15:04:05.000000-0700")
	b = append(b, `","end":"`...)
	b = now.Add(-time.Second).AppendFormat(b, "2006-01-02T15:04:05.000000-0700")
	b = append(b, `","age":`...)
	b = strconv.AppendInt(b, int64(now.Sub(start)/time.Second), 10)
	if tcp {
		b = append(b, `,"state":"closed","reason":"timeout","alerted":`...)
		b = strconv.AppendBool(b, alerted)
		b = append(b, `,"exception_policy":[]},"tcp":{"tcp_flags":"1b","tcp_flags_ts":"1b","tcp_flags_tc":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed","ts_max_regions":1,"tc_max_regions":1}`...)
		if !alerted {
			b = append(b, `,"tls":{"subject":"CN=updates.example.com","issuerdn":"C=US, O=Let's Encrypt, CN=R11","serial":"04:A1:7F:3C:9E:22:51:0B:8D:6E:13:47:F0:2A:99:C4:31:77","fingerprint":"3f:0a:91:c2:7b:55:e8:14:a6:09:d3:6f:42:b8:1e:c0:97:5d:2b:88","sni":"updates.example.com","version":"TLS 1.3","notbefore":"2026-10-01T00:00:00","notafter":"2026-12-30T23:59:59","ja3":{"hash":"cd08e31494f9531f560d64c695473da9","string":"771,4865-4866-4867-49195-49199-52393-52392-49196-49200-49162-49161-49171-49172,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0"}}`...)
		}
	} else {
		b = append(b, `,"state":"established","reason":"timeout","alerted":`...)
		b = strconv.AppendBool(b, alerted)
		b = append(b, `,"exception_policy":[]},"metadata":{"flowbits":["ntp.client"],"flowints":{"ntp.count":`...)
		b = strconv.AppendInt(b, int64(g.rng.IntN(100)), 10)
		b = append(b, `}},"ntp":{"version":4,"mode":"client","stratum":0,"poll":6,"precision":-20,"reference_id":"0.0.0.0","root_delay":0.0,"root_dispersion":0.0,"reference_ts":"1970-01-01T00:00:00Z","origin_ts":"1970-01-01T00:00:00Z","receive_ts":"1970-01-01T00:00:00Z","transmit_ts":"2026-11-22T10:11:12.123456Z","servers":["0.debian.pool.ntp.org","1.debian.pool.ntp.org","2.debian.pool.ntp.org","3.debian.pool.ntp.org"]}`...)
	}
	return append(b, "}\n"...)
}

func (g *suricata) dns(b []byte) []byte {
	now := time.Now()
	b = g.header(b, now, "dns", g.newEndpoint("UDP", 53, false))
	host := hostnames[g.rng.IntN(len(hostnames))]
	b = append(b, `,"dns":{"version":3,"type":"response","tx_id":`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(8)), 10)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(65536)), 10)
	b = append(b, `,"flags":"8180","qr":true,"rd":true,"ra":true,"opcode":0,"rcode":"NOERROR","queries":[{"rrname":"`...)
	b = append(b, host...)
	b = append(b, `","rrtype":"A"}],"answers":[`...)
	for i := range 4 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"rrname":"`...)
		b = append(b, host...)
		b = append(b, `","rrtype":"A","ttl":`...)
		b = strconv.AppendInt(b, int64(30+g.rng.IntN(3600)), 10)
		b = append(b, `,"rdata":"198.51.100.`...)
		b = strconv.AppendInt(b, int64(1+g.rng.IntN(254)), 10)
		b = append(b, `"}`...)
	}
	b = append(b, `],"grouped":{"A":["198.51.100.7","198.51.100.8","198.51.100.9","198.51.100.10"]},"authorities":[{"rrname":"example.com","rrtype":"NS","ttl":86400,"rdata":"ns1.example.com"},{"rrname":"example.com","rrtype":"NS","ttl":86400,"rdata":"ns2.example.com"}]}`...)
	return append(b, "}\n"...)
}
