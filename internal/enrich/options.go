package enrich

import (
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/alertgw/alertgw/config"
)

// Options is the top-level `enrich:` section. Every part is optional: an
// empty section (the default) adds nothing and costs nothing.
//
//	enrich:
//	  geoip:
//	    city: /var/lib/GeoIP/GeoLite2-City.mmdb
//	    asn: /var/lib/GeoIP/GeoLite2-ASN.mmdb
//	  networks:
//	    home_net: [10.0.0.0/8, 192.168.0.0/16, "fd00::/8"]
//	    dmz: [203.0.113.0/24]
//	  internal: [home_net, dmz]
//	  observer:
//	    site: fra1
//	    environment: prod
//	    cluster: edge-1
type Options struct {
	GeoIP GeoIPOptions `mapstructure:"geoip"`
	// Networks names CIDR lists; an address in one gets its name as a label.
	Networks map[string][]string `mapstructure:"networks"`
	// Internal lists the networks that are "inside" for network_direction;
	// empty: every network under Networks.
	Internal []string        `mapstructure:"internal"`
	Observer ObserverOptions `mapstructure:"observer"`
}

// GeoIPOptions configures GeoIP and ASN lookups from MaxMind-format files
// (GeoLite2/GeoIP2 City and ASN, or compatible, e.g. DB-IP's).
type GeoIPOptions struct {
	City      string        `mapstructure:"city" path:"read"` // City (or Country) database; "" to skip
	ASN       string        `mapstructure:"asn" path:"read"`  // ASN database; "" to skip
	CacheSize int           `mapstructure:"cache_size"`       // addresses remembered (two generations of up to this many)
	Reload    time.Duration `mapstructure:"reload"`           // how often the files are checked for changes; 0 disables
}

// ObserverOptions are static facts about where the gateway runs. In
// Kubernetes the pod, namespace and node come from the pod's environment
// (POD_NAME or HOSTNAME, POD_NAMESPACE or the service account's namespace
// file, NODE_NAME; set them with the Downward API).
type ObserverOptions struct {
	Site        string `mapstructure:"site"`
	Environment string `mapstructure:"environment"`
	Cluster     string `mapstructure:"cluster"`
	// Kubernetes: "auto" (when KUBERNETES_SERVICE_HOST is set), "on" or "off".
	Kubernetes string `mapstructure:"kubernetes"`
}

// DefaultOptions returns the defaults: nothing enabled.
func DefaultOptions() *Options {
	return &Options{
		GeoIP:    GeoIPOptions{CacheSize: 65536, Reload: time.Minute},
		Observer: ObserverOptions{Kubernetes: "auto"},
	}
}

// Validate implements config.Validator.
func (o *Options) Validate() config.Problems {
	var p config.Problems
	if o.GeoIP.CacheSize < 0 || o.GeoIP.CacheSize > 1<<24 {
		p.Add("geoip.cache_size", "must be between 0 and 16777216; got %d", o.GeoIP.CacheSize)
	}
	if o.GeoIP.Reload < 0 {
		p.Add("geoip.reload", "must not be negative; got %s", o.GeoIP.Reload)
	}
	for _, name := range sortedKeys(o.Networks) {
		if name == "" {
			p.Add("networks", "a network needs a name")
		}
		if len(o.Networks[name]) == 0 {
			p.Add("networks."+name, "lists no CIDR")
		}
		for i, c := range o.Networks[name] {
			if _, err := parsePrefix(c); err != nil {
				p.Add(pathIndex("networks."+name, i), "%v", err)
			}
		}
	}
	if len(o.Networks) > 64 {
		p.Add("networks", "at most 64 named networks; got %d", len(o.Networks))
	}
	for i, name := range o.Internal {
		if _, ok := o.Networks[name]; !ok {
			p.Add(pathIndex("internal", i), "%q is not a network under networks", name)
		}
	}
	switch o.Observer.Kubernetes {
	case "auto", "on", "off":
	default:
		p.Add("observer.kubernetes", "must be auto, on or off; got %q", o.Observer.Kubernetes)
	}
	return p
}

// Enabled reports whether any part of enrichment is configured.
func (o *Options) Enabled() bool {
	return o.GeoIP.City != "" || o.GeoIP.ASN != "" || len(o.Networks) > 0 ||
		o.Observer.Site != "" || o.Observer.Environment != "" || o.Observer.Cluster != "" || o.Observer.Kubernetes == "on"
}

// parsePrefix accepts a CIDR or a single address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func pathIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
