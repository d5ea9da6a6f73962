package schematest

import (
	"strings"
	"testing"
)

const valid = `{"schema":1,"id":"0123456789abcdef0000000000000001","timestamp":"2026-11-22T10:11:12.123456Z","received":"2026-11-22T10:11:12.130001Z","kind":"alert","action":"blocked","source":{"type":"suricata","input":"suricata","sensor":"sensor-1"},"src_ip":"10.0.0.5","src_port":51514,"dest_ip":"2001:db8::10","dest_port":22,"proto":6,"proto_name":"tcp","community_id":"1:LQU9qZlK+B5F3KDmev6m5PMibrg=","flow_id":18446744073709551615,"in_iface":"eth0","vlan":[100,200],"app_proto":"ssh","signature":{"gid":1,"id":2001219,"rev":20,"name":"ET SCAN Potential SSH Scan","category":"Attempted Information Leak","priority":2},"flow":{"pkts_toserver":3,"pkts_toclient":2,"bytes_toserver":180,"bytes_toclient":120,"start":"2026-11-22T10:11:11.000000Z","end":"2026-11-22T10:11:12.000000Z","age":0,"state":"closed","alerted":true},"packet":{"len":60,"ttl":0,"tcp_flags":"SA","tcp_window":16384},"firewall":{"group":2,"prefix":"drop","uid":0},"details":{"ssh":{"client":{"software_version":"libssh"}}}}`

func TestValidAccepted(t *testing.T) {
	Validate(t, []byte(valid))
	Validate(t, []byte(valid+"\n"))
}

// The schema must reject what the native encoder never writes; otherwise
// validating golden files proves nothing.
func TestInvalidRejected(t *testing.T) {
	for _, tc := range []struct{ name, old, new string }{
		{"missing required id", `"id":"0123456789abcdef0000000000000001",`, ``},
		{"unknown kind", `"kind":"alert"`, `"kind":"alarm"`},
		{"unknown action", `"action":"blocked"`, `"action":"dropped"`},
		{"timestamp not UTC", `"timestamp":"2026-11-22T10:11:12.123456Z"`, `"timestamp":"2026-11-22T10:11:12.123456+02:00"`},
		{"timestamp without microseconds", `"timestamp":"2026-11-22T10:11:12.123456Z"`, `"timestamp":"2026-11-22T10:11:12Z"`},
		{"bad ip", `"src_ip":"10.0.0.5"`, `"src_ip":"10.0.0.256"`},
		{"port out of range", `"src_port":51514`, `"src_port":65536`},
		{"lone port", `"src_port":51514,`, ``},
		{"proto as string", `"proto":6`, `"proto":"6"`},
		{"flow_id above 2^64-1", `"flow_id":18446744073709551615`, `"flow_id":18446744073709551616`},
		{"unknown top-level key", `"app_proto":"ssh"`, `"app_proto":"ssh","extra":1`},
		{"unknown signature key", `"priority":2`, `"priority":2,"severity":2`},
		{"priority 0", `"priority":2`, `"priority":0`},
		{"tcp flags out of order", `"tcp_flags":"SA"`, `"tcp_flags":"AS"`},
		{"vlan id too big", `"vlan":[100,200]`, `"vlan":[100,5000]`},
		{"details not an object", `"details":{"ssh":{"client":{"software_version":"libssh"}}}`, `"details":[]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(valid, tc.old) {
				t.Fatalf("test case does not apply: %q not in the valid line", tc.old)
			}
			line := strings.Replace(valid, tc.old, tc.new, 1)
			if err := validate([]byte(line)); err == nil {
				t.Errorf("accepted: %s", line)
			}
		})
	}
	for _, bad := range []string{``, `{`, `{"schema":1}`, valid + "\n" + valid, valid + valid} {
		if err := validate([]byte(bad)); err == nil {
			t.Errorf("accepted: %.80q", bad)
		}
	}
}
