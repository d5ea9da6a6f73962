// Package format turns a normalize.Event into bytes. Every output names a
// format; "native" is alertgw's schema v1 (docs/schema.md). Encoders append
// to a caller's buffer and keep no state, so one encoder serves every
// goroutine and no output allocates per event.
package format

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/alertgw/alertgw/normalize"
)

// Encoder appends one event, as a single JSON object without a trailing
// newline, to dst.
type Encoder interface {
	Name() string
	AppendEvent(dst []byte, e *normalize.Event) []byte
}

var registry = map[string]Encoder{
	"native": Native{},
	"ecs":    ECS{},
	"ocsf":   OCSF{},
}

// Lookup returns the encoder registered under name.
func Lookup(name string) (Encoder, error) {
	if enc, ok := registry[name]; ok {
		return enc, nil
	}
	return nil, fmt.Errorf("unknown format %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names lists the registered formats.
func Names() []string { return slices.Sorted(maps.Keys(registry)) }
