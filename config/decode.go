package config

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/go-viper/mapstructure/v2"
)

// Decode decodes raw into each of targets (pointers to structs with
// `mapstructure` tags) and reports, at paths under prefix, wrong types and
// keys that no target knows. Several targets share one block: an output's
// common options and its plugin's own options, for instance.
//
// After decoding, targets that implement Validator are asked for problems.
func Decode(raw map[string]any, prefix string, targets ...any) Problems {
	var probs Problems
	var unused map[string]bool // keys unused by every target so far
	for _, t := range targets {
		var md mapstructure.Metadata
		dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
			Result:           t,
			Metadata:         &md,
			WeaklyTypedInput: false,
			DecodeHook: mapstructure.ComposeDecodeHookFunc(
				mapstructure.StringToTimeDurationHookFunc(),
				mapstructure.TextUnmarshallerHookFunc(),
			),
		})
		if err != nil {
			probs.Add(prefix, "internal: %v", err)
			continue
		}
		if err := dec.Decode(raw); err != nil {
			probs = append(probs, decodeProblems(prefix, err)...)
		}
		mine := map[string]bool{}
		for _, k := range md.Unused {
			mine[k] = true
		}
		if unused == nil {
			unused = mine
			continue
		}
		for k := range unused {
			if !mine[k] {
				delete(unused, k)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(unused)) {
		probs.Add(joinPath(prefix, k), "unknown key")
	}
	for _, t := range targets {
		if v, ok := t.(Validator); ok {
			probs = append(probs, v.Validate().Prefixed(prefix)...)
		}
	}
	return probs
}

// DecodeBlock decodes an input or output block into targets; the block's
// own "name" and "type" keys are known to every block.
func DecodeBlock(b Block, targets ...any) Problems {
	return Decode(b.Options, b.Path, append([]any{&blockHeader{}}, targets...)...)
}

type blockHeader struct {
	Name string `mapstructure:"name"`
	Type string `mapstructure:"type"`
}

// decodeProblems flattens mapstructure's joined errors into problems that
// carry the innermost field name.
func decodeProblems(prefix string, err error) Problems {
	var probs Problems
	var walk func(err error)
	walk = func(err error) {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				walk(e)
			}
			return
		}
		var de *mapstructure.DecodeError
		if errors.As(err, &de) {
			inner := de.Unwrap()
			if _, ok := inner.(interface{ Unwrap() []error }); ok {
				walk(inner)
				return
			}
			var deeper *mapstructure.DecodeError
			if errors.As(inner, &deeper) {
				walk(inner)
				return
			}
			name := de.Name()
			msg := inner.Error()
			if keys, ok := strings.CutPrefix(msg, "has invalid keys: "); ok {
				for _, k := range strings.Split(keys, ", ") {
					probs.Add(joinPath(prefix, joinPath(name, k)), "unknown key")
				}
				return
			}
			probs.Add(joinPath(prefix, name), "%s", friendly(msg))
			return
		}
		probs.Add(prefix, "%v", err)
	}
	walk(err)
	return probs
}

// friendly rewrites mapstructure's Go-type wording into config wording.
func friendly(msg string) string {
	r := strings.NewReplacer(
		"expected type 'string'", "expected a string",
		"expected type 'bool'", "expected true or false",
		"expected type 'int'", "expected an integer",
		"expected type 'uint'", "expected a non-negative integer",
		"expected type 'uint16'", "expected an integer from 0 to 65535",
		"expected type 'uint32'", "expected a non-negative integer",
		"expected type 'uint64'", "expected a non-negative integer",
		"expected type 'time.Duration'", "expected a duration such as 10s or 1m30s",
	)
	return r.Replace(msg)
}

// typeName is used in messages about values of the wrong kind.
func typeName(v any) string {
	if v == nil {
		return "nothing"
	}
	return reflect.TypeOf(v).String()
}
