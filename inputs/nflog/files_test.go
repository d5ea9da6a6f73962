package nflog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/normalize"
)

var update = flag.Bool("update", false, "rewrite the tcpdump and tshark decodes kept beside the test captures")

// want is what tcpdump -vvv and tshark say of one NFLOG packet: tcpdump
// for the nflog header and the IP/transport decode, tshark (Wireshark's
// NFLOG dissector) for the TLVs tcpdump does not print.
type want struct {
	// tcpdump
	time               time.Time
	group              uint16
	family             string // inet | inet6
	src, dst           string
	proto              uint8
	sport, dport       int // -1: none
	ttl, tos           int
	ipid               int // -1: IPv6
	ipLen              int
	tcpFlags           string // tcpdump's [S], [S.], [R.] …
	icmpType, icmpCode int    // -1: not ICMP
	// tshark
	hook             int // -1: no NFULA_PACKET_HDR
	hwProto          int
	prefix           string
	mark             uint32
	inDev, outDev    uint32
	uid, gid         int // -1: absent
	hwHeader, hwAddr string
	hwType           int
	kernelTime       time.Time
}

// tcpdumpDecode is `tcpdump -r FILE -e -n -tt -vvv`, run now when tcpdump is
// installed (scripts/deps.d/nflog.sh installs it), else read from
// FILE.tcpdump-vvv.txt.gz (written by -update from a real run).
func tcpdumpDecode(t *testing.T, pcap string) string {
	t.Helper()
	return toolOutput(t, pcap, ".tcpdump-vvv.txt.gz", "tcpdump", "-r", pcap, "-e", "-n", "-tt", "-vvv")
}

// tsharkDecode is `tshark -r FILE -T pdml -J nflog`, the same way.
func tsharkDecode(t *testing.T, pcap string) string {
	t.Helper()
	return toolOutput(t, pcap, ".tshark-pdml.xml.gz", "tshark", "-r", pcap, "-T", "pdml", "-J", "nflog")
}

