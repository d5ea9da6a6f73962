package enrich

import (
	"net/netip"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

// BenchmarkGeoIPLookup measures one address lookup: from the cache (the
// steady state: a sensor sees the same addresses again and again), without
// it (the database walk and decode), and for a private address (skipped).
func BenchmarkGeoIPLookup(b *testing.B) {
	city, asn := testDBs(b)
	public := netip.MustParseAddr("81.2.69.142")
	for _, c := range []struct {
		name  string
		cache int
		addr  netip.Addr
	}{
		{"cached", 65536, public},
		{"uncached", 0, public},
		{"private", 65536, netip.MustParseAddr("10.1.2.3")},
	} {
		b.Run(c.name, func(b *testing.B) {
			o := DefaultOptions()
			o.GeoIP.City, o.GeoIP.ASN, o.GeoIP.CacheSize, o.GeoIP.Reload = city, asn, c.cache, 0
			en := newTestEnricher(b, o)
			en.geo.lookup(c.addr)
			b.ReportAllocs()
			for b.Loop() {
				_ = en.geo.lookup(c.addr)
			}
		})
	}
}

// BenchmarkGeoIPLookupParallel is the cached lookup from every core at once
// over a working set of 4096 addresses (shard locks under contention).
func BenchmarkGeoIPLookupParallel(b *testing.B) {
	city, asn := testDBs(b)
	o := DefaultOptions()
	o.GeoIP.City, o.GeoIP.ASN, o.GeoIP.Reload = city, asn, 0
	en := newTestEnricher(b, o)
	addrs := make([]netip.Addr, 4096)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{81, 2, byte(i >> 8), byte(i)})
		en.geo.lookup(addrs[i])
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_ = en.geo.lookup(addrs[i&4095])
			i++
		}
	})
}

// BenchmarkEnrich is the whole stage on one event: observer, labels and
// direction over 3 named networks, GeoIP of both addresses (cached).
func BenchmarkEnrich(b *testing.B) {
	city, asn := testDBs(b)
	o := DefaultOptions()
	o.GeoIP.City, o.GeoIP.ASN, o.GeoIP.Reload = city, asn, 0
	o.Networks = map[string][]string{
		"home_net": {"10.0.0.0/8", "192.168.0.0/16", "fd00::/8"},
		"dmz":      {"10.20.0.0/16"},
		"guests":   {"192.168.100.0/24"},
	}
	o.Observer.Site, o.Observer.Environment = "fra1", "prod"
	en := newTestEnricher(b, o)
	src, dst := netip.MustParseAddr("81.2.69.142"), netip.MustParseAddr("10.20.1.1")
	b.ReportAllocs()
	for b.Loop() {
		e := normalize.Event{SrcIP: src, DestIP: dst}
		en.Enrich(&e)
	}
}
