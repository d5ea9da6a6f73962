package enrich

import (
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/normalize"
)

// geoIP looks addresses up in a City and/or an ASN database. The databases
// and the cache in use are swapped together, atomically, when a file
// changes on disk, so a lookup never mixes an old answer with a new file.
type geoIP struct {
	cityPath, asnPath string
	cacheSize         int
	log               zerolog.Logger

	state atomic.Pointer[geoState]

	mu      sync.Mutex // serializes reloads
	stop    chan struct{}
	stopped sync.WaitGroup
}

type geoState struct {
	city, asn         *maxminddb.Reader
	cityStat, asnStat fileStamp
	cache             *geoCache
}

// fileStamp is what tells that a file was replaced: updaters (geoipupdate)
// write a new file and rename it over the old one.
type fileStamp struct {
	size    int64
	modTime time.Time
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.Size(), fi.ModTime()}, nil
}

func newGeoIP(o GeoIPOptions, log zerolog.Logger) (*geoIP, error) {
	g := &geoIP{cityPath: o.City, asnPath: o.ASN, cacheSize: o.CacheSize, log: log, stop: make(chan struct{})}
	st, err := g.load()
	if err != nil {
		return nil, err
	}
	g.state.Store(st)
	if o.Reload > 0 {
		g.stopped.Add(1)
		go g.watch(o.Reload)
	}
	return g, nil
}

// load opens the configured files. They are read into memory rather than
// mapped: a replaced database is then simply garbage once no lookup holds
// it, and no reader can fault on a file unmapped under it.
func (g *geoIP) load() (*geoState, error) {
	st := &geoState{cache: newGeoCache(g.cacheSize)}
	var err error
	if g.cityPath != "" {
		if st.city, st.cityStat, err = openDB(g.cityPath); err != nil {
			return nil, err
		}
	}
	if g.asnPath != "" {
		if st.asn, st.asnStat, err = openDB(g.asnPath); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func openDB(path string) (*maxminddb.Reader, fileStamp, error) {
	stamp, err := stampOf(path)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("geoip database: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("geoip database: %w", err)
	}
	r, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("geoip database %s: %w", path, err)
	}
	return r, stamp, nil
}

func (g *geoIP) watch(every time.Duration) {
	defer g.stopped.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			if _, err := g.reloadIfChanged(); err != nil {
				g.log.Error().Err(err).Msg("geoip reload failed; keeping the loaded databases")
			}
		}
	}
}

// reloadIfChanged reopens the databases when a file's size or time changed,
// and reports whether it did. A file that cannot be read (mid-update, say)
// leaves the loaded databases in place.
func (g *geoIP) reloadIfChanged() (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	cur := g.state.Load()
	changed := false
	for _, f := range []struct {
		path string
		was  fileStamp
	}{{g.cityPath, cur.cityStat}, {g.asnPath, cur.asnStat}} {
		if f.path == "" {
			continue
		}
		now, err := stampOf(f.path)
		if err != nil {
			return false, fmt.Errorf("geoip database: %w", err)
		}
		if now != f.was {
			changed = true
		}
	}
	if !changed {
		return false, nil
	}
	st, err := g.load()
	if err != nil {
		return false, err
	}
	g.state.Store(st)
	g.log.Info().Str("city", g.cityPath).Str("asn", g.asnPath).Msg("geoip databases reloaded")
	return true, nil
}

func (g *geoIP) close() {
	close(g.stop)
	g.stopped.Wait()
}

// lookup returns what the databases know of a, or nil for addresses that
// are not public (private, loopback, link-local, documentation, CGNAT,
// multicast …) and for addresses they do not know. The result is shared:
// callers must not modify it.
func (g *geoIP) lookup(a netip.Addr) *normalize.Geo {
	if !isPublic(a) {
		return nil
	}
	a = a.Unmap()
	st := g.state.Load()
	if st.cache != nil {
		if geo, ok := st.cache.get(a); ok {
			return geo
		}
	}
	geo := st.resolve(a)
	if st.cache != nil {
		st.cache.put(a, geo)
	}
	return geo
}

type cityRecord struct {
	City struct {
		Names struct {
			En string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
		Names   struct {
			En string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"country"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

type asnRecord struct {
	Number uint32 `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

// resolve reads both databases. Errors (a corrupt record) are treated as
// "not found": enrichment never stops an event.
func (st *geoState) resolve(a netip.Addr) *normalize.Geo {
	var geo normalize.Geo
	found := false
	if st.city != nil {
		var rec cityRecord
		if r := st.city.Lookup(a); r.Found() && r.Decode(&rec) == nil {
			geo.CountryISO, geo.CountryName, geo.CityName = rec.Country.ISOCode, rec.Country.Names.En, rec.City.Names.En
			if rec.Location.Latitude != nil && rec.Location.Longitude != nil {
				geo.Lat, geo.Lon, geo.HasLocation = *rec.Location.Latitude, *rec.Location.Longitude, true
			}
			found = geo.CountryISO != "" || geo.CountryName != "" || geo.CityName != "" || geo.HasLocation
		}
	}
	if st.asn != nil {
		var rec asnRecord
		if r := st.asn.Lookup(a); r.Found() && r.Decode(&rec) == nil {
			geo.ASN, geo.ASOrg = rec.Number, rec.Org
			found = found || rec.Number != 0 || rec.Org != ""
		}
	}
	if !found {
		return nil
	}
	return &geo
}

// notPublic lists the special-purpose ranges (IANA IPv4 and IPv6
// Special-Purpose Address Registries) that netip's predicates do not cover
// and that no GeoIP database places anywhere.
var notPublic4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"), // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
}

var notPublic6 = []netip.Prefix{
	netip.MustParsePrefix("100::/64"),      // discard-only
	netip.MustParsePrefix("2001:db8::/32"), // documentation
	netip.MustParsePrefix("2001::/23"),     // IETF protocol assignments (Teredo …)
	netip.MustParsePrefix("3fff::/20"),     // documentation
}

// isPublic reports whether a is a global unicast address outside the
// private and reserved ranges.
func isPublic(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	list := notPublic6
	if a.Is4() {
		list = notPublic4
	}
	for _, p := range list {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