func toolOutput(t *testing.T, pcap, suffix string, args ...string) string {
	t.Helper()
	kept := pcap + suffix
	if _, err := exec.LookPath(args[0]); err != nil {
		if *update {
			t.Fatalf("-update needs %s", args[0])
		}
		f, err := os.Open(kept)
		if err != nil {
			t.Fatalf("%s is not installed and %s is missing: %v", args[0], kept, err)
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(z)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s not installed: using %s", args[0], kept)
		return string(b)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	if *update {
		var gz bytes.Buffer
		z := gzip.NewWriter(&gz)
		z.Write(out)
		z.Close()
		os.WriteFile(kept, gz.Bytes(), 0o644)
	}
	return string(out)
}

var (
	tdHead  = regexp.MustCompile(`^(\d+)\.(\d{6}) version 0, resource ID (\d+), family (IPv4|IPv6) \((\d+)\), length \d+: (.*)$`)
	tdIP4   = regexp.MustCompile(`^\(tos 0x([0-9a-f]+), ttl (\d+), id (\d+), offset \d+, flags \[[^\]]*\], proto \S+ \((\d+)\), length (\d+)\)`)
	tdIP6   = regexp.MustCompile(`^\((?:class 0x([0-9a-f]+), )?(?:flowlabel 0x[0-9a-f]+, )?hlim (\d+), next-header \S+ \((\d+)\),? payload length: (\d+)\)`)
	tdPorts = regexp.MustCompile(`^(\S+)\.(\d+) > (\S+)\.(\d+): (.*)$`)
	tdAddrs = regexp.MustCompile(`^(\S+) > (\S+): (.*)$`)
	tdFlags = regexp.MustCompile(`Flags \[([^\]]*)\]`)
)

// icmpByText maps tcpdump's ICMP and ICMPv6 descriptions to type and code.
var icmpByText = []struct {
	re        *regexp.Regexp
	typ, code int
}{
	{regexp.MustCompile(`^ICMP echo request`), 8, 0},
	{regexp.MustCompile(`^ICMP echo reply`), 0, 0},
	{regexp.MustCompile(`^ICMP \S+ udp port \d+ unreachable`), 3, 3},
	{regexp.MustCompile(`^ICMP \S+ tcp port \d+ unreachable`), 3, 3},
	{regexp.MustCompile(`ICMP6, echo request`), 128, 0},
	{regexp.MustCompile(`ICMP6, echo reply`), 129, 0},
	{regexp.MustCompile(`ICMP6, destination unreachable, unreachable port`), 1, 4},
	{regexp.MustCompile(`ICMP6, neighbor solicitation`), 135, 0},
	{regexp.MustCompile(`ICMP6, neighbor advertisement`), 136, 0},
}

// parseTcpdump reads tcpdump's -vvv -tt -n decode into one want per packet.
func parseTcpdump(t *testing.T, out string) []want {
	t.Helper()
	var ws []want
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		m := tdHead.FindStringSubmatch(lines[i])
		if m == nil {
			continue // a continuation line of the previous packet's decode
		}
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		usec, _ := strconv.ParseInt(m[2], 10, 64)
		g, _ := strconv.Atoi(m[3])
		w := want{time: time.Unix(sec, usec*1000).UTC(), group: uint16(g), sport: -1, dport: -1, icmpType: -1, icmpCode: -1,
			hook: -1, uid: -1, gid: -1, hwType: -1, hwProto: -1}
		rest := m[6]
		// The packet's decode continues on the indented lines that follow.
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "    ") {
			i++
			rest += " " + strings.TrimSpace(lines[i])
		}
		switch m[4] {
		case "IPv4":
			w.family = "inet"
			ip := tdIP4.FindStringSubmatch(rest)
			if ip == nil {
				t.Fatalf("tcpdump IPv4 header not understood: %q", rest)
			}
			tos, _ := strconv.ParseInt(ip[1], 16, 32)
			w.tos = int(tos)
			w.ttl, _ = strconv.Atoi(ip[2])
			w.ipid, _ = strconv.Atoi(ip[3])
			p, _ := strconv.Atoi(ip[4])
			w.proto = uint8(p)
			w.ipLen, _ = strconv.Atoi(ip[5])
			rest = strings.TrimSpace(rest[len(ip[0]):])
		case "IPv6":
			w.family, w.ipid = "inet6", -1
			ip := tdIP6.FindStringSubmatch(rest)
			if ip == nil {
				t.Fatalf("tcpdump IPv6 header not understood: %q", rest)
			}
			if ip[1] != "" {
				tc, _ := strconv.ParseInt(ip[1], 16, 32)
				w.tos = int(tc)
			}
			w.ttl, _ = strconv.Atoi(ip[2])
			p, _ := strconv.Atoi(ip[3])
			w.proto = uint8(p)
			pl, _ := strconv.Atoi(ip[4])
			w.ipLen = pl + 40
			rest = strings.TrimSpace(rest[len(ip[0]):])
		}
		if w.proto == 6 || w.proto == 17 || w.proto == 132 {
			pm := tdPorts.FindStringSubmatch(rest)
			if pm == nil {
				t.Fatalf("tcpdump ports not understood: %q", rest)
			}
			w.src, w.dst = pm[1], pm[3]
			w.sport, _ = strconv.Atoi(pm[2])
			w.dport, _ = strconv.Atoi(pm[4])
			if f := tdFlags.FindStringSubmatch(pm[5]); w.proto == 6 && f != nil {
				w.tcpFlags = f[1]
			}
		} else {
			am := tdAddrs.FindStringSubmatch(rest)
			if am == nil {
				t.Fatalf("tcpdump addresses not understood: %q", rest)
			}
			w.src, w.dst = am[1], am[2]
			if w.proto == 1 || w.proto == 58 {
				for _, ic := range icmpByText {
					if ic.re.MatchString(am[3]) {
						w.icmpType, w.icmpCode = ic.typ, ic.code
						break
					}
				}
				if w.icmpType < 0 {
					t.Fatalf("ICMP message tcpdump printed as %q: add it to icmpByText", am[3])
				}
			}
		}
		ws = append(ws, w)
	}
	return ws
}

