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

// ECS compatibility profiles (an output's ecs_compat).
const (
	CompatNone     = ""
	CompatFilebeat = "filebeat"
)

// LookupProfile returns the encoder of a format in a compatibility
// profile: "" for the format as alertgw writes it, "filebeat" (format ecs
// only) for Filebeat's Suricata module's fields (ECSFilebeat).
func LookupProfile(name, compat string) (Encoder, error) {
	enc, err := Lookup(name)
	if err != nil || compat == CompatNone {
		return enc, err
	}
	if name != "ecs" {
		return nil, fmt.Errorf("%q is a profile of format ecs, not %s", compat, name)
	}
	if compat != CompatFilebeat {
		return nil, fmt.Errorf("unknown ECS profile %q (known: filebeat)", compat)
	}
	return ECSFilebeat{}, nil
}

// Names lists the registered formats.
func Names() []string { return slices.Sorted(maps.Keys(registry)) }
