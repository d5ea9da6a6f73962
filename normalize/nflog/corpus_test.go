package nflog

import (
	"bufio"
	"errors"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/alertgw/alertgw/internal/nativetest"
	"github.com/alertgw/alertgw/internal/schematest"
	"github.com/alertgw/alertgw/normalize"
)

const corpusPcap = "testdata/nflog-netlink_generated_linktype253.pcap"
const corpusDump = "testdata/nflog-netlink_generated_linktype253.decoded.txt"

// readDatagrams returns every pcap record of the corpus capture: one recv()
// buffer each.
func readDatagrams(t testing.TB) [][]byte {
	t.Helper()
	f, err := os.Open(corpusPcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
}

// expectedMsg is one message of the decoded dump.
type expectedMsg struct {
	done             bool
	family           uint8
	group            uint16
	proto            uint16
	hook             uint8
	prefix           string
	indev, outdev    uint32
	mark             uint32
	uid, gid         int64 // -1: absent
	ts               [2]int64
	hasTS            bool
	seq, seqGlobal   int64
	payloadLen       int
	hwaddr, hwheader bool
	hwtype           bool
}

var (
	reKV     = regexp.MustCompile(`(\w+)=(\S+)`)
	rePrefix = regexp.MustCompile(`PREFIX=b'([^']*)'`)
	reHdr    = regexp.MustCompile(`HDR\(proto=0x([0-9a-f]+),hook=(\d+)\)`)
	reTS     = regexp.MustCompile(`TS=\((\d+), (\d+)\)`)
	rePay    = regexp.MustCompile(`PAYLOAD\[(\d+)\]`)
)

func parseDump(t *testing.T) [][]expectedMsg {
	t.Helper()
	f, err := os.Open(corpusDump)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]expectedMsg
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		// "N LEN msg | msg | DONE"
		fields := strings.SplitN(line, " ", 3)
		var msgs []expectedMsg
		for _, part := range strings.Split(fields[2], " | ") {
			part = strings.TrimSpace(part)
			if part == "DONE" {
				msgs = append(msgs, expectedMsg{done: true})
				continue
			}
			m := expectedMsg{uid: -1, gid: -1, seq: -1, seqGlobal: -1}
			kv := map[string]string{}
			for _, s := range reKV.FindAllStringSubmatch(part, -1) {
				kv[s[1]] = s[2]
			}
			num := func(k string) int64 {
				v, ok := kv[k]
				if !ok {
					return -1
				}
				n, err := strconv.ParseInt(v, 0, 64)
				if err != nil {
					t.Fatalf("dump %q: %s=%q", line, k, v)
				}
				return n
			}
			m.family, m.group = uint8(num("fam")), uint16(num("group"))
			if h := reHdr.FindStringSubmatch(part); h != nil {
				p, _ := strconv.ParseUint(h[1], 16, 16)
				k, _ := strconv.Atoi(h[2])
				m.proto, m.hook = uint16(p), uint8(k)
			}
			if p := rePrefix.FindStringSubmatch(part); p != nil {
				m.prefix = strings.ReplaceAll(p[1], `\x00`, "\x00")
			}
			if n := num("IFINDEX_INDEV"); n >= 0 {
				m.indev = uint32(n)
			}
			if n := num("IFINDEX_OUTDEV"); n >= 0 {
				m.outdev = uint32(n)
			}
			if n := num("MARK"); n >= 0 {
				m.mark = uint32(n)
			}
			m.uid, m.gid, m.seq, m.seqGlobal = num("UID"), num("GID"), num("SEQ"), num("SEQ_GLOBAL")
			if ts := reTS.FindStringSubmatch(part); ts != nil {
				m.ts[0], _ = strconv.ParseInt(ts[1], 10, 64)
				m.ts[1], _ = strconv.ParseInt(ts[2], 10, 64)
				m.hasTS = true
			}
			if p := rePay.FindStringSubmatch(part); p != nil {
				m.payloadLen, _ = strconv.Atoi(p[1])
			}
			m.hwaddr = strings.Contains(part, "HWADDR[")
			m.hwheader = strings.Contains(part, "HWHEADER[")
			m.hwtype = strings.Contains(part, "HWTYPE[")
			msgs = append(msgs, m)
		}
		out = append(out, msgs)
	}
	return out
}

