package enrich

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/alertgw/alertgw/internal/cputime"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
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
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := cputime.Thread()
			for b.Loop() {
				_ = en.geo.lookup(c.addr)
			}
			reportCPU(b, cpu0)
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
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := cputime.Thread()
	for b.Loop() {
		e := normalize.Event{SrcIP: src, DestIP: dst}
		en.Enrich(&e)
	}
	reportCPU(b, cpu0)
}

// BenchmarkEnrichAndEncode is what turning enrichment and another format on
// adds per event on a worker: an EVE-like alert (both addresses public,
// cached) encoded natively without enrichment, then enriched and encoded in
// each format. The end-to-end comparison (with decoding and I/O) is in
// docs/performance/formats.md.
func BenchmarkEnrichAndEncode(b *testing.B) {
	city, asn := testDBs(b)
	o := DefaultOptions()
	o.GeoIP.City, o.GeoIP.ASN, o.GeoIP.Reload = city, asn, 0
	o.Networks = map[string][]string{"home_net": {"10.0.0.0/8", "192.168.0.0/16"}}
	o.Observer.Site = "fra1"
	en := newTestEnricher(b, o)
	base := normalize.Event{
		ID: "0123456789abcdef0000000000000001", Kind: normalize.KindAlert, Action: normalize.ActionAllowed,
		Source:    normalize.Source{Type: "suricata", Input: "suricata", Sensor: "sensor-1"},
		Signature: &normalize.Signature{GID: 1, ID: 2001219, Rev: 20, Name: "ET SCAN Potential SSH Scan", Category: "Attempted Information Leak", Priority: 2},
		FlowID:    1234567890123456789, InIface: "eth0", AppProto: "ssh", CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
	}
	base.SetAddrs(netip.MustParseAddr("81.2.69.142"), netip.MustParseAddr("8.8.8.8"), 51514, 22, true)
	base.SetProto(6)
	for _, c := range []struct {
		name   string
		enrich bool
		enc    format.Encoder
	}{
		{"native", false, format.Native{}},
		{"enrich+native", true, format.Native{}},
		{"enrich+ecs", true, format.ECS{}},
		{"enrich+ocsf", true, format.OCSF{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			e := new(normalize.Event) // reused: the pipeline's events live in a slab
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := cputime.Thread()
			for b.Loop() {
				*e = base
				if c.enrich {
					en.Enrich(e)
				}
				buf = c.enc.AppendEvent(buf[:0], e)
			}
			reportCPU(b, cpu0)
		})
	}
}

// reportCPU adds cpu-ns/op: the thread CPU time per operation since cpu0
// (the benchmark loop runs on one locked OS thread).
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu0 == 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(cputime.Thread()-cpu0)/float64(b.N), "cpu-ns/op")
}
