package enrich

import (
	"bytes"
	"errors"
	"flag"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/normalize"
)

// writeMMDB builds a real MaxMind-format database with mmdbwriter, records
// shaped like GeoLite2's, and writes it to path atomically (write + rename,
// as geoipupdate does).
func writeMMDB(t testing.TB, path, dbType string, records map[string]mmdbtype.Map) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 28})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatalf("insert %s: %v", cidr, err)
		}
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func cityRec(iso, country, city string, lat, lon float64) mmdbtype.Map {
	m := mmdbtype.Map{
		"country": mmdbtype.Map{"iso_code": mmdbtype.String(iso), "names": mmdbtype.Map{"en": mmdbtype.String(country), "de": mmdbtype.String("x")}},
		"location": mmdbtype.Map{"latitude": mmdbtype.Float64(lat), "longitude": mmdbtype.Float64(lon),
			"accuracy_radius": mmdbtype.Uint16(100)},
	}
	if city != "" {
		m["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(city)}}
	}
	return m
}

func asnRec(n uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n), "autonomous_system_organization": mmdbtype.String(org)}
}

func testDBs(t testing.TB) (city, asn string) {
	dir := t.TempDir()
	city, asn = filepath.Join(dir, "city.mmdb"), filepath.Join(dir, "asn.mmdb")
	writeMMDB(t, city, "GeoLite2-City", map[string]mmdbtype.Map{
		"81.2.69.0/24":      cityRec("GB", "United Kingdom", "London", 51.5142, -0.0931),
		"2a02:cf40::/29":    cityRec("NO", "Norway", "", 59.95, 10.75),
		"89.160.20.112/28":  cityRec("SE", "Sweden", "Linköping", 58.4167, 15.6167),
		"216.160.83.56/29":  {"country": mmdbtype.Map{"iso_code": mmdbtype.String("US")}}, // country only, no location
		"8.8.8.0/24":        cityRec("US", "United States", "", 37.751, -97.822),
		"175.16.199.0/24":   cityRec("CN", "China", "Changchun", 43.88, 125.3228),
		"1.128.0.0/11":      cityRec("AU", "Australia", "", -33.494, 143.2104),
		"12.81.92.0/22":     cityRec("US", "United States", "", 37.751, -97.822),
		"67.43.156.0/24":    cityRec("BT", "Bhutan", "", 27.5, 90.5),
		"202.196.224.0/20":  cityRec("PH", "Philippines", "", 13, 122),
		"2001:480::/32":     cityRec("US", "United States", "", 37.751, -97.822),
		"2001:218::/32":     cityRec("JP", "Japan", "", 35.69, 139.69),
		"2a02:d300::/29":    cityRec("UA", "Ukraine", "", 49, 32),
		"149.101.100.0/28":  cityRec("US", "United States", "", 37.751, -97.822),
		"217.65.48.0/29":    cityRec("GI", "Gibraltar", "", 36.1, -5.35),
		"111.235.160.0/22":  cityRec("CN", "China", "", 34.77, 113.72),
		"81.2.69.160/27":    cityRec("GB", "United Kingdom", "London", 51.5142, -0.0931),
		"2a02:ec80::/29":    cityRec("JO", "Jordan", "", 31.95, 35.93),
		"2001:230::/32":     cityRec("KR", "South Korea", "", 37, 127.5),
		"80.231.5.0/24":     cityRec("IT", "Italy", "", 42.8, 12.8),
		"2001:250::/31":     cityRec("CN", "China", "", 34.77, 113.72),
		"212.47.235.81/32":  cityRec("SE", "Sweden", "", 62, 15),
		"185.123.204.0/24":  cityRec("DE", "Germany", "Frankfurt am Main", 50.1188, 8.6843),
		"2a02:ff80::/29":    cityRec("DE", "Germany", "", 51.2993, 9.491),
		"131.107.0.0/16":    cityRec("US", "United States", "Redmond", 47.6801, -122.1206),
		"2c0f:ff40::/26":    cityRec("ZA", "South Africa", "", -29, 24),
		"2001:67c:2e8::/48": cityRec("NL", "Netherlands", "Amsterdam", 52.3824, 4.8995),
	})
	writeMMDB(t, asn, "GeoLite2-ASN", map[string]mmdbtype.Map{
		"81.2.69.0/24":   asnRec(20712, "Andrews & Arnold Ltd"),
		"8.8.8.0/24":     asnRec(15169, "GOOGLE"),
		"2a02:cf40::/29": asnRec(213110, "Example Norway AS"),
		"1.128.0.0/11":   asnRec(1221, "Telstra Pty Ltd"),
	})
	return city, asn
}

func newTestEnricher(t testing.TB, o *Options) *Enricher {
	t.Helper()
	if probs := o.Validate(); len(probs) > 0 {
		t.Fatalf("options: %v", probs)
	}
	en, err := New(o, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { en.Close() })
	return en
}

