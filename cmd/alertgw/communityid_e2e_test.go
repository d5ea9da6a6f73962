package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/satta/gommunityid"

	"github.com/alertgw/alertgw/internal/testutil"
)

// The real binary with community_id.seed 1 for the gateway and seed 2 for
// one input: EVE records without community_id get the seed-1 IDs the
// Community ID spec publishes (baseline_seed1.json), a record that has one
// keeps the sensor's, Snort datagrams get seed-2 IDs and unified2 events
// (emitted by their input already normalized) seed-1 IDs, each checked
// against gommunityid, an independent implementation.
func TestE2ECommunityIDSeed(t *testing.T) {
	dir := shortDir(t)
	spool := filepath.Join(dir, "spool")
	os.Mkdir(spool, 0o755)
	g := &gateway{dir: dir, sock: filepath.Join(dir, "eve.sock"), events: filepath.Join(dir, "out", "events.json"),
		dead: filepath.Join(dir, "out", "deadletter.json"), log: filepath.Join(dir, "gateway.log")}
	snortSock := filepath.Join(dir, "snort_alert")
	cfg := fmt.Sprintf(`sensor: e2e
log: {level: info, format: json}
admin: {listen: ""}
dead_letter: {path: %s}
community_id: {seed: 1}
inputs:
  - name: eve
    type: suricata
    socket: %s
  - name: snort
    type: snort
    socket: %s
    community_id: {seed: 2}
  - name: u2
    type: unified2
    directory: %s
    prefix: snort.u2
    poll_interval: 20ms
    idle_flush: 100ms
outputs:
  - name: events
    type: file
    path: %s
`, g.dead, g.sock, snortSock, spool, g.events)
	cfgPath := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfgPath)
	g.start(t, g.sock)
	// Inputs bind one after another: the snort socket may come a moment later.
	waitFor(t, 10*time.Second, "the snort socket", func() bool {
		fi, err := os.Lstat(snortSock)
		return err == nil && fi.Mode()&os.ModeSocket != 0
	})

	// Two tuples of the spec's seed-1 baseline, and a record whose sensor
	// computed its own ID (kept as is).
	sendRecords(t, "dgram", g.sock, [][]byte{
		[]byte(`{"timestamp":"2024-01-01T00:00:00.000000+0000","event_type":"alert","src_ip":"128.232.110.120","src_port":34855,"dest_ip":"66.35.250.204","dest_port":80,"proto":"TCP","alert":{"signature_id":1,"signature":"baseline tcp"}}`),
		[]byte(`{"timestamp":"2024-01-01T00:00:00.000000+0000","event_type":"alert","src_ip":"8.8.8.8","src_port":53,"dest_ip":"192.168.1.52","dest_port":54585,"proto":"UDP","alert":{"signature_id":2,"signature":"baseline udp"}}`),
		[]byte(`{"timestamp":"2024-01-01T00:00:00.000000+0000","event_type":"alert","src_ip":"8.8.8.8","src_port":53,"dest_ip":"192.168.1.52","dest_port":54585,"proto":"UDP","community_id":"1:sensor's own","alert":{"signature_id":3,"signature":"sensor id"}}`),
	})
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: snortSock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(testutil.ReadGz(t, "../../normalize/snort/testdata/snort-3.12.2.0/unsock-0001.bin.gz")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	u2file, err := os.ReadFile("../../normalize/unified2/testdata/snort.u2.1795384908")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(spool, "snort.u2.1000"), u2file, 0o644)

	lines := waitLines(t, g.events, 3+1+23)
	g.stop(t)
	seen := map[string]int{}
	for _, l := range lines {
		var ev struct {
			Source      struct{ Input string }
			CommunityID string `json:"community_id"`
			Signature   struct{ Name string }
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		seen[ev.Source.Input]++
		switch ev.Signature.Name {
		case "baseline tcp":
			if want := "1:3V71V58M3Ksw/yuFALMcW0LAHvc="; ev.CommunityID != want {
				t.Errorf("EVE without community_id, seed 1: %s, want the baseline's %s", ev.CommunityID, want)
			}
			continue
		case "baseline udp":
			if want := "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="; ev.CommunityID != want {
				t.Errorf("EVE without community_id, seed 1: %s, want the baseline's %s", ev.CommunityID, want)
			}
			continue
		case "sensor id":
			if ev.CommunityID != "1:sensor's own" {
				t.Errorf("EVE with community_id: %s, want the sensor's", ev.CommunityID)
			}
			continue
		}
		seed := uint16(1)
		if ev.Source.Input == "snort" {
			seed = 2
		}
		if want := libraryCommunityID(t, l, seed); ev.CommunityID != want || want == "" {
			t.Errorf("%s event %s: community_id %q, want %q (seed %d)", ev.Source.Input, ev.Signature.Name, ev.CommunityID, want, seed)
		}
	}
	if seen["eve"] != 3 || seen["snort"] != 1 || seen["u2"] != 23 {
		t.Errorf("events per input: %v", seen)
	}
}

// libraryCommunityID computes, with gommunityid, the ID of the tuple an
// output line carries (ICMP type and code in place of the ports).
func libraryCommunityID(t *testing.T, line string, seed uint16) string {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatal(err)
	}
	num := func(m map[string]any, k string) (uint16, bool) {
		v, ok := m[k].(float64)
		return uint16(v), ok
	}
	src, err1 := netip.ParseAddr(fmt.Sprint(ev["src_ip"]))
	dst, err2 := netip.ParseAddr(fmt.Sprint(ev["dest_ip"]))
	proto, ok := num(ev, "proto")
	if err1 != nil || err2 != nil || !ok {
		return ""
	}
	sport, _ := num(ev, "src_port")
	dport, _ := num(ev, "dest_port")
	if proto == 1 || proto == 58 {
		typ, ok1 := num(ev, "icmp_type")
		code, ok2 := num(ev, "icmp_code")
		if !ok1 || !ok2 {
			t.Fatalf("ICMP event without icmp_type/icmp_code: %s", line)
		}
		sport, dport = typ, code
	}
	cid, _ := gommunityid.GetCommunityIDByVersion(1, seed)
	return cid.CalcBase64(gommunityid.MakeFlowTuple(net.IP(src.AsSlice()), net.IP(dst.AsSlice()), sport, dport, uint8(proto)))
}