// TestCorpusAttributes checks every message of the capture against the
// decoded dump, attribute by attribute.
func TestCorpusAttributes(t *testing.T) {
	dgrams := readDatagrams(t)
	want := parseDump(t)
	if len(dgrams) != len(want) || len(dgrams) != 24 {
		t.Fatalf("%d datagrams, %d dump lines; want 24 each", len(dgrams), len(want))
	}
	total := 0
	for i, dg := range dgrams {
		rest := dg
		for j, w := range want[i] {
			msg, typ, r, err := NextMessage(rest)
			if err != nil {
				t.Fatalf("datagram %d message %d: %v", i+1, j, err)
			}
			rest = r
			if w.done {
				if typ != msgDone {
					t.Errorf("datagram %d message %d: type 0x%x, want DONE", i+1, j, typ)
				}
				var a Attrs
				if err := ParseMessage(msg, &a); !errors.Is(err, ErrNotPacket) {
					t.Errorf("DONE parsed as packet: %v", err)
				}
				continue
			}
			var a Attrs
			if err := ParseMessage(msg, &a); err != nil {
				t.Fatalf("datagram %d message %d: %v", i+1, j, err)
			}
			total++
			check := func(name string, got, want any) {
				t.Helper()
				if got != want {
					t.Errorf("datagram %d message %d %s: got %v, want %v", i+1, j, name, got, want)
				}
			}
			check("family", a.Family, w.family)
			check("group", a.Group, w.group)
			check("hw_protocol", a.HwProtocol, w.proto)
			check("hook", a.Hook, w.hook)
			check("prefix", string(a.Prefix), w.prefix)
			check("indev", a.InDev, w.indev)
			check("outdev", a.OutDev, w.outdev)
			check("mark", a.Mark, w.mark)
			check("uid", a.HasUID, w.uid >= 0)
			if w.uid >= 0 {
				check("uid value", int64(a.UID), w.uid)
				check("gid value", int64(a.GID), w.gid)
			}
			check("seq", a.HasSeq, w.seq >= 0)
			if w.seq >= 0 {
				check("seq value", int64(a.Seq), w.seq)
				check("seq_global value", int64(a.SeqGlobal), w.seqGlobal)
			}
			check("timestamp present", !a.Timestamp.IsZero(), w.hasTS)
			if w.hasTS {
				check("timestamp", a.Timestamp, time.Unix(w.ts[0], w.ts[1]*1000).UTC())
			}
			check("payload", len(a.Payload), w.payloadLen)
			check("hwaddr", a.HwAddr != nil, w.hwaddr)
			check("hwheader", a.HwHeader != nil, w.hwheader)
			check("hwtype", a.HasHwTyp, w.hwtype)
		}
		if len(rest) != 0 {
			t.Errorf("datagram %d: %d bytes left after the dump's messages", i+1, len(rest))
		}
	}
	if total != 29 {
		t.Errorf("%d packet messages, want 29", total)
	}
}

