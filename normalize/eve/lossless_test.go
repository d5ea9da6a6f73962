package eve

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

// mappedKeys lists, per partially mapped object ("" for the record
// itself), the keys that have a common field in Event.
var mappedKeys = map[string]map[string]bool{
	"": set("timestamp", "flow_id", "event_type", "src_ip", "src_port", "dest_ip", "dest_port", "proto",
		"icmp_type", "icmp_code", "vlan", "in_iface", "app_proto", "direction", "community_id"),
	"alert":   set("action", "gid", "signature_id", "rev", "signature", "category", "severity"),
	"flow":    set("pkts_toserver", "pkts_toclient", "bytes_toserver", "bytes_toclient", "start", "end", "age", "state", "reason", "alerted", "action"),
	"netflow": set("pkts", "bytes", "start", "end", "age"),
	"drop":    set("len", "ttl", "hoplimit", "tos", "tc", "ipid", "tcpseq", "tcpack", "tcpwin", "syn", "ack", "psh", "rst", "urg", "fin"),
	"ether":   set("src_mac", "dest_mac"),
}

func set(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// TestNothingLost checks, for every sample, that each key of the record
// (and of each partially mapped object) either has a common field or is
// under details with the same value, and that details invents nothing.
func TestNothingLost(t *testing.T) {
	samples, _ := filepath.Glob("testdata/*.json")
	for _, sample := range samples {
		for i, line := range sampleLines(t, sample) {
			var ev normalize.Event
			if (Decoder{}).Decode(line, &ev) != nil {
				continue
			}
			var in map[string]json.RawMessage
			if err := json.Unmarshal(line, &in); err != nil {
				t.Fatalf("%s:%d: %v", sample, i+1, err)
			}
			checkKept(t, sample, i+1, "", in, ev.Details)
		}
	}
}

func checkKept(t *testing.T, sample string, line int, obj string, in map[string]json.RawMessage, kept normalize.Details) {
	t.Helper()
	for k, v := range in {
		got := kept.Get(k)
		if _, partial := mappedKeys[k]; partial && obj == "" && bytes.HasPrefix(v, []byte("{")) {
			var inner map[string]json.RawMessage
			if err := json.Unmarshal(v, &inner); err != nil {
				t.Fatal(err)
			}
			var innerKept normalize.Details
			if got != nil {
				var m map[string]json.RawMessage
				if err := json.Unmarshal(got, &m); err != nil {
					t.Fatalf("%s:%d: details.%s is not an object: %s", sample, line, k, got)
				}
				for kk, vv := range m {
					innerKept = append(innerKept, normalize.Field{Key: kk, Value: normalize.RawJSON(vv)})
				}
			}
			checkKept(t, sample, line, k, inner, innerKept)
			continue
		}
		if got != nil {
			if !jsonEqual(t, got, v) {
				t.Errorf("%s:%d: details %s.%s = %s, source said %s", sample, line, obj, k, got, v)
			}
			continue
		}
		if !mappedKeys[obj][k] && !(obj == "" && string(v) == "null") {
			t.Errorf("%s:%d: %s.%s (%s) is lost: no common field, not under details", sample, line, obj, k, v)
		}
	}
	for _, f := range kept {
		if _, ok := in[f.Key]; !ok {
			t.Errorf("%s:%d: details %s.%s was not in the source", sample, line, obj, f.Key)
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("invalid JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}
