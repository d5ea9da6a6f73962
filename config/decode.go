package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

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
				numberToDurationHook,
				mapstructure.StringToTimeDurationHookFunc(),
				mapstructure.TextUnmarshallerHookFunc(),
				stringToScalarHook,
			),
		})
		if err != nil {
			probs.Add(prefix, "internal: %v", err)
			continue
		}
		mine := map[string]bool{}
		if err := dec.Decode(raw); err != nil {
			probs = append(probs, decodeProblems(prefix, err)...)
			// mapstructure stops listing unused keys of a block where a
			// value failed: find them from the type instead, so that a
			// typo next to a bad value is still reported.
			for _, k := range typeUnused(raw, reflect.TypeOf(t), "") {
				mine[k] = true
			}
		}
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
	suggestKeys(probs, prefix, targets)
	for _, t := range targets {
		if v, ok := t.(Validator); ok {
			probs = probs.Merge(v.Validate().Prefixed(prefix))
		}
	}
	return probs
}

var durationType = reflect.TypeFor[time.Duration]()

// numberToDurationHook refuses a duration written as a bare number:
// `shutdown_timeout: 10` would otherwise be 10 nanoseconds. Only 0, which
// means the same in every unit, is accepted.
func numberToDurationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch from.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if reflect.ValueOf(data).IsZero() {
			return time.Duration(0), nil
		}
		return nil, fmt.Errorf("%v has no unit: write a duration such as %vs or %vms", data, data, data)
	}
	return data, nil
}

// stringToScalarHook reads a number or a boolean written as a string, as
// a ${VAR} reference always is once expanded (port: ${ES_PORT}). The
// string must be exactly a number or true/false; anything else is still
// reported as the wrong type.
func stringToScalarHook(from, to reflect.Type, data any) (any, error) {
	str, ok := data.(string)
	if !ok || from.Kind() != reflect.String {
		return data, nil
	}
	str = strings.TrimSpace(str)
	switch to.Kind() {
	case reflect.Bool:
		switch str {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if to == durationType {
			return data, nil
		}
		if n, err := strconv.ParseInt(str, 10, 64); err == nil {
			return n, nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n, err := strconv.ParseUint(str, 10, 64); err == nil {
			return n, nil
		}
	case reflect.Float32, reflect.Float64:
		if n, err := strconv.ParseFloat(str, 64); err == nil {
			return n, nil
		}
	}
	return data, nil
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
