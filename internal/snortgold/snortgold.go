// Package snortgold holds the ground-Truth readers shared by the Snort and
// unified2 golden tests: Snort's alert.fast and alert.csv lines, and the
// comparison of a normalized event against them. Test-only.
package snortgold

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/schematest"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/sigmap"
	"github.com/alertgw/alertgw/outputs/format"
)

// Sigs parses the signature-map files of a test into a Map: sid-msg.map
// files (v1 or v2) and one classification.config ("" for none).
func Sigs(t testing.TB, classification string, sidMsg ...string) *sigmap.Map {
	t.Helper()
	var tb sigmap.Tables
	parse := func(path string, fn func(io.Reader) error) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := fn(f); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	for _, p := range sidMsg {
		parse(p, tb.ParseSidMsg)
	}
	if classification != "" {
		parse(classification, tb.ParseClassification)
	}
	return sigmap.FromTables(&tb)
}

// ReadLines returns the lines of a text file (alert.fast, alert.csv).
func ReadLines(t *testing.T, path string) []string {
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

// Truth is one alert as the producing tool printed it.
type Truth struct {
	TS                 time.Time
	GID, SID, Rev      uint32
	Msg, Class         string
	Prio               uint32
	Proto              string // fast's {PROTO}
	Src, Dst           string
	Sport, Dport       string // "" when none
	SrcMAC, DstMAC     string
	TCPFlags           string // Snort's 8-char form, "" when not TCP
	TCPWin             string // hex
	TTL, TOS, IPID     string
	Dgmlen             string // IPv4 total length, IPv6 payload length
	ICMPType, ICMPCode string
	Drop               bool // "[Drop]" in alert.fast
	// noPacket: the datagram carries no packet (Snort 3 PDU alerts), so the
	// 5-tuple the text shows (from the flow) cannot be known.
	NoPacket bool
}

var fastRE = regexp.MustCompile(`^(\S+)\s+(?:\[Drop\] )?\[\*\*\] \[(\d+):(\d+):(\d+)\] (.*?) \[\*\*\] (?:\[Classification: (.*?)\] )?\[Priority: (\d+)\] \{(\S+)\} (\S+?)(?::(\d+))? -> (\S+?)(?::(\d+))?$`)

// Snort2Time parses "11/22/26-21:54:10.045820" (mm/dd/yy, UTC on the capture host).
func Snort2Time(t *testing.T, s string) time.Time {
	ts, err := time.Parse("01/02/06-15:04:05.000000", strings.TrimSpace(s))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// U32 parses a decimal uint32; 0 when it is not one.
func U32(s string) uint32 { n, _ := strconv.ParseUint(s, 10, 32); return uint32(n) }

// ParseFast reads one alert.fast line into its Truth.
func ParseFast(t *testing.T, line string) Truth {
	t.Helper()
	m := fastRE.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("unparsed fast line %q", line)
	}
	tr := Truth{TS: Snort2Time(t, m[1]), GID: U32(m[2]), SID: U32(m[3]), Rev: U32(m[4]), Msg: m[5], Class: m[6], Prio: U32(m[7]), Proto: m[8], Drop: strings.Contains(line, "[Drop]")}
	tr.Src, tr.Sport, tr.Dst, tr.Dport = m[9], m[10], m[11], m[12]
	// fast prints addr:port, even for IPv6: only TCP and UDP have ports.
	if tr.Proto != "TCP" && tr.Proto != "UDP" && tr.Sport != "" {
		tr.Src += ":" + tr.Sport
		tr.Dst += ":" + tr.Dport
		tr.Sport, tr.Dport = "", ""
	}
	return tr
}

// AddCSV adds Snort's default csv columns: timestamp,gid,sid,rev,msg,proto,
// src,srcport,dst,dstport,ethsrc,ethdst,ethlen,tcpflags,tcpseq,tcpack,tcplen,
// tcpwindow,ttl,tos,id,dgmlen,iplen,icmptype,icmpcode,icmpid,icmpseq.
func AddCSV(t *testing.T, tr *Truth, line string) {
	t.Helper()
	r, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil || len(r) != 27 {
		t.Fatalf("csv line %q: %v", line, err)
	}
	tr.Src, tr.Sport, tr.Dst, tr.Dport = r[6], r[7], r[8], r[9]
	tr.SrcMAC, tr.DstMAC = r[10], r[11]
	tr.TCPFlags, tr.TCPWin = r[13], r[17]
	tr.TTL, tr.TOS, tr.IPID, tr.Dgmlen = r[18], r[19], r[20], r[21]
	tr.ICMPType, tr.ICMPCode = r[23], r[24]
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

// SnortFlags turns Snort's "***AP***" (12UAPRSF) into FSRPAUEC letters.
func SnortFlags(s string) string {
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

// Check compares a normalized event with the Truth the producing tool
// printed, field by field.
func Check(t *testing.T, name string, ev *normalize.Event, tr Truth) {
	t.Helper()
	errf := func(field string, got, want any) {
		t.Errorf("%s: %s = %v, want %v", name, field, got, want)
	}
	ValidateSchema(t, ev)
	for _, f := range ev.Details {
		if !json.Valid(f.Value) {
			t.Errorf("%s: details.%s is not valid JSON: %s", name, f.Key, f.Value)
		}
	}
	if !ev.Timestamp.Equal(tr.TS) {
		errf("timestamp", ev.Timestamp, tr.TS)
	}
	s := ev.Signature
	if s.GID != tr.GID || s.ID != tr.SID || s.Rev != tr.Rev {
		errf("gid:sid:rev", [3]uint32{s.GID, s.ID, s.Rev}, [3]uint32{tr.GID, tr.SID, tr.Rev})
	}
	if s.Name != tr.Msg {
		errf("signature.name", s.Name, tr.Msg)
	}
	if s.Category != tr.Class {
		errf("signature.category", s.Category, tr.Class)
	}
	if s.Priority != tr.Prio {
		errf("signature.priority", s.Priority, tr.Prio)
	}
	// An alert without a packet says so (details.no_packet), and only then.
	if got := string(ev.Details.Get("no_packet")); (got == "true") != tr.NoPacket {
		errf("details.no_packet", got, tr.NoPacket)
	}
	if tr.NoPacket {
		if ev.SrcIP.IsValid() || ev.Packet != nil || ev.HasProto {
			t.Errorf("%s: an alert without a packet has a 5-tuple: %v %v %v", name, ev.SrcIP, ev.Packet, ev.Proto)
		}
		return
	}
	if ev.SrcIP != netip.MustParseAddr(tr.Src) || ev.DestIP != netip.MustParseAddr(tr.Dst) {
		errf("addresses", ev.SrcIP.String()+" -> "+ev.DestIP.String(), tr.Src+" -> "+tr.Dst)
	}
	wantProto, ok := normalize.ProtoNumber(tr.Proto)
	if !ok {
		t.Fatalf("%s: proto %q", name, tr.Proto)
	}
	if !ev.HasProto || ev.Proto != wantProto {
		errf("proto", ev.Proto, wantProto)
	}
	if tr.Sport != "" {
		if !ev.HasPorts || strconv.Itoa(int(ev.SrcPort)) != tr.Sport || strconv.Itoa(int(ev.DestPort)) != tr.Dport {
			errf("ports", [2]uint16{ev.SrcPort, ev.DestPort}, tr.Sport+"/"+tr.Dport)
		}
	} else if ev.HasPorts {
		errf("ports", [2]uint16{ev.SrcPort, ev.DestPort}, "none")
	}
	if tr.SrcMAC != "" && (ev.SrcMAC != mac(t, tr.SrcMAC) || ev.DestMAC != mac(t, tr.DstMAC)) {
		errf("macs", ev.SrcMAC+" "+ev.DestMAC, tr.SrcMAC+" "+tr.DstMAC)
	}
	p := ev.Packet
	if p == nil {
		t.Fatalf("%s: no packet fields", name)
	}
	if tr.TTL != "" && (!p.HasTTL || strconv.Itoa(int(p.TTL)) != tr.TTL) {
		errf("ttl", p.TTL, tr.TTL)
	}
	if tr.TOS != "" && strconv.Itoa(int(p.TOS)) != tr.TOS {
		errf("tos", p.TOS, tr.TOS)
	}
	v6 := ev.SrcIP.Is6()
	if tr.IPID != "" && !v6 && strconv.Itoa(int(p.IPID)) != tr.IPID {
		errf("ip id", p.IPID, tr.IPID)
	}
	if tr.Dgmlen != "" {
		want := U32(tr.Dgmlen)
		if v6 {
			want += 40 // Snort prints the IPv6 payload length
		}
		if p.Len != want {
			errf("packet.len", p.Len, want)
		}
	}
	if tr.TCPFlags != "" && p.TCPFlags != SnortFlags(tr.TCPFlags) {
		errf("tcp_flags", p.TCPFlags, SnortFlags(tr.TCPFlags))
	}
	if tr.TCPWin != "" {
		w, _ := strconv.ParseUint(strings.TrimPrefix(tr.TCPWin, "0x"), 16, 32)
		if uint64(p.TCPWindow) != w {
			errf("tcp_window", p.TCPWindow, w)
		}
	}
	if tr.ICMPType != "" && (!ev.HasICMP || strconv.Itoa(int(ev.ICMPType)) != tr.ICMPType || strconv.Itoa(int(ev.ICMPCode)) != tr.ICMPCode) {
		errf("icmp", [2]uint8{ev.ICMPType, ev.ICMPCode}, tr.ICMPType+"/"+tr.ICMPCode)
	}
}

// ValidateSchema completes a copy of ev as the pipeline would (id,
// received, source names, Community ID), encodes it in the native format
// and validates it against docs/schema/event-v1.json.
func ValidateSchema(t testing.TB, ev *normalize.Event) {
	t.Helper()
	e := *ev
	e.ID = "0123456789abcdef0123456789abcdef"
	e.Received = time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC)
	if e.Timestamp.IsZero() {
		e.Timestamp = e.Received
	}
	e.Source.Input, e.Source.Sensor = "test", "test-sensor"
	if e.CommunityID == "" {
		e.CommunityID = normalize.CommunityID(&e)
	}
	schematest.Validate(t, format.Native{}.AppendEvent(nil, &e))
}
