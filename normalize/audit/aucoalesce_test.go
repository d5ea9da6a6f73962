package audit

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/alertgw/alertgw/normalize"
)

// aucoalesceCase is one test of go-libaudit's aucoalesce goldens: the
// records of one event and what aucoalesce (and so Auditbeat and Filebeat)
// made of its addresses.
type aucoalesceCase struct {
	name    string
	records string
	src     endpoint
	dst     endpoint
}

type endpoint struct {
	IP   string `json:"ip"`
	Port string `json:"port"`
}

func loadAucoalesce(t *testing.T, base string) []aucoalesceCase {
	t.Helper()
	dir := filepath.Join("testdata", "aucoalesce")
	y, err := os.ReadFile(filepath.Join(dir, base+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tests struct{ Tests map[string]string }
	if err := yaml.Unmarshal(y, &tests); err != nil {
		t.Fatal(err)
	}
	g, err := os.ReadFile(filepath.Join(dir, base+".json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var golden []struct {
		TestName string `json:"test_name"`
		Event    struct {
			Source      *endpoint `json:"source"`
			Destination *endpoint `json:"destination"`
		} `json:"event"`
	}
	if err := json.Unmarshal(g, &golden); err != nil {
		t.Fatal(err)
	}
	var out []aucoalesceCase
	for _, gc := range golden {
		rec, ok := tests.Tests[gc.TestName]
		if !ok {
			t.Fatalf("%s: golden %q has no records in the yaml", base, gc.TestName)
		}
		c := aucoalesceCase{name: base + "/" + gc.TestName, records: rec}
		if gc.Event.Source != nil {
			c.src = *gc.Event.Source
		}
		if gc.Event.Destination != nil {
			c.dst = *gc.Event.Destination
		}
		out = append(out, c)
	}
	if len(out) != len(tests.Tests) {
		t.Fatalf("%s: %d goldens for %d tests", base, len(out), len(tests.Tests))
	}
	return out
}

func mapRecords(t *testing.T, records string) *normalize.Event {
	t.Helper()
	p := NewProcessor(AssemblerOptions{Timeout: time.Hour}, fixedResolver{}, nil)
	p.Failed = func(raw []byte, err error) { t.Errorf("event not mapped: %v\n%s", err, raw) }
	var evs []*normalize.Event
	for _, l := range strings.Split(strings.TrimSpace(records), "\n") {
		var err error
		if evs, err = p.Line([]byte(l), evs); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
	}
	evs = p.Close(evs)
	if len(evs) != 1 {
		t.Fatalf("%d events from one audit event", len(evs))
	}
	return evs[0]
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// TestAucoalesceAddresses compares the addresses of every event of
// go-libaudit's coalesced goldens (the user-space records USER_LOGIN,
// USER_START, USER_END, USER_AUTH, USER_ACCT, USER_ERR, USER_CMD,
// USER_CHAUTHTOK, USER_LOGOUT, CRED_ACQ, CRED_DISP, CRYPTO_KEY_USER,
// CRYPTO_SESSION, and syscalls on sockets) with alertgw's: where
// aucoalesce has source.ip (or destination.ip), the event has that src_ip
// (dest_ip), with the port when aucoalesce has one; where it has none,
// neither has the event (addr=? stays out). outputs/format's
// TestRealEvents encodes the same events in ECS (source.ip) and OCSF
// (src_endpoint) and validates them.
func TestAucoalesceAddresses(t *testing.T) {
	users := 0
	for _, base := range []string{
		"go-libaudit_aucoalesce_rhel-7-linux-3.10.0",
		"go-libaudit_aucoalesce_ubuntu-16.10-linux-4.8.0",
		"go-libaudit_aucoalesce_ubuntu-17.04-linux-4.10.0",
	} {
		for _, c := range loadAucoalesce(t, base) {
			t.Run(c.name, func(t *testing.T) {
				ev := mapRecords(t, c.records)
				if got := addrString(ev.SrcIP); got != c.src.IP {
					t.Errorf("src_ip %q, aucoalesce source.ip %q", got, c.src.IP)
				}
				if got := addrString(ev.DestIP); got != c.dst.IP {
					t.Errorf("dest_ip %q, aucoalesce destination.ip %q", got, c.dst.IP)
				}
				if c.src.Port != "" && (!ev.HasPorts || ev.SrcPort != mustPort(t, c.src.Port)) {
					t.Errorf("src_port %d (has %v), aucoalesce source.port %s", ev.SrcPort, ev.HasPorts, c.src.Port)
				}
				if c.dst.Port != "" && (!ev.HasPorts || ev.DestPort != mustPort(t, c.dst.Port)) {
					t.Errorf("dest_port %d (has %v), aucoalesce destination.port %s", ev.DestPort, ev.HasPorts, c.dst.Port)
				}
			})
			if strings.Contains(c.records, "type=USER_") || strings.Contains(c.records, "type=CRED_") || strings.Contains(c.records, "type=CRYPTO_") {
				users++
			}
		}
	}
	if users < 15 {
		t.Errorf("only %d user-space record events in the goldens", users)
	}
}

func mustPort(t *testing.T, s string) uint16 {
	t.Helper()
	var p uint16
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatalf("port %q: %v", s, err)
	}
	return p
}

// TestUserRecordAddr covers what the goldens do not: every value PAM and
// other programs have been seen to write in addr= that is not an address
// (a host name, "-", "UNKNOWN", "?") stays out of src_ip and in details;
// IPv6, IPv4-mapped and zoned addresses are addresses; a kernel record with
// an addr= is not a user-space one and is left alone.
func TestUserRecordAddr(t *testing.T) {
	rec := func(typ, addr string) string {
		return "type=" + typ + " msg=audit(1700000000.000:1): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:authentication grantors=? acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=client.example.org addr=" + addr + " terminal=ssh res=failed'"
	}
	cases := []struct {
		typ, addr, want string
	}{
		{"USER_AUTH", "192.0.2.7", "192.0.2.7"},
		{"USER_ACCT", "2001:db8::7", "2001:db8::7"},
		{"CRED_ACQ", "::ffff:192.0.2.8", "192.0.2.8"},
		{"USER_END", "fe80::1%eth0", "fe80::1"},
		{"CRED_DISP", "192.0.2.9", "192.0.2.9"},
		{"USER_AUTH", "client.example.org", ""},
		{"USER_AUTH", "-", ""},
		{"USER_AUTH", "UNKNOWN", ""},
		{"USER_AUTH", "?", ""},
		{"USER_AUTH", "192.0.2.300", ""},
		{"ANOM_LOGIN_FAILURES", "198.51.100.1", "198.51.100.1"},
		{"VIRT_CONTROL", "198.51.100.2", "198.51.100.2"},
		{"CONFIG_CHANGE", "198.51.100.3", ""}, // a kernel record: addr= is not a login's peer
	}
	for _, c := range cases {
		ev := mapRecords(t, rec(c.typ, c.addr))
		if got := addrString(ev.SrcIP); got != c.want {
			t.Errorf("%s addr=%s: src_ip %q, want %q", c.typ, c.addr, got, c.want)
		}
		if ev.DestIP.IsValid() || ev.HasPorts {
			t.Errorf("%s addr=%s: dest %v ports %v", c.typ, c.addr, ev.DestIP, ev.HasPorts)
		}
		d := string(ev.Details.Get("record_type"))
		raw := ""
		for _, f := range ev.Details {
			raw += string(f.Value)
		}
		if c.addr != "?" && !strings.Contains(raw, `"addr":"`+c.addr+`"`) {
			t.Errorf("%s addr=%s: the value as written is not in details (%s): %s", c.typ, c.addr, d, raw)
		}
		if !strings.Contains(raw, `"hostname":"client.example.org"`) {
			t.Errorf("%s: hostname not kept in details: %s", c.typ, raw)
		}
	}
}
