// Package loadgen generates realistic sensor records and sends them to a
// gateway socket the way the sensor would: it backs `alertgw send` (users
// test a deployment with it) and the end-to-end benchmark.
//
// Generators are pluggable: each sensor format registers a Factory under
// its name ("suricata" here; Snort, Barnyard2 and unified2 add theirs).
package loadgen

import (
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Generator produces the records of one sensor, each exactly as the sensor
// puts it in one send(): EVE records end in "\n", binary records have no
// framing.
type Generator interface {
	// Next appends the next record to dst and returns it.
	Next(dst []byte) []byte
}

// Options tune a generator.
type Options struct {
	// LargeEvery makes every n-th record a large one (EVE: an alert with a
	// base64 payload and packet); 0: none.
	LargeEvery int
	// LargeSize is the approximate size of a large record in bytes.
	LargeSize int
	// Seed makes the sequence reproducible.
	Seed uint64
}

// Factory builds a generator.
type Factory func(Options) (Generator, error)

var (
	mu       sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes a generator available under name. It panics on a
// duplicate, as a programming error.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("loadgen: duplicate generator " + name)
	}
	registry[name] = f
}

// New returns the named generator.
func New(name string, o Options) (Generator, error) {
	mu.RLock()
	f, ok := registry[name]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown generator type %q (known: %v)", name, Names())
	}
	return f(o)
}

// Names lists the registered generators.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return slices.Sorted(maps.Keys(registry))
}

// Pregenerate renders n records of g once and then cycles through them, so
// that a benchmark's sender spends its CPU on sending, not on formatting
// (timestamps then repeat, which the gateway does not mind).
func Pregenerate(g Generator, n int) Generator {
	p := &pregenerated{recs: make([][]byte, n)}
	for i := range p.recs {
		p.recs[i] = g.Next(nil)
	}
	return p
}

type pregenerated struct {
	recs [][]byte
	i    int
}

func (p *pregenerated) Next(dst []byte) []byte {
	r := p.recs[p.i]
	p.i = (p.i + 1) % len(p.recs)
	return append(dst, r...)
}
