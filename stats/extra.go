package stats

import "sync"

// Family is a metric an input reports beside the counters every input has
// (a Kafka input's lag per partition, a forward input's refused clients).
// Collect is called at scrape time and emits the current samples; label
// values follow Labels, in order. Exporters add the input's name and type.
type Family struct {
	Name    string // exported as alertgw_input_<Name>
	Help    string
	Gauge   bool // a gauge; otherwise a counter
	Labels  []string
	Collect func(emit func(value float64, labelValues ...string))
}

// extras holds an input's families; a reloaded input replaces them.
type extras struct {
	mu  sync.Mutex
	fam []*Family
}

// SetExtra replaces the input's own metric families (nil removes them).
func (in *Input) SetExtra(fams ...*Family) {
	in.extra.mu.Lock()
	defer in.extra.mu.Unlock()
	in.extra.fam = fams
}

// Extra returns the input's own metric families.
func (in *Input) Extra() []*Family {
	in.extra.mu.Lock()
	defer in.extra.mu.Unlock()
	return in.extra.fam
}