// pdml is tshark's PDML, the parts read here.
type pdml struct {
	Packets []struct {
		Protos []struct {
			Name   string      `xml:"name,attr"`
			Fields []pdmlField `xml:"field"`
		} `xml:"proto"`
	} `xml:"packet"`
}

type pdmlField struct {
	Name   string      `xml:"name,attr"`
	Show   string      `xml:"show,attr"`
	Value  string      `xml:"value,attr"`
	Fields []pdmlField `xml:"field"`
}

// addTshark fills the TLV attributes of ws from tshark's PDML.
func addTshark(t *testing.T, out string, ws []want) {
	t.Helper()
	var doc pdml
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Packets) != len(ws) {
		t.Fatalf("tshark decoded %d packets, tcpdump %d", len(doc.Packets), len(ws))
	}
	num := func(s string) int64 {
		n, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			t.Fatalf("tshark value %q: %v", s, err)
		}
		return n
	}
	for i, p := range doc.Packets {
		w := &ws[i]
		for _, pr := range p.Protos {
			if pr.Name != "nflog" {
				continue
			}
			for _, f := range pr.Fields {
				if f.Name == "nflog.res_id" && uint16(num(f.Show)) != w.group {
					t.Fatalf("packet %d: tshark group %s, tcpdump %d", i+1, f.Show, w.group)
				}
				if f.Name != "nflog.tlv" {
					continue
				}
				var typ int64
				var value string
				for _, c := range f.Fields {
					switch c.Name {
					case "nflog.tlv_type":
						typ = num(c.Show)
					case "nflog.tlv_value":
						value = c.Value
					case "nflog.protocol":
						w.hwProto = int(num(c.Show))
					case "nflog.hook":
						w.hook = int(num(c.Show))
					case "nflog.prefix":
						w.prefix = c.Show
					case "nflog.ifindex_indev":
						w.inDev = uint32(num(c.Show))
					case "nflog.ifindex_outdev":
						w.outDev = uint32(num(c.Show))
					case "nflog.uid":
						w.uid = int(num(c.Show))
					case "nflog.gid":
						w.gid = int(num(c.Show))
					case "nflog.timestamp":
						// PDML's value is the 16-byte nflog_timestamp_t: be64 sec, be64 usec.
						b, err := hex.DecodeString(c.Value)
						if err != nil || len(b) != 16 {
							t.Fatalf("tshark timestamp value %q", c.Value)
						}
						w.kernelTime = time.Unix(int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:]))*1000).UTC()
					}
				}
				b, _ := hex.DecodeString(value)
				switch typ {
				case 2: // NFULA_MARK
					w.mark = binary.BigEndian.Uint32(b)
				case 8: // NFULA_HWADDR: be16 length, pad, address
					w.hwAddr = colonHex(b[4 : 4+binary.BigEndian.Uint16(b)])
				case 15: // NFULA_HWTYPE
					w.hwType = int(binary.BigEndian.Uint16(b))
				case 16: // NFULA_HWHEADER
					w.hwHeader = colonHex(b)
				}
			}
		}
	}
}

func colonHex(b []byte) string {
	var s []string
	for _, c := range b {
		s = append(s, fmt.Sprintf("%02x", c))
	}
	return strings.Join(s, ":")
}

// expectations decodes a capture with tcpdump and tshark.
func expectations(t *testing.T, pcap string) []want {
	t.Helper()
	ws := parseTcpdump(t, tcpdumpDecode(t, pcap))
	addTshark(t, tsharkDecode(t, pcap), ws)
	return ws
}

// eventsEmitter keeps what a FileReader emits.
type eventsEmitter struct {
	evs    []*normalize.Event
	failed []string
}

func (e *eventsEmitter) Messages(*inputs.Batch) { panic("the NFLOG capture reader emits events") }
func (e *eventsEmitter) Events(evs []*normalize.Event, done func()) {
	e.evs = append(e.evs, evs...)
	if done != nil {
		done()
	}
}
func (e *eventsEmitter) Failed(raw []byte, reason string, err error) {
	e.failed = append(e.failed, reason+": "+err.Error())
}

