package snort

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/snortgold"
	"github.com/alertgw/alertgw/internal/testutil"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/sigmap"
)

func readGz(t testing.TB, path string) []byte { return testutil.ReadGz(t, path) }

func testSigs(t *testing.T) *sigmap.Map {
	t.Helper()
	return snortgold.Sigs(t, "testdata/classification.config")
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
		fast := snortgold.ReadLines(t, filepath.Join("testdata", dir, "alert.fast"))
		var csvLines []string
		if _, err := os.Stat(filepath.Join("testdata", dir, "alert.csv")); err == nil {
			csvLines = snortgold.ReadLines(t, filepath.Join("testdata", dir, "alert.csv"))
		}
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "unsock-*.bin.gz"))
		if len(files) < 2 {
			t.Fatalf("%s: too few datagrams", dir)
		}
		for _, f := range files {
			n := datagramLine(t, f)
			tr := snortgold.ParseFast(t, fast[n-1])
			if csvLines != nil {
				snortgold.AddCSV(t, &tr, csvLines[n-1])
			}
			ev := decodeFile(t, d, f)
			snortgold.Check(t, f, ev, tr)
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
	lines := snortgold.ReadLines(t, "testdata/snort-3.12.2.0/alert_json.txt")
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
		tr := snortgold.Truth{TS: ts, GID: j.GID, SID: j.SID, Rev: j.Rev, Msg: j.Msg, Class: j.Class, Prio: j.Priority,
			Proto: j.Proto, Src: j.SrcAddr, Dst: j.DstAddr, SrcMAC: j.EthSrc, DstMAC: j.EthDst}
		if strings.Contains(j.SrcAddr, ":") && j.Proto == "ICMP" {
			tr.Proto = "ipv6-icmp" // Snort 3 prints ICMP for ICMPv6 too
		}
		itoa := func(p *int) string {
			if p == nil {
				return ""
			}
			return strconv.Itoa(*p)
		}
		tr.Sport, tr.Dport = itoa(j.SrcPort), itoa(j.DstPort)
		tr.TTL, tr.TOS, tr.IPID = itoa(j.TTL), itoa(j.TOS), itoa(j.IPID)
		tr.ICMPType, tr.ICMPCode = itoa(j.ICMPType), itoa(j.ICMPCode)
		ev := decodeFile(t, d, f)
		// PDU alerts (alert_json pkt_gen != raw and no eth_src) arrive
		// with caplen 0: no packet, whatever the text says from the flow.
		if j.EthSrc == "" {
			tr.NoPacket = true
		}
		snortgold.Check(t, f, ev, tr)
		if !tr.NoPacket && ev.Packet.Len != uint32(j.PktLen) {
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
	fast := snortgold.ReadLines(t, "testdata/barnyard2-2.1.14/by2-alert.fast")
	by2CSV := snortgold.ReadLines(t, "testdata/barnyard2-2.1.14/by2-alert.csv")
	snortCSV := snortgold.ReadLines(t, "testdata/snort-2.9.20/alert.csv")
	snortFast := snortgold.ReadLines(t, "testdata/snort-2.9.20/alert.fast")
	files, _ := filepath.Glob("testdata/barnyard2-2.1.14/unsock-*.bin.gz")
	for _, f := range files {
		n := datagramLine(t, f)
		tr := snortgold.ParseFast(t, fast[n-1])
		if tr.Src == "0.0.0.0" {
			st := snortgold.ParseFast(t, snortFast[n-1])
			tr.Proto, tr.Src, tr.Dst, tr.Sport, tr.Dport = st.Proto, st.Src, st.Dst, st.Sport, st.Dport
			snortgold.AddCSV(t, &tr, snortCSV[n-1])
		} else {
			snortgold.AddCSV(t, &tr, by2CSV[n-1])
		}
		ev := decodeFile(t, d, f)
		snortgold.Check(t, f, ev, tr)
		if ev.Source.Type != "barnyard2" {
			t.Errorf("%s: source %s", f, ev.Source.Type)
		}
		if n == 11 && string(ev.Details.Get("packet_truncated")) != "true" {
			t.Errorf("%s: caplen 3042 > 1514 bytes sent, want packet_truncated", f)
		}
	}
}