// TestCorpusEvents decodes every packet of the capture into an event and
// checks what the dump and the nft rules (corpus README) say it must be.
func TestCorpusEvents(t *testing.T) {
	lab, err := NewLabeler(map[uint16]normalize.Action{5: normalize.ActionAllowed, 6: normalize.ActionUnknown},
		[]PrefixRule{{Glob: "*-DROP *", Action: normalize.ActionBlocked}})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(lab, IfaceMap{1: "lo"})
	recv := time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC)
	counts := map[string]int{}
	for i, dg := range readDatagrams(t) {
		for rest := dg; len(rest) > 0; {
			msg, typ, r, err := NextMessage(rest)
			if err != nil {
				t.Fatal(err)
			}
			rest = r
			if typ != MsgPacket {
				continue
			}
			var a Attrs
			if err := ParseMessage(msg, &a); err != nil {
				t.Fatal(err)
			}
			var rec Record
			d.Decode(&a, recv, &rec)
			e := &rec.Event
			name := strings.TrimRight(string(a.Prefix), "\x00 ")
			counts[name]++
			if e.Kind != normalize.KindPacket || e.Firewall == nil || e.Firewall.Prefix != strings.TrimRight(string(a.Prefix), "\x00") {
				t.Fatalf("datagram %d: kind %q firewall %+v", i+1, e.Kind, e.Firewall)
			}
			if e.Packet == nil || !e.SrcIP.IsValid() {
				t.Fatalf("datagram %d (%s): no IP decoded: %+v", i+1, name, e)
			}
			if _, bad := detail(e, "payload_error"); bad {
				t.Errorf("datagram %d (%s): payload_error %s", i+1, name, e.Details.Get("payload_error"))
			}
			if a.Timestamp.IsZero() != e.Timestamp.Equal(recv) {
				t.Errorf("datagram %d: timestamp %v (kernel %v)", i+1, e.Timestamp, a.Timestamp)
			}
			if e.Firewall.Mark != 42 {
				t.Errorf("mark %d, want 42", e.Firewall.Mark)
			}
			switch name {
			case "ICMP-IN-ACCEPT":
				// Echo requests from ping, and the port-unreachable errors
				// the UDP datagrams caused.
				want4(t, e, 1, "127.0.0.1", "127.0.0.1")
				if !e.HasICMP || (e.ICMPType != 8 && e.ICMPType != 0 && e.ICMPType != 3) {
					t.Errorf("ICMP type %d", e.ICMPType)
				}
				if e.Action != normalize.ActionAllowed || e.Firewall.InIface != "lo" || e.InIface != "lo" {
					t.Errorf("action %s iface %q", e.Action, e.Firewall.InIface)
				}
				if e.SrcMAC != "00:00:00:00:00:00" {
					t.Errorf("src mac %q", e.SrcMAC)
				}
			case "ICMP6-IN":
				if e.Proto != 58 || e.SrcIP.String() != "::1" || !e.HasICMP || e.ICMPType != 128 || e.Packet.TTL != 64 {
					t.Errorf("ICMPv6: %+v %+v", e, e.Packet)
				}
				if v, _ := detail(e, "family"); v != `"inet6"` {
					t.Errorf("family %s", v)
				}
			case "TCP-IN-DROP":
				want4(t, e, 6, "127.0.0.1", "127.0.0.1")
				if e.DestPort != 9999 || !e.HasPorts || e.Packet.TCPFlags != "S" || e.Packet.TCPSeq == 0 || e.Packet.TCPWindow == 0 {
					t.Errorf("TCP: ports %d→%d flags %q", e.SrcPort, e.DestPort, e.Packet.TCPFlags)
				}
				if e.Action != normalize.ActionBlocked {
					t.Errorf("TCP-IN-DROP action %s, want blocked (prefix rule)", e.Action)
				}
				if v, _ := detail(e, "hook"); v != `"input"` {
					t.Errorf("hook %s", v)
				}
			case "UDP-OUT-MARK":
				want4(t, e, 17, "127.0.0.1", "127.0.0.1")
				if e.DestPort != 5353 || e.Firewall.UID == nil || *e.Firewall.UID != 0 || e.Firewall.GID == nil {
					t.Errorf("UDP out: dport %d uid %v", e.DestPort, e.Firewall.UID)
				}
				if e.Firewall.OutIface != "lo" || e.Firewall.InIface != "" {
					t.Errorf("UDP out ifaces %q/%q", e.Firewall.InIface, e.Firewall.OutIface)
				}
				if v, _ := detail(e, "hook"); v != `"output"` {
					t.Errorf("hook %s", v)
				}
			case "UDP-BATCH":
				want4(t, e, 17, "127.0.0.1", "127.0.0.1")
				if e.DestPort != 5353 || e.Action != normalize.ActionUnknown {
					t.Errorf("UDP batch: dport %d action %s", e.DestPort, e.Action)
				}
			case "CT-NEW":
				want4(t, e, 6, "127.0.0.1", "127.0.0.1")
				if e.DestPort != 8080 || e.Action != normalize.ActionUnknown {
					t.Errorf("CT-NEW: dport %d action %s", e.DestPort, e.Action)
				}
			default:
				t.Errorf("unexpected prefix %q", name)
			}
			if cid := normalize.CommunityID(e); !strings.HasPrefix(cid, "1:") {
				t.Errorf("community id %q", cid)
			}
			validateNative(t, e)
		}
	}
	want := map[string]int{"ICMP-IN-ACCEPT": 11, "ICMP6-IN": 1, "TCP-IN-DROP": 2, "UDP-OUT-MARK": 7, "UDP-BATCH": 7, "CT-NEW": 1}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: %d events, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
}

// validateNative encodes e as the pipeline would (id, source and Community
// ID filled in) and checks the line against docs/schema/event-v1.json.
func validateNative(t *testing.T, e *normalize.Event) {
	t.Helper()
	c := *e
	c.ID, c.Source.Input, c.Source.Sensor = "0123456789abcdef0123456789abcdef", "fw", "test"
	c.CommunityID = normalize.CommunityID(&c)
	schematest.Validate(t, nativetest.Line(&c))
}

func want4(t *testing.T, e *normalize.Event, proto uint8, src, dst string) {
	t.Helper()
	if !e.HasProto || e.Proto != proto || e.SrcIP.String() != src || e.DestIP.String() != dst {
		t.Errorf("got proto %d %s→%s, want %d %s→%s", e.Proto, e.SrcIP, e.DestIP, proto, src, dst)
	}
	if e.Packet.Len == 0 || !e.Packet.HasTTL {
		t.Errorf("packet fields missing: %+v", e.Packet)
	}
}

func detail(e *normalize.Event, key string) (string, bool) {
	v := e.Details.Get(key)
	return string(v), v != nil
}