func TestGeoIP(t *testing.T) {
	city, asn := testDBs(t)
	o := DefaultOptions()
	o.GeoIP.City, o.GeoIP.ASN, o.GeoIP.Reload = city, asn, 0
	en := newTestEnricher(t, o)
	cases := []struct {
		addr string
		want *normalize.Geo
	}{
		{"81.2.69.142", &normalize.Geo{CountryISO: "GB", CountryName: "United Kingdom", CityName: "London", Lat: 51.5142, Lon: -0.0931, HasLocation: true, ASN: 20712, ASOrg: "Andrews & Arnold Ltd"}},
		{"::ffff:81.2.69.142", &normalize.Geo{CountryISO: "GB", CountryName: "United Kingdom", CityName: "London", Lat: 51.5142, Lon: -0.0931, HasLocation: true, ASN: 20712, ASOrg: "Andrews & Arnold Ltd"}},
		{"2a02:cf40::1", &normalize.Geo{CountryISO: "NO", CountryName: "Norway", Lat: 59.95, Lon: 10.75, HasLocation: true, ASN: 213110, ASOrg: "Example Norway AS"}},
		{"216.160.83.57", &normalize.Geo{CountryISO: "US"}}, // no location, no ASN
		{"1.130.0.1", &normalize.Geo{CountryISO: "AU", CountryName: "Australia", Lat: -33.494, Lon: 143.2104, HasLocation: true, ASN: 1221, ASOrg: "Telstra Pty Ltd"}},
		{"9.9.9.9", nil},     // public, unknown to the databases
		{"10.1.2.3", nil},    // private
		{"192.168.1.1", nil}, // private
		{"127.0.0.1", nil},   // loopback
		{"169.254.1.1", nil}, // link-local
		{"100.64.0.1", nil},  // CGNAT
		{"192.0.2.10", nil},  // documentation
		{"224.0.0.251", nil}, // multicast
		{"255.255.255.255", nil},
		{"fe80::1", nil},
		{"fd00::1", nil},
		{"2001:db8::1", nil},
		{"::1", nil},
	}
	for _, c := range cases {
		for round := range 2 { // the second answer comes from the cache
			e := normalize.Event{SrcIP: netip.MustParseAddr(c.addr), DestIP: netip.MustParseAddr(c.addr)}
			en.Enrich(&e)
			if !reflect.DeepEqual(e.SrcGeo, c.want) || !reflect.DeepEqual(e.DestGeo, c.want) {
				t.Errorf("%s (round %d): got %+v / %+v, want %+v", c.addr, round, e.SrcGeo, e.DestGeo, c.want)
			}
		}
	}
}

func TestGeoIPOnlyASN(t *testing.T) {
	_, asn := testDBs(t)
	o := DefaultOptions()
	o.GeoIP.ASN = asn
	en := newTestEnricher(t, o)
	e := normalize.Event{SrcIP: netip.MustParseAddr("8.8.8.8")}
	en.Enrich(&e)
	if want := (&normalize.Geo{ASN: 15169, ASOrg: "GOOGLE"}); !reflect.DeepEqual(e.SrcGeo, want) {
		t.Errorf("got %+v, want %+v", e.SrcGeo, want)
	}
}

