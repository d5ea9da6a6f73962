package format

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

// FuzzEncoders fills every free-text field of a reference event with
// arbitrary bytes (invalid UTF-8, quotes, control characters, keys that
// clash with the fields alertgw writes) and checks that every format still
// writes one valid JSON object without duplicate keys or newlines (the
// ecs format in both profiles: ECSFilebeat rearranges Suricata events).
func FuzzEncoders(f *testing.F) {
	f.Add("ET SCAN", "00:11:22:aa:bb:cc", "alert", "home_net", "sensor-1", "eth0", "Input DROP", uint8(6), uint16(80))
	f.Add("\xff\xfe\"\\\n", "zz:\x00", "flow_id", "\u2028", "", "\t", "prefix", uint8(1), uint16(0))
	f.Add("x", "AA-BB", "flow", "a\"b", "s", "i", "p", uint8(58), uint16(65535))
	f.Add("", "", "packet_header", "", "", "", "", uint8(0), uint16(1))
	f.Add("n", "m", "src_networks", "l", "s", "i", "p", uint8(17), uint16(53))
	f.Add("n", "m", "app_proto", "l", "s", "i", "p", uint8(17), uint16(53))
	refs := referenceEvents()
	f.Fuzz(func(t *testing.T, name, mac, detailKey, label, sensor, iface, prefix string, proto uint8, port uint16) {
		for _, r := range refs {
			e := *r.ev
			e.Source.Sensor, e.SrcMAC, e.InIface = sensor, mac, iface
			e.SetProto(proto)
			e.SetAddrs(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1"), port, port, port%2 == 0)
			e.SrcLabels = []string{label}
			if e.Signature != nil {
				s := *e.Signature
				s.Name, s.Category = name, label
				e.Signature = &s
			}
			if e.Firewall != nil {
				fw := *e.Firewall
				fw.Prefix = prefix
				e.Firewall = &fw
			}
			if e.Details.Get(detailKey) == nil { // keys are unique in Details: every decoder sees to it
				e.Details = append(normalize.Details{{Key: detailKey, Value: normalize.RawJSON(`{"k":1}`)}}, e.Details...)
			}
			for _, enc := range []Encoder{Native{}, ECS{}, ECSFilebeat{}, OCSF{}} {
				line := enc.AppendEvent(nil, &e)
				if !json.Valid(line) {
					t.Fatalf("%s/%s: invalid JSON: %q", enc.Name(), r.name, line)
				}
				for _, c := range line {
					if c == '\n' {
						t.Fatalf("%s/%s: newline in output", enc.Name(), r.name)
					}
				}
				if enc.Name() != "native" { // native writes Details keys as given, by design
					assertNoDuplicateKeys(t, line)
				}
			}
		}
	})
}