func replayCapture(t *testing.T, path string, o *Options) *eventsEmitter {
	t.Helper()
	cr, err := NewCaptureReader(o)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	em := &eventsEmitter{}
	if err := cr.ReadFile(context.Background(), filepath.Base(path), bufio.NewReader(f), em); err != nil {
		t.Fatal(err)
	}
	return em
}

func detailString(e *normalize.Event, key string) string {
	v := string(e.Details.Get(key))
	if s, err := strconv.Unquote(v); err == nil {
		return s
	}
	return v
}

// compare holds every event to what tcpdump and tshark decoded of the
// same packet.
func compare(t *testing.T, name string, evs []*normalize.Event, ws []want) {
	t.Helper()
	if len(evs) != len(ws) {
		t.Fatalf("%s: %d events, tcpdump decoded %d packets", name, len(evs), len(ws))
	}
	hooks := []string{"prerouting", "input", "forward", "output", "postrouting"}
	for i, e := range evs {
		w := ws[i]
		errf := func(field string, got, want any) {
			t.Errorf("%s packet %d: %s = %v, tcpdump/tshark say %v", name, i+1, field, got, want)
		}
		fw := e.Firewall
		if fw.Group != w.group {
			errf("firewall.group", fw.Group, w.group)
		}
		if got := detailString(e, "family"); got != w.family {
			errf("details.family", got, w.family)
		}
		if w.hook >= 0 {
			if got := detailString(e, "hook"); got != hooks[w.hook] {
				errf("details.hook", got, hooks[w.hook])
			}
			if got := detailString(e, "ethertype"); got != strconv.Itoa(w.hwProto) {
				errf("details.ethertype", got, w.hwProto)
			}
		}
		if fw.Prefix != strings.TrimRight(w.prefix, "\x00") {
			errf("firewall.prefix", fw.Prefix, w.prefix)
		}
		if fw.Mark != w.mark {
			errf("firewall.mark", fw.Mark, w.mark)
		}
		if got := detailString(e, "in_ifindex"); (w.inDev == 0 && got != "") || (w.inDev != 0 && got != strconv.Itoa(int(w.inDev))) {
			errf("details.in_ifindex", got, w.inDev)
		}
		if got := detailString(e, "out_ifindex"); (w.outDev == 0 && got != "") || (w.outDev != 0 && got != strconv.Itoa(int(w.outDev))) {
			errf("details.out_ifindex", got, w.outDev)
		}
		if (fw.UID == nil) != (w.uid < 0) || (fw.UID != nil && int(*fw.UID) != w.uid) {
			errf("firewall.uid", fw.UID, w.uid)
		}
		if (fw.GID == nil) != (w.gid < 0) || (fw.GID != nil && int(*fw.GID) != w.gid) {
			errf("firewall.gid", fw.GID, w.gid)
		}
		if got := detailString(e, "hw_header"); got != w.hwHeader {
			errf("details.hw_header", got, w.hwHeader)
		}
		if w.hwType >= 0 {
			if got := detailString(e, "hw_type"); got != strconv.Itoa(w.hwType) {
				errf("details.hw_type", got, w.hwType)
			}
		}
		switch {
		case len(w.hwHeader) >= 41 && (w.hwType == 1 || w.hwType == 772): // an Ethernet header: dst, src, type
			if e.DestMAC != w.hwHeader[0:17] || e.SrcMAC != w.hwHeader[18:35] {
				errf("dest_mac/src_mac", e.DestMAC+" "+e.SrcMAC, w.hwHeader[:35])
			}
		case w.hwAddr != "":
			if e.SrcMAC != w.hwAddr {
				errf("src_mac", e.SrcMAC, w.hwAddr)
			}
		}
		wantTime := w.time
		if !w.kernelTime.IsZero() {
			wantTime = w.kernelTime
		}
		if !e.Timestamp.Equal(wantTime) {
			errf("timestamp", e.Timestamp, wantTime)
		}
		if e.SrcIP.String() != w.src || e.DestIP.String() != w.dst {
			errf("src_ip/dest_ip", e.SrcIP.String()+" > "+e.DestIP.String(), w.src+" > "+w.dst)
		}
		if !e.HasProto || e.Proto != w.proto {
			errf("proto", e.Proto, w.proto)
		}
		if w.sport >= 0 && (!e.HasPorts || int(e.SrcPort) != w.sport || int(e.DestPort) != w.dport) {
			errf("ports", fmt.Sprint(e.SrcPort, " ", e.DestPort), fmt.Sprint(w.sport, " ", w.dport))
		}
		if w.icmpType >= 0 && (!e.HasICMP || int(e.ICMPType) != w.icmpType || int(e.ICMPCode) != w.icmpCode) {
			errf("icmp_type/icmp_code", fmt.Sprint(e.ICMPType, "/", e.ICMPCode), fmt.Sprint(w.icmpType, "/", w.icmpCode))
		}
		p := e.Packet
		if p == nil || int(p.TTL) != w.ttl || int(p.TOS) != w.tos || int(p.Len) != w.ipLen {
			errf("packet ttl/tos/len", p, fmt.Sprint(w.ttl, " ", w.tos, " ", w.ipLen))
		} else if w.ipid >= 0 && int(p.IPID) != w.ipid {
			errf("packet.ip_id", p.IPID, w.ipid)
		}
		if w.tcpFlags != "" && tcpdumpFlags(p.TCPFlags) != w.tcpFlags {
			errf("packet.tcp_flags", p.TCPFlags, w.tcpFlags)
		}
	}
}

