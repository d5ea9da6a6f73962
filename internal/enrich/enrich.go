// Package enrich adds to normalized events what the sensors do not say:
// GeoIP country, city, location and ASN of public addresses (MaxMind-format
// .mmdb files, reloaded when they change), the names of configured networks
// an address belongs to with the resulting network direction, and static
// metadata about where the gateway runs. It runs on the pipeline's workers
// after normalization, before events are encoded; every part is optional.
//
// The Community ID is not here: the pipeline fills it for every event that
// lacks one (normalize.CommunityID), enrichment configured or not.
package enrich

import (
	"fmt"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/normalize"
)

// Enricher applies the configured enrichment. It is safe for concurrent use.
type Enricher struct {
	geo      *geoIP
	nets     *networks
	observer *normalize.Observer
}

// New builds an Enricher from validated options. It opens the GeoIP
// databases and, when o.GeoIP.Reload is set, starts watching them: call
// Close to stop.
func New(o *Options, log zerolog.Logger) (*Enricher, error) {
	en := &Enricher{observer: newObserver(o.Observer, osGetenv, osReadFile)}
	if len(o.Networks) > 0 {
		en.nets = newNetworks(o)
	}
	if o.GeoIP.City != "" || o.GeoIP.ASN != "" {
		g, err := newGeoIP(o.GeoIP, log)
		if err != nil {
			return nil, fmt.Errorf("enrich: %w", err)
		}
		en.geo = g
	}
	return en, nil
}

// Enrich adds what is configured to e. It never fails: what cannot be
// looked up is left out. Values it sets are shared between events and must
// not be modified.
func (en *Enricher) Enrich(e *normalize.Event) {
	if en.observer != nil && e.Observer == nil {
		e.Observer = en.observer
	}
	if en.nets != nil {
		en.nets.apply(e)
	}
	if en.geo != nil {
		if e.SrcIP.IsValid() && e.SrcGeo == nil {
			e.SrcGeo = en.geo.lookup(e.SrcIP)
		}
		if e.DestIP.IsValid() && e.DestGeo == nil {
			e.DestGeo = en.geo.lookup(e.DestIP)
		}
	}
}

// Empty reports whether the options enabled nothing, so the pipeline can
// skip the stage.
func (en *Enricher) Empty() bool {
	return en.geo == nil && en.nets == nil && en.observer == nil
}

// Close stops watching the GeoIP files.
func (en *Enricher) Close() error {
	if en.geo != nil {
		en.geo.close()
	}
	return nil
}