func TestGeoIPMissingOrCorruptFile(t *testing.T) {
	o := DefaultOptions()
	o.GeoIP.City = filepath.Join(t.TempDir(), "absent.mmdb")
	if _, err := New(o, zerolog.Nop()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.mmdb")
	os.WriteFile(bad, []byte("not a database at all, just text"), 0o644)
	o.GeoIP.City = bad
	if _, err := New(o, zerolog.Nop()); err == nil {
		t.Error("corrupt file: no error")
	}
}

// TestGeoIPReload replaces the database on disk (write + rename) and checks
// that answers change, cache included, and that a broken replacement keeps
// the loaded one.
func TestGeoIPReload(t *testing.T) {
	city, _ := testDBs(t)
	o := DefaultOptions()
	o.GeoIP.City, o.GeoIP.Reload = city, 0
	en := newTestEnricher(t, o)
	lookup := func() *normalize.Geo {
		e := normalize.Event{SrcIP: netip.MustParseAddr("81.2.69.142")}
		en.Enrich(&e)
		return e.SrcGeo
	}
	if g := lookup(); g == nil || g.CountryISO != "GB" {
		t.Fatalf("before: %+v", g)
	}
	if changed, err := en.geo.reloadIfChanged(); changed || err != nil {
		t.Fatalf("unchanged file reloaded: %v %v", changed, err)
	}
	writeMMDB(t, city, "GeoLite2-City", map[string]mmdbtype.Map{"81.2.69.0/24": cityRec("IE", "Ireland", "Dublin", 53.3, -6.2)})
	future := time.Now().Add(time.Minute) // a rewrite within the same mtime tick must still count
	os.Chtimes(city, future, future)
	if changed, err := en.geo.reloadIfChanged(); !changed || err != nil {
		t.Fatalf("changed file not reloaded: %v %v", changed, err)
	}
	if g := lookup(); g == nil || g.CountryISO != "IE" || g.CityName != "Dublin" {
		t.Fatalf("after reload: %+v", g)
	}
	os.WriteFile(city, []byte("truncated"), 0o644)
	if _, err := en.geo.reloadIfChanged(); err == nil {
		t.Fatal("broken replacement: no error")
	}
	if g := lookup(); g == nil || g.CountryISO != "IE" {
		t.Fatalf("broken replacement dropped the loaded database: %+v", g)
	}
}

// TestGeoIPReloadWatcher runs the real watcher goroutine.
func TestGeoIPReloadWatcher(t *testing.T) {
	city, _ := testDBs(t)
	o := DefaultOptions()
	o.GeoIP.City, o.GeoIP.Reload = city, 10*time.Millisecond
	en := newTestEnricher(t, o)
	writeMMDB(t, city, "GeoLite2-City", map[string]mmdbtype.Map{"81.2.69.0/24": cityRec("IE", "Ireland", "Dublin", 53.3, -6.2)})
	future := time.Now().Add(time.Minute)
	os.Chtimes(city, future, future)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		e := normalize.Event{SrcIP: netip.MustParseAddr("81.2.69.142")}
		en.Enrich(&e)
		if e.SrcGeo != nil && e.SrcGeo.CountryISO == "IE" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("watcher did not reload the changed database within 5s")
}

func TestGeoCacheGenerations(t *testing.T) {
	c := newGeoCache(16 * cacheShards)
	geo := &normalize.Geo{CountryISO: "GB"}
	hot := netip.MustParseAddr("81.2.69.142")
	c.put(hot, geo)
	// Fill far beyond capacity while touching the hot entry: it must stay.
	for i := range 100_000 {
		a := netip.AddrFrom4([4]byte{1, byte(i >> 16), byte(i >> 8), byte(i)})
		c.put(a, nil)
		if i%100 == 0 {
			if g, ok := c.get(hot); !ok || g != geo {
				t.Fatalf("hot entry lost after %d inserts", i)
			}
		}
	}
	total := 0
	for i := range c.shards {
		total += len(c.shards[i].cur) + len(c.shards[i].prev)
	}
	if total > 2*16*cacheShards {
		t.Errorf("cache holds %d entries, bound is %d", total, 2*16*cacheShards)
	}
}

func TestNetworksAndDirection(t *testing.T) {
	o := DefaultOptions()
	o.Networks = map[string][]string{
		"home_net": {"10.0.0.0/8", "192.168.0.0/16", "fd00::/8"},
		"dmz":      {"10.20.0.0/16", "198.51.100.7"},
		"guests":   {"192.168.100.0/24"},
	}
	o.Internal = []string{"home_net", "dmz"}
	en := newTestEnricher(t, o)
	cases := []struct {
		src, dst           string
		srcLabels, dstLabs []string
		dir                string
	}{
		{"10.1.1.1", "8.8.8.8", []string{"home_net"}, nil, normalize.DirectionOutbound},
		{"8.8.8.8", "10.20.1.1", nil, []string{"dmz", "home_net"}, normalize.DirectionInbound},
		{"10.1.1.1", "192.168.100.5", []string{"home_net"}, []string{"guests", "home_net"}, normalize.DirectionInternal},
		{"8.8.8.8", "1.1.1.1", nil, nil, normalize.DirectionExternal},
		{"198.51.100.7", "fd00::1", []string{"dmz"}, []string{"home_net"}, normalize.DirectionInternal},
		{"::ffff:10.0.0.1", "2001:db8::1", []string{"home_net"}, nil, normalize.DirectionOutbound},
	}
	for _, c := range cases {
		e := normalize.Event{SrcIP: netip.MustParseAddr(c.src), DestIP: netip.MustParseAddr(c.dst)}
		en.Enrich(&e)
		if !reflect.DeepEqual(e.SrcLabels, c.srcLabels) || !reflect.DeepEqual(e.DestLabels, c.dstLabs) || e.NetDirection != c.dir {
			t.Errorf("%s → %s: labels %v / %v, direction %q; want %v / %v, %q", c.src, c.dst, e.SrcLabels, e.DestLabels, e.NetDirection, c.srcLabels, c.dstLabs, c.dir)
		}
	}
	// guests is not internal: a guest talking out is external
	e := normalize.Event{SrcIP: netip.MustParseAddr("192.168.100.5"), DestIP: netip.MustParseAddr("8.8.8.8")}
	en.Enrich(&e)
	if e.NetDirection != normalize.DirectionOutbound { // 192.168.100.5 is also in home_net
		t.Errorf("guest in home_net: %q", e.NetDirection)
	}
	// no destination: labels, no direction
	e = normalize.Event{SrcIP: netip.MustParseAddr("10.0.0.1")}
	en.Enrich(&e)
	if e.NetDirection != "" || len(e.SrcLabels) != 1 {
		t.Errorf("one address: %v %q", e.SrcLabels, e.NetDirection)
	}
}

func TestObserver(t *testing.T) {
	env := map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "HOSTNAME": "alertgw-7d9f-x2x4q", "NODE_NAME": "node-3"}
	getenv := func(k string) string { return env[k] }
	readNS := func(string) ([]byte, error) { return []byte("security\n"), nil }
	noFile := func(string) ([]byte, error) { return nil, os.ErrNotExist }

	got := newObserver(ObserverOptions{Site: "fra1", Environment: "prod", Cluster: "edge", Kubernetes: "auto"}, getenv, readNS)
	want := &normalize.Observer{Site: "fra1", Environment: "prod", Cluster: "edge", Namespace: "security", Pod: "alertgw-7d9f-x2x4q", Node: "node-3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("auto in kubernetes: %+v", got)
	}
	env["POD_NAME"], env["POD_NAMESPACE"] = "from-downward-api", "ns2"
	if got := newObserver(ObserverOptions{Kubernetes: "on"}, getenv, noFile); got.Pod != "from-downward-api" || got.Namespace != "ns2" {
		t.Errorf("downward API names: %+v", got)
	}
	if got := newObserver(ObserverOptions{Kubernetes: "off"}, getenv, readNS); got != nil {
		t.Errorf("off, nothing configured: %+v", got)
	}
	if got := newObserver(ObserverOptions{Kubernetes: "auto"}, func(string) string { return "" }, readNS); got != nil {
		t.Errorf("auto outside kubernetes: %+v", got)
	}
}

