package snort

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/sigmap"
)

func readGz(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
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
	return b
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func testSigs(t *testing.T) *sigmap.Map {
	t.Helper()
	m, err := sigmap.Load(sigmap.Files{Classification: "testdata/classification.config"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// truth is one alert as the producing tool printed it.
type truth struct {
	ts                 time.Time
	gid, sid, rev      uint32
	msg, class         string
	prio               uint32
	proto              string // fast's {PROTO}
	src, dst           string
	sport, dport       string // "" when none
	srcMAC, dstMAC     string
	tcpFlags           string // Snort's 8-char form, "" when not TCP
	tcpWin             string // hex
	ttl, tos, ipid     string
	dgmlen             string // IPv4 total length, IPv6 payload length
	icmpType, icmpCode string
	// noPacket: the datagram carries no packet (Snort 3 PDU alerts), so the
	// 5-tuple the text shows (from the flow) cannot be known.
	noPacket bool
}

var fastRE = regexp.MustCompile(`^(\S+)\s+(?:\[Drop\] )?\[\*\*\] \[(\d+):(\d+):(\d+)\] (.*?) \[\*\*\] (?:\[Classification: (.*?)\] )?\[Priority: (\d+)\] \{(\S+)\} (\S+?)(?::(\d+))? -> (\S+?)(?::(\d+))?$`)

// snort2Time parses "11/22/26-21:54:10.045820" (mm/dd/yy, UTC on the capture host).
func snort2Time(t *testing.T, s string) time.Time {
	ts, err := time.Parse("01/02/06-15:04:05.000000", strings.TrimSpace(s))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func u32(s string) uint32 { n, _ := strconv.ParseUint(s, 10, 32); return uint32(n) }

func parseFast(t *testing.T, line string) truth {
	t.Helper()
	m := fastRE.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("unparsed fast line %q", line)
	}
	tr := truth{ts: snort2Time(t, m[1]), gid: u32(m[2]), sid: u32(m[3]), rev: u32(m[4]), msg: m[5], class: m[6], prio: u32(m[7]), proto: m[8]}
	tr.src, tr.sport, tr.dst, tr.dport = m[9], m[10], m[11], m[12]
	// fast prints addr:port, even for IPv6: only TCP and UDP have ports.
	if tr.proto != "TCP" && tr.proto != "UDP" && tr.sport != "" {
		tr.src += ":" + tr.sport
		tr.dst += ":" + tr.dport
		tr.sport, tr.dport = "", ""
	}
	return tr
}

// addCSV adds Snort's default csv columns: timestamp,gid,sid,rev,msg,proto,
// src,srcport,dst,dstport,ethsrc,ethdst,ethlen,tcpflags,tcpseq,tcpack,tcplen,
// tcpwindow,ttl,tos,id,dgmlen,iplen,icmptype,icmpcode,icmpid,icmpseq.
func addCSV(t *testing.T, tr *truth, line string) {
	t.Helper()
	r, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil || len(r) != 27 {
		t.Fatalf("csv line %q: %v", line, err)
	}
	tr.src, tr.sport, tr.dst, tr.dport = r[6], r[7], r[8], r[9]
	tr.srcMAC, tr.dstMAC = r[10], r[11]
	tr.tcpFlags, tr.tcpWin = r[13], r[17]
	tr.ttl, tr.tos, tr.ipid, tr.dgmlen = r[18], r[19], r[20], r[21]
	tr.icmpType, tr.icmpCode = r[23], r[24]
}

func mac(t *testing.T, s string) string {
	hw, err := net.ParseMAC(s)
	if err != nil {
		// Barnyard2 prints 2:0:A:63:0:1: pad each part.
		parts := strings.Split(s, ":")
		for i, p := range parts {
			if len(p) == 1 {
				parts[i] = "0" + p
			}
		}
		if hw, err = net.ParseMAC(strings.Join(parts, ":")); err != nil {
			t.Fatalf("mac %q: %v", s, err)
		}
	}
	return hw.String()
}

// snortFlags turns Snort's "***AP***" (12UAPRSF) into FSRPAUEC letters.
func snortFlags(s string) string {
	if len(s) != 8 {
		return ""
	}
	var out []byte
	for _, f := range []struct {
		pos int
		c   byte
	}{{7, 'F'}, {6, 'S'}, {5, 'R'}, {4, 'P'}, {3, 'A'}, {2, 'U'}, {1, 'E'}, {0, 'C'}} {
		if s[f.pos] != '*' {
			out = append(out, f.c)
		}
	}
	return string(out)
}

func check(t *testing.T, name string, ev *normalize.Event, tr truth) {
	t.Helper()
	errf := func(field string, got, want any) {
		t.Errorf("%s: %s = %v, want %v", name, field, got, want)
	}
	if !ev.Timestamp.Equal(tr.ts) {
		errf("timestamp", ev.Timestamp, tr.ts)
	}
	s := ev.Signature
	if s.GID != tr.gid || s.ID != tr.sid || s.Rev != tr.rev {
		errf("gid:sid:rev", [3]uint32{s.GID, s.ID, s.Rev}, [3]uint32{tr.gid, tr.sid, tr.rev})
	}
	if s.Name != tr.msg {
		errf("signature.name", s.Name, tr.msg)
	}
	if s.Category != tr.class {
		errf("signature.category", s.Category, tr.class)
	}
	if s.Priority != tr.prio {
		errf("signature.priority", s.Priority, tr.prio)
	}
	if tr.noPacket {
		if ev.SrcIP.IsValid() || ev.Packet != nil || ev.HasProto {
			t.Errorf("%s: an alert without a packet has a 5-tuple: %v %v %v", name, ev.SrcIP, ev.Packet, ev.Proto)
		}
		return
	}
	if ev.SrcIP != netip.MustParseAddr(tr.src) || ev.DestIP != netip.MustParseAddr(tr.dst) {
		errf("addresses", ev.SrcIP.String()+" -> "+ev.DestIP.String(), tr.src+" -> "+tr.dst)
	}
	wantProto, ok := normalize.ProtoNumber(tr.proto)
	if !ok {
		t.Fatalf("%s: proto %q", name, tr.proto)
	}
	if !ev.HasProto || ev.Proto != wantProto {
		errf("proto", ev.Proto, wantProto)
	}
	if tr.sport != "" {
		if !ev.HasPorts || strconv.Itoa(int(ev.SrcPort)) != tr.sport || strconv.Itoa(int(ev.DestPort)) != tr.dport {
			errf("ports", [2]uint16{ev.SrcPort, ev.DestPort}, tr.sport+"/"+tr.dport)
		}
	} else if ev.HasPorts {
		errf("ports", [2]uint16{ev.SrcPort, ev.DestPort}, "none")
	}
	if tr.srcMAC != "" && (ev.SrcMAC != mac(t, tr.srcMAC) || ev.DestMAC != mac(t, tr.dstMAC)) {
		errf("macs", ev.SrcMAC+" "+ev.DestMAC, tr.srcMAC+" "+tr.dstMAC)
	}
	p := ev.Packet
	if p == nil {
		t.Fatalf("%s: no packet fields", name)
	}
	if tr.ttl != "" && (!p.HasTTL || strconv.Itoa(int(p.TTL)) != tr.ttl) {
		errf("ttl", p.TTL, tr.ttl)
	}
	if tr.tos != "" && strconv.Itoa(int(p.TOS)) != tr.tos {
		errf("tos", p.TOS, tr.tos)
	}
	v6 := ev.SrcIP.Is6()
	if tr.ipid != "" && !v6 && strconv.Itoa(int(p.IPID)) != tr.ipid {
		errf("ip id", p.IPID, tr.ipid)
	}
	if tr.dgmlen != "" {
		want := u32(tr.dgmlen)
		if v6 {
			want += 40 // Snort prints the IPv6 payload length
		}
		if p.Len != want {
			errf("packet.len", p.Len, want)
		}
	}
	if tr.tcpFlags != "" && p.TCPFlags != snortFlags(tr.tcpFlags) {
		errf("tcp_flags", p.TCPFlags, snortFlags(tr.tcpFlags))
	}
	if tr.tcpWin != "" {
		w, _ := strconv.ParseUint(strings.TrimPrefix(tr.tcpWin, "0x"), 16, 32)
		if uint64(p.TCPWindow) != w {
			errf("tcp_window", p.TCPWindow, w)
		}
	}
	if tr.icmpType != "" && (!ev.HasICMP || strconv.Itoa(int(ev.ICMPType)) != tr.icmpType || strconv.Itoa(int(ev.ICMPCode)) != tr.icmpCode) {
		errf("icmp", [2]uint8{ev.ICMPType, ev.ICMPCode}, tr.icmpType+"/"+tr.icmpCode)
	}
}

func datagramLine(t *testing.T, path string) int {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "unsock-"), ".bin.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func decodeFile(t *testing.T, d *Decoder, path string) *normalize.Event {
	t.Helper()
	var ev normalize.Event
	if err := d.Decode(readGz(t, path), &ev); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &ev
}

// Snort 2.9.20 (OpenAppID build, 65928 bytes and the plain build, 65864):
// every datagram against its alert.fast line, plus alert.csv where the run
// wrote one.
func TestGoldenSnort2(t *testing.T) {
	d := &Decoder{Sigs: testSigs(t)}
	for _, dir := range []string{"snort-2.9.20", "snort-2.9.20-no-openappid"} {
		fast := readLines(t, filepath.Join("testdata", dir, "alert.fast"))
		var csvLines []string
		if _, err := os.Stat(filepath.Join("testdata", dir, "alert.csv")); err == nil {
			csvLines = readLines(t, filepath.Join("testdata", dir, "alert.csv"))
		}
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "unsock-*.bin.gz"))
		if len(files) < 2 {
			t.Fatalf("%s: too few datagrams", dir)
		}
		for _, f := range files {
			n := datagramLine(t, f)
			tr := parseFast(t, fast[n-1])
			if csvLines != nil {
				addCSV(t, &tr, csvLines[n-1])
			}
			ev := decodeFile(t, d, f)
			check(t, f, ev, tr)
			wantVariant := `"snort2"`
			if dir == "snort-2.9.20" {
				wantVariant = `"snort2_openappid"`
			}
			if got := string(ev.Details.Get("variant")); got != wantVariant {
				t.Errorf("%s: variant %s, want %s", f, got, wantVariant)
			}
			if got := string(ev.Details.Get("event_id")); got != strconv.Itoa(n) {
				t.Errorf("%s: event_id %s, want %d (one event per line)", f, got, n)
			}
			if ev.Action != normalize.ActionUnknown || ev.Kind != normalize.KindAlert || ev.Source.Type != "snort" {
				t.Errorf("%s: action/kind/source %s %s %s", f, ev.Action, ev.Kind, ev.Source.Type)
			}
		}
	}
}

// Snort 3.12.2.0: every datagram against its alert_json line.
func TestGoldenSnort3(t *testing.T) {
	d := &Decoder{Sigs: testSigs(t)}
	lines := readLines(t, "testdata/snort-3.12.2.0/alert_json.txt")
	files, _ := filepath.Glob("testdata/snort-3.12.2.0/unsock-*.bin.gz")
	for _, f := range files {
		n := datagramLine(t, f)
		var j struct {
			Timestamp     string
			Seconds       int64
			PktLen        int    `json:"pkt_len"`
			Proto         string `json:"proto"`
			SrcAddr       string `json:"src_addr"`
			DstAddr       string `json:"dst_addr"`
			SrcPort       *int   `json:"src_port"`
			DstPort       *int   `json:"dst_port"`
			GID, SID, Rev uint32
			Msg, Class    string
			Priority      uint32
			EthSrc        string `json:"eth_src"`
			EthDst        string `json:"eth_dst"`
			TTL           *int   `json:"ttl"`
			TOS           *int   `json:"tos"`
			IPID          *int   `json:"ip_id"`
			ICMPType      *int   `json:"icmp_type"`
			ICMPCode      *int   `json:"icmp_code"`
		}
		if err := json.Unmarshal([]byte(lines[n-1]), &j); err != nil {
			t.Fatal(err)
		}
		ts, err := time.Parse("06/01/02-15:04:05.000000", j.Timestamp)
		if err != nil {
			t.Fatal(err)
		}
		tr := truth{ts: ts, gid: j.GID, sid: j.SID, rev: j.Rev, msg: j.Msg, class: j.Class, prio: j.Priority,
			proto: j.Proto, src: j.SrcAddr, dst: j.DstAddr, srcMAC: j.EthSrc, dstMAC: j.EthDst}
		if strings.Contains(j.SrcAddr, ":") && j.Proto == "ICMP" {
			tr.proto = "ipv6-icmp" // Snort 3 prints ICMP for ICMPv6 too
		}
		itoa := func(p *int) string {
			if p == nil {
				return ""
			}
			return strconv.Itoa(*p)
		}
		tr.sport, tr.dport = itoa(j.SrcPort), itoa(j.DstPort)
		tr.ttl, tr.tos, tr.ipid = itoa(j.TTL), itoa(j.TOS), itoa(j.IPID)
		tr.icmpType, tr.icmpCode = itoa(j.ICMPType), itoa(j.ICMPCode)
		ev := decodeFile(t, d, f)
		// PDU alerts (alert_json pkt_gen != raw and no eth_src) arrive
		// with caplen 0: no packet, whatever the text says from the flow.
		if j.EthSrc == "" {
			tr.noPacket = true
		}
		check(t, f, ev, tr)
		if !tr.noPacket && ev.Packet.Len != uint32(j.PktLen) {
			t.Errorf("%s: packet.len %d, want pkt_len %d", f, ev.Packet.Len, j.PktLen)
		}
		if got := string(ev.Details.Get("variant")); got != `"snort3"` {
			t.Errorf("%s: variant %s", f, got)
		}
	}
}

// Barnyard2 2.1.14 read the Snort 2.9.20 run's unified2 file: its own text
// output is the truth for the signature; for the 5-tuple its csv prints
// 0.0.0.0 on IPv6 (Barnyard2 does not decode it), so the Snort csv of the
// same event (same line) is used there.
func TestGoldenBarnyard2(t *testing.T) {
	d := &Decoder{Sigs: testSigs(t)}
	fast := readLines(t, "testdata/barnyard2-2.1.14/by2-alert.fast")
	by2CSV := readLines(t, "testdata/barnyard2-2.1.14/by2-alert.csv")
	snortCSV := readLines(t, "testdata/snort-2.9.20/alert.csv")
	snortFast := readLines(t, "testdata/snort-2.9.20/alert.fast")
	files, _ := filepath.Glob("testdata/barnyard2-2.1.14/unsock-*.bin.gz")
	for _, f := range files {
		n := datagramLine(t, f)
		tr := parseFast(t, fast[n-1])
		if tr.src == "0.0.0.0" {
			st := parseFast(t, snortFast[n-1])
			tr.proto, tr.src, tr.dst, tr.sport, tr.dport = st.proto, st.src, st.dst, st.sport, st.dport
			addCSV(t, &tr, snortCSV[n-1])
		} else {
			addCSV(t, &tr, by2CSV[n-1])
		}
		ev := decodeFile(t, d, f)
		check(t, f, ev, tr)
		if ev.Source.Type != "barnyard2" {
			t.Errorf("%s: source %s", f, ev.Source.Type)
		}
		if n == 11 && string(ev.Details.Get("packet_truncated")) != "true" {
			t.Errorf("%s: caplen 3042 > 1514 bytes sent, want packet_truncated", f)
		}
	}
}