// tcpdumpFlags writes alertgw's TCP flags (one letter each, FSRPAUEC
// order) as tcpdump does: S, F, R, P, then "." for ACK.
func tcpdumpFlags(f string) string {
	var b strings.Builder
	for _, c := range "SFRPUEW" {
		if strings.ContainsRune(f, c) {
			b.WriteRune(c)
		}
	}
	if strings.ContainsRune(f, 'A') {
		b.WriteByte('.')
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// The tcpdump project's own NFLOG capture (tests/nflog.pcap: four DNS
// answers logged to group 20) and its pcapng and big-endian forms: every
// event's attributes are what tcpdump -vvv and tshark decode of the same
// packet, labelled as the live input labels (group 20 allowed).
func TestReplayTcpdumpCapture(t *testing.T) {
	o := DefaultOptions()
	o.Groups = []GroupOptions{{Group: 20, Action: "allowed"}}
	for _, f := range []string{"tcpdump_nflog.pcap", "tcpdump_nflog.pcapng", "tcpdump_nflog-be.pcap"} {
		t.Run(f, func(t *testing.T) {
			path := filepath.Join("testdata", f)
			em := replayCapture(t, path, o)
			if len(em.failed) != 0 {
				t.Fatalf("failures: %v", em.failed)
			}
			compare(t, f, em.evs, expectations(t, path))
			for _, e := range em.evs {
				if e.Action != normalize.ActionAllowed {
					t.Errorf("action %s: group 20 is labelled allowed", e.Action)
				}
			}
		})
	}
}

// A capture of another link type is refused packet by packet (counted,
// dead-lettered); a file that is no capture fails.
func TestReplayNotNFLOG(t *testing.T) {
	em := replayCapture(t, "../../normalize/testdata/community-id/community-id-spec_tcp.pcap", DefaultOptions())
	if len(em.evs) != 0 || len(em.failed) == 0 || !strings.Contains(em.failed[0], "not NFLOG (239)") {
		t.Fatalf("events %d, failures %v", len(em.evs), em.failed)
	}
	cr, _ := NewCaptureReader(DefaultOptions())
	err := cr.ReadFile(context.Background(), "x", bufio.NewReader(strings.NewReader("not a capture at all")), &eventsEmitter{})
	if err == nil {
		t.Fatal("a file that is no capture was read")
	}
}