func TestOptionsValidate(t *testing.T) {
	raw := map[string]any{
		"geoip":    map[string]any{"cache_size": -1},
		"networks": map[string]any{"home_net": []any{"10.0.0.0/8", "not-a-cidr"}, "empty": []any{}},
		"internal": []any{"home_net", "nope"},
		"observer": map[string]any{"kubernetes": "maybe", "sitee": "x"},
	}
	o := DefaultOptions()
	probs := config.Decode(raw, "enrich", o)
	want := []string{"enrich.geoip.cache_size", "enrich.networks.home_net[1]", "enrich.networks.empty", "enrich.internal[1]", "enrich.observer.kubernetes", "enrich.observer.sitee"}
	for _, w := range want {
		found := false
		for _, p := range probs {
			if p.Path == w {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem reported at %s; got %v", w, probs)
		}
	}
	if DefaultOptions().Enabled() {
		t.Error("defaults enable enrichment")
	}
}

// TestEnrichConcurrent runs lookups from many goroutines (with -race) while
// the databases reload.
func TestEnrichConcurrent(t *testing.T) {
	city, asn := testDBs(t)
	o := DefaultOptions()
	o.GeoIP.City, o.GeoIP.ASN, o.GeoIP.Reload, o.GeoIP.CacheSize = city, asn, 0, 1024
	o.Networks = map[string][]string{"home_net": {"10.0.0.0/8"}}
	en := newTestEnricher(t, o)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				e := normalize.Event{SrcIP: netip.MustParseAddr("81.2.69.142"), DestIP: netip.AddrFrom4([4]byte{10, 0, byte(w), byte(i)})}
				en.Enrich(&e)
				if e.SrcGeo == nil || e.NetDirection != normalize.DirectionInbound {
					t.Errorf("worker %d: %+v %q", w, e.SrcGeo, e.NetDirection)
					return
				}
			}
		})
	}
	for range 5 {
		future := time.Now().Add(time.Hour)
		os.Chtimes(city, future, future)
		if _, err := en.geo.reloadIfChanged(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}

var mmdbOut = flag.String("mmdb-out", "", "write the test City and ASN databases into this directory (for end-to-end runs) and stop")

// TestWriteDatabasesForBenchmarks is a utility, not a check: with
// -mmdb-out DIR it leaves the test databases in DIR (city.mmdb, asn.mmdb),
// for the end-to-end throughput run in docs/performance/formats.md.
func TestWriteDatabasesForBenchmarks(t *testing.T) {
	if *mmdbOut == "" {
		t.Skip("utility: run with -mmdb-out DIR to write the test databases")
	}
	if err := os.MkdirAll(*mmdbOut, 0o755); err != nil {
		t.Fatal(err)
	}
	city, asn := testDBs(t)
	for _, f := range []string{city, asn} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*mmdbOut, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
