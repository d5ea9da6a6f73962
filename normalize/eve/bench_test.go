package eve

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/alertgw/alertgw/internal/cputime"
	"github.com/alertgw/alertgw/internal/nativetest"
	"github.com/alertgw/alertgw/normalize"
)

// benchAlert is a Suricata 7 alert of about 1 KB with the usual extras:
// metadata, ether, vlan, a flow summary, an app-layer object and a host.
const benchAlert = `{"timestamp":"2026-11-22T10:11:12.123456-0400","flow_id":1945813227475284,"in_iface":"eth0","event_type":"alert","vlan":[100],"src_ip":"10.0.0.5","src_port":51514,"dest_ip":"192.0.2.10","dest_port":22,"proto":"TCP","pkt_src":"wire/pcap","community_id":"1:Nc4GjAEQw5vzeh33M+8zyfkfahs=","ether":{"src_mac":"00:1b:21:3c:4d:5e","dest_mac":"52:54:00:12:34:56"},"tx_id":0,"alert":{"action":"allowed","gid":1,"signature_id":2001219,"rev":20,"signature":"ET SCAN Potential SSH Scan","category":"Attempted Information Leak","severity":2,"metadata":{"affected_product":["Linux"],"attack_target":["Server"],"created_at":["2010_07_30"],"deployment":["Perimeter"],"signature_severity":["Informational"],"updated_at":["2019_07_26"]}},"app_proto":"ssh","direction":"to_server","flow":{"pkts_toserver":3,"pkts_toclient":2,"bytes_toserver":180,"bytes_toclient":120,"start":"2026-11-22T10:11:11.000001-0400","src_ip":"10.0.0.5","dest_ip":"192.0.2.10","src_port":51514,"dest_port":22},"ssh":{"client":{"proto_version":"2.0","software_version":"libssh_0.9.6"},"server":{"proto_version":"2.0","software_version":"OpenSSH_9.2p1 Debian-2+deb12u3"}},"metadata":{"flowbits":["ssh.brute","ET.ssh.scan"]},"host":"sensor-1"}` + "\n"

const benchFlow = `{"timestamp":"2026-11-22T10:20:00.500000+0100","flow_id":9007199254740993,"in_iface":"eth0","event_type":"flow","vlan":[100,200],"src_ip":"10.1.2.3","src_port":40000,"dest_ip":"198.51.100.20","dest_port":443,"proto":"TCP","app_proto":"tls","flow":{"pkts_toserver":12,"pkts_toclient":10,"bytes_toserver":1830,"bytes_toclient":9000,"start":"2026-11-22T10:19:30.100000+0100","end":"2026-11-22T10:19:58.900000+0100","age":28,"state":"closed","reason":"timeout","alerted":false},"tcp":{"tcp_flags":"1f","tcp_flags_ts":"1f","tcp_flags_tc":"1b","syn":true,"fin":true,"rst":true,"psh":true,"ack":true,"state":"closed"},"community_id":"1:lhVPvJ/GdZ+wxs0S3uNGrezBPCE=","host":"sensor-1"}` + "\n"

const benchDNS = `{"timestamp":"2013-07-04T19:47:51.592983+0000","flow_id":694559854542603,"in_iface":"eth0","event_type":"dns","src_ip":"192.168.42.150","src_port":55597,"dest_ip":"192.168.42.129","dest_port":53,"proto":"UDP","dns":{"version":2,"type":"answer","id":25783,"flags":"8180","qr":true,"rd":true,"ra":true,"rrname":"static.programme-tv.net","rrtype":"AAAA","rcode":"NOERROR","answers":[{"rrname":"static.programme-tv.net","rrtype":"CNAME","ttl":630,"rdata":"programme-tv.net.edgesuite.net"},{"rrname":"programme-tv.net.edgesuite.net","rrtype":"CNAME","ttl":20432,"rdata":"a1859.g.akamai.net"}],"grouped":{"CNAME":["programme-tv.net.edgesuite.net","a1859.g.akamai.net"]},"authorities":[{"rrname":"g.akamai.net","rrtype":"SOA","ttl":1000}]},"host":"sensor-1"}` + "\n"

// The machine these run on is often shared, which makes ns/op (wall time)
// noisy. cpu-ns/op is the benchmark thread's own CPU time per operation
// (CLOCK_THREAD_CPUTIME_ID, the loop pinned to its thread): it does not
// count time spent waiting for a core, nor the GC's background workers.
func cpuTimer(b *testing.B) (stop func()) {
	runtime.LockOSThread()
	start := cputime.Thread()
	return func() {
		used := cputime.Thread() - start
		runtime.UnlockOSThread()
		if used > 0 {
			b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

func benchDecode(b *testing.B, msg string) {
	m := []byte(msg)
	var ev normalize.Event
	b.SetBytes(int64(len(m)))
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if err := (Decoder{}).Decode(m, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

// benchDecodeEncode is what a pipeline worker does per event: decode,
// complete (community id given by the sensor), encode to native.
func benchDecodeEncode(b *testing.B, msg string) {
	m := []byte(msg)
	var ev normalize.Event
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(len(m)))
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if err := (Decoder{}).Decode(m, &ev); err != nil {
			b.Fatal(err)
		}
		ev.ID = "0123456789abcdef0000000000000001"
		ev.Received = received
		buf = nativetest.Append(buf[:0], &ev)
	}
}

// benchAlertPayload is benchAlert with payload, payload_printable and
// packet of a 16 KB packet (Suricata's "payload: yes, packet: yes"), about
// 56 KB: mostly long strings kept as they are.
var benchAlertPayload = func() string {
	raw := bytes.Repeat([]byte("GET /index.html HTTP/1.1\r\nHost: example.com\r\n"), 16384/48)
	b64 := base64.StdEncoding.EncodeToString(raw)
	printable, _ := json.Marshal(string(raw))
	return strings.Replace(benchAlert, `"host":"sensor-1"`,
		`"payload":"`+b64+`","payload_printable":`+string(printable)+`,"stream":1,"packet":"`+b64+`","packet_info":{"linktype":1},"host":"sensor-1"`, 1)
}()

func BenchmarkDecodeAlert(b *testing.B)              { benchDecode(b, benchAlert) }
func BenchmarkDecodeAlertPayload(b *testing.B)       { benchDecode(b, benchAlertPayload) }
func BenchmarkDecodeEncodeAlertPayload(b *testing.B) { benchDecodeEncode(b, benchAlertPayload) }
func BenchmarkDecodeEncodeAlert(b *testing.B)        { benchDecodeEncode(b, benchAlert) }
func BenchmarkDecodeFlow(b *testing.B)               { benchDecode(b, benchFlow) }
func BenchmarkDecodeEncodeFlow(b *testing.B)         { benchDecodeEncode(b, benchFlow) }
func BenchmarkDecodeDNS(b *testing.B)                { benchDecode(b, benchDNS) }
func BenchmarkDecodeEncodeDNS(b *testing.B)          { benchDecodeEncode(b, benchDNS) }
