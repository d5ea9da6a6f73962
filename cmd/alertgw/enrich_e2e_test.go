package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// TestE2EEnrichAndFormats runs the real gateway with GeoIP databases (real
// .mmdb files built with mmdbwriter), network labels and site metadata,
// and three file outputs in the native, ecs and ocsf formats, then sends
// one EVE alert over the socket and checks what each format says of it.
func TestE2EEnrichAndFormats(t *testing.T) {
	dir := shortDir(t)
	city, asn := filepath.Join(dir, "city.mmdb"), filepath.Join(dir, "asn.mmdb")
	writeTestMMDB(t, city, "GeoLite2-City", mmdbtype.Map{
		"country":  mmdbtype.Map{"iso_code": mmdbtype.String("GB"), "names": mmdbtype.Map{"en": mmdbtype.String("United Kingdom")}},
		"city":     mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("London")}},
		"location": mmdbtype.Map{"latitude": mmdbtype.Float64(51.5142), "longitude": mmdbtype.Float64(-0.0931)},
	})
	writeTestMMDB(t, asn, "GeoLite2-ASN", mmdbtype.Map{
		"autonomous_system_number":       mmdbtype.Uint32(20712),
		"autonomous_system_organization": mmdbtype.String("Andrews & Arnold Ltd"),
	})
	g := &gateway{dir: dir, sock: filepath.Join(dir, "s.sock"), events: filepath.Join(dir, "native.json"),
		dead: filepath.Join(dir, "dead.json"), log: filepath.Join(dir, "gateway.log")}
	cfg := fmt.Sprintf(`sensor: e2e
log: {level: info, format: json}
dead_letter: {path: %[1]s/dead.json}
inputs:
  - {name: suricata, type: suricata, socket: %[1]s/s.sock, socket_type: dgram}
outputs:
  - {name: native, type: file, path: %[1]s/native.json, format: native}
  - {name: ecs, type: file, path: %[1]s/ecs.json, format: ecs}
  - {name: ocsf, type: file, path: %[1]s/ocsf.json, format: ocsf}
enrich:
  geoip: {city: %[2]s, asn: %[3]s}
  networks:
    home_net: [10.0.0.0/8]
  observer: {site: fra1, environment: prod, kubernetes: "off"}
`, dir, city, asn)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	g.cmd = exec.Command(gatewayBinary(t), "run", "--config", cfgPath)
	g.start(t, g.sock)
	sendRecords(t, "dgram", g.sock, [][]byte{[]byte(`{"timestamp":"2026-11-22T10:11:12.123456+0000","flow_id":42,"event_type":"alert","src_ip":"81.2.69.142","src_port":51514,"dest_ip":"10.0.0.5","dest_port":22,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2001219,"rev":20,"signature":"ET SCAN Potential SSH Scan","category":"Attempted Information Leak","severity":2}}`)})
	native := decodeLine(t, waitLines(t, filepath.Join(dir, "native.json"), 1)[0])
	ecs := decodeLine(t, waitLines(t, filepath.Join(dir, "ecs.json"), 1)[0])
	ocsf := decodeLine(t, waitLines(t, filepath.Join(dir, "ocsf.json"), 1)[0])
	g.stop(t)

	for _, c := range []struct {
		doc  map[string]any
		path string
		want any
	}{
		{native, "src_geo.country_iso", "GB"},
		{native, "src_geo.asn", 20712.0},
		{native, "dest_labels", []any{"home_net"}},
		{native, "network_direction", "inbound"},
		{native, "observer.site", "fra1"},
		{ecs, "source.geo.city_name", "London"},
		{ecs, "source.geo.location.lat", 51.5142},
		{ecs, "source.as.organization.name", "Andrews & Arnold Ltd"},
		{ecs, "network.direction", "inbound"},
		{ecs, "network.iana_number", "6"},
		{ecs, "alertgw.destination.networks", []any{"home_net"}},
		{ecs, "labels.site", "fra1"},
		{ecs, "rule.id", "2001219"},
		{ecs, "event.type", []any{"allowed"}},
		{ocsf, "class_uid", 2004.0},
		{ocsf, "finding_info.analytic.uid", "1:2001219"},
		{ocsf, "metadata.labels", []any{"site:fra1", "environment:prod"}},
	} {
		got, ok := lookup(c.doc, c.path)
		if !ok || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v (present %v), want %v", c.path, got, ok, c.want)
		}
	}
	ev, _ := lookup(ocsf, "evidences")
	list, _ := ev.([]any)
	if len(list) != 1 {
		t.Fatalf("ocsf evidences: %v", ev)
	}
	e0 := list[0].(map[string]any)
	if got, _ := lookup(e0, "src_endpoint.location.country"); got != "GB" {
		t.Errorf("ocsf evidences[0].src_endpoint.location.country = %v", got)
	}
	if got, _ := lookup(e0, "connection_info.direction_id"); got != 1.0 {
		t.Errorf("ocsf evidences[0].connection_info.direction_id = %v", got)
	}
	if cid, _ := lookup(e0, "connection_info.community_uid"); cid == nil || cid != native["community_id"] {
		t.Errorf("ocsf community_uid %v, native %v", cid, native["community_id"])
	}
}

func writeTestMMDB(t *testing.T, path, dbType string, rec mmdbtype.Map) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := net.ParseCIDR("81.2.69.0/24")
	if err := tree.Insert(n, rec); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func decodeLine(t *testing.T, line string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	return m
}

func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}
