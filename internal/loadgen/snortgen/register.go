package snortgen

import "github.com/alertgw/alertgw/internal/loadgen"

// The generators are registered with loadgen, so `alertgw send --type
// snort|snort3|snort-openappid|barnyard2|unified2` finds them.
func init() {
	for _, name := range Names {
		loadgen.Register(name, func(o loadgen.Options) (loadgen.Generator, error) {
			return New(name, o.Seed)
		})
	}
}
