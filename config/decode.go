package config

import (
	"errors"
	"maps"
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
	unusedBy := make([]map[string]bool, 0, len(targets))
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
		unusedBy = append(unusedBy, mine)
	}
	// A key is unknown when no target used it: each target left it, or a
	// key above it, unused. ("tls" unused by the common options and
	// "tls.cert" unused by the plugin's make "tls.cert" unknown.)
	candidates := map[string]bool{}
	for _, m := range unusedBy {
		maps.Copy(candidates, m)
	}
	for _, k := range slices.Sorted(maps.Keys(candidates)) {
		if len(unusedBy) > 0 && !slices.ContainsFunc(unusedBy, func(m map[string]bool) bool { return !unusedAt(m, k) }) {
			probs.Add(joinPath(prefix, k), "unknown key")
		}
	}
	for _, t := range targets {
		if v, ok := t.(Validator); ok {
			probs = probs.Merge(v.Validate().Prefixed(prefix))
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

// decodeProblems flattens mapstructure's wrapped and joined errors into
// problems that carry the innermost field name.
func decodeProblems(prefix string, err error) Problems {
	var probs Problems
	var walk func(err error)
	walk = func(err error) {
		switch e := err.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case *mapstructure.DecodeError:
			inner := e.Unwrap()
			var deeper *mapstructure.DecodeError
			if _, joined := inner.(interface{ Unwrap() []error }); joined || errors.As(inner, &deeper) {
				walk(inner)
				return
			}
			msg := inner.Error()
			if keys, ok := strings.CutPrefix(msg, "has invalid keys: "); ok {
				for _, k := range strings.Split(keys, ", ") {
					probs.Add(joinPath(prefix, joinPath(e.Name(), k)), "unknown key")
				}
				return
			}
			probs.Add(joinPath(prefix, e.Name()), "%s", friendly(msg))
		default:
			if inner := errors.Unwrap(err); inner != nil {
				walk(inner)
				return
			}
			probs.Add(prefix, "%s", friendly(err.Error()))
		}
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
		"time: invalid duration", "expected a duration such as 10s or 1m30s",
	)
	return r.Replace(msg)
}

// unusedAt reports whether key, or a key above it, is in unused.
func unusedAt(unused map[string]bool, key string) bool {
	for {
		if unused[key] {
			return true
		}
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			return false
		}
		key = key[:i]
	}
}
